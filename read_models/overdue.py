"""The overdue rule of domain/overdue.py as SQL expressions, for every query that filters or
counts overdue clocks and rectifications (GET /cases/overdue, ledgers, figures, gauges), and
the clocks due soon (GET /clocks/due)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casestream.domain.clocks import ClockStatus
from casestream.domain.rectifications import WORKING_STATUSES

from .schema import clocks

Instant = datetime | sa.BindParameter[datetime]
"""An instant, or a named parameter that will hold one (a statement built once, run often)."""


def past_due(*, breached: Any, pending: Any, due_at: Any, now: Instant) -> sa.ColumnElement[bool]:
    """domain.overdue.past_due: marked breached, or still pending with its due instant before
    `now`."""
    return sa.or_(breached, sa.and_(pending, due_at < now))


def clock_overdue(status: Any, due_at: Any, now: Instant) -> sa.ColumnElement[bool]:
    """domain.overdue.clock_overdue on a clock's status and due_at columns."""
    return past_due(
        breached=status == ClockStatus.breached.value,
        pending=status == ClockStatus.running.value,
        due_at=due_at,
        now=now,
    )


def rectification_overdue(
    status: Any, *, completion_breached: Any, deadline_at: Any, now: datetime
) -> sa.ColumnElement[bool]:
    """domain.overdue.rectification_overdue on a rectification's status and its completion
    clock (breached flag, deadline instant)."""
    working = status.in_(sorted(member.value for member in WORKING_STATUSES))
    return sa.and_(
        working,
        past_due(breached=completion_breached, pending=sa.true(), due_at=deadline_at, now=now),
    )


def overdue_now(now: Instant) -> sa.ColumnElement[bool]:
    """A clock overdue at `now`: not stopped, and marked breached by the scanner or still
    running past its due instant (the scanner has not reached it yet). A paused (中止) clock
    is never overdue: its time stands still."""
    return sa.and_(
        clocks.c.stopped_at.is_(None), clock_overdue(clocks.c.status, clocks.c.due_at, now)
    )


def due_between(now: Instant, until: Instant) -> sa.ColumnElement[bool]:
    """A running clock due between `now` and `until`, both included."""
    running = clocks.c.status == ClockStatus.running.value
    return sa.and_(running, clocks.c.due_at >= now, clocks.c.due_at <= until)
