"""How a clock's deadline was counted (时限计算说明): the rule, the start, the days counted and
skipped, pauses (中止), extensions (延期) and the due instant, with a one-line Chinese summary.

Built from the very `Deadline` the clock is counted with (`clocks.counted_deadline`), so an
explanation can never disagree with the due date it explains. Pure: the clock, its rule, the
case's events, the calendar and the time zone come in as arguments.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from . import catalog as ev
from .calendar import WorkingCalendar
from .clocks import Clock, counted_deadline, extension_after
from .deadline_explanation_models import (
    AdjustedWorkday,
    ClockExplanation,
    DayCount,
    DayOff,
    ExplainedExtension,
    ExplainedPause,
    ExplainedRule,
    ExplainedStart,
    HolidayDays,
)
from .deadlines import Deadline, SkippedDay, SkipReason, zone_of
from .envelope import Event
from .rules import Rule, Unit

UNIT_ZH = {
    Unit.working_days: "个工作日",
    Unit.calendar_days: "日",
    Unit.months: "个月",
    Unit.hours: "小时",
    Unit.minutes: "分钟",
}
DAY_UNITS = (Unit.working_days, Unit.calendar_days, Unit.months)
ROLL_RULE = (
    "期间届满的最后一日是节假日的，以节假日后的第一日为期间届满的日期（民事诉讼法第八十五条）"
)


def _local(instant: datetime, tz: str) -> datetime:
    return instant.astimezone(zone_of(tz))


def _off(item: SkippedDay) -> DayOff:
    return DayOff(day=item.day, reason=item.reason, holiday=item.holiday)


def _short_name(holiday: str) -> str:
    """The Chinese part of "国庆节 National Day" (the whole name when there is none)."""
    first = holiday.split(" ", 1)[0]
    return first if any("\u4e00" <= char <= "\u9fff" for char in first) else holiday


def _day_count(rule: Rule, deadline: Deadline, calendar: WorkingCalendar) -> DayCount:
    rolled = deadline.rolled_from
    inside = [item for item in deadline.skipped if rolled is None or item.day < rolled]
    over = [item for item in deadline.skipped if rolled is not None and item.day > rolled]
    holidays = Counter(
        item.holiday or "法定节假日" for item in inside if item.reason is SkipReason.holiday
    )
    counted = deadline.counted_days
    return DayCount(
        counted=len(counted),
        first_counted=counted[0] if counted else None,
        last_counted=counted[-1] if counted else None,
        counted_days=list(counted),
        adjusted_workdays=[
            AdjustedWorkday(day=day, holiday=calendar.day_name(day))
            for day in deadline.adjusted_days
        ],
        not_counted=[_off(item) for item in inside],
        weekend_days=sum(1 for item in inside if item.reason is SkipReason.weekend),
        holiday_days=sum(holidays.values()),
        holidays=[HolidayDays(name=name, days=days) for name, days in holidays.items()],
        paused_days=sum(1 for item in inside if item.reason is SkipReason.paused),
        month_date=deadline.month_date,
        end_moves_off_rest_days=rule.unit is not Unit.working_days,
        rolled_from=rolled,
        rolled_over=[_off(item) for item in over],
    )


def _start(rule: Rule, clock: Clock, deadline: Deadline, tz: str) -> ExplainedStart:
    day_rule = rule.unit in DAY_UNITS and not deadline.fixed
    if deadline.fixed:
        note = "届满日由启动事件（或批准的延期）指定，不按期间计算"
    elif day_rule:
        note = f"期间开始的日不计算在期间内：{deadline.start}不计入，自次日起算"
    elif rule.working_hours:
        note = "自启动时刻起计算，只计工作日09:00至17:00"
    else:
        note = "自启动时刻起连续计算"
    if rule.start_date_field is not None and not deadline.fixed:
        # e.g. 公示 counted from the decision's date, not from when it was recorded
        note = f"自启动事件所载日期（{rule.start_date_field}）起算，非登记时刻；{note}"
    return ExplainedStart(
        event_type=rule.starts_on,
        event_id=clock.start_event_id,
        started_at=_local(clock.started_at, tz),
        start_day=deadline.start,
        counts_from_next_day=day_rule,
        first_counted_day=deadline.counted_days[0] if deadline.counted_days else None,
        note=note,
    )


def _pauses(clock: Clock, deadline: Deadline, rule: Rule) -> list[ExplainedPause]:
    paused = [item.day for item in deadline.skipped if item.reason is SkipReason.paused]
    found = []
    for start, end in clock.pauses:
        found.append(
            ExplainedPause(
                suspended_on=start,
                resumed_on=end,
                days_suspended=None if end is None else (end - start).days,
                days_not_counted=(
                    None
                    if end is None or rule.unit not in DAY_UNITS
                    else sum(1 for day in paused if start < day <= end)
                ),
            )
        )
    return found


def _extensions(
    clock: Clock,
    rule: Rule,
    events: Sequence[Event[Any]] | None,
    calendar: WorkingCalendar,
    tz: str,
    deadline: Deadline,
) -> list[ExplainedExtension]:
    """Each approved extension of this clock, and the due date it gave (counted with the
    pauses closed by then), replayed through the clocks' own extension and counting code."""
    if events is None:  # the case's history was not read: the total only
        if not deadline.extension:
            return []
        return [
            ExplainedExtension(
                granted_at=None,
                event_type=None,
                approved_by=None,
                reason=None,
                added=deadline.extension,
                unit=_extension_unit(rule),
                total=deadline.extension,
                new_due_date=deadline.due_date,
                new_due_at=deadline.due_at,
            )
        ]
    found: list[ExplainedExtension] = []
    running = clock.model_copy(
        update={"extension": 0, "pauses": (), "fixed_due_date": _first_fixed(clock, rule, events)}
    )
    for event in events:
        if event.event_type not in rule.extended_by or not _within(clock, event):
            continue
        payload = event.payload
        before = counted_deadline(running, rule, calendar, tz).extension
        moved_due = isinstance(payload, ev.RectificationDeadlineExtended)
        if moved_due:
            running = running.model_copy(update={"fixed_due_date": payload.deadline})
        else:
            total = extension_after(rule, running, payload)
            if total is None:  # e.g. a DeadlineExtended naming another rule
                continue
            running = running.model_copy(update={"extension": total})
        granted_on = _local(event.occurred_at, tz).date()
        closed = tuple(
            (start, end) for start, end in clock.pauses if end is not None and end <= granted_on
        )
        counted = counted_deadline(
            running.model_copy(update={"pauses": closed}), rule, calendar, tz
        )
        found.append(
            ExplainedExtension(
                granted_at=_local(event.occurred_at, tz),
                event_type=event.event_type,
                approved_by=getattr(payload, "approved_by", None),
                reason=getattr(payload, "reason", None) or None,
                added=None if moved_due else counted.extension - before,
                unit=_extension_unit(rule),
                total=counted.extension,
                new_due_date=counted.due_date,
                new_due_at=counted.due_at,
            )
        )
    return found


