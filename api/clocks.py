"""Deadline queries: overdue cases, the clocks (时限) of one case, clocks due soon.

"Now" comes from `Services.now`, so tests fix it. A department-bound caller sees only the
clocks of their department's cases.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from casestream.domain.catalog import CaseKind
from casestream.durations import BadDuration, parse_duration
from casestream.read_models.clock_queries import ClockFilter

from .auth import Principal, PrincipalDep, not_found, visible_department
from .deps import ServicesDep
from .problems import query_problem
from .responses import NOT_FOUND
from .schemas import ClockOut, DueClock, DueList, OverdueClock, OverdueList

router = APIRouter(tags=["deadlines"])

RuleQuery = Annotated[str | None, Query(description="rule id, e.g. reconsideration.reply")]
LimitQuery = Annotated[int, Query(ge=1, le=1000)]


def _filter(
    principal: Principal, department: str | None, case_kind: CaseKind | None, rule: str | None
) -> ClockFilter:
    return ClockFilter(
        department=department,
        case_kind=case_kind.value if case_kind else None,
        rule_id=rule,
        visible_department=visible_department(principal),
    )


# registered before the cases router, so /cases/overdue is not taken for a case id
@router.get("/cases/overdue", response_model=OverdueList)
def overdue_cases(
    services: ServicesDep,
    principal: PrincipalDep,
    department: str | None = None,
    case_kind: CaseKind | None = None,
    rule: RuleQuery = None,
    limit: LimitQuery = 100,
) -> OverdueList:
    """Open clocks past their deadline, longest overdue first; 涉企 cases first among equals."""
    now = services.now()
    where = _filter(principal, department, case_kind, rule)
    rows = services.clocks.overdue(now, where, limit=limit)
    items = [
        OverdueClock(
            **ClockOut.from_row(row).model_dump(),
            overdue_seconds=max(0, int((now - row.due_at).total_seconds())),
        )
        for row in rows
    ]
    return OverdueList(as_of=now, items=items)


@router.get("/cases/{case_id}/clocks", response_model=list[ClockOut], responses=NOT_FOUND)
def case_clocks(case_id: str, services: ServicesDep, principal: PrincipalDep) -> list[ClockOut]:
    """Every deadline clock of a case, in the order they started."""
    rows = services.clocks.of_case(case_id, visible_department=visible_department(principal))
    if rows is None:
        raise not_found(f"case {case_id!r}")
    return [ClockOut.from_row(row) for row in rows]


@router.get("/clocks/due", response_model=DueList)
def clocks_due(
    services: ServicesDep,
    principal: PrincipalDep,
    within: Annotated[
        str, Query(description="window from now: 30m, 12h, 3d or 1w", examples=["3d"])
    ] = "3d",
    department: str | None = None,
    case_kind: CaseKind | None = None,
    rule: RuleQuery = None,
    limit: LimitQuery = 100,
) -> DueList:
    """Running clocks due between now and now + `within`, soonest first."""
    try:
        window = parse_duration(within)
    except BadDuration as exc:
        raise query_problem("within", str(exc)) from exc
    now = services.now()
    until = now + window
    where = _filter(principal, department, case_kind, rule)
    rows = services.clocks.due_within(now, until, where, limit=limit)
    items = [
        DueClock(
            **ClockOut.from_row(row).model_dump(),
            remaining_seconds=max(0, int((row.due_at - now).total_seconds())),
        )
        for row in rows
    ]
    return DueList(as_of=now, until=until, items=items)
