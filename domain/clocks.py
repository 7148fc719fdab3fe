"""Deadline clocks (时限) of a case: started, paused, extended and stopped by its events, and the
alerts they owe at a given instant.

A clock belongs to one rule and one case; `clock_id` is `case/rule/n` (the n-th clock of
that rule in the case). Everything here is a pure function of the case's events, the alerts
already emitted (as a set of alert ids, so the order in which the case's events and its
alerts are seen does not matter), the rule book, the working-day calendar and the time zone.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from . import catalog as ev
from .calendar import WorkingCalendar
from .deadlines import (
    AlertKind,
    Deadline,
    ScheduledAlert,
    alert_schedule,
    breach_instant,
    compute_deadline,
)
from .envelope import Event
from .lifecycle import CaseState
from .outcomes import rectification_id
from .rules import Rule, RuleBook, case_facts

ALERT_ID_NAMESPACE = uuid.UUID("0b7c3f4e-4a59-4d1e-9a8e-7e3d2f9c1a55")
_NAMESPACE_BYTES = ALERT_ID_NAMESPACE.bytes

# Events after which no clock of the case can still run: the case no longer stands (a
# rectification whose loss was overturned). A case that ends by a decision (不予受理, 撤回) is
# left to the rule book: each rule says whether the event stops its clock (the decision it
# times was made: met or breached) or cancels it (no longer owed).
CANCELLING_EVENTS: frozenset[type[ev.Payload]] = frozenset({ev.RectificationCancelled})


class ClockStatus(StrEnum):
    running = "running"
    paused = "paused"  # 中止
    met = "met"  # stopped in time
    breached = "breached"  # past due: still open, or stopped late
    cancelled = "cancelled"


class AlertStatus(StrEnum):
    """An alert raised on a clock: open until its clock's AlertCleared."""

    open = "open"
    cleared = "cleared"


class Clock(BaseModel):
    model_config = ConfigDict(frozen=True)

    clock_id: str
    case_id: str
    case_kind: ev.CaseKind
    rule_id: str
    start_event_id: str
    started_at: datetime
    pauses: tuple[tuple[date, date | None], ...] = ()  # open pause: end None
    extension: int = 0
    fixed_due_date: date | None = None
    due_date: date
    due_at: datetime
    provisional: bool
    stopped_at: datetime | None = None
    cancelled: bool = False
    department: str | None = None
    enterprise: bool = False
    emitted: tuple[str, ...] = ()  # alert ids already on alerts.events (sorted)
    # a clock stopped by another case: the rectification of a 行政复议意见书 stops its report clock
    linked_case_id: str | None = None

    @property
    def open(self) -> bool:
        return self.stopped_at is None and not self.cancelled

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1][1] is None


AlertType = (
    type[ev.DeadlineApproaching]
    | type[ev.DeadlineBreached]
    | type[ev.Escalated]
    | type[ev.AlertCleared]
)
"""The payload class of an alert event."""


@dataclass(frozen=True)
class DueAlert:
    """An alert a clock owes: the payload class of the event to emit and its deterministic id."""

    alert_id: str
    payload_type: AlertType
    scheduled_at: datetime
    level: int
    notify: str | None
    offset: int


_EVENT_OF_KIND: dict[AlertKind, AlertType] = {
    AlertKind.warning: ev.DeadlineApproaching,
    AlertKind.breach: ev.DeadlineBreached,
    AlertKind.escalation: ev.Escalated,
}


def alert_id(clock: Clock, kind: str, level: int, offset: int) -> str:
    """Deterministic: the same clock, rule, level and due instant always give the same id."""
    key = f"{clock.clock_id}|{clock.rule_id}|{kind}|{level}|{offset}|{clock.due_at.isoformat()}"
    return _uuid5_text(key)


