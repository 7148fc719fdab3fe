"""The simulation's 执法监督 cases: lifecycles the domain takes without an anomaly, reviews
with opinions and a score, notices to departments, and 不予处罚 decisions published on time,
late or never, as `casestream simulate` sends them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from casestream.domain import catalog as ev
from casestream.domain.cases import fold
from casestream.domain.catalog import CaseKind
from casestream.domain.enforcement import EnforcementDecisionState, EnforcementReviewState
from casestream.domain.envelope import Event
from casestream.producers.simulation import simulate

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
ENFORCEMENT = {
    CaseKind.enforcement_review,
    CaseKind.enforcement_notice,
    CaseKind.enforcement_decision,
}


def by_case(events: list[Event[Any]]) -> dict[str, list[Event[Any]]]:
    found: dict[str, list[Event[Any]]] = {}
    for item in events:
        found.setdefault(item.case_id, []).append(item)
    return found


def test_a_share_of_the_cases_are_enforcement_supervision_the_domain_takes_as_they_come() -> None:
    events = simulate(random.Random(5), 800, NOW, prefix="E", enforcement_share=0.25)
    cases = by_case(events)
    enforcement = {
        case_id: found for case_id, found in cases.items() if found[0].case_kind in ENFORCEMENT
    }
    assert 0.18 < len(enforcement) / len(cases) < 0.32
    assert all(item.occurred_at <= NOW for item in events)
    states = {case_id: fold(found) for case_id, found in enforcement.items()}
    assert all(state is not None and state.anomalies == () for state in states.values())
    kinds = {case_id: found[0].case_kind for case_id, found in enforcement.items()}
    counted = {kind: sum(1 for k in kinds.values() if k is kind) for kind in ENFORCEMENT}
    # reviews are many, notices few
    review, notice = CaseKind.enforcement_review, CaseKind.enforcement_notice
    decision = CaseKind.enforcement_decision
    assert counted[review] > counted[decision] > counted[notice] > 0

    reviews = [s for s in states.values() if isinstance(s, EnforcementReviewState)]
    scored = [s for s in reviews if s.score is not None]
    assert scored and all(60 <= s.score <= 100 for s in scored if s.score is not None)
    assert sum(len(s.opinions) for s in reviews) > len(reviews)
    assert {o.category for s in reviews for o in s.opinions} == set(ev.OpinionCategory)

    decisions = [s for s in states.values() if isinstance(s, EnforcementDecisionState)]
    waited = [
        s.published_at.date() - s.decided_on
        for s in decisions
        if s.published_at is not None and s.decided_on is not None
    ]
    assert any(days <= timedelta(days=7) for days in waited)  # within 7 working days
    assert any(days > timedelta(days=12) for days in waited)  # past them, whatever the calendar
    old_enough = [
        s for s in decisions if s.decided_on and s.decided_on < (NOW - timedelta(days=30)).date()
    ]
    assert any(s.published_at is None for s in old_enough)  # never published
    assert any(s.withdrawn_at is not None for s in decisions)
    assert {s.exemption for s in decisions} == set(ev.ExemptionType)


def test_by_default_no_enforcement_case_is_simulated_and_the_other_draws_are_unchanged() -> None:
    plain = simulate(random.Random(9), 120, NOW, prefix="P")
    assert not {item.case_kind for item in plain} & ENFORCEMENT
    assert plain == simulate(random.Random(9), 120, NOW, prefix="P", enforcement_share=0.0)
