"""案件列表: the console's list of cases (/console/cases) and its Excel export
(/console/cases.xlsx), with the filters, order and pages of GET /cases.

The page reads what GET /cases reads for the same account (`CaseQueries.list_cases` with the
account's department scope) and masks personal data as the API does for its role. Its dates
are local dates (settings.timezone): a received_to day is included whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool

from casestream.credentials import Principal
from casestream.domain.anonymity import party_of
from casestream.domain.cases import restore_state
from casestream.domain.catalog import CaseKind, Channel
from casestream.durations import BadDuration, parse_duration
from casestream.read_models.ledger_layout import ANONYMOUS, CASE_LEDGER
from casestream.read_models.ledger_queries import LedgerQueries
from casestream.read_models.queries import BadCursor, CaseFilter, CaseOrder, Page

from .auth import visible_department
from .console import SIGN_IN_PAGE, _page, signed_in
from .console_labels import (
    CASE_SORTS,
    CHANNELS,
    DUE_WINDOWS,
    KINDS,
    ROLES,
    STATUSES,
    label,
    status_label,
)
from .deps import ServicesDep
from .ledgers import mask_party, xlsx_response
from .masking import mask_name, sees_personal_data
from .params import SEARCH_MAX_LENGTH, WINDOW_MAX_LENGTH, Day
from .sessions import session_principal

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

LIST_PAGE = "/console/cases"
EXPORT = "/console/cases.xlsx"
PAGE_SIZE = 50
FIELD_LABELS = {
    "q": "案件编号或文号",
    "case_kind": "案件类型",
    "status": "状态",
    "department": "承办部门",
    "channel": "来源渠道",
    "enterprise_only": "涉企",
    "received_from": "受理日期（起）",
    "received_to": "受理日期（止）",
    "overdue": "已超期",
    "due_within": "即将到期",
    "supervised": "督察关注",
    "sort": "排序",
    "cursor": "分页位置",
}


class ListQuery(BaseModel):
    """The query of the case list as the page's form sends it: an empty field is no filter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    q: Annotated[str | None, Field(max_length=SEARCH_MAX_LENGTH)] = None
    case_kind: CaseKind | None = None
    status: Annotated[str | None, Field(max_length=32)] = None
    department: Annotated[str | None, Field(max_length=200)] = None
    channel: Channel | None = None
    enterprise_only: bool | None = None
    received_from: Day | None = None
    received_to: Day | None = None
    overdue: bool | None = None
    due_within: Annotated[str | None, Field(max_length=WINDOW_MAX_LENGTH)] = None
    supervised: bool | None = None
    sort: CaseOrder = CaseOrder.received
    cursor: Annotated[str | None, Field(max_length=512)] = None

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_absent(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("due_within")
    @classmethod
    def _a_window(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                parse_duration(value)
            except BadDuration as exc:
                raise ValueError("请选择到期范围，如 3d（3天内）") from exc
        return value

    def params(self, **changes: str | None) -> dict[str, str]:
        """The query string's parameters (empty ones left out), with `changes` made."""
        found: dict[str, str] = {}
        for name, value in self.model_dump(mode="json").items():
            if value is not None and not (name == "sort" and value == CaseOrder.received):
                found[name] = str(value).lower() if isinstance(value, bool) else str(value)
        for name, changed in changes.items():
            if changed is None:
                found.pop(name, None)
            else:
                found[name] = changed
        return found

    def link(self, path: str, **changes: str | None) -> str:
        params = self.params(**changes)
        return f"{path}?{urlencode(params)}" if params else path

    def case_filter(self, principal: Principal, now: datetime, zone: ZoneInfo) -> CaseFilter:
        """The filter of GET /cases for these fields, within the account's department."""
        return CaseFilter(
            case_kind=self.case_kind.value if self.case_kind else None,
            status=self.status,
            department=self.department,
            enterprise=self.enterprise_only,
            received_from=_day_starts(self.received_from, zone),
            received_to=_day_starts(self.received_to + timedelta(days=1), zone)
            if self.received_to
            else None,
            channel=self.channel.value if self.channel else None,
            overdue=self.overdue,
            due_until=now + parse_duration(self.due_within) if self.due_within else None,
            supervised=self.supervised,
            search=self.q,
            now=now,
            visible_department=visible_department(principal),
        )


def _day_starts(day: date | None, zone: ZoneInfo) -> datetime | None:
    return None if day is None else datetime.combine(day, time(), zone)


@dataclass(frozen=True)
class Problem:
    field: str
    label: str
    message: str


# what a refused field is told, by pydantic's error type (its own message otherwise)
_MESSAGES = {
    "date_from_datetime_parsing": "请输入有效日期（年-月-日）",
    "date_parsing": "请输入有效日期（年-月-日）",
    "date_type": "请输入有效日期（年-月-日）",
    "enum": "请从列表中选择",
    "bool_parsing": "请从列表中选择",
    "string_too_long": "内容过长",
    "extra_forbidden": "本页不认识这个查询参数",
}


def read_query(request: Request) -> ListQuery | list[Problem]:
    """The list's query from the URL, or what is wrong with it (each field named)."""
    try:
        return ListQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        problems = []
        for error in exc.errors()[:10]:
            field = str(error["loc"][0])[:100] if error["loc"] else ""
            message = _MESSAGES.get(error["type"], error["msg"].removeprefix("Value error, "))
            problems.append(Problem(field, FIELD_LABELS.get(field, field), message))
        return problems


@dataclass(frozen=True)
class CaseLine:
    """One row of the list, as shown."""

    case_id: str
    kind: str
    status: str
    department: str
    channel: str
    enterprise: bool
    party: str
    received: str
    due: str
    overdue: bool


class CaseLines:
    """Turns rows of `list_cases` into lines: labels, local times, the party masked per role."""

    def __init__(self, principal: Principal, zone: ZoneInfo) -> None:
        self._masked = not sees_personal_data(principal)
        self._zone = zone

    def line(self, row: Any) -> CaseLine:
        state = restore_state(CaseKind(row.case_kind), row.state)
        due: datetime | None = row.next_due_at
        return CaseLine(
            case_id=row.case_id,
            kind=label(KINDS, row.case_kind),
            status=status_label(row.case_kind, row.status),
            department=row.department or "",
            channel=label(CHANNELS, getattr(state, "channel", None)),
            enterprise=bool(row.enterprise),
            party=self._party(state),
            received=f"{row.received_at.astimezone(self._zone):%Y-%m-%d %H:%M}",
            due=f"{due.astimezone(self._zone):%Y-%m-%d}" if due else "",
            overdue=bool(row.overdue),
        )

    def _party(self, state: Any) -> str:
        party = party_of(state)
        if party.anonymous:
            return ANONYMOUS
        if party.person is None:
            return ""
        return mask_name(party.person.name) if self._masked else party.person.name


def _status_groups() -> list[tuple[str, str, list[tuple[str, str]]]]:
    return [(kind, KINDS[kind], list(names.items())) for kind, names in STATUSES.items()]


def _frame(principal: Principal, csrf_token: str) -> dict[str, Any]:
    return {
        "csrf_token": csrf_token,
        "username": principal.subject,
        "role_label": label(ROLES, principal.role),
        "bound_department": visible_department(principal),
        "kinds": KINDS,
        "channels": CHANNELS,
        "status_groups": _status_groups(),
        "due_windows": DUE_WINDOWS,
        "sorts": CASE_SORTS,
        "labels": FIELD_LABELS,
    }


def _list_page(
    request: Request,
    frame: dict[str, Any],
    query: ListQuery,
    page: Page | None,
    lines: list[CaseLine],
    problems: list[Problem],
) -> HTMLResponse:
    next_link = (
        query.link(LIST_PAGE, cursor=page.next_cursor) if page and page.next_cursor else None
    )
    return _page(
        request,
        "cases_list.html",
        422 if problems else 200,
        **frame,
        query=query,
        lines=lines,
        problems=problems,
        next_link=next_link,
        first_link=query.link(LIST_PAGE, cursor=None) if query.cursor else None,
        sort_links={sort: query.link(LIST_PAGE, sort=sort, cursor=None) for sort in CASE_SORTS},
        export_link=query.link(EXPORT, cursor=None),
    )


@router.get("/cases", response_class=HTMLResponse)
async def case_list(request: Request, services: ServicesDep) -> Response:
    session = await signed_in(request, services)
    if session is None:
        return RedirectResponse(SIGN_IN_PAGE, status_code=303)
    principal = session_principal(session)
    frame = _frame(principal, session.csrf_token)
    found = read_query(request)
    if isinstance(found, list):
        return _list_page(request, frame, ListQuery(), None, [], found)
    zone = ZoneInfo(services.settings.timezone)
    where = found.case_filter(principal, services.now(), zone)
    try:
        page = await run_in_threadpool(
            services.queries.list_cases,
            where,
            limit=PAGE_SIZE,
            cursor=found.cursor,
            sort=found.sort,
        )
    except BadCursor:
        problem = Problem("cursor", FIELD_LABELS["cursor"], "分页位置无效，请从第一页重新开始")
        return _list_page(request, frame, found, None, [], [problem])
    lines = CaseLines(principal, zone)
    return _list_page(request, frame, found, page, [lines.line(row) for row in page.rows], [])


@router.get("/cases.xlsx", response_class=Response)
async def case_list_export(request: Request, services: ServicesDep) -> Response:
    session = await signed_in(request, services)
    if session is None:
        return RedirectResponse(SIGN_IN_PAGE, status_code=303)
    principal = session_principal(session)
    found = read_query(request)  # the list's own query: a bad one shows the list's form
    if isinstance(found, list):
        frame = _frame(principal, session.csrf_token)
        return _list_page(request, frame, ListQuery(), None, [], found)
    zone = ZoneInfo(services.settings.timezone)
    where = found.case_filter(principal, services.now(), zone)
    ledger = LedgerQueries(
        services.queries.engine, services.settings.timezone, mask_party, services.rulebook
    )
    masked = not sees_personal_data(principal)

    def export() -> Response:
        rows = ledger.case_rows(where, now=services.now(), mask=masked, sort=found.sort)
        response = xlsx_response(CASE_LEDGER, rows, services.now().astimezone(zone).date())
        response.headers["Cache-Control"] = "no-store"
        return response

    return await run_in_threadpool(export)
