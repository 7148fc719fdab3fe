"""The yearly 法治政府建设 report (年度报告) as a ledger: GET /ledgers/annual-report?year=2026
&department=治安大队&format=docx|xlsx|md|json[&with_cases=true].

The figures are GET /stats's for the local days of the year (read_models/annual_figures.py),
each beside the year before's; the documents are casestream/reports/'s. A department-bound
caller (handler, department head) gets their own department's report, as with /stats.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from casestream.read_models.annual_figures import AnnualFigureQueries
from casestream.reports.annual import (
    DEPARTMENT_MAX,
    DEPARTMENT_PATTERN,
    YEAR_MAX,
    YEAR_MIN,
    AnnualReport,
    FigureLine,
    Measure,
    Section,
)
from casestream.reports.annual_formats import (
    MEDIA_TYPES,
    DocumentFormat,
    content_disposition,
    render,
)
from casestream.reports.annual_sections import annual_report

from .auth import Principal, PrincipalDep, visible_department
from .deps import ReadModelEngineDep, Services, ServicesDep

router = APIRouter(prefix="/ledgers", tags=["ledgers"])


class ReportFormat(StrEnum):
    docx = "docx"
    xlsx = "xlsx"
    md = "md"
    json = "json"


class Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class CountedCaseOut(Out):
    case_id: str
    received_on: date = Field(description="受理日期, local")
    department: str | None
    adds: int = Field(description="what the case adds to the figure (1, or e.g. its hearings)")


class FigureOut(Out):
    key: str = Field(description="stable name of the figure, e.g. lawsuits.loss_rate")
    label: str
    measure: Measure = Field(description="number (件/次), rate (a ratio in [0, 1]) or score")
    current: int | float | None = Field(description="this year; null: a rate without denominator")
    previous: int | float | None = Field(
        description="the year before; null: no records, or a rate without denominator"
    )
    change: int | float | None = Field(
        description="current − previous; for a rate in percentage points"
    )
    current_text: str
    previous_text: str
    change_text: str
    basis: str = Field(description="口径 of a rate")
    cases: list[CountedCaseOut] = Field(description="this year's cases counted (with_cases)")

    @classmethod
    def of(cls, line: FigureLine) -> FigureOut:
        return cls(
            key=line.key,
            label=line.label,
            measure=line.measure,
            current=line.current,
            previous=line.previous,
            change=line.change,
            current_text=line.current_text,
            previous_text=line.previous_text,
            change_text=line.change_text,
            basis=line.basis,
            cases=[
                CountedCaseOut(
                    case_id=case.case_id,
                    received_on=case.received_on,
                    department=case.department,
                    adds=case.adds,
                )
                for case in line.cases
            ],
        )


class SectionOut(Out):
    number: int
    heading: str
    empty_text: str = Field(description="shown instead of the figures when there are none")
    notes: list[str]
    figures: list[FigureOut]

    @classmethod
    def of(cls, section: Section) -> SectionOut:
        return cls(
            number=section.number,
            heading=section.heading,
            empty_text=section.empty_text,
            notes=list(section.notes),
            figures=[FigureOut.of(line) for line in section.lines],
        )


class AnnualReportOut(Out):
    """The figures of the cases received in `year` (local days), beside `year` − 1."""

    title: str
    year: int
    department: str | None = Field(description="null: the whole bureau")
    timezone: str
    generated_at: str = Field(description="local time open deadlines were judged at")
    explanation: str
    sections: list[SectionOut]

    @classmethod
    def of(cls, report: AnnualReport) -> AnnualReportOut:
        return cls(
            title=report.title,
            year=report.year,
            department=report.department,
            timezone=report.timezone,
            generated_at=report.generated_at,
            explanation=report.explanation,
            sections=[SectionOut.of(section) for section in report.sections],
        )


def report_department(principal: Principal, department: str | None) -> str | None:
    """The department the caller may have the report of: their own when bound to one (403 for
    another), else the one asked for (None: the bureau)."""
    own = visible_department(principal)
    if own is None:
        return department
    if department not in (None, own):
        raise HTTPException(
            403, f"role {principal.role.value} sees the report of {own} only; omit department"
        )
    return own


def read_report(
    services: Services,
    engine: ReadModelEngineDep,
    year: int,
    department: str | None,
    with_cases: bool,
) -> AnnualReport:
    queries = AnnualFigureQueries(engine, services.rulebook, services.settings.timezone)
    return annual_report(queries, year, department, services.now(), with_cases=with_cases)


@router.get(
    "/annual-report",
    response_model=AnnualReportOut,
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}}},
)
def annual_report_ledger(
    services: ServicesDep,
    engine: ReadModelEngineDep,
    principal: PrincipalDep,
    year: Annotated[int, Query(ge=YEAR_MIN, le=YEAR_MAX, description="the year (local dates)")],
    department: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=DEPARTMENT_MAX,
            pattern=DEPARTMENT_PATTERN,
            description="承办部门 (no control characters); omit for the bureau",
        ),
    ] = None,
    report_format: Annotated[
        ReportFormat, Query(alias="format", description="docx, xlsx, md or json")
    ] = ReportFormat.json,
    with_cases: Annotated[bool, Query(description="list, per figure, the cases it counts")] = False,
) -> Response | AnnualReportOut:
    """年度报告 (figures section): the year's rule-of-law figures beside the year before's."""
    scope = report_department(principal, department)
    report = read_report(services, engine, year, scope, with_cases)
    if report_format is ReportFormat.json:
        return AnnualReportOut.of(report)
    document_format = DocumentFormat(report_format.value)
    return Response(
        render(report, document_format),
        media_type=MEDIA_TYPES[document_format],
        headers={"Content-Disposition": content_disposition(report, document_format)},
    )
