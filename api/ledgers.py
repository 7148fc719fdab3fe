"""Ledgers (台账) as spreadsheets: GET /cases.xlsx|.csv, /rectifications.xlsx|.csv and, of
enforcement supervision (执法监督), /enforcement/decisions.xlsx|.csv (不予处罚决定及公示台账)
and /enforcement/notices.xlsx|.csv (执法监督书台账).

The same filters as the JSON lists; xlsx for opening as-is (bold frozen header, widths,
autofilter, real date cells), csv as UTF-8 with BOM so Excel reads the Chinese right.
Times are local (CASESTREAM_TIMEZONE). A department-bound caller gets only their department's
rows; personal data of the public is masked for the roles that don't need it (api/masking.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from casestream.domain.catalog import CaseKind
from casestream.read_models.ledger_layout import (
    CASE_LEDGER,
    DECISION_LEDGER,
    NOTICE_LEDGER,
    RECTIFICATION_LEDGER,
    Cell,
    LedgerColumn,
    LedgerLayout,
)
from casestream.read_models.ledger_queries import EnforcementLedgerFilter, LedgerQueries
from casestream.read_models.queries import CaseOrder
from casestream.read_models.rectification_queries import RectificationFilter

from .auth import PrincipalDep, visible_department
from .deps import ReadModelEngineDep, Services, ServicesDep
from .masking import mask_name, mask_phone, sees_personal_data
from .params import CaseFilterDep, CaseSortQuery, Instant
from .problems import query_problem

router = APIRouter(tags=["ledgers"])

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
EXCEL_MAX_ROWS = 1_048_576  # one sheet, header included
_NUMBER_FORMATS = {"datetime": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd"}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such text


def mask_party(name: str, phone: str | None) -> tuple[str, str | None]:
    """张三 → 张*, 13812345678 → 138****5678 (the rules of api/masking.py)."""
    return mask_name(name), mask_phone(phone) if phone else phone


def rectification_filter(
    principal: PrincipalDep,
    status: str | None = None,
    department: Annotated[str | None, Query(description="responsible department")] = None,
    responsible_person: str | None = None,
    source_case_kind: CaseKind | None = None,
    overdue: Annotated[
        bool | None, Query(description="the completion deadline (整改时限) is past (true) or not")
    ] = None,
    opened_from: Instant | None = None,
    opened_to: Instant | None = None,
) -> RectificationFilter:
    return RectificationFilter(
        statuses=(status,) if status else (),
        department=department,
        responsible_person=responsible_person,
        source_case_kind=source_case_kind.value if source_case_kind else None,
        overdue=overdue,
        opened_from=opened_from,
        opened_to=opened_to,
        visible_department=visible_department(principal),
    )


RectificationFilterDep = Annotated[RectificationFilter, Depends(rectification_filter)]


def enforcement_filter(
    principal: PrincipalDep,
    department: Annotated[
        str | None, Query(max_length=200, description="承办部门 (the decision's, the notice's)")
    ] = None,
    opened_from: Annotated[
        Instant | None, Query(description="recorded (decision) or issued (notice) from")
    ] = None,
    opened_to: Annotated[Instant | None, Query(description="… and before this instant")] = None,
) -> EnforcementLedgerFilter:
    """A department-bound caller sees their own department's cases only."""
    return EnforcementLedgerFilter(
        department=department,
        opened_from=opened_from,
        opened_to=opened_to,
        visible_department=visible_department(principal),
    )


EnforcementFilterDep = Annotated[EnforcementLedgerFilter, Depends(enforcement_filter)]


def _ledger(services: Services, engine: sa.Engine) -> LedgerQueries:
    return LedgerQueries(engine, services.settings.timezone, mask_party, services.rulebook)


def _local_today(services: Services) -> date:
    return services.now().astimezone(ZoneInfo(services.settings.timezone)).date()


@router.get("/cases.xlsx", response_class=Response, responses={200: {"content": {XLSX_TYPE: {}}}})
def cases_xlsx(
    services: ServicesDep,
    engine: ReadModelEngineDep,
    principal: PrincipalDep,
    where: CaseFilterDep,
    sort: CaseSortQuery = CaseOrder.received,
) -> Response:
    """案件台账 as an Excel workbook: the cases GET /cases lists, in its order."""
    mask = not sees_personal_data(principal)
    rows = _ledger(services, engine).case_rows(where, now=services.now(), mask=mask, sort=sort)
    return xlsx_response(CASE_LEDGER, rows, _local_today(services))


@router.get(
    "/cases.csv", response_class=StreamingResponse, responses={200: {"content": {CSV_TYPE: {}}}}
)
def cases_csv(
    services: ServicesDep,
    engine: ReadModelEngineDep,
    principal: PrincipalDep,
    where: CaseFilterDep,
    sort: CaseSortQuery = CaseOrder.received,
) -> Response:
    """案件台账 as CSV (UTF-8 with BOM), streamed."""
    mask = not sees_personal_data(principal)
    rows = _ledger(services, engine).case_rows(where, now=services.now(), mask=mask, sort=sort)
    return csv_response(CASE_LEDGER, rows, _local_today(services))


@router.get(
    "/rectifications.xlsx", response_class=Response, responses={200: {"content": {XLSX_TYPE: {}}}}
)
def rectifications_xlsx(
    services: ServicesDep, engine: ReadModelEngineDep, where: RectificationFilterDep
) -> Response:
    """整改台账 as an Excel workbook, newest first."""
    rows = _ledger(services, engine).rectification_rows(where, now=services.now())
    return xlsx_response(RECTIFICATION_LEDGER, rows, _local_today(services))


