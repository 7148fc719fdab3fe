"""Deadline queries: overdue cases, the clocks (时限) of one case, clocks due soon.

"Now" comes from `Services.now`, so tests fix it. A department-bound caller sees only the
clocks of their department's cases. With `explain=true` each clock carries how its deadline
was counted (`domain/deadline_explanation.py`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query

from casestream.domain.catalog import CaseKind
from casestream.domain.deadline_explanation import explain_clock
from casestream.domain.deadline_explanation_models import ClockExplanation
from casestream.domain.envelope import Event, UndecodableEvent, parse_event
from casestream.durations import BadDuration, parse_duration
from casestream.read_models.clock_queries import ClockFilter, clock_of

from .auth import Principal, PrincipalDep, not_found, visible_department
from .deps import Services, ServicesDep
from .problems import query_problem
from .responses import NOT_FOUND
from .schemas import ClockOut, DueClock, DueList, OverdueClock, OverdueList

router = APIRouter(tags=["deadlines"])

RuleQuery = Annotated[str | None, Query(description="rule id, e.g. reconsideration.reply")]
LimitQuery = Annotated[int, Query(ge=1, le=1000)]
ExplainQuery = Annotated[
    bool,
    Query(
        description="true: each clock carries `explanation`, how its deadline was counted "
        "(rule and legal source, start, days counted and skipped with the reason, pauses, "
        "extensions, due instant in local time, a one-line Chinese summary)"
    ),
]


def _explanations(
    services: Services, rows: Sequence[Any], explain: bool
) -> dict[str, ClockExplanation | None]:
    """The explanation of each row's clock by clock id (empty unless `explain`); the cases'
    extension events are read in one query, for who approved each extension."""
    if not explain:
        return {}
    tz = services.settings.timezone
    rules = services.rulebook.rules
    found = [clock_of(row) for row in rows]
    extending = {
        kind
        for clock in found
        if clock.rule_id in rules
        for kind in rules[clock.rule_id].extended_by
    }
    history: dict[str, list[Event[Any]] | None] = defaultdict(list)
    for row in services.clocks.case_history({clock.case_id for clock in found}, extending):
        events = history[row.case_id]
        if events is None:
            continue
        try:
            events.append(parse_event(row.body, tz))
        except UndecodableEvent:  # show the extension's total, not a wrong history
            history[row.case_id] = None
    return {
        clock.clock_id: (
            explain_clock(
                clock, rules[clock.rule_id], services.calendar, tz, history[clock.case_id]
            )
            if clock.rule_id in rules
            else None  # a rule no longer in force: the clock keeps the due date it had
        )
        for clock in found
    }


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
    explain: ExplainQuery = False,
) -> OverdueList:
    """Open clocks past their deadline, longest overdue first; 涉企 cases first among equals."""
    now = services.now()
    where = _filter(principal, department, case_kind, rule)
    rows = services.clocks.overdue(now, where, limit=limit)
    explained = _explanations(services, rows, explain)
    items = [
        OverdueClock(
            **ClockOut.from_row(row, explained.get(row.clock_id)).model_dump(),
            overdue_seconds=max(0, int((now - row.due_at).total_seconds())),
        )
        for row in rows
    ]
    return OverdueList(as_of=now, items=items)


@router.get("/cases/{case_id}/clocks", response_model=list[ClockOut], responses=NOT_FOUND)
def case_clocks(
    case_id: str, services: ServicesDep, principal: PrincipalDep, explain: ExplainQuery = False
) -> list[ClockOut]:
    """Every deadline clock of a case, in the order they started."""
    rows = services.clocks.of_case(case_id, visible_department=visible_department(principal))
    if rows is None:
        raise not_found(f"case {case_id!r}")
    explained = _explanations(services, rows, explain)
    return [ClockOut.from_row(row, explained.get(row.clock_id)) for row in rows]


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
    explain: ExplainQuery = False,
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
    explained = _explanations(services, rows, explain)
    items = [
        DueClock(
            **ClockOut.from_row(row, explained.get(row.clock_id)).model_dump(),
            remaining_seconds=max(0, int((row.due_at - now).total_seconds())),
        )
        for row in rows
    ]
    return DueList(as_of=now, until=until, items=items)