def _extension_unit(rule: Rule) -> Unit:
    """A month rule is extended in calendar days (docs/deadlines.md, "Extensions")."""
    return Unit.calendar_days if rule.unit is Unit.months else rule.unit


def _within(clock: Clock, event: Event[Any]) -> bool:
    if event.occurred_at < clock.started_at:
        return False
    return clock.stopped_at is None or event.occurred_at <= clock.stopped_at


def _first_fixed(clock: Clock, rule: Rule, events: Sequence[Event[Any]]) -> date | None:
    """The due date the starting event set (before any extension moved it)."""
    for event in events:
        if str(event.event_id) == clock.start_event_id:
            return rule.fixed_due_date(event.payload)
    return clock.fixed_due_date


# --- the one-line summary ----------------------------------------------------------------


def _skipped_text(days: DayCount) -> str:
    holidays = "、".join(f"{_short_name(item.name)}假日{item.days}天" for item in days.holidays)
    return (
        f"跳过周末{days.weekend_days}天、{holidays or '法定节假日0天'}，"
        f"计入调休上班日{len(days.adjusted_workdays)}天"
    )


def _length_text(rule: Rule, deadline: Deadline, days: DayCount | None) -> str:
    if deadline.fixed:
        return f"届满日{deadline.due_date}由事件指定"
    length = f"{rule.length}{UNIT_ZH[rule.unit]}"
    if rule.unit in (Unit.hours, Unit.minutes):
        hours = "（只计工作时间）" if rule.working_hours else ""
        return f"自{deadline.started_at:%Y-%m-%d %H:%M}起算{length}{hours}"
    text = f"自{deadline.start}起算{length}"
    if days is None:
        return text
    if rule.unit is Unit.working_days:
        return f"{text}（{_skipped_text(days)}）"
    if days.month_date is not None:
        text += f"（至{days.month_date}）"
    if days.rolled_from is not None:
        text += f"，末日{days.rolled_from}为休息日，顺延至{deadline.due_date}"
    return text


