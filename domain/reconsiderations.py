"""Administrative reconsideration 行政复议 lifecycle, the bureau being the respondent."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from . import catalog as ev
from .lifecycle import CaseState, Lifecycle, step


class ReconsiderationStatus(StrEnum):
    """The statuses of a reconsideration (行政复议), in lifecycle order."""

    applied = "applied"
    accepted = "accepted"
    withdrawn = "withdrawn"  # 撤回
    decided = "decided"  # 复议决定


class ReconsiderationState(CaseState):
    applicant: ev.Person | None = None
    reconsideration_body: str | None = None
    simplified: bool = False
    application_copy_received: bool = False
    reply_submitted: bool = False
    extension_days: int = 0
    decision: ev.ReconsiderationDecision | None = None
    opinion_no: str | None = None


_PENDING = (ReconsiderationStatus.applied, ReconsiderationStatus.accepted)


def _apply(state: ReconsiderationState, payload: ev.Payload, at: datetime) -> Mapping[str, Any]:
    match payload:
        case ev.ReconsiderationApplied():
            return {
                "applicant": payload.applicant,
                "decision_ref": payload.decision_ref,
                "reconsideration_body": payload.reconsideration_body,
                "subject": payload.matter or None,
                "department": payload.department or state.department,
            }
        case ev.ReconsiderationAccepted():
            return {"simplified": payload.simplified or state.simplified}
        case ev.ApplicationCopyReceived():
            return {
                "application_copy_received": True,
                "simplified": payload.simplified or state.simplified,
            }
        case ev.ReplySubmitted():
            return {"reply_submitted": True}
        case ev.ReconsiderationExtended():
            return {"extension_days": state.extension_days + payload.extension_days}
        case ev.ReconsiderationSuspended():
            return {"paused": True}
        case ev.ReconsiderationResumed():
            return {"paused": False}
        case ev.ReconsiderationDecided():
            return {"decision": payload.decision, "paused": False}
        case ev.ReconsiderationOpinionReceived():
            return {"opinion_no": payload.opinion_no}
    return {}


RECONSIDERATION = Lifecycle(
    kind=ev.CaseKind.reconsideration,
    state_type=ReconsiderationState,
    statuses=tuple(status.value for status in ReconsiderationStatus),
    transitions={
        ev.ReconsiderationAccepted: step(
            ReconsiderationStatus.applied, ReconsiderationStatus.accepted
        ),
        ev.ApplicationCopyReceived: step(_PENDING),
        ev.ReplySubmitted: step(_PENDING),
        ev.HearingHeld: step(ReconsiderationStatus.accepted),
        ev.ReconsiderationExtended: step(ReconsiderationStatus.accepted),
        ev.ReconsiderationSuspended: step(ReconsiderationStatus.accepted),
        ev.ReconsiderationResumed: step(ReconsiderationStatus.accepted),
        ev.ReconsiderationDecided: step(
            ReconsiderationStatus.accepted, ReconsiderationStatus.decided
        ),
        ev.ReconsiderationWithdrawn: step(_PENDING, ReconsiderationStatus.withdrawn),
        ev.ReconsiderationOpinionReceived: step(None),
    },
    apply=_apply,
)
