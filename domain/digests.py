"""The daily digest (每日待办提醒) of a department: what is overdue, what falls due within the
next working days, and the rectifications (整改) awaiting verification (待核验).

When it is sent (working days only, at a local time) and what it says are decided here; the
worker's timer asks `digest_day` with the time now, and the read models supply the items."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time

from .calendar import WorkingCalendar
from .notifications import Message, Wording, escape_markdown, local_day, local_instant
from .words import KINDS

DIGEST_EVENT = "DailyDigest"  # the event type of a digest's rows in the delivery log
LISTED_PER_SECTION = 10  # a section lists this many items, then says how many more


@dataclass(frozen=True)
class DigestClock:
    """A running deadline clock of the department (超期 or 即将到期)."""

    case_id: str
    case_kind: str
    rule_id: str
    due_at: datetime


@dataclass(frozen=True)
class DigestRectification:
    """A rectification completed by its department and awaiting the supervisor's 核验."""

    case_id: str
    responsible_person: str | None
    completed_at: datetime


@dataclass(frozen=True)
class DepartmentDigest:
    """One department's items; the lists are the first ones, the totals count them all."""

    department: str
    overdue: tuple[DigestClock, ...] = ()
    overdue_total: int = 0
    due_soon: tuple[DigestClock, ...] = ()
    due_soon_total: int = 0
    awaiting_verification: tuple[DigestRectification, ...] = ()
    awaiting_total: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.overdue_total or self.due_soon_total or self.awaiting_total)


def digest_day(calendar: WorkingCalendar, local_now: datetime, at: time) -> date | None:
    """The day whose digest is due at `local_now` (local wall time): today, on a working day
    once `at` has passed; None on rest days (weekends, 法定节假日) and before `at`."""
    today = local_now.date()
    if not calendar.is_working_day(today) or local_now.time() < at:
        return None
    return today


def digest_horizon(calendar: WorkingCalendar, day: date, working_days: int) -> date:
    """The last day (included) of "due within the next `working_days` working days"."""
    return calendar.working_day_after(day, working_days)


def digest_id(department: str, day: date) -> str:
    """The same id for a department's digest of a day whoever records it, so a restarted or a
    second worker records nothing new (the delivery log's key is this id and the channel)."""
    digest = hashlib.sha256(department.encode()).hexdigest()[:16]
    return f"digest/{day.isoformat()}/{digest}"


def digest_message(digest: DepartmentDigest, day: date, horizon: date, wording: Wording) -> Message:
    """The digest of one department on `day`, items due up to `horizon` included."""
    zone = wording.zone
    title = f"【每日待办】{' '.join(digest.department.split())} {local_day(day)}"  # one line
    sections: list[tuple[str, list[tuple[str, str | None]], int, int]] = [
        (
            f"已超期 {digest.overdue_total} 件",
            [_clock_line(clock, wording) for clock in digest.overdue],
            len(digest.overdue),
            digest.overdue_total,
        ),
        (
            f"{local_day(horizon)}前到期 {digest.due_soon_total} 件",
            [_clock_line(clock, wording) for clock in digest.due_soon],
            len(digest.due_soon),
            digest.due_soon_total,
        ),
        (
            f"整改待核验 {digest.awaiting_total} 件",
            [
                (
                    f"{KINDS.get('rectification', '整改')} {item.case_id}，"
                    f"责任人 {item.responsible_person or '未指定'}，"
                    f"完成于 {local_instant(item.completed_at, zone)}",
                    item.case_id,
                )
                for item in digest.awaiting_verification
            ],
            len(digest.awaiting_verification),
            digest.awaiting_total,
        ),
    ]
    markdown = [f"### {escape_markdown(title)}"]
    text = [title]
    for heading, lines, listed, total in sections:
        if not total:
            continue
        markdown += ["", f"**{heading}**"]
        text += ["", heading]
        for line, case_id in lines:
            link = wording.case_link(case_id) if case_id else None
            shown = escape_markdown(line)
            markdown.append(f"- [{shown}]({link})" if link else f"- {shown}")
            text.append(f"- {line}" + (f"  {link}" if link else ""))
        if total > listed:
            markdown.append(f"- 另有 {total - listed} 件")
            text.append(f"- 另有 {total - listed} 件")
    return Message(title=title, markdown="\n".join(markdown), text="\n".join(text) + "\n")


def _clock_line(clock: DigestClock, wording: Wording) -> tuple[str, str | None]:
    kind = KINDS.get(clock.case_kind, clock.case_kind)
    line = f"{kind} {clock.case_id}，{wording.rule(clock.rule_id)}，到期 "
    return line + local_instant(clock.due_at, wording.zone), clock.case_id