@router.get(
    "/rectifications.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {CSV_TYPE: {}}}},
)
def rectifications_csv(
    services: ServicesDep, engine: ReadModelEngineDep, where: RectificationFilterDep
) -> Response:
    """整改台账 as CSV (UTF-8 with BOM), streamed."""
    rows = _ledger(services, engine).rectification_rows(where, now=services.now())
    return csv_response(RECTIFICATION_LEDGER, rows, _local_today(services))


@router.get(
    "/enforcement/decisions.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}}},
)
def decisions_xlsx(
    services: ServicesDep, engine: ReadModelEngineDep, where: EnforcementFilterDep
) -> Response:
    """不予处罚决定及公示台账 as an Excel workbook, newest first."""
    rows = _ledger(services, engine).decision_rows(where, now=services.now())
    return xlsx_response(DECISION_LEDGER, rows, _local_today(services))


@router.get(
    "/enforcement/decisions.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {CSV_TYPE: {}}}},
)
def decisions_csv(
    services: ServicesDep, engine: ReadModelEngineDep, where: EnforcementFilterDep
) -> Response:
    """不予处罚决定及公示台账 as CSV (UTF-8 with BOM), streamed."""
    rows = _ledger(services, engine).decision_rows(where, now=services.now())
    return csv_response(DECISION_LEDGER, rows, _local_today(services))


@router.get(
    "/enforcement/notices.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}}},
)
def notices_xlsx(
    services: ServicesDep, engine: ReadModelEngineDep, where: EnforcementFilterDep
) -> Response:
    """执法监督书台账 as an Excel workbook, newest first."""
    rows = _ledger(services, engine).notice_rows(where, now=services.now())
    return xlsx_response(NOTICE_LEDGER, rows, _local_today(services))


@router.get(
    "/enforcement/notices.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {CSV_TYPE: {}}}},
)
def notices_csv(
    services: ServicesDep, engine: ReadModelEngineDep, where: EnforcementFilterDep
) -> Response:
    """执法监督书台账 as CSV (UTF-8 with BOM), streamed."""
    rows = _ledger(services, engine).notice_rows(where, now=services.now())
    return csv_response(NOTICE_LEDGER, rows, _local_today(services))


# --- rendering ------------------------------------------------------------------------------


def content_disposition(layout: LedgerLayout, extension: str, day: date) -> str:
    """An ASCII file name for every client, and the Chinese one (RFC 5987) for those that can."""
    stamp = day.strftime("%Y%m%d")
    local_name = quote(f"{layout.title}-{stamp}.{extension}")
    return (
        f"attachment; filename=\"{layout.name}-{stamp}.{extension}\"; filename*=UTF-8''{local_name}"
    )


def xlsx_response(layout: LedgerLayout, rows: Iterable[list[Cell]], day: date) -> Response:
    try:
        body = render_xlsx(layout, rows)
    except LedgerTooLarge as exc:
        raise query_problem("", str(exc)) from exc
    headers = {"Content-Disposition": content_disposition(layout, "xlsx", day)}
    return Response(body, media_type=XLSX_TYPE, headers=headers)


def csv_response(layout: LedgerLayout, rows: Iterable[list[Cell]], day: date) -> Response:
    headers = {"Content-Disposition": content_disposition(layout, "csv", day)}
    return StreamingResponse(render_csv(layout, rows), media_type=CSV_TYPE, headers=headers)


class LedgerTooLarge(ValueError):
    """More rows than one Excel sheet holds."""


def render_xlsx(layout: LedgerLayout, rows: Iterable[list[Cell]]) -> bytes:
    """A workbook of one sheet named after the ledger, written row by row (write-only mode)."""
    workbook = Workbook(write_only=True)
    workbook.properties.title = layout.title
    sheet = workbook.create_sheet(layout.title)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(layout.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold = Font(bold=True)
    header = [WriteOnlyCell(sheet, column.header) for column in layout.columns]
    for cell in header:
        cell.font = bold
    sheet.append(header)
    written = 1
    for row in rows:
        written += 1
        if written > EXCEL_MAX_ROWS:
            raise LedgerTooLarge(
                f"more than {EXCEL_MAX_ROWS - 1} rows: narrow the filters or download the .csv"
            )
        sheet.append(
            [
                _xlsx_cell(sheet, column, value)
                for column, value in zip(layout.columns, row, strict=True)
            ]
        )
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(layout.columns))}{written}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet: WriteOnlyWorksheet, column: LedgerColumn, value: Cell) -> Any:
    if isinstance(value, date):  # datetime too: a real date cell, shown in local time
        # a spreadsheet stores a day as its midnight; the format shows the day alone
        instant = value if isinstance(value, datetime) else datetime.combine(value, time())
        cell = WriteOnlyCell(sheet, instant)
        cell.number_format = _NUMBER_FORMATS["datetime" if isinstance(value, datetime) else "date"]
        return cell
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"  # text, never a formula, whatever it starts with
        return cell
    return value


def render_csv(
    layout: LedgerLayout, rows: Iterable[list[Cell]], batch: int = 200
) -> Iterator[bytes]:
    """The ledger as CSV: a BOM, the header, then rows in chunks of `batch`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.header for column in layout.columns])
    yield ("\ufeff" + buffer.getvalue()).encode()
    buffer.seek(0)
    buffer.truncate()
    for count, row in enumerate(rows, start=1):
        writer.writerow([_csv_text(value) for value in row])
        if count % batch == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # a leading ' keeps a spreadsheet from running text as a formula (CSV injection)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_STARTS) else text
