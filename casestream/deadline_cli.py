"""`casestream deadline …`: see how a deadline rule counts from a start date (期限预览)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from casestream.domain.calendar import CalendarFileError, WorkingCalendar, load_calendar
from casestream.domain.deadlines import (
    DEFAULT_TIMEZONE,
    Deadline,
    InvalidDeadlineInput,
    ScheduledAlert,
    SkippedDay,
    SkipReason,
    alert_schedule,
    compute_deadline,
)
from casestream.domain.rules import Rule, RuleFileError, Unit, UnknownRule, load_rulebook

deadline_app = typer.Typer(help="Deadline rules and how they count.", no_args_is_help=True)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REASONS = {
    SkipReason.weekend: "weekend",
    SkipReason.holiday: "official holiday",
    SkipReason.paused: "paused (中止)",
}


@deadline_app.callback()
def deadline() -> None:
    """Deadline rules (期限规则) and how they count."""


def _usage_error(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _parse_date(text: str, option: str) -> date:
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        _usage_error(f"{option} {text!r} is not a date; expected YYYY-MM-DD, e.g. 2026-02-05")


def _parse_pause(text: str) -> tuple[date, date]:
    first, sep, last = text.partition("/")
    if not sep:
        _usage_error(f"--pause {text!r}: expected YYYY-MM-DD/YYYY-MM-DD (suspended/resumed)")
    return _parse_date(first, "--pause"), _parse_date(last, "--pause")


def _weekday(day: date) -> str:
    return day.strftime("%a")


def _skipped_ranges(skipped: Sequence[SkippedDay]) -> list[str]:
    """Consecutive skipped days with the same reason, as one line each."""
    lines: list[str] = []
    group: list[SkippedDay] = []

    def flush() -> None:
        if not group:
            return
        first, last = group[0].day, group[-1].day
        span = f"{first} {_weekday(first)}"
        if last != first:
            span += f" … {last} {_weekday(last)} ({len(group)} days)"
        reason = _REASONS[group[0].reason]
        if group[0].holiday:
            reason += f" {group[0].holiday}"
        lines.append(f"  {span}: {reason}")

    for item in skipped:
        previous = group[-1] if group else None
        if previous is not None and (
            (item.day - previous.day).days != 1
            or (item.reason, item.holiday) != (previous.reason, previous.holiday)
        ):
            flush()
            group = []
        group.append(item)
    flush()
    return lines


def _unit_text(rule: Rule, amount: int) -> str:
    return f"{amount} {rule.unit.value.replace('_', ' ')}"


def explain(
    rule: Rule, result: Deadline, calendar: WorkingCalendar, alerts: Sequence[ScheduledAlert]
) -> list[str]:
    """A short human explanation of how `result` was counted."""
    length = _unit_text(rule, rule.length)
    if result.extension:
        length += f" + {result.extension} extension"
    lines = [
        f"{rule.id}: {rule.title}",
        f"source: {rule.source}",
        f"start {result.start} {_weekday(result.start)} (not counted); length {length}",
    ]
    if result.fixed:
        lines.append("the due date is the one set on the starting event")
    if result.month_date is not None:
        lines.append(f"{rule.length} months after the start: {result.month_date}")
    if result.counted_days:
        first, last = result.counted_days[0], result.counted_days[-1]
        lines.append(f"counted {len(result.counted_days)} days, {first} … {last}")
        adjusted = [
            day
            for day in result.counted_days
            if rule.unit is Unit.working_days and day.weekday() >= 5
        ]
        for day in adjusted:
            lines.append(
                f"  {day} {_weekday(day)} counted: adjusted working day (调休) "
                f"{calendar.day_name(day) or ''}".rstrip()
            )
    rolled_from = result.rolled_from
    counting = [item for item in result.skipped if rolled_from is None or item.day < rolled_from]
    if counting:
        lines.append("not counted:")
        lines.extend(_skipped_ranges(counting))
    if rolled_from is not None:
        name = calendar.day_name(rolled_from)
        lines.append(
            f"the count ended on {rolled_from} {_weekday(rolled_from)}"
            f"{f' ({name})' if name else ''}, not a working day; moved over:"
        )
        lines.extend(_skipped_ranges([i for i in result.skipped if i.day > rolled_from]))
    lines.append(
        f"due {result.due_date} {_weekday(result.due_date)}, at {result.due_at.isoformat()}"
    )
    lines.append("alerts:")
    for alert in alerts:
        who = f" → {alert.notify}" if alert.notify else ""
        lines.append(f"  {alert.kind.value} (level {alert.level}){who}: {alert.at.isoformat()}")
    if not rule.escalate:
        lines.append("not escalated: this is the court's period, shown for information")
    if result.provisional:
        lines.append(
            "PROVISIONAL: the count touches a year without an official holiday schedule; "
            "only weekends were treated as rest days. Add the year to the calendar file "
            "(CASESTREAM_CALENDAR_FILE) or update chinese-calendar."
        )
    return lines


def _as_json(rule: Rule, result: Deadline, alerts: Sequence[ScheduledAlert]) -> dict[str, Any]:
    return {
        "rule": rule.id,
        "title": rule.title,
        "source": rule.source,
        "unit": rule.unit.value,
        "length": rule.length,
        "extension": result.extension,
        "start": result.start.isoformat(),
        "due_date": result.due_date.isoformat(),
        "due_at": result.due_at.isoformat(),
        "provisional": result.provisional,
        "counted_days": [day.isoformat() for day in result.counted_days],
        "skipped": [
            {"day": item.day.isoformat(), "reason": item.reason.value, "holiday": item.holiday}
            for item in result.skipped
        ],
        "month_date": result.month_date.isoformat() if result.month_date else None,
        "rolled_from": result.rolled_from.isoformat() if result.rolled_from else None,
        "severity": rule.severity.value,
        "escalate": rule.escalate,
        "alerts": [
            {
                "kind": alert.kind.value,
                "at": alert.at.isoformat(),
                "level": alert.level,
                "notify": alert.notify,
                "offset": alert.offset,
            }
            for alert in alerts
        ],
    }


_FILE = {"exists": True, "dir_okay": False, "readable": True}


@deadline_app.command("preview")
def preview(
    rule: Annotated[str, typer.Option("--rule", help="rule id, e.g. reconsideration.reply")],
    start: Annotated[str, typer.Option("--start", help="day of the starting event, YYYY-MM-DD")],
    pause: Annotated[
        list[str] | None,
        typer.Option("--pause", help="YYYY-MM-DD/YYYY-MM-DD: suspended on / resumed on"),
    ] = None,
    extension: Annotated[int, typer.Option(help="granted extension, in the rule's unit")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object")] = False,
    rules_file: Annotated[
        Path | None,
        typer.Option(envvar="CASESTREAM_RULES_FILE", help="deployment rule file", **_FILE),
    ] = None,
    calendar_file: Annotated[
        Path | None,
        typer.Option(envvar="CASESTREAM_CALENDAR_FILE", help="deployment calendar file", **_FILE),
    ] = None,
    timezone: Annotated[str, typer.Option(envvar="CASESTREAM_TIMEZONE")] = DEFAULT_TIMEZONE,
) -> None:
    """Show when RULE's deadline falls for a start day, and which days did not count."""
    try:
        rulebook = load_rulebook(rules_file)
        calendar = load_calendar(calendar_file)
    except (RuleFileError, CalendarFileError) as exc:
        _usage_error(str(exc))
    try:
        chosen = rulebook.get(rule)
    except UnknownRule:
        _usage_error(f"unknown rule {rule!r}; valid rules: {', '.join(rulebook.ids)}")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        _usage_error(f"unknown time zone {timezone!r}; use an IANA name such as Asia/Shanghai")
    start_day = _parse_date(start, "--start")
    pauses = [_parse_pause(text) for text in pause or []]
    try:
        result = compute_deadline(chosen, start_day, calendar, pauses, extension, zone)
    except InvalidDeadlineInput as exc:
        _usage_error(str(exc))
    alerts = alert_schedule(chosen, result, calendar)
    if as_json:
        typer.echo(json.dumps(_as_json(chosen, result, alerts), ensure_ascii=False))
    else:
        typer.echo("\n".join(explain(chosen, result, calendar, alerts)))
