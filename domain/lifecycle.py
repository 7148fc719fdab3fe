"""The state of a case and the generic way an event moves it on (`evolve`).

Each case kind declares its statuses in lifecycle order, which events move it from which
statuses to which, and how an event changes the kind's own fields. Events that arrive in
an impossible order are still applied as facts, never dropped, but recorded as anomalies
on the case; a case's status never moves backwards except through an explicit reopening, or
through work resumed from a status the event is allowed from (e.g. a rejected rectification).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from .catalog import CaseKind, Payload
from .envelope import Event


class Anomaly(BaseModel):
    """An event that arrived in an order the case's lifecycle does not allow."""

    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID
    event_type: str
    version: int  # the case version this event produced
    reason: str


class CaseState(BaseModel):
    """What every case kind knows of itself."""

    model_config = ConfigDict(frozen=True)

    case_id: str
    case_kind: CaseKind
    status: str
    version: int = 0
    opened_at: datetime | None = None
    last_occurred_at: datetime | None = None
    department: str | None = None
    handler: str | None = None
    enterprise: bool = False
    enterprise_name: str | None = None
    decision_ref: str | None = None
    subject: str | None = None
    paused: bool = False
    anomalies: tuple[Anomaly, ...] = ()

    UNOPENED: ClassVar[str] = "unopened"


S = TypeVar("S", bound=CaseState)


@dataclass(frozen=True)
class Transition:
    """Which statuses an event may come from, and where it takes the case (None: stays)."""

    allowed_from: frozenset[str] | None  # None: any status
    to: str | None = None
    reopens: bool = False  # may move the status backwards from any status (ComplaintReopened)
    # may move the status backwards, but only from a status it is allowed from: work resumed
    # on a rejected rectification; the same event on a verified one is refused (an anomaly)
    resumes: bool = False

    def allows(self, status: str) -> bool:
        return self.allowed_from is None or status in self.allowed_from


def step(
    allowed_from: str | tuple[str, ...] | None,
    to: str | None = None,
    *,
    reopens: bool = False,
    resumes: bool = False,
) -> Transition:
    # statuses are StrEnum members in the tables; states hold their plain values
    target = None if to is None else str(to)
    if allowed_from is None:
        return Transition(None, target, reopens, resumes)
    names = (allowed_from,) if isinstance(allowed_from, str) else allowed_from
    return Transition(frozenset(str(name) for name in names), target, reopens, resumes)


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    """The lifecycle of one case kind."""

    kind: CaseKind
    state_type: type[S]
    statuses: tuple[str, ...]  # lifecycle order
    transitions: Mapping[type[Payload], Transition]  # keyed by the event's payload class
    apply: Callable[[S, Payload, datetime], Mapping[str, Any]]  # the kind's own field changes

    def refusal(self, state: S | None, payload_type: type[Payload]) -> str | None:
        """Why a command producing an event of `payload_type` may not be carried out now
        (None: it may).

        Commands are checked before they become events; events that already happened are
        applied whatever the order (see `evolve`)."""
        event_type = payload_type.__name__
        if state is None or state.status == CaseState.UNOPENED:
            return f"case does not exist yet; {event_type} needs an opened {self.kind.value}"
        transition = self.transitions.get(payload_type)
        if transition is None or transition.allowed_from is None or transition.allows(state.status):
            return None
        allowed = ", ".join(sorted(transition.allowed_from))
        return f"{event_type} is not allowed while the {self.kind.value} is {state.status!r}; allowed when: {allowed}"

    def rank(self, status: str) -> int:
        return self.statuses.index(status) if status in self.statuses else -1

    def evolve(self, state: S | None, event: Event[Any]) -> S:
        payload = event.payload
        if state is None:
            state = self.state_type(
                case_id=event.case_id, case_kind=self.kind, status=CaseState.UNOPENED
            )
        anomalies = list(state.anomalies)
        version = state.version + 1

        def record(reason: str) -> None:
            anomalies.append(
                Anomaly(
                    event_id=event.event_id,
                    event_type=event.event_type,
                    version=version,
                    reason=reason,
                )
            )

        status = state.status
        opened_at = state.opened_at
        if state.status == CaseState.UNOPENED and type(payload).opens_case:
            opened_at = event.occurred_at
            status = self.statuses[0]
            transition = self.transitions.get(type(payload))
            if transition is not None and transition.to is not None:
                status = transition.to
        else:
            if state.status == CaseState.UNOPENED:
                record(f"{event.event_type} arrived before the case was opened")
            transition = self.transitions.get(type(payload))
            if transition is not None:
                allowed = transition.allowed_from
                refused = allowed is not None and not transition.allows(state.status)
                if refused and state.status != CaseState.UNOPENED:
                    expected = ", ".join(sorted(allowed or ()))
                    record(
                        f"{event.event_type} in status {state.status!r}; expected one of: {expected}"
                    )
                # a refused event moves the case only forward, unless it is a reopening
                moves_back = transition.reopens or (transition.resumes and not refused)
                if transition.to is not None and (
                    moves_back or self.rank(transition.to) > self.rank(status)
                ):
                    status = transition.to
        last = state.last_occurred_at
        if last is not None and event.occurred_at < last:
            record(
                f"{event.event_type} occurred at {event.occurred_at.isoformat()}, "
                f"before the previous event ({last.isoformat()})"
            )
        changes = dict(self.apply(state, payload, event.occurred_at))
        changes.update(
            status=status,
            version=version,
            opened_at=opened_at,
            last_occurred_at=max(last, event.occurred_at) if last else event.occurred_at,
            anomalies=tuple(anomalies),
        )
        return state.model_copy(update=changes)
