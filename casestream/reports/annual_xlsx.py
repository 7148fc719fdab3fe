"""The yearly report as an Excel workbook (openpyxl): sheet 年度报告 with each section's
figures as numbers (rates as percentages) beside last year's and the change; with the cases
asked for, sheet 所计案件 lists per figure the cases it counts."""

from __future__ import annotations

import io
from datetime import datetime, time

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .annual import CASE_HEADERS, TABLE_HEADERS, AnnualReport, FigureLine, Measure, Value
from .text_cells import plain

REPORT_SHEET = "年度报告"
CASES_SHEET = "所计案件"
_FORMATS = {Measure.number: "0", Measure.rate: "0.0%", Measure.score: "0.00"}
_WIDTHS = (34, 12, 12, 16, 36)
_CASE_WIDTHS = (30, 28, 24, 12, 16, 8)


def render_xlsx(report: AnnualReport) -> bytes:
    workbook = Workbook()
    workbook.properties.title = report.title
    sheet = workbook.active
    assert sheet is not None
    sheet.title = REPORT_SHEET
    bold = Font(bold=True)
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    _append(sheet, [report.title])
    sheet["A1"].font = Font(bold=True, size=14)
    _append(sheet, [report.explanation])
    _append(sheet, [f"生成时间：{report.generated_at}（{report.timezone}）"])
    for section in report.sections:
        sheet.append([])
        _append(sheet, [section.heading])
        sheet.cell(sheet.max_row, 1).font = bold
        if section.empty:
            _append(sheet, [section.empty_text])
            continue
        name, _, _, change, basis = TABLE_HEADERS
        _append(sheet, [name, report.current_header, report.previous_header, change, basis])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for line in section.lines:
            _figure_row(sheet, line)
        for note in section.notes:
            _append(sheet, [f"注：{note}"])
    if report.with_cases:
        _cases_sheet(workbook.create_sheet(CASES_SHEET), report)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _append(sheet: Worksheet, values: list[Value | str | datetime]) -> None:
    """A row whose texts are text, never a formula, whatever they start with."""
    sheet.append([plain(value) if isinstance(value, str) else value for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell, Cell) and isinstance(cell.value, str):
            cell.data_type = "s"


def _figure_row(sheet: Worksheet, line: FigureLine) -> None:
    _append(
        sheet,
        [line.label, _number(line.current), _number(line.previous), line.change_text, line.basis],
    )
    row = sheet.max_row
    for column in (2, 3):
        sheet.cell(row, column).number_format = _FORMATS[line.measure]


def _number(value: Value) -> Value | str:
    return "—" if value is None else value


def _cases_sheet(sheet: Worksheet, report: AnnualReport) -> None:
    headers = ("指标编号", "指标", *CASE_HEADERS)
    _append(sheet, list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, width in enumerate(_CASE_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for section, line in report.lines():
        for case in line.cases:
            _append(
                sheet,
                [
                    line.key,
                    f"{section.heading} · {line.label}",
                    case.case_id,
                    datetime.combine(case.received_on, time()),
                    case.department or "",
                    case.adds,
                ],
            )
            sheet.cell(sheet.max_row, 4).number_format = "yyyy-mm-dd"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{sheet.max_row}"
