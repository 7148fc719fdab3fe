"""`evolve(state, event)` for every case kind, and the way back from stored state."""

from __future__ import annotations

import uuid
from typing import Any

from .catalog import CaseKind
from .complaints import COMPLAINT, ComplaintStatus
from .enforcement import (
    ENFORCEMENT_DECISION,
    ENFORCEMENT_NOTICE,
    ENFORCEMENT_REVIEW,
    EnforcementDecisionStatus,
    EnforcementNoticeStatus,
    EnforcementReviewStatus,
)
from .envelope import Event
from .lifecycle import CaseState, Lifecycle
from .litigation import LITIGATION, LitigationStatus
from .reconsiderations import RECONSIDERATION, ReconsiderationStatus
from .rectifications import RECTIFICATION, RectificationStatus
from .tips import ENTERPRISE_TIP, TipStatus

LIFECYCLES: dict[CaseKind, Lifecycle[Any]] = {
    lifecycle.kind: lifecycle
    for lifecycle in (
        COMPLAINT,
        ENTERPRISE_TIP,
        RECONSIDERATION,
        LITIGATION,
        RECTIFICATION,
        ENFORCEMENT_REVIEW,
        ENFORCEMENT_NOTICE,
        ENFORCEMENT_DECISION,
    )
}


# 办结: the statuses in which a case of each kind stays closed
CLOSED_STATUSES: dict[CaseKind, frozenset[str]] = {
    CaseKind.complaint: frozenset(
        {ComplaintStatus.resolved, ComplaintStatus.followed_up, ComplaintStatus.rejected}
    ),
    CaseKind.enterprise_tip: frozenset({TipStatus.closed}),
    CaseKind.reconsideration: frozenset(
        {ReconsiderationStatus.decided, ReconsiderationStatus.withdrawn}
    ),
    CaseKind.litigation: frozenset({LitigationStatus.judged, LitigationStatus.effective}),
    CaseKind.rectification: frozenset(
        {RectificationStatus.completed, RectificationStatus.verified}
    ),
    CaseKind.enforcement_review: frozenset({EnforcementReviewStatus.completed}),
    CaseKind.enforcement_notice: frozenset({EnforcementNoticeStatus.rectified}),
    CaseKind.enforcement_decision: frozenset(
        {EnforcementDecisionStatus.published, EnforcementDecisionStatus.withdrawn}
    ),
}
# neither open nor closed: a rectification cancelled when the loss behind it was overturned
WITHDRAWN_STATUSES: dict[CaseKind, frozenset[str]] = {
    CaseKind.rectification: frozenset({RectificationStatus.cancelled})
}


class CaseKindMismatch(ValueError):
    """An event names a case id that already belongs to a case of another kind."""


def kind_mismatch(state: CaseState | None, event: Event[Any]) -> str | None:
    """Why `event` cannot apply to the case its id names: the case is of another kind (None:
    it can). The projector records the reason as an anomaly of the event, not applied."""
    if state is None or state.case_kind == event.case_kind:
        return None
    return (
        f"case {event.case_id} is a {state.case_kind.value}, "
        f"not a {event.case_kind.value}; use a new case id"
    )


def evolve(state: CaseState | None, event: Event[Any]) -> CaseState:
    """The case after `event`. Pure: the same state and event always give the same result."""
    mismatch = kind_mismatch(state, event)
    if mismatch is not None:
        raise CaseKindMismatch(mismatch)
    evolved: CaseState = LIFECYCLES[event.case_kind].evolve(state, event)
    return evolved


def restore_state(case_kind: CaseKind, stored: dict[str, Any]) -> CaseState:
    """A case state from its stored JSON form."""
    state: CaseState = LIFECYCLES[case_kind].state_type.model_validate(stored)
    return state


def fold(events: list[Event[Any]]) -> CaseState | None:
    """The state of one case after all its events, in order. An event id already folded is
    skipped: a redelivered event is the same fact, not a new one (as the projector does)."""
    state: CaseState | None = None
    seen: set[uuid.UUID] = set()
    for event in events:
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        state = evolve(state, event)
    return state


def raw_event_refusal(state: CaseState | None, event: Event[Any]) -> str | None:
    """Why `event`, posted raw, may not be recorded on the case as it stands (None: it may).

    Facts read from the topics are applied whatever their order (see `evolve`); a raw event
    posted through the API is checked first, like a command."""
    mismatch = kind_mismatch(state, event)
    if mismatch is not None:
        return mismatch
    opened = state is not None and state.status != CaseState.UNOPENED
    if type(event.payload).opens_case:
        return f"case {event.case_id} already exists; use a new case id" if opened else None
    lifecycle = LIFECYCLES[event.case_kind]
    return lifecycle.refusal(state, type(event.payload))
