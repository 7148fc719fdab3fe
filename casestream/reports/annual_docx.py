"""The yearly report as a Word document (python-docx): a heading per section, its figures in a
table (指标 · 本年 · 上年 · 增减 · 口径), and with the cases asked for an appendix listing, per
figure, the cases it counts."""

from __future__ import annotations

import io
from collections.abc import Sequence

from docx import Document
from docx.document import Document as DocumentObject
from docx.oxml.ns import qn
from docx.shared import Pt

from .annual import CASE_HEADERS, TABLE_HEADERS, AnnualReport, FigureLine, Measure, day_text
from .text_cells import plain

TABLE_STYLE = "Table Grid"
# the fonts of Chinese official documents that every office PC has: 宋体 for text, 黑体 for headings
FONTS = {"Normal": "宋体", "Title": "黑体", "Heading 1": "黑体"}


def render_docx(report: AnnualReport) -> bytes:
    document = Document()
    _chinese_fonts(document)
    document.core_properties.title = plain(report.title)
    document.add_heading(plain(report.title), level=0)
    document.add_paragraph(plain(report.explanation))
    document.add_paragraph(f"生成时间：{report.generated_at}（{report.timezone}）")
    for section in report.sections:
        document.add_heading(section.heading, level=1)
        if section.empty:
            document.add_paragraph(section.empty_text)
            continue
        headers = _headers(report)
        rows = [
            (line.label, line.current_text, line.previous_text, line.change_text, line.basis)
            for line in section.lines
        ]
        _table(document, headers, rows)
        for note in section.notes:
            document.add_paragraph(f"注：{note}")
    if report.with_cases:
        _appendix(document, report)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _chinese_fonts(document: DocumentObject) -> None:
    """Name the East Asian font of the styles used: Word would otherwise pick its own."""
    for name, font in FONTS.items():
        style = document.styles[name]
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), font)


def _headers(report: AnnualReport) -> tuple[str, ...]:
    name, _, _, change, basis = TABLE_HEADERS
    return (name, report.current_header, report.previous_header, change, basis)


def _table(document: DocumentObject, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = document.add_table(rows=1, cols=len(headers))
    table.style = TABLE_STYLE
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(plain(text))
        run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = plain(text)


def _appendix(document: DocumentObject, report: AnnualReport) -> None:
    document.add_heading("附：各项数字所计案件", level=1)
    document.add_paragraph(
        f"下列为{report.current_header}各项计数所计的案件（受理日期为本地日期）；"
        "比率由上列计数得出，不另列案件。"
    )
    for section, line in report.lines():
        if line.measure is not Measure.number:
            continue
        heading = document.add_paragraph()
        run = heading.add_run(plain(f"{section.heading} · {line.label}：{line.current_text}"))
        run.bold = True
        run.font.size = Pt(11)
        if not line.cases:
            document.add_paragraph("无。")
            continue
        _table(document, CASE_HEADERS, _case_rows(line))


def _case_rows(line: FigureLine) -> list[tuple[str, str, str, str]]:
    return [
        (case.case_id, day_text(case.received_on), case.department or "", str(case.adds))
        for case in line.cases
    ]