def _uuid5_text(name: str) -> str:
    """`str(uuid.uuid5(ALERT_ID_NAMESPACE, name))` without building a UUID object on the way
    (a midnight cohort names hundreds of thousands of alerts; the text is the same)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def counted_deadline(clock: Clock, rule: Rule, calendar: WorkingCalendar, tz: str) -> Deadline:
    """The clock's deadline counted from its history: closed pauses, the extension (capped as
    the rule allows) and a fixed due date. The one place a clock is counted."""
    closed = [(start, end) for start, end in clock.pauses if end is not None]
    extension = min(clock.extension, rule.max_extension) if rule.max_extension else clock.extension
    if not rule.extended_by:
        extension = 0
    return compute_deadline(
        rule,
        clock.started_at,
        calendar,
        pauses=closed,
        extension=extension,
        tz=tz,
        fixed_due_date=clock.fixed_due_date,
    )


def _recomputed(clock: Clock, rule: Rule, calendar: WorkingCalendar, tz: str) -> Clock:
    deadline = counted_deadline(clock, rule, calendar, tz)
    return clock.model_copy(
        update={
            "due_date": deadline.due_date,
            "due_at": deadline.due_at,
            "provisional": deadline.provisional,
        }
    )


def _counted(clock: Clock, rule: Rule) -> Deadline:
    """The clock's deadline as already counted (its due date and instant are stored on it)."""
    return Deadline(
        rule_id=rule.id,
        unit=rule.unit,
        start=clock.started_at.date(),
        started_at=clock.started_at,
        length=rule.length,
        extension=clock.extension,
        due_date=clock.due_date,
        due_at=clock.due_at,
        provisional=clock.provisional,
        fixed=clock.fixed_due_date is not None,
    )


def _scheduled(clock: Clock, rule: Rule, calendar: WorkingCalendar) -> list[ScheduledAlert]:
    """The instants of every alert of the clock's current deadline, in time order."""
    entries: Iterable[ScheduledAlert] = alert_schedule(rule, _counted(clock, rule), calendar)
    # a warning (or the escalation at the first warning) that would fall before the clock
    # started, on a period shorter than the warning, is left out rather than fired at once
    return [
        entry for entry in entries if entry.kind is AlertKind.breach or entry.at >= clock.started_at
    ]


def schedule(clock: Clock, rule: Rule, calendar: WorkingCalendar, tz: str) -> list[DueAlert]:
    """Every alert of the clock's current deadline, in time order."""
    return [
        DueAlert(
            alert_id(clock, entry.kind.value, entry.level, entry.offset),
            _EVENT_OF_KIND[entry.kind],
            entry.at,
            entry.level,
            entry.notify,
            entry.offset,
        )
        for entry in _scheduled(clock, rule, calendar)
    ]


def clearing_alert(clock: Clock) -> DueAlert:
    at = clock.stopped_at or clock.started_at
    return DueAlert(alert_id(clock, "cleared", 0, 0), ev.AlertCleared, at, 0, None, 0)


def _owes_clearing(clock: Clock) -> bool:
    """A stopped or cancelled clock that raised alerts owes one AlertCleared."""
    cleared = clearing_alert(clock).alert_id
    return cleared not in clock.emitted and any(alert != cleared for alert in clock.emitted)


def status(clock: Clock, rule: Rule, calendar: WorkingCalendar, tz: str) -> ClockStatus:
    """The clock's status from its events and the alerts emitted so far (no clock read)."""
    if clock.cancelled:
        return ClockStatus.cancelled
    if clock.stopped_at is not None:
        return ClockStatus.breached if clock.stopped_at > clock.due_at else ClockStatus.met
    if clock.emitted:  # breached once its breach alert was emitted (none yet: not breached)
        breach = breach_instant(_counted(clock, rule))
        if alert_id(clock, breach.kind.value, breach.level, breach.offset) in clock.emitted:
            return ClockStatus.breached
    return ClockStatus.paused if clock.paused else ClockStatus.running


