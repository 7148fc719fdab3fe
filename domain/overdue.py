"""超期 overdue: when a deadline, a clock's or a rectification's, counts as past at an instant.

One rule, `past_due`: a deadline is overdue when it was marked breached (by the scanner, or
stopped late), or when the work is still pending and the due instant has passed. A clock is
pending while it runs (a paused 中止 clock's time stands still; a met or cancelled one is
settled); a rectification while it is still to be done. read_models/overdue.py states the
same rule in SQL.
"""

from __future__ import annotations

from datetime import datetime

from .clocks import ClockStatus
from .rectifications import WORKING_STATUSES


def past_due(*, breached: bool, pending: bool, due_at: datetime | None, now: datetime) -> bool:
    """Marked breached, or still pending with its due instant before `now`."""
    return breached or (pending and due_at is not None and due_at < now)


def clock_overdue(status: str, due_at: datetime | None, now: datetime) -> bool:
    """A clock of `status` due at `due_at` is overdue at `now`."""
    return past_due(
        breached=status == ClockStatus.breached,
        pending=status == ClockStatus.running,
        due_at=due_at,
        now=now,
    )


def rectification_overdue(
    status: str, *, completion_breached: bool, deadline_at: datetime | None, now: datetime
) -> bool:
    """A rectification still to be done whose completion clock is breached or whose deadline
    (整改时限) has passed; one done, verified or cancelled is never overdue."""
    working = status in WORKING_STATUSES
    return working and past_due(
        breached=completion_breached, pending=True, due_at=deadline_at, now=now
    )
