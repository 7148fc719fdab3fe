"""The items of the daily digest (每日待办提醒), per department: clocks overdue, clocks due up to
a day, rectifications awaiting verification (整改待核验). Each section lists its first items
(per department, by window function) and counts them all: a department with thousands of
items costs the same three queries."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from casestream.domain.catalog import CaseKind
from casestream.domain.digests import DepartmentDigest, DigestClock, DigestRectification
from casestream.domain.rectifications import RectificationStatus

from .overdue import due_between, overdue_now
from .schema import cases, clocks


class DigestQueries:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def department_digests(
        self, now: datetime, due_until: datetime, *, listed: int
    ) -> list[DepartmentDigest]:
        """Every department with something to say, by name; `listed` items per section."""
        with self._engine.connect() as conn:
            overdue = self._clocks(conn, overdue_now(now), listed)
            due_soon = self._clocks(conn, due_between(now, due_until), listed)
            awaiting = self._awaiting(conn, listed)
        departments = sorted(set(overdue) | set(due_soon) | set(awaiting))
        return [
            DepartmentDigest(
                department=name,
                overdue=tuple(overdue[name][0]) if name in overdue else (),
                overdue_total=overdue[name][1] if name in overdue else 0,
                due_soon=tuple(due_soon[name][0]) if name in due_soon else (),
                due_soon_total=due_soon[name][1] if name in due_soon else 0,
                awaiting_verification=tuple(awaiting[name][0]) if name in awaiting else (),
                awaiting_total=awaiting[name][1] if name in awaiting else 0,
            )
            for name in departments
        ]

    def _clocks(
        self, conn: sa.Connection, condition: sa.ColumnElement[bool], listed: int
    ) -> dict[str, tuple[list[DigestClock], int]]:
        where = sa.and_(condition, clocks.c.department.is_not(None))
        order = sa.func.row_number().over(
            partition_by=clocks.c.department, order_by=(clocks.c.due_at, clocks.c.clock_id)
        )
        ranked = (
            sa.select(
                clocks.c.department,
                clocks.c.case_id,
                clocks.c.case_kind,
                clocks.c.rule_id,
                clocks.c.due_at,
                order.label("place"),
            )
            .where(where)
            .subquery()
        )
        found: dict[str, tuple[list[DigestClock], int]] = {}
        for row in conn.execute(
            sa.select(clocks.c.department, sa.func.count())
            .where(where)
            .group_by(clocks.c.department)
        ):
            found[row[0]] = ([], int(row[1]))
        for row in conn.execute(
            sa.select(ranked)
            .where(ranked.c.place <= listed)
            .order_by(ranked.c.department, ranked.c.place)
        ):
            found[row.department][0].append(
                DigestClock(row.case_id, row.case_kind, row.rule_id, row.due_at)
            )
        return found

    def _awaiting(
        self, conn: sa.Connection, listed: int
    ) -> dict[str, tuple[list[DigestRectification], int]]:
        where = sa.and_(
            cases.c.case_kind == CaseKind.rectification.value,
            cases.c.status == RectificationStatus.completed.value,
            cases.c.department.is_not(None),
        )
        order = sa.func.row_number().over(
            partition_by=cases.c.department,
            order_by=(cases.c.last_occurred_at, cases.c.case_id),
        )
        ranked = (
            sa.select(
                cases.c.department,
                cases.c.case_id,
                cases.c.state["responsible_person"].as_string().label("responsible_person"),
                cases.c.last_occurred_at,
                order.label("place"),
            )
            .where(where)
            .subquery()
        )
        found: dict[str, tuple[list[DigestRectification], int]] = {}
        for row in conn.execute(
            sa.select(cases.c.department, sa.func.count()).where(where).group_by(cases.c.department)
        ):
            found[row[0]] = ([], int(row[1]))
        for row in conn.execute(
            sa.select(ranked)
            .where(ranked.c.place <= listed)
            .order_by(ranked.c.department, ranked.c.place)
        ):
            found[row.department][0].append(
                DigestRectification(row.case_id, row.responsible_person, row.last_occurred_at)
            )
        return found
