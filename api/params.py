"""Query parameters shared by the routers: bounded instants, days, cursors and tokens, and the
refusal of parameters a route does not know (a typo is a 422, not a silently ignored filter)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import AfterValidator, AwareDatetime

from casestream.domain.catalog import CaseKind, Channel
from casestream.durations import BadDuration, parse_duration
from casestream.read_models.queries import CaseFilter, CaseOrder

from .auth import PrincipalDep, visible_department
from .deps import ServicesDep
from .problems import query_problem, unprocessable

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


def _plausible_day(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"must lie between {EARLIEST} and {LATEST}")
    return value


def _plausible_instant(value: datetime) -> datetime:
    _plausible_day(value.date())
    return value.astimezone(UTC)  # safe inside the window, whatever the offset


Day = Annotated[date, AfterValidator(_plausible_day)]
"""A calendar day between 1900 and 2999."""

Instant = Annotated[AwareDatetime, AfterValidator(_plausible_instant)]
"""An instant with its offset (e.g. 2026-11-30T09:00:00+08:00), between 1900 and 2999."""

CursorQuery = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page; omit for the first"),
]
Text = Annotated[str | None, Query(max_length=200)]
"""A free filter value (department, rule, status, person …)."""


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _known_query_names(route: APIRoute) -> frozenset[str]:
    cached: frozenset[str] | None = getattr(route, "_casestream_query_names", None)
    if cached is None:
        cached = frozenset(_query_names(route.dependant))
        route._casestream_query_names = cached  # type: ignore[attr-defined]
    return cached


async def reject_unknown_query(request: Request) -> None:
    """422 naming a query parameter the route does not take."""
    route: Any = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _known_query_names(route)
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        expected = ", ".join(sorted(known)) or "none"
        raise unprocessable(
            "query",
            [
                (name[:100], f"unknown query parameter; this route takes: {expected}")
                for name in unknown[:10]
            ],
        )


WINDOW_MAX_LENGTH = 20
SEARCH_MAX_LENGTH = 200


def due_window_end(now: datetime, due_within: str | None) -> datetime | None:
    """now + the window `due_within` (30m, 12h, 3d, 1w, as GET /clocks/due's `within`);
    422 naming `due_within` when it is not one."""
    if due_within is None:
        return None
    try:
        return now + parse_duration(due_within)
    except BadDuration as exc:
        raise query_problem("due_within", str(exc)) from exc


async def case_filter(
    principal: PrincipalDep,
    services: ServicesDep,
    case_kind: CaseKind | None = None,
    kind: Annotated[
        CaseKind | None, Query(deprecated=True, description="the old name of case_kind")
    ] = None,
    status: Text = None,
    department: Text = None,
    enterprise: Annotated[str | None, Query(max_length=200, description="enterprise name")] = None,
    enterprise_only: Annotated[
        bool | None, Query(description="only 涉企 cases (true) or only others (false)")
    ] = None,
    received_from: Instant | None = None,
    received_to: Instant | None = None,
    channel: Annotated[
        Channel | None, Query(description="how a complaint reached the bureau (来源渠道)")
    ] = None,
    overdue: Annotated[
        bool | None,
        Query(description="with a clock overdue now, as GET /cases/overdue (true) or without"),
    ] = None,
    due_within: Annotated[
        str | None,
        Query(
            max_length=WINDOW_MAX_LENGTH,
            description="with a running clock due between now and now + this window "
            "(30m, 12h, 3d or 1w, as GET /clocks/due)",
            examples=["3d"],
        ),
    ] = None,
    supervised: Annotated[
        bool | None, Query(description="督察: complaints under supervision now (true) or not")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=SEARCH_MAX_LENGTH,
            description="a case id (案件编号) or a decision number (处罚决定书文号), exact",
        ),
    ] = None,
) -> CaseFilter:
    """The filters of GET /cases, within the caller's department (async: it does no I/O, so it
    need not cost a hop to a worker thread)."""
    now = services.now()
    search = q.strip() if q else None
    return CaseFilter(
        case_kind=chosen.value if (chosen := case_kind or kind) else None,
        status=status,
        department=department,
        enterprise_name=enterprise,
        enterprise=enterprise_only,
        received_from=received_from,
        received_to=received_to,
        channel=channel.value if channel else None,
        overdue=overdue,
        due_until=due_window_end(now, due_within),
        supervised=supervised,
        search=search or None,
        now=now,
        visible_department=visible_department(principal),
    )


CaseFilterDep = Annotated[CaseFilter, Depends(case_filter)]
"""The filters of GET /cases (and of its ledger, GET /cases.xlsx)."""

CaseSortQuery = Annotated[
    CaseOrder,
    Query(
        description="received: newest received first; due: nearest due open clock first "
        "(overdue ones first), the cases without one last"
    ),
]
