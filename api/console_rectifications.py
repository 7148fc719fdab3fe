"""The console's rectification pages: the board (整改看板, GET /console/rectifications) and one
rectification's own page (GET /console/rectifications/{case_id}).

Both read what GET /rectifications and GET /rectifications/{id} read (`RectificationQueries`,
scoped by `visible_department`): a rectification of another department is a 404 page. The
actions a page offers are the commands the signed-in role may give now
(`console_case_options.command_options`, as on the case page), as links to the console's command forms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from casestream.domain.catalog import CitesFiles, EvidenceFile
from casestream.domain.envelope import parse_event
from casestream.domain.rectifications import (
    ProgressEntry,
    RectificationState,
    RectificationStatus,
    VerificationEntry,
)
from casestream.read_models.queries import BadCursor
from casestream.read_models.rectification_queries import (
    RectificationDetail,
    RectificationFilter,
    RectificationQueries,
)
from casestream.read_models.staff_sessions import OpenSession

from .auth import visible_department
from .console import SIGN_IN_PAGE, _page, _redirect, signed_in, signed_in_frame
from .console_case_options import command_options
from .console_labels import KINDS, REVIEW_STATUSES, ROOT_CAUSES, label, status_label
from .deps import Services, ServicesDep
from .sessions import session_principal

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

BOARD = "/console/rectifications"
RECT = "rectification"
BOARD_STATUSES = (
    RectificationStatus.open,
    RectificationStatus.in_progress,
    RectificationStatus.completed,
    RectificationStatus.verified,
    RectificationStatus.rejected,
)
KNOWN_STATUSES = frozenset(status.value for status in RectificationStatus)
COLUMN_LIMIT = 20  # items per column; 更多 pages on through that column alone
TEXT_LIMIT = 200  # a filter's typed text, at most


@dataclass(frozen=True)
class BoardFilter:
    """The board's filters as the URL carries them (the URL contract's parameters)."""

    statuses: tuple[str, ...] = ()
    department: str = ""
    responsible_person: str = ""
    overdue: bool = False
    cursor: str | None = None  # honoured with exactly one status: that column's next page
    unknown: tuple[str, ...] = ()  # status values that are not statuses (left out)

    @classmethod
    def of(cls, request: Request) -> BoardFilter:
        params = request.query_params
        asked = [value[:TEXT_LIMIT] for value in params.getlist("status")[:10] if value]
        statuses = tuple(dict.fromkeys(s for s in asked if s in KNOWN_STATUSES))
        cursor = params.get("cursor") or None
        return cls(
            statuses=statuses,
            department=params.get("department", "").strip()[:TEXT_LIMIT],
            responsible_person=params.get("responsible_person", "").strip()[:TEXT_LIMIT],
            overdue=params.get("overdue") == "true",
            cursor=cursor[:512] if cursor and len(statuses) == 1 else None,
            unknown=tuple(s for s in asked if s not in KNOWN_STATUSES),
        )

    def columns(self) -> tuple[str, ...]:
        return self.statuses or tuple(status.value for status in BOARD_STATUSES)

    def query(self, status: str, scope: str | None) -> RectificationFilter:
        return RectificationFilter(
            statuses=(status,),
            department=self.department or None,
            responsible_person=self.responsible_person or None,
            overdue=True if self.overdue else None,
            visible_department=scope,
        )

    def url(self, statuses: Sequence[str], cursor: str | None = None) -> str:
        params: list[tuple[str, str]] = [("status", status) for status in statuses]
        if self.department:
            params.append(("department", self.department))
        if self.responsible_person:
            params.append(("responsible_person", self.responsible_person))
        if self.overdue:
            params.append(("overdue", "true"))
        if cursor:
            params.append(("cursor", cursor))
        return f"{BOARD}?{urlencode(params)}" if params else BOARD


@dataclass(frozen=True)
class BoardItem:
    case_id: str
    source_case_id: str | None
    department: str
    responsible_person: str
    due: str  # local date, or ""
    overdue: bool
    percent: int | None


@dataclass(frozen=True)
class Column:
    status: str
    label: str
    items: tuple[BoardItem, ...]
    more: str | None  # the URL of the column's next page
    first: str | None  # the URL of its first page, when this is a later one


def _local(at: datetime | None, services: Services, pattern: str = "%Y-%m-%d %H:%M") -> str:
    if at is None:
        return ""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(services.settings.timezone)).strftime(pattern)


def _due(row: Any, state: RectificationState, services: Services) -> str:
    """The completion deadline's local date: its clock's, else the date it was given."""
    deadline_at = getattr(row, "deadline_at", None)
    if deadline_at is not None:
        return _local(deadline_at, services, "%Y-%m-%d")
    return state.deadline.isoformat() if state.deadline else ""


def _item(row: Any, services: Services) -> BoardItem:
    state = RectificationState.model_validate(row.state)
    return BoardItem(
        case_id=row.case_id,
        source_case_id=state.source_case_id,
        department=row.department or "",
        responsible_person=state.responsible_person or "",
        due=_due(row, state, services),
        overdue=bool(row.overdue),
        percent=state.progress_percent,
    )


def _columns(services: Services, session: OpenSession, where: BoardFilter) -> list[Column]:
    queries = RectificationQueries(services.queries.engine, services.rulebook)
    scope = visible_department(session_principal(session))
    now = services.now()
    found = []
    for status in where.columns():
        page = queries.list(
            where.query(status, scope),
            now=now,
            sort="opened_desc",
            limit=COLUMN_LIMIT,
            cursor=where.cursor,
        )
        found.append(
            Column(
                status=status,
                label=status_label(RECT, status),
                items=tuple(_item(row, services) for row in page.rows),
                more=where.url((status,), page.next_cursor) if page.next_cursor else None,
                first=where.url((status,)) if where.cursor else None,
            )
        )
    return found


@router.get("/rectifications", response_class=HTMLResponse)
async def board(request: Request, services: ServicesDep) -> Response:
    session = await signed_in(request, services)
    if session is None:
        return _redirect(SIGN_IN_PAGE)
    where = BoardFilter.of(request)
    error = None
    try:
        columns = await run_in_threadpool(_columns, services, session, where)
    except BadCursor:
        error = "翻页位置无效，已回到第一页。"
        where = replace(where, cursor=None)
        columns = await run_in_threadpool(_columns, services, session, where)
    return _page(
        request,
        "rect_board.html",
        400 if error else 200,
        **signed_in_frame(session),
        where=where,
        columns=columns,
        column_limit=COLUMN_LIMIT,
        choices=[(s.value, status_label(RECT, s.value)) for s in RectificationStatus],
        error=error,
        scope=visible_department(session_principal(session)),
    )


@dataclass(frozen=True)
class CitedFile:
    file: EvidenceFile
    cited_at: str  # local time of the event citing it

    @property
    def href(self) -> str:
        return f"/files/{self.file.sha256}"


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    href: str


@dataclass(frozen=True)
class SourceView:
    case_id: str
    kind: str  # label
    status: str  # label
    department: str


@dataclass(frozen=True)
class RectView:
    """What a rectification's page shows."""

    case_id: str
    status: str
    status_label: str
    department: str
    responsible_person: str
    source_case_id: str | None
    source: SourceView | None  # its source case, when the caller may see it
    deadline: str  # local date of the completion deadline
    overdue: bool
    description: str
    review_status: str  # label, or ""
    root_causes: tuple[str, ...]  # labels
    lessons: str
    measures: tuple[str, ...]
    progress: tuple[ProgressEntry, ...]
    percent: int | None
    evidence: tuple[str, ...]
    files: tuple[CitedFile, ...]
    verifications: tuple[VerificationEntry, ...]
    cancelled_reason: str
    actions: tuple[Action, ...]


