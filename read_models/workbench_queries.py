"""The counts of the console's 工作台 (workbench), within one department or all.

Each count means exactly what the list it links to shows, so each is built from that list's
own conditions: 新收 from GET /cases's `CaseFilter` (received within the local day), 即将到期
and 已超期 from the clock queries of GET /clocks/due and GET /cases/overdue (counted by case,
not by clock), 待整改 and 待核验 from the rectification list's `RectificationFilter`, 督察关注
from GET /cases's `CaseFilter` too (supervised=true: the complaint's own supervision flag).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casestream.domain.rectifications import WORKING_STATUSES, RectificationStatus
from casestream.domain.rules import RuleBook

from .clock_queries import ClockFilter, due_between, overdue_now
from .queries import CaseFilter
from .rectification_queries import RectificationFilter, rectifications_with_overdue
from .schema import cases, clocks

TO_RECTIFY = tuple(sorted(status.value for status in WORKING_STATUSES))
"""待整改: a rectification still to be done (open, in progress, or sent back)."""
TO_VERIFY = (RectificationStatus.completed.value,)
"""待核验: a rectification completed and awaiting the supervisor's check."""


@dataclass(frozen=True)
class WorkbenchScope:
    """Whose workbench, and when: the department the caller sees (None: all), `now`, the
    local day as [day_start, day_end) and the end of the 即将到期 window."""

    visible_department: str | None
    now: datetime
    day_start: datetime
    day_end: datetime
    due_until: datetime


@dataclass(frozen=True)
class WorkbenchCounts:
    received_today: int  # 新收
    due_soon: int  # 即将到期
    overdue: int  # 已超期
    to_rectify: int  # 待整改
    to_verify: int  # 待核验
    supervised: int  # 督察关注


def _count_cases(where: list[sa.ColumnElement[bool]]) -> sa.ScalarSelect[Any]:
    return sa.select(sa.func.count()).select_from(cases).where(*where).scalar_subquery()


def _count_clock_cases(where: list[sa.ColumnElement[bool]]) -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.count(sa.distinct(clocks.c.case_id)))
        .select_from(clocks)
        .where(*where)
        .scalar_subquery()
    )


class WorkbenchQueries:
    def __init__(self, engine: sa.Engine, rulebook: RuleBook) -> None:
        self._engine = engine
        self._rulebook = rulebook

    def counts(self, scope: WorkbenchScope) -> WorkbenchCounts:
        """The six counts in one statement."""
        department = scope.visible_department
        received = CaseFilter(
            received_from=scope.day_start,
            received_to=scope.day_end,
            visible_department=department,
        )
        in_scope = ClockFilter(visible_department=department).conditions()
        statement = sa.select(
            _count_cases(received.conditions()).label("received_today"),
            _count_clock_cases([due_between(scope.now, scope.due_until), *in_scope]).label(
                "due_soon"
            ),
            _count_clock_cases([overdue_now(scope.now), *in_scope]).label("overdue"),
            self._rectifications(scope, TO_RECTIFY).label("to_rectify"),
            self._rectifications(scope, TO_VERIFY).label("to_verify"),
            _count_cases(
                CaseFilter(visible_department=department, supervised=True).conditions()
            ).label("supervised"),
        )
        with self._engine.connect() as conn:
            row = conn.execute(statement).one()
        return WorkbenchCounts(**{name: int(value or 0) for name, value in row._mapping.items()})

    def _rectifications(self, scope: WorkbenchScope, statuses: tuple[str, ...]) -> Any:
        query, _, overdue = rectifications_with_overdue(scope.now, self._rulebook)
        where = RectificationFilter(visible_department=scope.visible_department)
        listed = query.where(*where.conditions(overdue), cases.c.status.in_(statuses))
        return sa.select(sa.func.count()).select_from(listed.subquery()).scalar_subquery()
