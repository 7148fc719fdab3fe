"""The Chinese words for the enumerations the domain writes into texts people read (a
rectification's description) and the console shows: one table per enumeration."""

from __future__ import annotations

from collections.abc import Mapping

from casestream.domain.catalog import Instance, JudgmentOutcome, ReconsiderationDecision

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
