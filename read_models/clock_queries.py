"""Queries over deadline clocks (时限): overdue cases, the clocks of one case, clocks due soon.

"Now" is always a parameter: the caller owns the time source.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from casestream.domain.catalog import CaseKind
from casestream.domain.clocks import Clock

from .overdue import due_between as due_between  # where they lived before: still importable
from .overdue import overdue_now as overdue_now
from .queries import in_department
from .schema import case_events, cases, clocks


@dataclass(frozen=True)
class ClockFilter:
    department: str | None = None
    case_kind: str | None = None
    rule_id: str | None = None
    visible_department: str | None = None  # access scope: only this department's cases

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        found: list[sa.ColumnElement[bool]] = []
        if self.visible_department is not None:
            found.append(in_department(clocks.c.case_id, self.visible_department))
        if self.department:
            found.append(clocks.c.department == self.department)
        if self.case_kind:
            found.append(clocks.c.case_kind == self.case_kind)
        if self.rule_id:
            found.append(clocks.c.rule_id == self.rule_id)
        return found


class ClockQueries:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def overdue(self, now: datetime, where: ClockFilter, *, limit: int) -> list[sa.Row[Any]]:
        """Clocks overdue at `now` (`overdue_now`), longest overdue first; among equal due
        instants 涉企 (enterprise) cases come first."""
        query = (
            sa.select(clocks)
            .where(overdue_now(now), *where.conditions())
            .order_by(
                clocks.c.due_at.asc(),
                clocks.c.enterprise.desc(),
                clocks.c.case_id.asc(),
                clocks.c.clock_id.asc(),
            )
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return list(conn.execute(query))

    def due_within(
        self, now: datetime, until: datetime, where: ClockFilter, *, limit: int
    ) -> list[sa.Row[Any]]:
        """Running clocks due between `now` and `until` (inclusive), soonest first."""
        query = (
            sa.select(clocks)
            .where(due_between(now, until), *where.conditions())
            .order_by(
                clocks.c.due_at.asc(),
                clocks.c.enterprise.desc(),
                clocks.c.case_id.asc(),
                clocks.c.clock_id.asc(),
            )
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return list(conn.execute(query))

    def of_case(
        self, case_id: str, *, visible_department: str | None = None
    ) -> list[sa.Row[Any]] | None:
        """Every clock of a case in the order they started; None when the case is unknown
        (or outside `visible_department`)."""
        with self._engine.connect() as conn:
            if visible_department is not None:
                visible = conn.execute(
                    sa.select(cases.c.case_id).where(
                        cases.c.case_id == case_id, cases.c.department == visible_department
                    )
                ).first()
                if visible is None:
                    return None
            rows = list(
                conn.execute(
                    sa.select(clocks)
                    .where(clocks.c.case_id == case_id)
                    .order_by(clocks.c.started_at, clocks.c.clock_id)
                )
            )
            if rows:
                return rows
            known = conn.execute(
                sa.select(cases.c.case_id).where(cases.c.case_id == case_id)
            ).first()
        return [] if known is not None else None

    def case_history(
        self, case_ids: Collection[str], event_types: Collection[str]
    ) -> list[sa.Row[Any]]:
        """The stored events of these types of these cases, each case's in order (one query):
        what an explanation of their clocks needs, e.g. the extensions (延期)."""
        if not case_ids or not event_types:
            return []
        with self._engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(case_events.c.case_id, case_events.c.body)
                    .where(
                        case_events.c.case_id.in_(sorted(set(case_ids))),
                        case_events.c.event_type.in_(sorted(set(event_types))),
                    )
                    .order_by(case_events.c.case_id, case_events.c.version)
                )
            )


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


def clock_of(row: Any) -> Clock:
    """The domain clock a `clocks` row stores (its `detail`); a row whose detail is not a
    whole clock is rebuilt from its columns, its pauses and its extension."""
    detail = row.detail if isinstance(row.detail, dict) else {}
    try:
        return Clock.model_validate(detail)
    except ValidationError:
        pass
    pauses = tuple(
        (date.fromisoformat(str(pause[0])), _day(pause[1]))
        for pause in detail.get("pauses") or ()
        if isinstance(pause, list | tuple) and len(pause) == 2
    )
    return Clock(
        clock_id=row.clock_id,
        case_id=row.case_id,
        case_kind=CaseKind(row.case_kind),
        rule_id=row.rule_id,
        start_event_id=str(detail.get("start_event_id") or ""),
        started_at=row.started_at,
        pauses=pauses,
        extension=int(detail.get("extension") or 0),
        fixed_due_date=_day(detail.get("fixed_due_date")),
        due_date=row.due_date,
        due_at=row.due_at,
        provisional=row.provisional,
        stopped_at=row.stopped_at,
        department=row.department,
        enterprise=row.enterprise,
    )