def due_alerts(
    clock: Clock, rule: Rule, calendar: WorkingCalendar, tz: str, now: datetime
) -> list[DueAlert]:
    """The alerts the clock owes at `now` and has not emitted, in due order."""
    emitted = set(clock.emitted)
    if not clock.open:
        return [clearing_alert(clock)] if _owes_clearing(clock) else []
    if clock.paused:
        return []
    # only the alerts whose instant has come are named (an alert id is a uuid5)
    due = (entry for entry in _scheduled(clock, rule, calendar) if entry.at <= now)
    named = (
        DueAlert(
            alert_id(clock, entry.kind.value, entry.level, entry.offset),
            _EVENT_OF_KIND[entry.kind],
            entry.at,
            entry.level,
            entry.notify,
            entry.offset,
        )
        for entry in due
    )
    return [alert for alert in named if alert.alert_id not in emitted]


def next_alert_at(clock: Clock, rule: Rule, calendar: WorkingCalendar, tz: str) -> datetime | None:
    """When the scanner must next look at this clock (None: never again unless an event comes)."""
    emitted = set(clock.emitted)
    if not clock.open:
        return clearing_alert(clock).scheduled_at if _owes_clearing(clock) else None
    if clock.paused:
        return None
    if not emitted:  # every alert is pending: the earliest, without naming them
        return min((entry.at for entry in _scheduled(clock, rule, calendar)), default=None)
    # in time order: the first alert not emitted is the next (later ones are not named)
    for entry in _scheduled(clock, rule, calendar):
        if alert_id(clock, entry.kind.value, entry.level, entry.offset) not in emitted:
            return entry.at
    return None


def extension_after(rule: Rule, clock: Clock, payload: ev.Payload) -> int | None:
    """The clock's whole extension after `payload` (None: it does not extend this clock)."""
    match payload:
        case ev.DeadlineExtended() if payload.rule in (None, rule.id):
            return max(0, payload.new_length - rule.length)
        case ev.ReconsiderationExtended():
            return clock.extension + payload.extension_days
    return None


def _extended(
    clock: Clock, rule: Rule, payload: ev.Payload, calendar: WorkingCalendar, tz: str
) -> Clock:
    """The clock counted again to an approved extension: a new 整改时限 replaces the due date
    (counted periods are lengthened by `extension_after`)."""
    if isinstance(payload, ev.RectificationDeadlineExtended):
        moved = clock.model_copy(update={"fixed_due_date": payload.deadline})
        return _recomputed(moved, rule, calendar, tz)
    extension = extension_after(rule, clock, payload)
    if extension is None:
        return clock
    return _recomputed(clock.model_copy(update={"extension": extension}), rule, calendar, tz)


