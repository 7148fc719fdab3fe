"""What the case detail page (案件详情) shows, in words: the case's facts, its events as a
timeline, its clocks with how each deadline was counted. Built from the API's own answers
(`CaseDetail`, `EventOut`, `ClockOut`), already masked for the caller's role."""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Union, get_args, get_origin
from zoneinfo import ZoneInfo

from casestream.domain.catalog import PAYLOAD_TYPES, CaseKind, Payload
from casestream.domain.commands import Role
from casestream.domain.deadline_explanation import UNIT_ZH
from casestream.domain.deadline_explanation_models import ClockExplanation

from .console_labels import (
    APPELLANTS,
    CHANNELS,
    CHOICES,
    CLOCK_STATUSES,
    COMPLAINT_OUTCOMES,
    EVENT_FIELDS,
    EVENT_LABELS,
    EXEMPTIONS,
    INSTANCES,
    JUDGMENT_OUTCOMES,
    KINDS,
    NOTIFY,
    OPINION_CATEGORIES,
    RECONSIDERATION_DECISIONS,
    REVIEW_STATUSES,
    ROOT_CAUSES,
    SKIP_REASONS,
    VERIFICATION_RESULTS,
    label,
    rule_title_zh,
    status_label,
)
from .schemas import CaseDetail, ClockOut, EventOut

SYSTEM = "系统（自动）"
LONG_TEXT = 300  # characters of a free text a timeline line shows
# payload fields a timeline line leaves out: an alert's own ids and schedule (its rule and
# due time are shown); every other field has its label in EVENT_FIELDS
HIDDEN_FIELDS = frozenset({"alert_id", "clock_id", "scheduled_at"})
PARTIES = (
    ("complainant", "投诉人"),
    ("informant", "举报人"),
    ("applicant", "申请人"),
    ("plaintiff", "原告"),
)


def local_time(value: datetime | None, timezone: str) -> str:
    if value is None:
        return ""
    return f"{value.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M}"


def yes_no(value: bool) -> str:
    return "是" if value else "否"


def person_words(person: Any) -> str:
    """A person (model or JSON) as shown: name, phone, id number (masked or not as given)."""
    if person is None:
        return ""
    found = person if isinstance(person, Mapping) else person.model_dump()
    return " ".join(str(found[key]) for key in ("name", "phone", "id_number") if found.get(key))


# --- facts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    href: str | None = None


def facts(detail: CaseDetail, timezone: str) -> list[Fact]:
    """The facts block: what every case has, its parties and what its kind adds."""
    state = detail.state
    found = [
        Fact("案件编号", detail.case_id),
        Fact("类型", label(KINDS, detail.case_kind)),
        Fact("状态", status_label(detail.case_kind, detail.status)),
        Fact("事项", detail.subject or ""),
        Fact("承办部门", detail.department or "未定"),
        Fact("承办人", detail.handler or ""),
        Fact("收到时间", local_time(detail.received_at, timezone)),
        Fact("最近更新", local_time(detail.last_occurred_at, timezone)),
        Fact("涉企", yes_no(detail.enterprise)),
        Fact("企业", detail.enterprise_name or ""),
        Fact("中止", "中止中" if detail.paused else ""),
    ]
    if detail.decision_ref:
        found.append(Fact("决定书文号", detail.decision_ref, "#dispute-heading"))
    channel = getattr(state, "channel", None)
    if channel is not None:
        found.append(Fact("渠道", label(CHANNELS, channel)))
    for field, title in PARTIES:
        if field in type(state).model_fields:
            person = getattr(state, field)
            shown = person_words(person)
            if not shown and getattr(state, "anonymous", False):
                shown = "匿名举报（不显示举报人）"
            found.append(Fact(title, shown))
    found.extend(_kind_facts(state, timezone))
    return [fact for fact in found if fact.value]


