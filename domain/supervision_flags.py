"""督察 supervision of a complaint after a poor 回访 follow-up visit.

A follow-up whose satisfaction is at or below the deployment's threshold (default 2 of 5)
flags the complaint for the supervision office: one SupervisionFlagged on the complaint itself,
derived with a deterministic id, whether the follow-up came from a command or raw from the
12345 platform. A supervisor closes the flag (SupervisionClosed); reopening the complaint
clears it too (domain/complaints.py).

The supervisors hear of it on the alert channels: a complaint going under supervision raises
one SupervisionRequested alert (notify=supervisor) and its end raises the AlertCleared of the
same supervision, both on alerts.events with ids derived from the supervision.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from .catalog import (
    AlertCleared,
    CaseKind,
    ComplaintFollowUpVisited,
    ComplaintReopened,
    SupervisionFlagged,
    SupervisionRequested,
)
from .complaints import ComplaintState
from .envelope import Event, new_event
from .lifecycle import CaseState

SUPERVISION_NAMESPACE = uuid.UUID("9c3e6a2b-47d1-4f0e-b8a5-1d2c3e4f5a60")

SUPERVISION_RULE = "complaint.supervision"
"""The rule id of the supervision alerts (GET /alerts?rule=complaint.supervision)."""

SUPERVISOR = "supervisor"
"""Whom a supervision alert notifies: the 督察 supervision office (role supervisor)."""

DEFAULT_SATISFACTION_THRESHOLD = 2
"""The highest 回访 satisfaction (1–5) that flags a complaint; 0 flags none."""


def needs_supervision(satisfaction: int, threshold: int) -> bool:
    """Whether a 回访 satisfaction this low puts the complaint under supervision."""
    return satisfaction <= threshold


def supervision_flags(
    event: Event[Any], after: CaseState, threshold: int
) -> list[Event[SupervisionFlagged]]:
    """The SupervisionFlagged a follow-up owes: one for a poor score on a complaint not already
    under supervision, none otherwise. Its id is derived from the follow-up's, so a redelivered
    follow-up owes the same event."""
    payload = event.payload
    if not isinstance(payload, ComplaintFollowUpVisited):
        return []
    if not isinstance(after, ComplaintState) or after.supervision:
        return []
    if not needs_supervision(payload.satisfaction, threshold):
        return []
    flag = SupervisionFlagged(
        satisfaction=payload.satisfaction,
        threshold=threshold,
        reason=f"回访 satisfaction {payload.satisfaction} of 5 (flagged at {threshold} or below)",
    )
    event_type = type(flag).__name__
    return [
        new_event(
            flag,
            event_id=uuid.uuid5(
                SUPERVISION_NAMESPACE, f"{event.event_id}|{event_type}|{after.case_id}"
            ),
            case_id=after.case_id,
            case_kind=CaseKind.complaint,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            source="casestream.supervision",
            actor="system",
            correlation_id=event.correlation_id or str(event.event_id),
            causation_id=str(event.event_id),
        )
    ]


SupervisionAlert = Event[SupervisionRequested] | Event[AlertCleared]


def supervision_clock_id(case_id: str, since: datetime) -> str:
    """What a supervision alert and its clearing are about: one supervision of one complaint,
    named by the instant it was flagged (a complaint flagged again later is another one)."""
    return f"{case_id}/{SUPERVISION_RULE}/{since.astimezone(UTC).isoformat()}"


def supervision_alerts(
    event: Event[Any], before: CaseState | None, after: CaseState
) -> list[SupervisionAlert]:
    """The alert a change of supervision owes: SupervisionRequested when the complaint goes
    under supervision, AlertCleared of that supervision when it is closed or the complaint
    reopened; none otherwise (a stale or second flag changes nothing, so raises nothing).

    Decided from the states before and after the event, not from the follow-up, so that the
    alert says what the complaint's history says. The alert's id is derived from the
    supervision, so the same supervision always raises the same alert and the same clearing."""
    if not isinstance(after, ComplaintState):
        return []
    was = before if isinstance(before, ComplaintState) and before.supervision else None
    if was is None and after.supervision and after.supervised_since is not None:
        return [_alert(event, after, after.supervised_since, cleared=None)]
    if was is not None and not after.supervision and was.supervised_since is not None:
        reason = (
            "complaint reopened"
            if isinstance(event.payload, ComplaintReopened)
            else "supervision closed"
        )
        return [_alert(event, was, was.supervised_since, cleared=reason)]
    return []


def _alert(
    event: Event[Any], state: ComplaintState, since: datetime, *, cleared: str | None
) -> SupervisionAlert:
    clock_id = supervision_clock_id(state.case_id, since)
    alert_id = str(uuid.uuid5(SUPERVISION_NAMESPACE, f"{clock_id}|{cleared is not None}"))
    # only what every alert carries: the case, its department and enterprise flag
    about = {
        "alert_id": alert_id,
        "clock_id": clock_id,
        "rule": SUPERVISION_RULE,
        "due_at": since,
        "scheduled_at": since,
        "department": state.department,
        "enterprise": state.enterprise,
        "notify": SUPERVISOR,
    }
    envelope: dict[str, Any] = {
        "event_id": uuid.UUID(alert_id),
        "case_id": state.case_id,
        "case_kind": CaseKind.complaint,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "source": "casestream.supervision",
        "actor": "system",
        "correlation_id": event.correlation_id or str(event.event_id),
        "causation_id": str(event.event_id),
    }
    if cleared is None:
        return new_event(SupervisionRequested(**about), **envelope)
    return new_event(AlertCleared(**about, reason=cleared), **envelope)
