"""`evolve(state, event)` for every case kind, and the way back from stored state."""

from __future__ import annotations

from typing import Any

from .catalog import CaseKind
from .complaints import COMPLAINT
from .envelope import Event
from .lifecycle import CaseState, Lifecycle
from .litigation import LITIGATION
from .reconsiderations import RECONSIDERATION
from .rectifications import RECTIFICATION
from .tips import ENTERPRISE_TIP

LIFECYCLES: dict[CaseKind, Lifecycle[Any]] = {
    lifecycle.kind: lifecycle
    for lifecycle in (COMPLAINT, ENTERPRISE_TIP, RECONSIDERATION, LITIGATION, RECTIFICATION)
}


# 办结: the statuses in which a case of each kind stays closed
CLOSED_STATUSES: dict[CaseKind, frozenset[str]] = {
    CaseKind.complaint: frozenset({"resolved", "followed_up", "rejected"}),
    CaseKind.enterprise_tip: frozenset({"closed"}),
    CaseKind.reconsideration: frozenset({"decided", "withdrawn"}),
    CaseKind.litigation: frozenset({"judged", "effective"}),
    CaseKind.rectification: frozenset({"completed", "verified"}),
}
# neither open nor closed: a rectification cancelled when the loss behind it was overturned
WITHDRAWN_STATUSES: dict[CaseKind, frozenset[str]] = {
    CaseKind.rectification: frozenset({"cancelled"})
}


class CaseKindMismatch(ValueError):
    """An event names a case id that already belongs to a case of another kind."""


def evolve(state: CaseState | None, event: Event[Any]) -> CaseState:
    """The case after `event`. Pure: the same state and event always give the same result."""
    if state is not None and state.case_kind != event.case_kind:
        raise CaseKindMismatch(
            f"case {event.case_id} is a {state.case_kind.value}, "
            f"not a {event.case_kind.value}; use a new case id"
        )
    evolved: CaseState = LIFECYCLES[event.case_kind].evolve(state, event)
    return evolved


def restore_state(case_kind: CaseKind, stored: dict[str, Any]) -> CaseState:
    """A case state from its stored JSON form."""
    state: CaseState = LIFECYCLES[case_kind].state_type.model_validate(stored)
    return state


def fold(events: list[Event[Any]]) -> CaseState | None:
    """The state of one case after all its events, in order."""
    state: CaseState | None = None
    for event in events:
        state = evolve(state, event)
    return state


def raw_event_refusal(state: CaseState | None, event: Event[Any]) -> str | None:
    """Why `event`, posted raw, may not be recorded on the case as it stands (None: it may).

    Facts read from the topics are applied whatever their order (see `evolve`); a raw event
    posted through the API is checked first, like a command."""
    if state is not None and state.case_kind != event.case_kind:
        return (
            f"case {event.case_id} is a {state.case_kind.value}, not a {event.case_kind.value}; "
            "use a new case id"
        )
    opened = state is not None and state.status != CaseState.UNOPENED
    if type(event.payload).opens_case:
        return f"case {event.case_id} already exists; use a new case id" if opened else None
    lifecycle = LIFECYCLES[event.case_kind]
    return lifecycle.refusal(state, type(event.payload))