def _kind_facts(state: Any, timezone: str) -> list[Fact]:
    match state.case_kind:
        case CaseKind.complaint:
            return [
                Fact("工单号", state.work_order_no or ""),
                Fact("办理结果", label(COMPLAINT_OUTCOMES, state.outcome)),
                Fact("不予受理原因", state.rejection_reason or ""),
                Fact("满意度", f"{state.satisfaction} 分" if state.satisfaction else ""),
                Fact("督察", "督察中" if state.supervision else ""),
            ]
        case CaseKind.enterprise_tip:
            return [
                Fact("核查结果", label(VERIFICATION_RESULTS, state.verification_result)),
                Fact("已反馈", "是" if state.feedback_given else ""),
            ]
        case CaseKind.reconsideration:
            return [
                Fact("复议机关", state.reconsideration_body or ""),
                Fact("简易程序", "是" if state.simplified else ""),
                Fact("复议决定", label(RECONSIDERATION_DECISIONS, state.decision)),
                Fact("意见书编号", state.opinion_no or ""),
            ]
        case CaseKind.litigation:
            return [
                Fact("法院", state.court or ""),
                Fact("案号", state.court_case_no or ""),
                Fact("审级", label(INSTANCES, state.instance)),
                Fact("判决结果", label(JUDGMENT_OUTCOMES, state.judgment_outcome)),
                Fact("开庭次数", str(state.hearings) if state.hearings else ""),
            ]
        case CaseKind.rectification:
            source = state.source_case_id
            return [
                Fact("来源案件", source or "", f"/console/cases/{source}" if source else None),
                Fact("责任人", state.responsible_person or ""),
                Fact("整改时限", str(state.deadline) if state.deadline else ""),
                Fact("复盘", label(REVIEW_STATUSES, state.review_status)),
                Fact("问题原因", "、".join(label(ROOT_CAUSES, c) for c in state.root_causes)),
                Fact("整改措施", "；".join(state.measures)),
                Fact(
                    "完成比例",
                    "" if state.progress_percent is None else f"{state.progress_percent}%",
                ),
                Fact("退回次数", str(state.rejections) if state.rejections else ""),
                Fact("撤销原因", state.cancelled_reason or ""),
                Fact("整改页", "整改详情", f"/console/rectifications/{state.case_id}"),
            ]
        case CaseKind.enforcement_review:
            opinions = [
                f"{label(OPINION_CATEGORIES, o.category)}：{o.text}" for o in state.opinions
            ]
            return [
                Fact("评查人", state.reviewer or ""),
                Fact("考评得分", "" if state.score is None else f"{state.score} 分"),
                Fact("评查意见", "；".join(opinions)),
            ]
        case CaseKind.enforcement_notice:
            rect = state.rectification_id
            return [
                Fact("监督书文号", state.notice_no or ""),
                Fact("纠正事项", "；".join(state.matters)),
                Fact("整改期限", str(state.deadline) if state.deadline else ""),
                Fact("整改案件", rect or "", f"/console/cases/{rect}" if rect else None),
                Fact("核验时间", local_time(state.rectified_at, timezone)),
            ]
        case CaseKind.enforcement_decision:
            return [
                Fact("不予处罚类型", label(EXEMPTIONS, state.exemption)),
                Fact("法律依据", state.legal_basis or ""),
                Fact("决定日期", str(state.decided_on) if state.decided_on else ""),
                Fact("公示时间", local_time(state.published_at, timezone)),
                Fact("公示平台", state.platform or ""),
                Fact("撤回公示", local_time(state.withdrawn_at, timezone)),
            ]
    return []


# --- timeline --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    version: int
    when: str  # local time
    who: str
    what: str  # the event type's Chinese label
    details: tuple[tuple[str, str], ...]  # (field label, value in words)


def event_label(event_type: str) -> str:
    """The Chinese label of an event type (the type itself for one the catalog lacks)."""
    payload_type = PAYLOAD_TYPES.get(event_type)
    return event_type if payload_type is None else EVENT_LABELS.get(payload_type, event_type)