def _cited_files(services: Services, case_id: str, scope: str | None) -> tuple[CitedFile, ...]:
    """The evidence files the rectification's events cite (the case history GET
    /cases/{id}/events reads), in order."""
    found: list[CitedFile] = []
    for row in services.queries.case_events(case_id, visible_department=scope):
        payload = parse_event(row.body, services.settings.timezone).payload
        if isinstance(payload, CitesFiles):
            at = _local(row.occurred_at, services)
            found.extend(CitedFile(file, at) for file in payload.files)
    return tuple(found)


def _view(
    services: Services, session: OpenSession, found: RectificationDetail, scope: str | None
) -> RectView:
    row = found.case
    state = RectificationState.model_validate(row.state)
    source = found.source
    return RectView(
        case_id=row.case_id,
        status=row.status,
        status_label=status_label(RECT, row.status),
        department=row.department or "",
        responsible_person=state.responsible_person or "",
        source_case_id=state.source_case_id,
        source=None
        if source is None or scope not in (None, source.department)
        else SourceView(
            case_id=source.case_id,
            kind=label(KINDS, source.case_kind),
            status=status_label(source.case_kind, source.status),
            department=source.department or "",
        ),
        deadline=_due(row, state, services),
        overdue=bool(row.overdue),
        description=state.description or "",
        review_status=label(REVIEW_STATUSES, state.review_status),
        root_causes=tuple(label(ROOT_CAUSES, cause) for cause in state.root_causes),
        lessons=state.lessons or "",
        measures=state.measures,
        progress=state.progress_reports,
        percent=state.progress_percent,
        evidence=state.evidence,
        files=_cited_files(services, row.case_id, scope),
        verifications=state.verifications,
        cancelled_reason=state.cancelled_reason or "",
        actions=tuple(
            Action(option.name, option.label, option.href)
            for option in command_options(
                state,
                session.role,
                session.username,
                services.now().astimezone(ZoneInfo(services.settings.timezone)),
            )
            if option.reason is None
        ),
    )


def _rectification(services: Services, session: OpenSession, case_id: str) -> RectView | None:
    scope = visible_department(session_principal(session))
    queries = RectificationQueries(services.queries.engine, services.rulebook)
    found = queries.get(case_id, scope, now=services.now())
    return None if found is None else _view(services, session, found, scope)


@router.get("/rectifications/{case_id}", response_class=HTMLResponse)
async def rectification(request: Request, case_id: str, services: ServicesDep) -> Response:
    session = await signed_in(request, services)
    if session is None:
        return _redirect(SIGN_IN_PAGE)
    shown = await run_in_threadpool(_rectification, services, session, case_id[:200])
    context = signed_in_frame(session)
    if shown is None:  # unknown, or another department's: the same answer
        return _page(request, "rect_missing.html", 404, **context, case_id=case_id[:200])
    return _page(
        request,
        "rect_detail.html",
        **context,
        rect=shown,
        local=lambda at: _local(at, services),
    )
