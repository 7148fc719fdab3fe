"""Query parameters shared by the routers: bounded instants, days, cursors and tokens, and the
refusal of parameters a route does not know (a typo is a 422, not a silently ignored filter)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import AfterValidator, AwareDatetime

from casestream.domain.catalog import CaseKind
from casestream.read_models.queries import CaseFilter

from .auth import PrincipalDep, visible_department
from .problems import unprocessable

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


def case_filter(
    principal: PrincipalDep,
    case_kind: CaseKind | None = None,
    kind: Annotated[
        CaseKind | None, Query(deprecated=True, description="the old name of case_kind")
    ] = None,
    status: str | None = None,
    department: str | None = None,
    enterprise: Annotated[str | None, Query(description="enterprise name")] = None,
    enterprise_only: Annotated[
        bool | None, Query(description="only 涉企 cases (true) or only others (false)")
    ] = None,
    received_from: Instant | None = None,
    received_to: Instant | None = None,
) -> CaseFilter:
    """The filters of GET /cases, within the caller's department."""
    return CaseFilter(
        case_kind=chosen.value if (chosen := case_kind or kind) else None,
        status=status,
        department=department,
        enterprise_name=enterprise,
        enterprise=enterprise_only,
        received_from=received_from,
        received_to=received_to,
        visible_department=visible_department(principal),
    )


CaseFilterDep = Annotated[CaseFilter, Depends(case_filter)]
"""The filters of GET /cases (and of its ledger, GET /cases.xlsx)."""
