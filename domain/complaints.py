"""Complaint 投诉 lifecycle (12345 hotline, window, letter, online, 信访 petition)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from . import catalog as ev
from .lifecycle import CaseState, Lifecycle, step


class ComplaintStatus(StrEnum):
    """The statuses of a complaint, in lifecycle order."""

    received = "received"
    rejected = "rejected"  # 不予受理
    accepted = "accepted"
    assigned = "assigned"
    replied = "replied"
    resolved = "resolved"  # 办结
    followed_up = "followed_up"  # 回访


class ComplaintState(CaseState):
    channel: ev.Channel | None = None
    complainant: ev.Person | None = None
    work_order_no: str | None = None
    outcome: ev.ComplaintOutcome | None = None
    rejection_reason: str | None = None
    satisfaction: int | None = None
    reopen_count: int = 0
    supervision: bool = False  # 督察: flagged after a poor 回访, until closed or reopened
    supervised_since: datetime | None = None  # when the supervision now open was flagged


_OPEN = (ComplaintStatus.accepted, ComplaintStatus.assigned, ComplaintStatus.replied)


def _apply(state: ComplaintState, payload: ev.Payload, at: datetime) -> Mapping[str, Any]:
    match payload:
        case ev.ComplaintReceived():
            return {
                "channel": payload.channel,
                "subject": payload.subject,
                "complainant": payload.complainant,
                "enterprise": payload.enterprise,
                "enterprise_name": payload.enterprise_name,
                "department": payload.department or state.department,
                "decision_ref": payload.decision_ref,
                "work_order_no": payload.work_order_no,
            }
        case ev.ComplaintAccepted(department=str() as department):
            return {"department": department}
        case ev.ComplaintRejected():
            return {"rejection_reason": payload.reason}
        case ev.ComplaintAssigned():
            return {"department": payload.department, "handler": payload.handler}
        case ev.ComplaintTransferred():
            return {"department": payload.to_department, "handler": None}
        case ev.ComplaintResolved():
            return {"outcome": payload.outcome}
        case ev.ComplaintFollowUpVisited():
            return {"satisfaction": payload.satisfaction}
        case ev.ComplaintReopened():
            # handled again: the poor 回访 behind a supervision flag no longer stands
            return {
                "reopen_count": state.reopen_count + 1,
                "outcome": None,
                "satisfaction": None,
                "supervision": False,
                "supervised_since": None,
            }
        case ev.SupervisionFlagged():
            # a flag relayed after the complaint was reopened is stale: the status guards it;
            # a second flag of the same supervision keeps the instant of the first
            flagged = state.status == ComplaintStatus.followed_up
            since = state.supervised_since if state.supervision else at
            return {"supervision": flagged, "supervised_since": since if flagged else None}
        case ev.SupervisionClosed():
            return {"supervision": False, "supervised_since": None}
        case ev.CaseSuspended():
            return {"paused": True}
        case ev.CaseResumed():
            return {"paused": False}
    return {}


COMPLAINT = Lifecycle(
    kind=ev.CaseKind.complaint,
    state_type=ComplaintState,
    statuses=tuple(status.value for status in ComplaintStatus),
    transitions={
        ev.ComplaintAccepted: step(ComplaintStatus.received, ComplaintStatus.accepted),
        ev.ComplaintRejected: step(ComplaintStatus.received, ComplaintStatus.rejected),
        ev.ComplaintAssigned: step(
            (ComplaintStatus.accepted, ComplaintStatus.assigned), ComplaintStatus.assigned
        ),
        ev.ComplaintTransferred: step(_OPEN, ComplaintStatus.assigned),
        ev.ComplaintReplied: step(
            (ComplaintStatus.accepted, ComplaintStatus.assigned, ComplaintStatus.replied),
            ComplaintStatus.replied,
        ),
        ev.ComplaintResolved: step(_OPEN, ComplaintStatus.resolved),
        ev.ComplaintFollowUpVisited: step(
            (ComplaintStatus.resolved, ComplaintStatus.followed_up), ComplaintStatus.followed_up
        ),
        ev.ComplaintReopened: step(
            (ComplaintStatus.resolved, ComplaintStatus.followed_up, ComplaintStatus.rejected),
            ComplaintStatus.accepted,
            reopens=True,
        ),
        ev.SupervisionFlagged: step(ComplaintStatus.followed_up),
        ev.SupervisionClosed: step(None),
        ev.DeadlineExtended: step((ComplaintStatus.received, *_OPEN)),
        ev.CaseSuspended: step((ComplaintStatus.received, *_OPEN)),
        ev.CaseResumed: step((ComplaintStatus.received, *_OPEN)),
    },
    apply=_apply,
)
