"""The counting procedure (期间计算) of docs/deadlines.md: from a rule, a start and a working-day
calendar to a due date and instant, and the instants of its warnings and escalations.

Pure functions; time is an argument. Choices where the law is silent (docs/deadlines.md,
"Choices the law leaves open"):

- An extension counts in the rule's unit (working days, calendar days, hours, minutes); for
  a month rule it is calendar days, added like paused days after the month arithmetic.
- Pause and extension apply to counted periods only; a due date fixed on the starting event
  (`due_date_field`, e.g. 整改时限) is taken as given, without pause, extension or roll.
- Hour and minute rules count elapsed time; with `working_hours` only 09:00-17:00 of working
  days counts. Paused days (P+1 … R) do not count for them either.
- A warning `k` working days before the due date fires at 00:00 local time on the k-th
  working day before the due date. The breach fires one second after `due_at` (00:00 of
  the next day for day rules). An escalation `after = n` working days after the breach
  fires at the end of the n-th working day after the due date; after the first warning, at
  00:00 of the n-th working day after the warning day. Offsets in hours or minutes are
  plain elapsed time. Instants may precede the start for a short rule: the clocks
  (`domain/clocks.py`) leave out such warnings and escalations and raise such a breach at once.
"""

from __future__ import annotations

import functools
from calendar import monthrange
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from .calendar import DayKind, WorkingCalendar
from .rules import EscalationAnchor, Rule, Unit

DEFAULT_TIMEZONE = "Asia/Shanghai"
WORKDAY_OPENS = time(9)
WORKDAY_CLOSES = time(17)
END_OF_DAY = time(23, 59, 59)

Pause = tuple[date, date]
"""A pause 中止 from the day it started (P) to the day it ended (R): P+1 … R do not count."""


class InvalidDeadlineInput(ValueError):
    """A start, pause or extension the counting procedure cannot use; the message says why."""


class SkipReason(StrEnum):
    weekend = "weekend"
    holiday = "holiday"  # 法定节假日
    paused = "paused"  # 中止


@dataclass(frozen=True)
class SkippedDay:
    """A day after the start that did not count, or that the due date rolled over."""

    day: date
    reason: SkipReason
    holiday: str | None = None  # e.g. "春节 Spring Festival"


@dataclass(frozen=True)
class Deadline:
    """Where a rule's period ends, and how the count got there."""

    rule_id: str
    unit: Unit
    start: date  # the start day, not counted
    started_at: datetime  # local time
    length: int
    extension: int
    due_date: date
    due_at: datetime  # the last instant in time, local (23:59:59 for day rules)
    provisional: bool  # the count touched a year without an official schedule
    counted_days: tuple[date, ...] = ()  # day, working-day and month rules
    skipped: tuple[SkippedDay, ...] = ()
    # working-day rules: the counted days that are weekend days worked in lieu (调休, 补班)
    adjusted_days: tuple[date, ...] = ()
    month_date: date | None = None  # month rules: N months after the start, clamped
    rolled_from: date | None = None  # the rest day the count ended on, before the roll
    fixed: bool = False  # the due date was set on the starting event

    @property
    def breach_at(self) -> datetime:
        """The first instant the deadline is breached."""
        return self.due_at + timedelta(seconds=1)


class AlertKind(StrEnum):
    warning = "warning"  # DeadlineApproaching
    breach = "breach"  # DeadlineBreached
    escalation = "escalation"  # Escalated


@dataclass(frozen=True)
class ScheduledAlert:
    """An alert a scanner should raise at `at` while the deadline is still open."""

    kind: AlertKind
    at: datetime
    level: int
    notify: str | None = None  # escalation: the role told (handler, department_head, …)
    offset: int = 0  # warning: units before the due date; escalation: units after its anchor