def timeline(
    events: Sequence[EventOut], timezone: str, rule_title: Callable[[str], str]
) -> list[TimelineEntry]:
    """The case's events as the caller may see them, oldest first."""
    found = []
    for item in events:
        body = item.event
        who = str(body.get("actor") or "")
        if who == Role.system:  # derived by casestream itself (alerts, 督察, cancellations)
            who = SYSTEM
        if body.get("on_behalf_of"):
            who = f"{who}（代{body['on_behalf_of']}）"
        payload_type = PAYLOAD_TYPES.get(item.event_type)
        payload = body.get("payload")
        details: tuple[tuple[str, str], ...] = ()
        if payload_type is not None and isinstance(payload, Mapping):
            details = _details(payload_type, payload, timezone, rule_title)
        found.append(
            TimelineEntry(
                item.version,
                local_time(item.occurred_at, timezone),
                who,
                event_label(item.event_type),
                details,
            )
        )
    return found


def _details(
    payload_type: type[Payload],
    payload: Mapping[str, Any],
    timezone: str,
    rule_title: Callable[[str], str],
) -> tuple[tuple[str, str], ...]:
    found = []
    for name, field in payload_type.model_fields.items():
        title = EVENT_FIELDS.get(name)
        value = payload.get(name)
        if title is None or value is None or value == "" or value == [] or value is False:
            continue
        words = _words(name, field.annotation, value, timezone, rule_title)
        if words:
            found.append((title, words))
    return tuple(found)


def _enum_of(annotation: Any) -> type[StrEnum] | None:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _enum_of(args[0])
    if origin in (Union, types.UnionType, list, tuple):
        for member in args:
            found = _enum_of(member)
            if found is not None:
                return found
        return None
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return annotation
    return None


def _words(
    name: str, annotation: Any, value: Any, timezone: str, rule_title: Callable[[str], str]
) -> str:
    """One payload field's value in words."""
    if value is True:
        return "是"
    if name in PARTIES_FIELDS:
        return person_words(value)
    if name == "files" and isinstance(value, list):
        return "、".join(str(file.get("name", "")) for file in value if isinstance(file, Mapping))
    if name == "appeared" and isinstance(value, list):
        return "、".join(
            f"{one.get('name', '')}（{one['title']}）" if one.get("title") else one.get("name", "")
            for one in value
            if isinstance(one, Mapping)
        )
    if name == "rule":
        return rule_title(str(value))
    if name == "appellant":
        return label(APPELLANTS, str(value))
    if name == "notify":
        return label(NOTIFY, str(value))
    if name == "satisfaction" or name == "threshold":
        return f"{value} 分"
    if name == "percent":
        return f"{value}%"
    if name == "due_at" and isinstance(value, str):
        return local_time(datetime.fromisoformat(value), timezone)
    enum = _enum_of(annotation)
    table = CHOICES.get(enum) if enum is not None else None
    if isinstance(value, list):
        return "、".join(label(table, str(one)) if table else str(one) for one in value)
    text = label(table, str(value)) if table else str(value)
    return text if len(text) <= LONG_TEXT else text[:LONG_TEXT] + "…"


PARTIES_FIELDS = frozenset(field for field, _ in PARTIES)


# --- clocks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockView:
    clock_id: str
    rule: str  # the rule's title
    status: str
    started: str  # local time
    due_date: date
    due_at: str  # local time
    summary: str  # the explanation's one line, "" without one
    lines: tuple[str, ...]  # how the deadline was counted, in words
    days_off: tuple[str, ...]  # each day not counted, with why


