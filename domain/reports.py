"""The report owed on a 行政复议意见书 (行政复议法 Art 76): its clock stops when the rectification
opened for the opinion completes, an event of another case than the clock's own.

The projector calls these with what it has read; it decides nothing itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from .clocks import Clock, stopped_by_link
from .lifecycle import CaseState
from .rectifications import RectificationState
from .rules import RuleBook


def linked_completion(state: CaseState) -> datetime | None:
    """When a case that stops another case's report clock completed its work (a rectification
    once completed), None while it has not."""
    return state.completed_at if isinstance(state, RectificationState) else None


def awaits_link(clock: Clock, rulebook: RuleBook) -> bool:
    """A report clock still open, waiting for its linked case to complete."""
    return (
        clock.open and clock.linked_case_id is not None and clock.rule_id in rulebook.report_rules()
    )


def stopped_reports(
    clocks: Mapping[str, Clock], completions: Mapping[str, datetime], rulebook: RuleBook
) -> dict[str, Clock]:
    """The report clocks of `clocks` (by clock id) stopped by the completion of their linked
    case (`completions`: case id → completion instant), by clock id; the others are left out."""
    stopped: dict[str, Clock] = {}
    for clock_id, clock in clocks.items():
        completed_at = completions.get(clock.linked_case_id or "")
        if completed_at is not None and awaits_link(clock, rulebook):
            stopped[clock_id] = stopped_by_link(clock, completed_at)
    return stopped
