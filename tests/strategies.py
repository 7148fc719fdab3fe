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


def case_events(kind: CaseKind) -> st.SearchStrategy[list[Event[Any]]]:
    """The events of one case of `kind`, for every kind."""
    if kind is CaseKind.rectification:
        return rectification_case()
    return simulated_case(kind)