def _summary(
    rule: Rule,
    clock: Clock,
    deadline: Deadline,
    days: DayCount | None,
    pauses: Sequence[ExplainedPause],
) -> str:
    parts = [_length_text(rule, deadline, days)]
    suspended = sum(pause.days_suspended or 0 for pause in pauses)
    if suspended:
        parts.append(f"中止{suspended}天")
    if clock.paused:
        parts.append(f"自{clock.pauses[-1][0]}起中止中")
    if deadline.extension:
        unit = "日" if rule.unit is Unit.months else UNIT_ZH[rule.unit]
        parts.append(f"延期{deadline.extension}{unit}")
    if rule.unit in (Unit.hours, Unit.minutes) and not deadline.fixed:
        parts.append(f"{deadline.due_at:%Y-%m-%d %H:%M}届满")
    else:
        parts.append(f"{deadline.due_date}届满")
    return "，".join(parts)


def _notes(clock: Clock, rule: Rule, deadline: Deadline, matches: bool) -> list[str]:
    notes: list[str] = []
    if rule.unit is not Unit.working_days and rule.unit in DAY_UNITS and not deadline.fixed:
        notes.append(ROLL_RULE)
    if clock.paused:
        notes.append("中止中：恢复后，中止期间不计入，届满日重新计算")
    if clock.extension and not deadline.extension:
        notes.append("该规则不允许延期，记录的延期不计入")
    elif clock.extension > deadline.extension:
        notes.append(f"延期以规则上限{rule.max_extension}{UNIT_ZH[rule.unit]}计")
    if deadline.provisional:
        notes.append("计算涉及尚未公布节假日安排的年份，仅按周末计休息日，结果为暂定")
    if not matches:
        notes.append(
            f"时限记录的届满时刻为{clock.due_at.isoformat()}：规则或日历已变更，"
            "该时限在恢复或延期时才按现行规则重新计算"
        )
    return notes


def explain_clock(
    clock: Clock,
    rule: Rule,
    calendar: WorkingCalendar,
    tz: str,
    events: Sequence[Event[Any]] | None = None,
) -> ClockExplanation:
    """How `clock` is counted under `rule`; `events` (the case's history, in order) name who
    approved each extension, and without them only the extension's total is shown."""
    deadline = counted_deadline(clock, rule, calendar, tz)
    days = (
        _day_count(rule, deadline, calendar)
        if rule.unit in DAY_UNITS and not deadline.fixed
        else None
    )
    pauses = _pauses(clock, deadline, rule)
    matches = deadline.due_date == clock.due_date and deadline.due_at == clock.due_at
    return ClockExplanation(
        clock_id=clock.clock_id,
        rule=ExplainedRule(
            id=rule.id,
            title=rule.title,
            source=rule.source,
            unit=rule.unit,
            length=rule.length,
            working_hours=rule.working_hours,
            max_extension=rule.max_extension,
            extendable=bool(rule.extended_by),
        ),
        start=_start(rule, clock, deadline, tz),
        days=days,
        pauses=pauses,
        extension=deadline.extension,
        extensions=_extensions(clock, rule, events, calendar, tz, deadline),
        fixed_due_date=deadline.fixed,
        due_date=deadline.due_date,
        due_at=_local(deadline.due_at, tz),
        timezone=tz,
        provisional=deadline.provisional,
        matches_clock=matches,
        notes=_notes(clock, rule, deadline, matches),
        summary_zh=_summary(rule, clock, deadline, days, pauses),
    )
