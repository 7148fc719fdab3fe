"""The yearly report's sections and documents, from figures made by hand (no database): the
comparison with the year before, the empty enforcement section and where its figures plug in,
and the three formats read back as a reader would open them."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from casestream.cli import app as cli_app
from casestream.domain.catalog import CaseKind
from casestream.read_models.annual_figures import (
    AnnualFigures,
    CaseRef,
    CountedCases,
    EnforcementCount,
    EnforcementFigure,
    FigureKey,
    ReviewFigures,
    YearFigures,
)
from casestream.read_models.schema import FIGURES
from casestream.read_models.stats import rule_of_law_figures
from casestream.reports.annual import AnnualReport, FigureLine, Measure, build_report
from casestream.reports.annual_docx import render_docx
from casestream.reports.annual_md import render_md
from casestream.reports.annual_sections import ANNUAL_SECTIONS
from casestream.reports.annual_xlsx import render_xlsx

NOW = datetime.fromisoformat("2026-12-01T10:00:00+08:00")
HEADINGS = [
    "一、投诉办理与回访满意度",
    "二、涉企投诉与涉企举报线索",
    "三、行政复议",
    "四、行政诉讼",
    "五、败诉、纠错案件复盘与整改",
    "六、执法监督与不予处罚、轻微免罚决定及公示",
]


def year(
    number: int,
    *,
    complaints: int,
    on_time: int,
    overdue: int,
    decided: int,
    corrections: int,
    recorded: bool = True,
    cases: CountedCases | None = None,
    enforcement: tuple[EnforcementCount, ...] = (),
) -> YearFigures:
    def totals(**values: int) -> dict[str, int]:
        return dict.fromkeys(FIGURES, 0) | values

    figures = rule_of_law_figures(
        {
            CaseKind.complaint: totals(
                received=complaints, closed=on_time, on_time=on_time, overdue=overdue
            ),
            CaseKind.reconsideration: totals(
                received=decided, decided=decided, corrections=corrections
            ),
        }
    )
    return YearFigures(
        year=number,
        recorded=recorded,
        figures=figures,
        reviews=ReviewFigures(opened=corrections, completed=0, verified=0),
        enforcement=enforcement,
        cases=cases,
    )


def annual(
    current: YearFigures, previous: YearFigures, department: str | None = None
) -> AnnualFigures:
    return AnnualFigures(2026, department, "Asia/Shanghai", NOW, current, previous)


def lines(report: AnnualReport) -> dict[str, FigureLine]:
    return {line.key: line for _, line in report.lines()}


def test_each_figure_stands_beside_last_years_with_the_change() -> None:
    report = build_report(
        annual(
            year(2026, complaints=12, on_time=9, overdue=1, decided=8, corrections=2),
            year(2025, complaints=10, on_time=6, overdue=2, decided=4, corrections=2),
        ),
        ANNUAL_SECTIONS,
    )
    found = lines(report)
    received = found["complaints.received"]
    assert (received.current_text, received.previous_text, received.change_text) == (
        "12",
        "10",
        "+2",
    )
    rate = found["complaints.on_time_rate"]  # 90.0 % against 75.0 %
    assert (rate.current_text, rate.previous_text, rate.change_text) == (
        "90.0%",
        "75.0%",
        "+15.0个百分点",
    )
    correction = found["reconsiderations.correction_rate"]  # 25.0 % against 50.0 %
    assert correction.change_text == "-25.0个百分点" and correction.change == -25.0
    assert found["reconsiderations.corrections"].change_text == "持平"
    assert found["lawsuits.loss_rate"].current_text == "—"  # nothing judged: no denominator
    assert found["lawsuits.loss_rate"].change_text == "—"
    assert [section.heading for section in report.sections] == HEADINGS


def test_a_previous_year_without_records_shows_a_dash_not_zero() -> None:
    report = build_report(
        annual(
            year(2026, complaints=3, on_time=1, overdue=0, decided=0, corrections=0),
            year(
                2025, complaints=0, on_time=0, overdue=0, decided=0, corrections=0, recorded=False
            ),
        ),
        ANNUAL_SECTIONS,
    )
    received = lines(report)["complaints.received"]
    assert received.previous is None
    assert (received.previous_text, received.change_text) == ("—", "—")


def test_a_change_is_taken_between_the_values_as_shown() -> None:
    score = FigureLine("s", "平均分", Measure.score, 3.854, 3.786)  # shown 3.85 and 3.79
    assert score.change_text == "+0.06"
    rate = FigureLine("r", "率", Measure.rate, 0.8234, 0.8551)  # shown 82.3 % and 85.5 %
    assert rate.change_text == "-3.2个百分点"


def test_the_enforcement_section_says_no_records_until_its_figures_plug_in() -> None:
    empty = build_report(
        annual(
            year(2026, complaints=1, on_time=1, overdue=0, decided=0, corrections=0),
            year(2025, complaints=1, on_time=1, overdue=0, decided=0, corrections=0),
        ),
        ANNUAL_SECTIONS,
    )
    section = empty.sections[-1]
    assert section.empty and section.empty_text.startswith("本年度无执法监督")
    # a figure listed in ENFORCEMENT_FIGURES arrives as counts of both years: shown as a table
    figure = EnforcementFigure(CaseKind.complaint, "received", "执法监督案件（件）")
    listed = build_report(
        annual(
            year(
                2026,
                complaints=1,
                on_time=1,
                overdue=0,
                decided=0,
                corrections=0,
                enforcement=(EnforcementCount(figure, 4),),
            ),
            year(
                2025,
                complaints=1,
                on_time=1,
                overdue=0,
                decided=0,
                corrections=0,
                enforcement=(EnforcementCount(figure, 1),),
            ),
        ),
        ANNUAL_SECTIONS,
    )
    (line,) = listed.sections[-1].lines
    assert (line.label, line.current_text, line.previous_text, line.change_text) == (
        "执法监督案件（件）",
        "4",
        "1",
        "+3",
    )


def hostile_report() -> AnnualReport:
    """A report whose department and case ids carry a table separator and control characters."""
    department = "治安|大队\x07"
    counted = CountedCases(
        {
            FigureKey(CaseKind.complaint, "received"): (
                CaseRef("C|1\x01", date(2026, 3, 1), department, 1),
                CaseRef("C2", date(2026, 3, 2), department, 1),
            ),
        }
    )
    figures = annual(
        year(2026, complaints=2, on_time=1, overdue=1, decided=0, corrections=0, cases=counted),
        year(2025, complaints=1, on_time=1, overdue=0, decided=0, corrections=0),
        department,
    )
    return build_report(figures, ANNUAL_SECTIONS, with_cases=True)


def test_markdown_has_every_section_and_keeps_its_tables_whole() -> None:
    text = render_md(hostile_report())
    for heading in HEADINGS:
        assert f"## {heading}" in text
    assert "| 受理投诉（件） | 2 | 1 | +1 |  |" in text
    assert "| C\\|1 | 2026-03-01 | 治安\\|大队 | 1 |" in text
    assert "\x07" not in text and "\x01" not in text


def test_the_word_document_reads_back_with_its_tables() -> None:
    document = Document(io.BytesIO(render_docx(hostile_report())))
    first = document.tables[0]
    assert [cell.text for cell in first.rows[0].cells] == [
        "指标",
        "2026年",
        "2025年",
        "增减",
        "口径",
    ]
    assert [cell.text for cell in first.rows[1].cells][:4] == ["受理投诉（件）", "2", "1", "+1"]
    cases = [
        [cell.text for cell in row.cells]
        for table in document.tables
        if table.rows[0].cells[0].text == "案件编号"
        for row in table.rows[1:]
    ]
    assert cases == [
        ["C|1", "2026-03-01", "治安|大队", "1"],
        ["C2", "2026-03-02", "治安|大队", "1"],
    ]


def test_the_workbook_keeps_numbers_as_numbers_and_rates_as_percentages() -> None:
    workbook = load_workbook(io.BytesIO(render_xlsx(hostile_report())))
    sheet = workbook["年度报告"]
    rows: dict[object, tuple[Any, ...]] = {}
    for row in sheet.iter_rows():
        rows.setdefault(row[0].value, row)  # a label in two sections (按时办结率): the first's
    received = rows["受理投诉（件）"]
    assert (received[1].value, received[2].value, received[3].value) == (2, 1, "+1")
    rate = rows["按时办结率"]
    assert rate[1].value == 0.5 and rate[1].number_format == "0.0%"
    assert rows["败诉率"][1].value == "—"
    listed = list(workbook["所计案件"].iter_rows(values_only=True))
    assert listed[1][:3] == (
        "complaints.received",
        "一、投诉办理与回访满意度 · 受理投诉（件）",
        "C|1",
    )
    assert listed[1][3] == datetime(2026, 3, 1)


def test_a_department_holding_what_xml_cannot_still_makes_every_document() -> None:
    # U+FFFF is valid UTF-8 (a query's %EF%BF%BF, a cell of an import) but no XML character:
    # the Word and Excel documents failed to be written (a 500 from the ledger endpoint)
    hostile = hostile_report()
    department = "治安大队\uffff\ufffe"
    line = next(line for _, line in hostile.lines() if line.cases)
    case = replace(line.cases[0], department=department)
    sections = tuple(
        replace(
            section,
            lines=tuple(replace(x, cases=(case,)) if x is line else x for x in section.lines),
        )
        for section in hostile.sections
    )
    report = replace(hostile, department=department, sections=sections)

    document = Document(io.BytesIO(render_docx(report)))
    assert "统计范围：治安大队；" in document.paragraphs[1].text
    workbook = load_workbook(io.BytesIO(render_xlsx(report)))
    assert list(workbook["所计案件"].iter_rows(values_only=True))[1][4] == "治安大队"
    assert "治安大队" in render_md(report)


def test_without_cases_no_list_is_appended() -> None:
    report = replace(hostile_report(), with_cases=False)
    assert "附：各项数字所计案件" not in render_md(report)
    assert load_workbook(io.BytesIO(render_xlsx(report))).sheetnames == ["年度报告"]


def test_the_command_refuses_a_bad_year_or_department_before_opening_anything() -> None:
    runner = CliRunner()
    bad_year = runner.invoke(cli_app, ["report", "--year", "1900"])
    assert bad_year.exit_code == 2 and "--year" in bad_year.output
    bad_department = runner.invoke(
        cli_app, ["report", "--year", "2026", "--department", "治安\x01"]
    )
    assert bad_department.exit_code == 2
    assert "--department" in bad_department.output
    bad_format = runner.invoke(cli_app, ["report", "--year", "2026", "--format", "pdf"])
    assert bad_format.exit_code == 2 and "--format" in bad_format.output
