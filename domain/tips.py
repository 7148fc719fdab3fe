"""Enterprise tip-off 涉企举报线索 lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from . import catalog as ev
from .anonymity import without_anonymous_persons
from .lifecycle import CaseState, Lifecycle, step


class TipStatus(StrEnum):
    """The statuses of an enterprise tip-off, in lifecycle order."""

    received = "received"
    assigned = "assigned"
    verified = "verified"  # 核查 done
    closed = "closed"  # 办结


class TipState(CaseState):
    informant: ev.Person | None = None  # None when anonymous (domain/anonymity.py)
    anonymous: bool = False
    verification_result: ev.VerificationResult | None = None
    feedback_given: bool = False


def _apply(state: TipState, payload: ev.Payload, at: datetime) -> Mapping[str, Any]:
    match payload:
        case ev.TipReceived():
            # 匿名举报: the state of an anonymous tip never holds its informant
            return without_anonymous_persons(
                {
                    "enterprise": True,
                    "enterprise_name": payload.enterprise,
                    "subject": payload.subject,
                    "informant": payload.informant,
                    "anonymous": payload.anonymous,
                    "department": payload.department or state.department,
                }
            )
        case ev.TipAssigned():
            return {"department": payload.department, "handler": payload.handler}
        case ev.TipVerified():
            return {"verification_result": payload.result}
        case ev.TipFeedbackGiven():
            return {"feedback_given": True}
        case ev.CaseSuspended():
            return {"paused": True}
        case ev.CaseResumed():
            return {"paused": False}
    return {}


ENTERPRISE_TIP = Lifecycle(
    kind=ev.CaseKind.enterprise_tip,
    state_type=TipState,
    statuses=tuple(status.value for status in TipStatus),
    transitions={
        ev.TipAssigned: step((TipStatus.received, TipStatus.assigned), TipStatus.assigned),
        ev.TipVerified: step((TipStatus.received, TipStatus.assigned), TipStatus.verified),
        ev.TipClosed: step(TipStatus.verified, TipStatus.closed),
        ev.TipFeedbackGiven: step((TipStatus.verified, TipStatus.closed)),
        ev.DeadlineExtended: step((TipStatus.received, TipStatus.assigned, TipStatus.verified)),
        ev.CaseSuspended: step((TipStatus.received, TipStatus.assigned, TipStatus.verified)),
        ev.CaseResumed: step((TipStatus.received, TipStatus.assigned, TipStatus.verified)),
    },
    apply=_apply,
)
