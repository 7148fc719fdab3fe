"""What people are told of an alert (通知): one message in Chinese, its dates local, rendered as
a title, Markdown (企业微信 / 钉钉 group robots) and plain text (e-mail).

Pure: the wording (time zone, rule titles, console address) is an argument, so the same alert
always reads the same."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from . import catalog as ev
from .words import ALERT_LEVELS, ALERT_TYPES, KINDS

WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
CLEARED = ev.AlertCleared.__name__
SUPERVISION = ev.SupervisionRequested.__name__

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()#>!|~<])")


@dataclass(frozen=True)
class Wording:
    """How messages are worded in one deployment."""

    timezone: str = "Asia/Shanghai"
    rule_titles: Mapping[str, str] = field(default_factory=dict, hash=False)  # rule id → 中文
    console_url: str | None = None  # the public base URL of the API (…/console/cases/{id})

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def rule(self, rule_id: str) -> str:
        return self.rule_titles.get(rule_id, rule_id)

    def case_link(self, case_id: str) -> str | None:
        if not self.console_url:
            return None
        return f"{self.console_url.rstrip('/')}/console/cases/{quote(case_id, safe='')}"


@dataclass(frozen=True)
class Message:
    """One notification: a subject line, Markdown for the robots, plain text for e-mail."""

    title: str
    markdown: str
    text: str


@dataclass(frozen=True)
class AlertNotice:
    """The facts of one alert people are told (from an alert event's envelope and payload)."""

    event_type: str
    case_id: str
    case_kind: str
    rule_id: str
    due_at: datetime
    department: str | None
    level: int | None = None  # AlertCleared carries none
    reason: str = ""  # AlertCleared: why


def escape_markdown(text: str) -> str:
    """`text` shown as itself in Markdown: a department named "[x](http://…)" is no link."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def local_instant(instant: datetime, zone: ZoneInfo) -> str:
    """ "2026-03-23 17:00（周一）" in the deployment's time zone."""
    local = instant.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M}（{WEEKDAYS[local.weekday()]}）"


def local_day(day: date) -> str:
    return f"{day:%Y-%m-%d}（{WEEKDAYS[day.weekday()]}）"


def alert_message(notice: AlertNotice, wording: Wording) -> Message:
    """The message of one alert: what happened, to which case, under which rule, how urgent,
    by when, whose department, and where to look."""
    kind = KINDS.get(notice.case_kind, notice.case_kind)
    what = ALERT_TYPES.get(notice.event_type, notice.event_type)
    title = f"【{what}】{kind} {notice.case_id}"
    facts: list[tuple[str, str]] = [
        ("案件", f"{kind} {notice.case_id}"),
        ("提醒", what),
        ("事项", wording.rule(notice.rule_id)),
    ]
    if notice.level is not None:
        facts.append(("级别", ALERT_LEVELS.get(str(notice.level), str(notice.level))))
    when = "督察时间" if notice.event_type == SUPERVISION else "到期时间"
    facts.append((when, local_instant(notice.due_at, wording.zone)))
    facts.append(("部门", notice.department or "未指定"))
    if notice.event_type == CLEARED and notice.reason.strip():
        facts.append(("原因", notice.reason.strip()[:200]))
    link = wording.case_link(notice.case_id)
    markdown = [f"### {escape_markdown(title)}"]
    markdown += [f"- {name}：{escape_markdown(value)}" for name, value in facts]
    text = [title, ""] + [f"{name}：{' '.join(value.split())}" for name, value in facts]
    if link:
        markdown.append(f"- [查看案件]({link})")
        text.append(f"查看案件：{link}")
    return Message(title=title, markdown="\n".join(markdown), text="\n".join(text) + "\n")
