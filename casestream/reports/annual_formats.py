"""The formats the yearly report is written in, their media types and file names."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import quote

from .annual import AnnualReport
from .annual_docx import render_docx
from .annual_md import render_md
from .annual_xlsx import render_xlsx


class DocumentFormat(StrEnum):
    docx = "docx"
    xlsx = "xlsx"
    md = "md"


MEDIA_TYPES = {
    DocumentFormat.docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    DocumentFormat.md: "text/markdown; charset=utf-8",
}


def render(report: AnnualReport, document_format: DocumentFormat) -> bytes:
    if document_format is DocumentFormat.docx:
        return render_docx(report)
    if document_format is DocumentFormat.xlsx:
        return render_xlsx(report)
    return render_md(report).encode()


def file_name(report: AnnualReport, document_format: DocumentFormat) -> str:
    """An ASCII name every client keeps: annual-report-2026.docx."""
    return f"annual-report-{report.year}.{document_format.value}"


def local_file_name(report: AnnualReport, document_format: DocumentFormat) -> str:
    """The Chinese name: 2026年度法治政府建设报告-治安大队.docx."""
    scope = f"-{report.department}" if report.department else ""
    return f"{report.year}年度法治政府建设报告{scope}.{document_format.value}"


def content_disposition(report: AnnualReport, document_format: DocumentFormat) -> str:
    """The ASCII file name for every client, the Chinese one (RFC 5987) for those that can."""
    local = quote(local_file_name(report, document_format), safe="")
    return (
        f"attachment; filename=\"{file_name(report, document_format)}\"; filename*=UTF-8''{local}"
    )