def zone_of(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def add_months(day: date, months: int) -> date:
    """The same day number `months` later; in a shorter month, its last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _local(start: date | datetime, zone: tzinfo) -> datetime:
    if isinstance(start, datetime):
        return start.replace(tzinfo=zone) if start.tzinfo is None else start.astimezone(zone)
    return datetime.combine(start, time(0), tzinfo=zone)


def _paused_days(pauses: Iterable[Pause]) -> frozenset[date]:
    days: set[date] = set()
    for paused_on, resumed_on in pauses:
        if resumed_on < paused_on:
            raise InvalidDeadlineInput(f"pause {paused_on}/{resumed_on} ends before it starts")
        days.update(
            paused_on + timedelta(days=offset)
            for offset in range(1, (resumed_on - paused_on).days + 1)
        )
    return frozenset(days)


def _rest_day(day: date, calendar: WorkingCalendar) -> SkippedDay:
    if calendar.day_kind(day) is DayKind.holiday:
        return SkippedDay(day, SkipReason.holiday, calendar.day_name(day))
    return SkippedDay(day, SkipReason.weekend)


def _provisional(first: date, last: date, calendar: WorkingCalendar) -> bool:
    low, high = min(first, last), max(first, last)
    return any(not calendar.covers(year) for year in range(low.year, high.year + 1))


def _check_extension(rule: Rule, extension: int) -> None:
    if extension < 0:
        raise InvalidDeadlineInput(f"an extension cannot be negative, got {extension}")
    if extension and not rule.extended_by:
        raise InvalidDeadlineInput(f"rule {rule.id} cannot be extended (it has no extended_by)")
    if rule.max_extension is not None and extension > rule.max_extension:
        raise InvalidDeadlineInput(
            f"rule {rule.id} allows an extension of at most {rule.max_extension}, got {extension}"
        )


def compute_deadline(
    rule: Rule,
    start: date | datetime,
    calendar: WorkingCalendar,
    pauses: Sequence[Pause] = (),
    extension: int = 0,
    tz: str | tzinfo = DEFAULT_TIMEZONE,
    fixed_due_date: date | None = None,
) -> Deadline:
    """The deadline of `rule` started at `start` (a naive datetime is local time in `tz`)."""
    _check_extension(rule, extension)
    zone = zone_of(tz)
    started_at = _local(start, zone)
    start_day = started_at.date()
    paused = _paused_days(pauses)
    month_date = rolled_from = None
    walk = DayWalk()
    if fixed_due_date is not None:
        due_date = fixed_due_date
        due_at = datetime.combine(due_date, END_OF_DAY, tzinfo=zone)
        provisional = _provisional(start_day, due_date, calendar)
    elif rule.unit in (Unit.hours, Unit.minutes):
        due_at = _count_elapsed(rule, started_at, extension, calendar, paused)
        due_date = due_at.date()
        provisional = rule.working_hours and _provisional(start_day, due_date, calendar)
    else:
        period = _counted_period(rule.unit, rule.length, extension, start_day, calendar, paused)
        due_date, walk = period.due_date, period.walk
        month_date, rolled_from = period.month_date, period.rolled_from
        due_at = datetime.combine(due_date, END_OF_DAY, tzinfo=zone)
        provisional = period.provisional
    return Deadline(
        rule_id=rule.id,
        unit=rule.unit,
        start=start_day,
        started_at=started_at,
        length=rule.length,
        extension=extension,
        due_date=due_date,
        due_at=due_at,
        provisional=provisional,
        counted_days=tuple(walk.counted),
        skipped=tuple(walk.skipped),
        adjusted_days=tuple(walk.adjusted),
        month_date=month_date,
        rolled_from=rolled_from,
        fixed=fixed_due_date is not None,
    )


@dataclass(frozen=True)
class _Period:
    """A period of days counted from its start day (what a deadline in days needs of it)."""

    due_date: date
    walk: DayWalk
    provisional: bool
    month_date: date | None
    rolled_from: date | None


@functools.lru_cache(maxsize=8192)  # a year of start days × the rules counted: a few MiB
def _counted_period(
    unit: Unit,
    length: int,
    extension: int,
    start_day: date,
    calendar: WorkingCalendar,
    paused: frozenset[date],
) -> _Period:
    """The period counted from `start_day`; remembered, as the result depends on nothing else:
    the cases of a day start the same periods (a replay counts each rule's period once a day
    instead of once a case). Its walk is never changed after (Deadline keeps tuples of it)."""
    count = length + extension
    month_date = rolled_from = None
    if unit is Unit.months:
        month_date = add_months(start_day, length)
        count = (month_date - start_day).days + extension
    walk = _count_days(start_day, count, unit is Unit.working_days, calendar, paused)
    due_date = walk.last
    if unit is not Unit.working_days and not calendar.is_working_day(due_date):
        # 民事诉讼法 Art 85: a period ending on a rest day ends on the next working day
        rolled_from = due_date
        due_date += timedelta(days=1)
        while not calendar.is_working_day(due_date):
            walk.skipped.append(_rest_day(due_date, calendar))
            due_date += timedelta(days=1)
    provisional = _provisional(start_day + timedelta(days=1), due_date, calendar)
    return _Period(due_date, walk, provisional, month_date, rolled_from)


@dataclass
class DayWalk:
    """The days a count walked after its start: each counted or skipped (with the reason)."""

    last: date = date.min  # the day the walk stopped on
    counted: list[date] = field(default_factory=list)
    skipped: list[SkippedDay] = field(default_factory=list)
    adjusted: list[date] = field(default_factory=list)  # counted 调休 working weekend days


def _count_days(
    start_day: date,
    count: int,
    working_only: bool,
    calendar: WorkingCalendar,
    paused: frozenset[date],
) -> DayWalk:
    """Walk the days after the start until `count` of them have counted."""
    walk = DayWalk(last=start_day)
    day = start_day
    while len(walk.counted) < count:
        day += timedelta(days=1)
        if day in paused:
            walk.skipped.append(SkippedDay(day, SkipReason.paused))
        elif working_only and not calendar.is_working_day(day):
            walk.skipped.append(_rest_day(day, calendar))
        else:
            walk.counted.append(day)
            if working_only and calendar.day_kind(day) is DayKind.adjusted_workday:
                walk.adjusted.append(day)
    walk.last = day
    return walk


def _span(unit: Unit, amount: int) -> timedelta:
    return timedelta(hours=amount) if unit is Unit.hours else timedelta(minutes=amount)


def _count_elapsed(
    rule: Rule,
    started_at: datetime,
    extension: int,
    calendar: WorkingCalendar,
    paused: frozenset[date],
) -> datetime:
    """The instant `length + extension` hours or minutes of counted time after the start."""
    zone = started_at.tzinfo
    remaining = _span(rule.unit, rule.length + extension)
    day = started_at.date()
    while True:
        if day not in paused and (not rule.working_hours or calendar.is_working_day(day)):
            if rule.working_hours:
                opens = datetime.combine(day, WORKDAY_OPENS, tzinfo=zone)
                closes = datetime.combine(day, WORKDAY_CLOSES, tzinfo=zone)
            else:
                opens = datetime.combine(day, time(0), tzinfo=zone)
                closes = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
            # arithmetic in UTC: aware datetimes of one zone subtract as wall time
            begin = max(opens, started_at).astimezone(UTC)
            span = closes.astimezone(UTC) - begin
            if span > timedelta(0):
                if remaining <= span:
                    return (begin + remaining).astimezone(zone)
                remaining -= span
        day += timedelta(days=1)


# --- warnings and escalation -------------------------------------------------------------


def _day_start(day: date, zone: tzinfo | None) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def warning_instants(
    rule: Rule, deadline: Deadline, calendar: WorkingCalendar
) -> tuple[ScheduledAlert, ...]:
    """The warnings (临期提醒) of `deadline`, earliest first."""
    unit = rule.effective_alert_unit
    zone = deadline.due_at.tzinfo
    alerts = []
    for offset in sorted(set(rule.warnings), reverse=True):
        if unit is Unit.working_days:
            at = _day_start(calendar.working_day_before(deadline.due_date, offset), zone)
        else:
            at = deadline.due_at - _span(unit, offset)
        alerts.append(ScheduledAlert(AlertKind.warning, at, level=1, offset=offset))
    return tuple(alerts)


def breach_instant(deadline: Deadline) -> ScheduledAlert:
    """The breach (超期) of `deadline`."""
    return ScheduledAlert(AlertKind.breach, deadline.breach_at, level=2)


def escalation_instants(
    rule: Rule, deadline: Deadline, calendar: WorkingCalendar
) -> tuple[ScheduledAlert, ...]:
    """The rungs of the escalation ladder (督办升级); none for a rule with `escalate = false`."""
    if not rule.escalate:
        return ()
    unit = rule.effective_alert_unit
    zone = deadline.due_at.tzinfo
    warnings = warning_instants(rule, deadline, calendar)
    alerts = []
    for step in rule.escalation:
        if step.at is EscalationAnchor.first_warning:
            first = warnings[0].at
            if unit is Unit.working_days:
                at = _day_start(calendar.working_day_after(first.date(), step.after), zone)
            else:
                at = first + _span(unit, step.after)
        elif step.after == 0:
            at = deadline.breach_at
        elif unit is Unit.working_days:
            last_day = calendar.working_day_after(deadline.due_date, step.after)
            at = _day_start(last_day + timedelta(days=1), zone)
        else:
            at = deadline.breach_at + _span(unit, step.after)
        alerts.append(
            ScheduledAlert(
                AlertKind.escalation, at, level=step.level, notify=step.notify, offset=step.after
            )
        )
    return tuple(alerts)


# (rule, calendar, due day, due instant, zone) → schedule: clocks due together (a midnight
# cohort of warnings) share one count of working days instead of one count each
_SCHEDULES: dict[tuple[Any, ...], tuple[ScheduledAlert, ...]] = {}
_SCHEDULES_KEPT = 8192


def alert_schedule(
    rule: Rule, deadline: Deadline, calendar: WorkingCalendar
) -> tuple[ScheduledAlert, ...]:
    """Every warning, the breach and every escalation of `deadline`, in time order (a function
    of the rule, the calendar and the deadline's due day and instant only)."""
    key = (rule, calendar, deadline.due_date, deadline.due_at, deadline.due_at.tzinfo)
    found = _SCHEDULES.get(key)
    if found is None:
        if len(_SCHEDULES) >= _SCHEDULES_KEPT:
            _SCHEDULES.clear()
        found = _SCHEDULES[key] = _alert_schedule(rule, deadline, calendar)
    return found


def _alert_schedule(
    rule: Rule, deadline: Deadline, calendar: WorkingCalendar
) -> tuple[ScheduledAlert, ...]:
    alerts = [
        *warning_instants(rule, deadline, calendar),
        breach_instant(deadline),
        *escalation_instants(rule, deadline, calendar),
    ]
    return tuple(sorted(alerts, key=lambda alert: (alert.at, alert.level)))