def advance(
    clocks: tuple[Clock, ...],
    event: Event[Any],
    state: CaseState,
    rulebook: RuleBook,
    calendar: WorkingCalendar,
    tz: str,
) -> tuple[Clock, ...]:
    """The case's clocks after `event` (`state` is the case after the event)."""
    payload = event.payload
    facts = case_facts(payload, state)
    local_day = event.occurred_at.astimezone(ZoneInfo(tz)).date()
    updated: list[Clock] = []
    for clock in clocks:
        rule = rulebook.rules.get(clock.rule_id)
        if rule is None or not clock.open:
            updated.append(clock)
            continue
        if type(payload) in CANCELLING_EVENTS or event.event_type in rule.cancelled_on:
            clock = clock.model_copy(update={"cancelled": True})
        elif rule.stops(event.event_type, facts):
            clock = clock.model_copy(update={"stopped_at": event.occurred_at})
        elif event.event_type in rule.pauses_on and not clock.paused:
            clock = clock.model_copy(update={"pauses": (*clock.pauses, (local_day, None))})
        elif event.event_type in rule.resumes_on and clock.paused:
            start, _ = clock.pauses[-1]
            closed = (*clock.pauses[:-1], (start, max(start, local_day)))
            clock = _recomputed(clock.model_copy(update={"pauses": closed}), rule, calendar, tz)
        elif event.event_type in rule.extended_by:
            clock = _extended(clock, rule, payload, calendar, tz)
        if (clock.department, clock.enterprise) != (state.department, state.enterprise):
            update = {"department": state.department, "enterprise": state.enterprise}
            clock = clock.model_copy(update=update)
        updated.append(clock)
    running_rules = {clock.rule_id for clock in updated if clock.open}
    for rule in rulebook.starting_on(event.event_type, facts):
        if rule.id in running_rules:
            continue
        number = sum(1 for clock in updated if clock.rule_id == rule.id)
        started_at = rule.counted_from(payload, event.occurred_at, tz)
        deadline = compute_deadline(
            rule, started_at, calendar, tz=tz, fixed_due_date=rule.fixed_due_date(payload)
        )
        updated.append(
            Clock(
                clock_id=f"{event.case_id}/{rule.id}/{number}",
                case_id=event.case_id,
                case_kind=event.case_kind,
                rule_id=rule.id,
                start_event_id=str(event.event_id),
                started_at=started_at,
                fixed_due_date=deadline.due_date if deadline.fixed else None,
                due_date=deadline.due_date,
                due_at=deadline.due_at,
                provisional=deadline.provisional,
                department=state.department,
                enterprise=state.enterprise,
                linked_case_id=_linked_case(event),
            )
        )
    return tuple(updated)


def _linked_case(event: Event[Any]) -> str | None:
    """The case whose completion stops a clock this event starts (None: its own events do)."""
    payload = event.payload
    if isinstance(payload, ev.ReconsiderationOpinionReceived):
        return rectification_id(event.case_id, payload.opinion_no)
    return None


def stopped_by_link(clock: Clock, completed_at: datetime) -> Clock:
    """The clock stopped when its linked case completed (Art 76: the correction is reported)."""
    if not clock.open or clock.linked_case_id is None:
        return clock
    return clock.model_copy(update={"stopped_at": completed_at})


def with_emitted(clock: Clock, alert_ids: Iterable[str]) -> Clock:
    """The clock knowing these alerts are on alerts.events (a set union: order does not matter)."""
    merged = tuple(sorted(set(clock.emitted) | set(alert_ids)))
    return clock if merged == clock.emitted else clock.model_copy(update={"emitted": merged})


@dataclass(frozen=True)
class ClockPolicy:
    """The rule book, calendar and time zone clocks are computed with."""

    rulebook: RuleBook
    calendar: WorkingCalendar
    timezone: str = "Asia/Shanghai"

    def advance(
        self, clocks: tuple[Clock, ...], event: Event[Any], state: CaseState
    ) -> tuple[Clock, ...]:
        return advance(clocks, event, state, self.rulebook, self.calendar, self.timezone)

    def status(self, clock: Clock) -> ClockStatus:
        rule = self.rulebook.rules.get(clock.rule_id)
        if rule is None:  # a rule the deployment no longer has: the clock is frozen as it was
            return ClockStatus.cancelled
        return status(clock, rule, self.calendar, self.timezone)

    def next_alert_at(self, clock: Clock) -> datetime | None:
        rule = self.rulebook.rules.get(clock.rule_id)
        return None if rule is None else next_alert_at(clock, rule, self.calendar, self.timezone)

    def recomputed(self, clock: Clock) -> Clock:
        """The clock counted again (e.g. a provisional one once the year's calendar is known)."""
        rule = self.rulebook.rules.get(clock.rule_id)
        return clock if rule is None else _recomputed(clock, rule, self.calendar, self.timezone)

    def due_alerts(self, clock: Clock, now: datetime) -> list[DueAlert]:
        rule = self.rulebook.rules.get(clock.rule_id)
        return [] if rule is None else due_alerts(clock, rule, self.calendar, self.timezone, now)
