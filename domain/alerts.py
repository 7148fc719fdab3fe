"""The payload of the alert a clock owes (警示 warning, 超期 breach, 升级 escalation or clearing),
as the scanner puts it on alerts.events."""

from __future__ import annotations

from typing import Any

from . import catalog as ev
from .clocks import Clock, DueAlert

AlertPayload = ev.DeadlineApproaching | ev.DeadlineBreached | ev.Escalated | ev.AlertCleared


def clearing_reason(clock: Clock) -> str:
    """Why a clock's alerts are cleared: it was stopped by its case, or cancelled with it."""
    return "clock stopped" if clock.stopped_at is not None else "clock cancelled"


def alert_fields(clock: Clock, alert: DueAlert) -> dict[str, Any]:
    """The fields of the alert's payload: the clock, its rule and due instant, and the level
    and whom to notify (a warning, a breach or an escalation) or why it is cleared."""
    fields: dict[str, Any] = {
        "alert_id": alert.alert_id,
        "clock_id": clock.clock_id,
        "rule": clock.rule_id,
        "due_at": clock.due_at,
        "scheduled_at": alert.scheduled_at,
        "department": clock.department,
        "enterprise": clock.enterprise,
    }
    if issubclass(alert.payload_type, ev.AlertCleared):
        fields["reason"] = clearing_reason(clock)
    else:
        fields["level"] = alert.level
        fields["notify"] = alert.notify
    return fields


def alert_payload(clock: Clock, alert: DueAlert) -> AlertPayload:
    """What the alert says (`alert_fields`), validated."""
    return alert.payload_type(**alert_fields(clock, alert))
