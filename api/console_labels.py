"""Chinese labels for the console: one table per enumeration the pages show.

Pages never print an enumeration's value to people; they look it up here (`label(table, value)`
falls back to the value itself, so a value added to an enumeration later still shows)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from casestream.domain import catalog as ev
from casestream.domain.catalog import (
    CaseKind,
    Channel,
    ComplaintOutcome,
    Instance,
    JudgmentForm,
    JudgmentOutcome,
    ReconsiderationDecision,
    RootCause,
    VerificationResult,
)
from casestream.domain.clocks import AlertStatus, ClockStatus
from casestream.domain.commands import Role
from casestream.domain.complaints import ComplaintStatus
from casestream.domain.litigation import LitigationStatus
from casestream.domain.reconsiderations import ReconsiderationStatus
from casestream.domain.rectifications import RectificationStatus, ReviewStatus
from casestream.domain.tips import TipStatus

ROLES: Mapping[str, str] = {
    Role.handler: "承办人",
    Role.department_head: "部门负责人",
    Role.legal: "法制员",
    Role.supervisor: "督察",
    Role.leader: "局领导",
    Role.system: "系统",
}
KINDS: Mapping[str, str] = {
    CaseKind.complaint: "投诉",
    CaseKind.enterprise_tip: "涉企举报",
    CaseKind.reconsideration: "行政复议",
    CaseKind.litigation: "行政诉讼",
    CaseKind.rectification: "复盘整改",
}
CHANNELS: Mapping[str, str] = {
    Channel.hotline_12345: "12345热线",
    Channel.window: "窗口",
    Channel.letter: "来信",
    Channel.online: "网上",
    Channel.petition: "信访",
}
# case statuses, per kind (a status value may mean different things in two kinds)
STATUSES: Mapping[str, Mapping[str, str]] = {
    CaseKind.complaint: {
        ComplaintStatus.received: "新收",
        ComplaintStatus.rejected: "不予受理",
        ComplaintStatus.accepted: "已受理",
        ComplaintStatus.assigned: "已交办",
        ComplaintStatus.replied: "已答复",
        ComplaintStatus.resolved: "已办结",
        ComplaintStatus.followed_up: "已回访",
    },
    CaseKind.enterprise_tip: {
        TipStatus.received: "新收",
        TipStatus.assigned: "已交办",
        TipStatus.verified: "已核查",
        TipStatus.closed: "已办结",
    },
    CaseKind.reconsideration: {
        ReconsiderationStatus.applied: "已申请",
        ReconsiderationStatus.accepted: "已受理",
        ReconsiderationStatus.withdrawn: "已撤回",
        ReconsiderationStatus.decided: "已决定",
    },
    CaseKind.litigation: {
        LitigationStatus.filed: "已立案",
        LitigationStatus.served: "已送达",
        LitigationStatus.defended: "已答辩",
        LitigationStatus.heard: "已开庭",
        LitigationStatus.judged: "已判决",
        LitigationStatus.appealed: "已上诉",
        LitigationStatus.effective: "已生效",
    },
    CaseKind.rectification: {
        RectificationStatus.open: "复盘中",
        RectificationStatus.in_progress: "整改中",
        RectificationStatus.completed: "待核验",
        RectificationStatus.rejected: "已退回",
        RectificationStatus.verified: "已核验",
        RectificationStatus.cancelled: "已撤销",
    },
}
REVIEW_STATUSES: Mapping[str, str] = {
    ReviewStatus.open: "复盘中",
    ReviewStatus.completed: "复盘完成",
}
CLOCK_STATUSES: Mapping[str, str] = {
    ClockStatus.running: "计时中",
    ClockStatus.paused: "中止",
    ClockStatus.met: "按期",
    ClockStatus.breached: "超期",
    ClockStatus.cancelled: "已取消",
}
ALERT_STATUSES: Mapping[str, str] = {AlertStatus.open: "未解除", AlertStatus.cleared: "已解除"}
COMPLAINT_OUTCOMES: Mapping[str, str] = {
    ComplaintOutcome.substantiated: "属实",
    ComplaintOutcome.partly_substantiated: "部分属实",
    ComplaintOutcome.unsubstantiated: "不属实",
    ComplaintOutcome.explained: "解释说明",
    ComplaintOutcome.other: "其他",
}
VERIFICATION_RESULTS: Mapping[str, str] = {
    VerificationResult.substantiated: "属实",
    VerificationResult.unsubstantiated: "不属实",
    VerificationResult.partly: "部分属实",
}
RECONSIDERATION_DECISIONS: Mapping[str, str] = {
    ReconsiderationDecision.maintained: "维持",
    ReconsiderationDecision.rejected: "驳回",
    ReconsiderationDecision.revoked: "撤销",
    ReconsiderationDecision.altered: "变更",
    ReconsiderationDecision.confirmed_illegal: "确认违法",
    ReconsiderationDecision.ordered_to_perform: "责令履行",
    ReconsiderationDecision.mediated: "调解",
    ReconsiderationDecision.terminated: "终止",
}
JUDGMENT_OUTCOMES: Mapping[str, str] = {
    JudgmentOutcome.claim_dismissed: "驳回诉讼请求",
    JudgmentOutcome.revoked: "撤销",
    JudgmentOutcome.confirmed_illegal: "确认违法",
    JudgmentOutcome.ordered_to_perform: "判决履行",
    JudgmentOutcome.altered: "变更",
    JudgmentOutcome.compensation: "赔偿",
    JudgmentOutcome.mediated: "调解",
    JudgmentOutcome.withdrawn: "撤诉",
}
INSTANCES: Mapping[str, str] = {
    Instance.first: "一审",
    Instance.second: "二审",
    Instance.retrial: "再审",
}
JUDGMENT_FORMS: Mapping[str, str] = {JudgmentForm.judgment: "判决", JudgmentForm.ruling: "裁定"}
ROOT_CAUSES: Mapping[str, str] = {
    RootCause.procedure: "程序违法",
    RootCause.facts: "事实不清、证据不足",
    RootCause.law: "适用法律错误",
    RootCause.authority: "超越职权",
    RootCause.unreasonable: "明显不当",
    RootCause.other: "其他",
}
# every enumeration a command form may offer as a choice, by its class
CHOICES: Mapping[type[StrEnum], Mapping[str, str]] = {
    CaseKind: KINDS,
    Channel: CHANNELS,
    Role: ROLES,
    ComplaintOutcome: COMPLAINT_OUTCOMES,
    VerificationResult: VERIFICATION_RESULTS,
    ReconsiderationDecision: RECONSIDERATION_DECISIONS,
    JudgmentOutcome: JUDGMENT_OUTCOMES,
    Instance: INSTANCES,
    JudgmentForm: JUDGMENT_FORMS,
    RootCause: ROOT_CAUSES,
}


def label(table: Mapping[str, str], value: str | None) -> str:
    """The Chinese label of `value`, the value itself when the table lacks it, "" for None."""
    if value is None:
        return ""
    return table.get(value, value)


def status_label(kind: str, status: str | None) -> str:
    return label(STATUSES.get(kind, {}), status)


# --- home ---
# the alerts of the 工作台's 实时提醒, by their event type (the catalog's payload classes)
ALERT_TYPES: Mapping[str, str] = {
    ev.DeadlineApproaching.__name__: "即将到期预警",
    ev.DeadlineBreached.__name__: "已超期",
    ev.Escalated.__name__: "升级督办",
    ev.SupervisionRequested.__name__: "督察关注",
    ev.AlertCleared.__name__: "提醒解除",
}
# an alert's level: who is told (1 承办人, 2 部门负责人, 3 局领导)
ALERT_LEVELS: Mapping[str, str] = {
    "1": "一级（承办人）",
    "2": "二级（部门负责人）",
    "3": "三级（局领导）",
}