def clock_views(
    clocks: Sequence[ClockOut], timezone: str, rule_title: Callable[[str], str]
) -> list[ClockView]:
    return [
        ClockView(
            clock.clock_id,
            rule_title_zh(clock.explanation.rule.title)
            if clock.explanation
            else rule_title(clock.rule),
            label(CLOCK_STATUSES, clock.status),
            local_time(clock.started_at, timezone),
            clock.due_date,
            local_time(clock.due_at, timezone),
            clock.explanation.summary_zh if clock.explanation else "",
            explanation_lines(clock.explanation, timezone) if clock.explanation else (),
            days_off(clock.explanation) if clock.explanation else (),
        )
        for clock in clocks
    ]


def explanation_lines(found: ClockExplanation, timezone: str) -> tuple[str, ...]:
    """How a deadline was counted, one sentence a line (domain/deadline_explanation)."""
    rule, unit = found.rule, UNIT_ZH[found.rule.unit]
    lines = [f"依据：{rule_title_zh(rule.title)}（{rule.source}），期限{rule.length}{unit}"]
    start = found.start
    lines.append(f"起算：{local_time(start.started_at, timezone)}，{start.note}")
    if start.first_counted_day is not None:
        lines.append(f"首个计算日：{start.first_counted_day}")
    days = found.days
    if days is not None:
        span = (
            f"（{days.first_counted} 至 {days.last_counted}）"
            if days.first_counted and days.last_counted
            else ""
        )
        lines.append(f"计入 {days.counted} 天{span}")
        if days.weekend_days:
            lines.append(f"跳过周末 {days.weekend_days} 天")
        if days.holiday_days:
            names = "、".join(f"{h.name} {h.days} 天" for h in days.holidays)
            lines.append(f"跳过法定节假日 {days.holiday_days} 天：{names}")
        for worked in days.adjusted_workdays:
            because = f"（{worked.holiday}调休）" if worked.holiday else ""
            lines.append(f"调休上班日计入：{worked.day}{because}")
        if days.paused_days:
            lines.append(f"中止期间不计入 {days.paused_days} 天")
        if days.month_date is not None:
            lines.append(f"按月计算至 {days.month_date}")
        if days.rolled_from is not None:
            lines.append(f"期间届满日 {days.rolled_from} 为休息日，顺延至 {found.due_date}")
    for pause in found.pauses:
        until = f"{pause.resumed_on} 恢复" if pause.resumed_on else "仍在中止中"
        counted = f"，中止 {pause.days_suspended} 天" if pause.days_suspended is not None else ""
        skipped = (
            f"，其中 {pause.days_not_counted} 天不计入期间"
            if pause.days_not_counted is not None
            else ""
        )
        lines.append(f"中止：{pause.suspended_on} 起，{until}{counted}{skipped}")
    for ext in found.extensions:
        when = local_time(ext.granted_at, timezone) if ext.granted_at else "（时间不详）"
        by = f"由{ext.approved_by}批准" if ext.approved_by else "经批准"
        added = (
            f"延长 {ext.added}{UNIT_ZH[ext.unit]}（累计 {ext.total}{UNIT_ZH[ext.unit]}）"
            if ext.added is not None
            else "重定时限"
        )
        why = f"；理由：{ext.reason}" if ext.reason else ""
        lines.append(f"延期：{when} {by}，{added}，届满日改为 {ext.new_due_date}{why}")
    if found.fixed_due_date:
        lines.append("届满日由事件指定，不按期间计算")
    lines.append(f"届满：{local_time(found.due_at, timezone)}（{found.timezone}）")
    if found.provisional:
        lines.append("所涉年份节假日安排尚未公布，结果为暂定")
    if not found.matches_clock:
        lines.append("规则已调整，计时记录仍按原届满日")
    lines.extend(found.notes)
    return tuple(lines)


def days_off(found: ClockExplanation) -> tuple[str, ...]:
    """Each day in the span that did not count, or that the due date moved over."""
    if found.days is None:
        return ()
    return tuple(
        f"{off.day} {label(SKIP_REASONS, off.reason)}"
        + (f"（{off.holiday}）" if off.holiday else "")
        for off in (*found.days.not_counted, *found.days.rolled_over)
    )
