"""The explanation of a clock's deadline (时限计算说明) as the API shows it: the rule, the
start, the days counted and skipped, pauses (中止), extensions (延期) and the due instant.
Built by `domain/deadline_explanation.py`."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict

from .deadlines import SkipReason
from .rules import Unit


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ExplainedRule(_Frozen):
    """The rule a clock counts by."""

    id: str
    title: str
    source: str  # the legal or policy basis
    unit: Unit
    length: int
    working_hours: bool  # hour and minute rules: only 09:00-17:00 of working days count
    max_extension: int | None  # None: no cap (or the rule cannot be extended: see extendable)
    extendable: bool


class ExplainedStart(_Frozen):
    """Where the count starts, and why."""

    event_type: str  # the rule's starting event
    event_id: str
    started_at: datetime  # local time
    start_day: date
    counts_from_next_day: bool  # day rules: the start day itself is not counted
    first_counted_day: date | None
    note: str


class DayOff(_Frozen):
    """A day in the span that did not count, or that the due date moved over."""

    day: date
    reason: SkipReason  # weekend 周末, holiday 法定节假日, paused 中止
    holiday: str | None = None  # e.g. "国庆节 National Day"


class AdjustedWorkday(_Frozen):
    """A weekend day worked in lieu of a holiday (调休上班, 补班) that counted."""

    day: date
    holiday: str | None


class HolidayDays(_Frozen):
    name: str
    days: int


class DayCount(_Frozen):
    """The days a day, working-day or month rule walked."""

    counted: int
    first_counted: date | None
    last_counted: date | None
    counted_days: list[date]
    adjusted_workdays: list[AdjustedWorkday]
    not_counted: list[DayOff]  # inside the span, in day order
    weekend_days: int
    holiday_days: int
    holidays: list[HolidayDays]  # holiday days skipped, by holiday
    paused_days: int
    month_date: date | None  # month rules: N months after the start, clamped to the month's end
    end_moves_off_rest_days: bool  # calendar-day and month rules (民事诉讼法 Art 85)
    rolled_from: date | None  # the rest day the count ended on, before the move
    rolled_over: list[DayOff]


class ExplainedPause(_Frozen):
    """中止: the days from the day after suspension to the day of resumption do not count."""

    suspended_on: date
    resumed_on: date | None  # None: still suspended, the due date moves when it resumes
    days_suspended: int | None
    days_not_counted: int | None  # days of this count that fell in the pause (day rules)


class ExplainedExtension(_Frozen):
    """延期: an approved extension and where it put the due date."""

    granted_at: datetime | None  # local time; None when the case's events were not read
    event_type: str | None
    approved_by: str | None
    reason: str | None
    added: int | None  # in the rule's unit; None for a new fixed due date (整改时限)
    unit: Unit
    total: int  # the clock's whole extension after this one
    new_due_date: date
    new_due_at: datetime


class ClockExplanation(_Frozen):
    """How one clock's deadline was counted."""

    clock_id: str
    rule: ExplainedRule
    start: ExplainedStart
    days: DayCount | None  # None for hour and minute rules and fixed due dates
    pauses: list[ExplainedPause]
    extension: int  # counted, in the rule's unit (capped at the rule's max_extension)
    extensions: list[ExplainedExtension]
    fixed_due_date: bool  # the due date was set by an event (e.g. 整改时限), not counted
    due_date: date
    due_at: datetime  # local time
    timezone: str
    provisional: bool  # the count touched a year without an official holiday schedule
    matches_clock: bool  # False: the rule changed since the clock was counted
    notes: list[str]
    summary_zh: str
