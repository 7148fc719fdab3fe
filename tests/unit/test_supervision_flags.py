"""督察 supervision after a poor 回访: a follow-up at or below the threshold owes one flag on the
complaint, with a deterministic id; a supervisor closes it, a reopening clears it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from casestream.domain import catalog as ev
from casestream.domain.cases import evolve, fold
from casestream.domain.commands import Context, Refusal, Role, decide
from casestream.domain.complaint_commands import CloseSupervision, RecordFollowUp
from casestream.domain.complaints import ComplaintState
from casestream.domain.envelope import Event, new_event
from casestream.domain.outcomes import OutcomeSettings, consequences
from casestream.policy import outcome_settings
from casestream.settings import Settings
from tests.events import complaint_lifecycle, event

SETTINGS = OutcomeSettings()
NOW = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def resolved(case_id: str) -> list[Event[Any]]:
    """A complaint up to its resolution, not yet visited."""
    return complaint_lifecycle(case_id)[:-1]


def visited(case_id: str, satisfaction: int) -> Event[Any]:
    return event(
        "ComplaintFollowUpVisited", case_id, "complaint", {"satisfaction": satisfaction}, day=6
    )


def owed(
    history: list[Event[Any]], last: Event[Any], settings: OutcomeSettings = SETTINGS
) -> tuple[list[Any], ComplaintState]:
    before = fold(history)
    after = evolve(before, last)
    assert isinstance(after, ComplaintState)
    return list(consequences(last, before, after, settings)), after


def flagged(case_id: str) -> ComplaintState:
    """A complaint visited with satisfaction 1, its flag applied."""
    (flag,), after = owed(resolved(case_id), visited(case_id, 1))
    state = evolve(after, flag)
    assert isinstance(state, ComplaintState)
    return state


def test_a_poor_follow_up_flags_the_complaint_once_caused_by_the_visit() -> None:
    visit = visited("C-1", 2)
    derived, _ = owed(resolved("C-1"), visit)
    assert [d.event_type for d in derived] == ["SupervisionFlagged"]
    (flag,) = derived
    assert (flag.case_id, flag.case_kind, flag.causation_id) == (
        "C-1",
        ev.CaseKind.complaint,
        str(visit.event_id),
    )
    assert (flag.payload.satisfaction, flag.payload.threshold) == (2, 2)
    assert (flag.source, flag.actor) == ("casestream.supervision", "system")


def test_a_satisfied_follow_up_owes_nothing() -> None:
    assert owed(resolved("C-2"), visited("C-2", 3))[0] == []
    assert owed(resolved("C-2"), visited("C-2", 5))[0] == []


def test_a_redelivered_follow_up_owes_the_same_flag() -> None:
    visit = visited("C-3", 1)
    assert owed(resolved("C-3"), visit)[0] == owed(resolved("C-3"), visit)[0]


@pytest.mark.parametrize(("threshold", "score", "flags"), [(3, 3, 1), (3, 4, 0), (0, 1, 0)])
def test_the_threshold_is_the_deployments(threshold: int, score: int, flags: int) -> None:
    settings = OutcomeSettings(supervision_satisfaction_threshold=threshold)
    assert len(owed(resolved("C-4"), visited("C-4", score), settings)[0]) == flags


def test_the_threshold_comes_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert outcome_settings(Settings()).supervision_satisfaction_threshold == 2
    monkeypatch.setenv("CASESTREAM_SUPERVISION_SATISFACTION_THRESHOLD", "3")
    assert outcome_settings(Settings()).supervision_satisfaction_threshold == 3


def test_a_follow_up_recorded_by_command_flags_like_one_from_the_12345_platform() -> None:
    before = fold(resolved("C-5"))
    decision = decide(
        before, RecordFollowUp(satisfaction=1), Context("du.cha", Role.supervisor, NOW)
    )
    assert isinstance(decision, tuple)
    (payload,) = decision
    visit = new_event(
        payload,
        case_id="C-5",
        case_kind=ev.CaseKind.complaint,
        occurred_at=NOW,
        source="api",
        actor="du.cha",
    )
    assert [d.event_type for d in owed(resolved("C-5"), visit)[0]] == ["SupervisionFlagged"]


def test_the_flag_marks_the_complaint_and_a_second_poor_visit_flags_no_more() -> None:
    state = flagged("C-6")
    assert state.supervision and state.anomalies == ()
    again = visited("C-6", 1)
    assert consequences(again, state, evolve(state, again), SETTINGS) == []


def test_a_supervisor_closes_the_supervision() -> None:
    state = flagged("C-7")
    decision = decide(
        state, CloseSupervision(conclusion="已约谈承办人"), Context("du.cha", Role.supervisor, NOW)
    )
    assert decision == (ev.SupervisionClosed(supervisor="du.cha", conclusion="已约谈承办人"),)
    assert isinstance(decision, tuple)
    closed = evolve(
        state, event("SupervisionClosed", "C-7", "complaint", decision[0].model_dump(), day=8)
    )
    assert isinstance(closed, ComplaintState) and not closed.supervision
    refused = decide(
        closed, CloseSupervision(conclusion="再次"), Context("du.cha", Role.supervisor, NOW)
    )
    assert isinstance(refused, Refusal)


def test_reopening_the_complaint_clears_the_supervision() -> None:
    state = flagged("C-8")
    reopened = evolve(
        state, event("ComplaintReopened", "C-8", "complaint", {"reason": "重办"}, day=8)
    )
    assert isinstance(reopened, ComplaintState)
    assert not reopened.supervision and reopened.status == "accepted"


def test_a_flag_arriving_after_a_reopening_is_stale_and_recorded_as_an_anomaly() -> None:
    (flag,), after = owed(resolved("C-9"), visited("C-9", 1))
    reopened = evolve(
        after, event("ComplaintReopened", "C-9", "complaint", {"reason": "重办"}, day=7)
    )
    late = evolve(reopened, flag)
    assert isinstance(late, ComplaintState)
    assert not late.supervision
    assert {a.event_type for a in late.anomalies} == {"SupervisionFlagged"}
    assert any("in status 'accepted'" in a.reason for a in late.anomalies)
