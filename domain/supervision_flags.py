"""督察 supervision of a complaint after a poor 回访 follow-up visit.

A follow-up whose satisfaction is at or below the deployment's threshold (default 2 of 5)
flags the complaint for the supervision office: one SupervisionFlagged on the complaint itself,
derived with a deterministic id, whether the follow-up came from a command or raw from the
12345 platform. A supervisor closes the flag (SupervisionClosed); reopening the complaint
clears it too (domain/complaints.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from .catalog import CaseKind, ComplaintFollowUpVisited, SupervisionFlagged
from .complaints import ComplaintState
from .envelope import Event, new_event
from .lifecycle import CaseState

SUPERVISION_NAMESPACE = uuid.UUID("9c3e6a2b-47d1-4f0e-b8a5-1d2c3e4f5a60")

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
