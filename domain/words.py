"""The Chinese words for the enumerations the domain writes into texts people read (a
rectification's description) and the console shows: one table per enumeration."""

from __future__ import annotations

import re
from collections.abc import Mapping

from casestream.domain import catalog as ev
from casestream.domain.catalog import (
    CaseKind,
    ExemptionType,
    Instance,
    JudgmentOutcome,
    ReconsiderationDecision,
)

from .rules import RuleBook
from .supervision_flags import SUPERVISION_RULE

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
EXEMPTIONS: Mapping[str, str] = {  # the grounds of a 不予处罚 decision
    ExemptionType.minor: "轻微不罚",
    ExemptionType.first_offence: "首违不罚",
    ExemptionType.no_fault: "无过错不罚",
    ExemptionType.other: "其他不予处罚",
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

KINDS: Mapping[str, str] = {
    CaseKind.complaint: "投诉",
    CaseKind.enterprise_tip: "涉企举报",
    CaseKind.reconsideration: "行政复议",
    CaseKind.litigation: "行政诉讼",
    CaseKind.rectification: "复盘整改",
    CaseKind.enforcement_review: "执法质量考评",
    CaseKind.enforcement_notice: "执法监督书",
    CaseKind.enforcement_decision: "不予处罚决定",
}
# the alerts on alerts.events, by their event type (the catalog's payload classes)
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
SUPERVISION_TITLE = "投诉回访不满意督察"

_LATIN = re.compile(r"\s+[A-Za-z(]")


def rule_title_zh(title: str) -> str:
    """The Chinese part of a rule's bilingual title ("投诉办理 Handling of a complaint")."""
    found = _LATIN.search(title)
    return title[: found.start()].strip() if found else title


def rule_titles(rulebook: RuleBook) -> dict[str, str]:
    """The Chinese title of every rule an alert may name, by rule id (督察 has no clock rule)."""
    titles = {rule_id: rule_title_zh(rule.title) for rule_id, rule in rulebook.rules.items()}
    return {SUPERVISION_RULE: SUPERVISION_TITLE, **titles}
