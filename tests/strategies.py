"""Hypothesis strategies: the events of one case of a given kind, in an order its lifecycle
allows (the simulator's lifecycles for the kinds it makes; for rectifications, the commands
a department and a supervisor may give, each one checked as the API checks it)."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from casestream.domain.cases import fold, raw_event_refusal
from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import Event
from casestream.producers.simulation import simulate
from tests.events import T0, event

SIMULATED_KINDS = (
    CaseKind.complaint,
    CaseKind.enterprise_tip,
    CaseKind.reconsideration,
    CaseKind.litigation,
)


@st.composite
def simulated_case(draw: st.DrawFn, kind: CaseKind) -> list[Event[Any]]:
    """The events of one simulated case of `kind` (complaint, tip, reconsideration, lawsuit)."""
    seed = draw(st.integers(0, 2**32 - 1))
    by_case: dict[str, list[Event[Any]]] = {}
    for item in simulate(random.Random(seed), 40, T0, prefix=f"S{seed}"):
        if item.case_kind is kind:
            by_case.setdefault(item.case_id, []).append(item)
    assume(by_case)
    return by_case[draw(st.sampled_from(sorted(by_case)))]


RECTIFICATION_STEPS: dict[str, dict[str, Any]] = {
    "ReviewCompleted": {"root_causes": ["procedure", "facts"], "lessons": "告知程序遗漏"},
    "MeasureAdded": {"measure": "组织执法程序培训"},
    "ProgressReported": {"progress": "已完成培训", "percent": 60, "reported_by": "民警101"},
    "RectificationCompleted": {"evidence": ["培训签到表"], "summary": "整改完毕"},
    "RectificationRejected": {"supervisor": "督察1", "reason": "证据不足"},
    "RectificationVerified": {"supervisor": "督察1", "comment": "核查属实"},
    "RectificationReopened": {"reason": "复查发现问题"},
}


def _event_id(case_id: str, number: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{case_id}/{number}"))


@st.composite
def rectification_case(draw: st.DrawFn) -> list[Event[Any]]:
    """A review and rectification opened, then the steps drawn, each one only when the case
    as it stands allows it (an impossible step is left out, as the API would refuse it)."""
    case_id = f"RECT-{draw(st.uuids(version=4)).hex[:12]}"
    department = {"department": "治安大队", "source_case_id": "L-1", "decision_ref": "D-1"}
    events = [
        event(
            "ReviewTaskOpened",
            case_id,
            "rectification",
            department | {"source_case_kind": "litigation"},
            event_id=_event_id(case_id, 0),
        ),
        event(
            "RectificationOpened",
            case_id,
            "rectification",
            department | {"responsible_person": "民警101", "deadline": "2026-04-30"},
            at=T0 + timedelta(hours=1),
            event_id=_event_id(case_id, 1),
        ),
    ]
    for number, step in enumerate(
        draw(st.lists(st.sampled_from(sorted(RECTIFICATION_STEPS)), max_size=10)), start=2
    ):
        candidate = event(
            step,
            case_id,
            "rectification",
            RECTIFICATION_STEPS[step],
            day=number,
            event_id=_event_id(case_id, number),
        )
        if raw_event_refusal(fold(events), candidate) is None:
            events.append(candidate)
    return events


# 执法监督: each kind's opening event, and the steps that may follow it in lifecycle order
ENFORCEMENT_LIVES: dict[CaseKind, list[tuple[str, dict[str, Any]]]] = {
    CaseKind.enforcement_review: [
        (
            "EnforcementReviewOpened",
            {
                "decision_ref": "公(治)行罚决字〔2026〕88号",
                "department": "治安大队",
                "reviewer": "张敏",
            },
        ),
        ("ReviewOpinionIssued", {"category": "procedure", "text": "未告知陈述申辩权利"}),
        ("ReviewOpinionIssued", {"category": "evidence", "text": "证据不足"}),
        ("EnforcementReviewCompleted", {"score": 76}),
    ],
    CaseKind.enforcement_notice: [
        (
            "EnforcementNoticeIssued",
            {
                "notice_no": "公法监字〔2026〕4号",
                "department": "治安大队",
                "matters": ["补正告知程序"],
                "deadline": "2026-04-01",
            },
        ),
        ("EnforcementNoticeRectified", {"rectification_id": "RECT-N", "supervisor": "督察1"}),
    ],
    CaseKind.enforcement_decision: [
        (
            "EnforcementDecisionRecorded",
            {
                "decision_ref": "公(交)不罚决字〔2026〕17号",
                "exemption": "minor",
                "legal_basis": "《行政处罚法》第三十三条第一款",
                "decided_on": "2026-03-02",
                "department": "交警大队",
            },
        ),
        ("EnforcementDecisionPublished", {"platform": "门户网站"}),
        ("EnforcementDecisionPublicationWithdrawn", {"reason": "公示期满"}),
    ],
}


@st.composite
def enforcement_case(draw: st.DrawFn, kind: CaseKind) -> list[Event[Any]]:
    """An enforcement supervision case opened and taken some steps along its life."""
    case_id = f"E-{draw(st.uuids(version=4)).hex[:12]}"
    life = ENFORCEMENT_LIVES[kind]
    steps = draw(st.integers(0, len(life) - 1))
    return [
        event(name, case_id, kind.value, payload, day=number, event_id=_event_id(case_id, number))
        for number, (name, payload) in enumerate(life[: steps + 1])
    ]


def case_events(kind: CaseKind) -> st.SearchStrategy[list[Event[Any]]]:
    """The events of one case of `kind`, for every kind."""
    if kind is CaseKind.rectification:
        return rectification_case()
    if kind in ENFORCEMENT_LIVES:
        return enforcement_case(kind)
    return simulated_case(kind)
