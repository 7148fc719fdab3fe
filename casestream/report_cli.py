"""`casestream report`: the figures section of the yearly 法治政府建设 report (年度报告), written
as docx, xlsx or Markdown from the read models (the figures GET /stats gives for the year)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from casestream.reports.annual import DEPARTMENT_MAX, YEAR_MAX, YEAR_MIN, department_name
from casestream.reports.annual_formats import DocumentFormat, file_name, render
from casestream.settings import Settings

err = Console(stderr=True, soft_wrap=True)


def report_command(
    year: Annotated[
        int,
        typer.Option(min=YEAR_MIN, max=YEAR_MAX, help="the year, by local date (e.g. 2026)"),
    ],
    department: Annotated[
        str | None, typer.Option(help="承办部门, e.g. 治安大队; omit for the whole bureau")
    ] = None,
    document_format: Annotated[
        DocumentFormat, typer.Option("--format", help="docx, xlsx or md")
    ] = DocumentFormat.docx,
    output: Annotated[
        Path | None,
        typer.Option(help="the file to write (default annual-report-YEAR.FORMAT; '-': stdout)"),
    ] = None,
    with_cases: Annotated[
        bool, typer.Option("--with-cases", help="append, per figure, the cases it counts")
    ] = False,
) -> None:
    """Write the year's rule-of-law figures beside the year before's, section by section."""
    from casestream.bootstrap import REFUSED_FILES, bootstrap
    from casestream.read_models.annual_figures import AnnualFigureQueries
    from casestream.reports.annual_sections import annual_report

    if department is not None and not department_name(department.strip()):
        raise _fail(
            f"--department: give a department name of 1 to {DEPARTMENT_MAX} characters "
            "without control characters, e.g. 治安大队"
        )
    settings = Settings()
    try:
        parts = bootstrap(settings)
    except REFUSED_FILES as exc:
        raise _fail(str(exc)) from exc
    try:
        with err.status(f"counting {year} and {year - 1} …"):
            queries = AnnualFigureQueries(parts.engine, parts.policy.rulebook, settings.timezone)
            report = annual_report(
                queries, year, department and department.strip(), datetime.now(UTC),
                with_cases=with_cases,
            )  # fmt: skip
            body = render(report, document_format)
    finally:
        parts.close()
    if output is not None and str(output) == "-":
        sys.stdout.buffer.write(body)
        return
    target = output or Path(file_name(report, document_format))
    try:
        target.write_bytes(body)
    except OSError as exc:
        raise _fail(f"cannot write {target}: {exc.strerror}; choose another --output") from exc
    err.print(f"wrote {target} ({report.scope_text}, {report.period_text})", markup=False)


def _fail(message: str) -> typer.Exit:
    err.print(message, style="red", markup=False)
    return typer.Exit(2)
