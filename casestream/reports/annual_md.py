"""The yearly report as Markdown: a heading per section and its figures as a table; with the
cases asked for, an appendix listing per figure the cases it counts."""

from __future__ import annotations

from .annual import CASE_HEADERS, TABLE_HEADERS, AnnualReport, Measure, day_text
from .text_cells import plain


def _cell(text: str) -> str:
    """Text safe in a Markdown table cell: one line, no column separator."""
    return (
        plain(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")
    )


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def render_md(report: AnnualReport) -> str:
    out = [
        f"# {report.title}",
        "",
        _cell(report.explanation),
        "",
        f"生成时间：{report.generated_at}（{report.timezone}）",
    ]
    name, _, _, change, basis = TABLE_HEADERS
    headers = [name, report.current_header, report.previous_header, change, basis]
    for section in report.sections:
        out += ["", f"## {section.heading}", ""]
        if section.empty:
            out.append(section.empty_text)
            continue
        out += [_row(headers), "| " + " | ".join("---" for _ in headers) + " |"]
        for line in section.lines:
            out.append(
                _row(
                    [
                        line.label,
                        line.current_text,
                        line.previous_text,
                        line.change_text,
                        line.basis,
                    ]
                )
            )
        if section.notes:
            out += ["", *(f"注：{note}" for note in section.notes)]
    if report.with_cases:
        out += ["", "## 附：各项数字所计案件", ""]
        for section, line in report.lines():
            if line.measure is not Measure.number:
                continue
            out += [f"### {section.heading} · {_cell(line.label)}：{line.current_text}", ""]
            if not line.cases:
                out += ["无。", ""]
                continue
            out += [_row(list(CASE_HEADERS)), "| --- | --- | --- | --- |"]
            for case in line.cases:
                out.append(
                    _row(
                        [
                            case.case_id,
                            day_text(case.received_on),
                            case.department or "",
                            str(case.adds),
                        ]
                    )
                )
            out.append("")
    return "\n".join(out).rstrip() + "\n"
