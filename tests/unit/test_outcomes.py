"""What a decision owes: one review and one rectification for a correction or a loss."""

from __future__ import annotations

from typing import Any

from casestream.domain.cases import evolve, fold
from casestream.domain.catalog import RectificationOpened
from casestream.domain.envelope import Event
from casestream.domain.outcomes import Derived, OutcomeSettings, consequences, rectification_id
from tests.events import event

SETTINGS = OutcomeSettings(fallback_department="法制大队")


def lawsuit(case_id: str, department: str | None = "治安大队") -> list[Event[Any]]:
    filed = {"court": "县法院", "plaintiff": {"name": "王伟"}, "decision_ref": "公决字〔2026〕7号"}
    if department:
        filed["department"] = department
    return [
        event("LawsuitFiled", case_id, "litigation", filed),
        event("ComplaintCopyServed", case_id, "litigation", day=1),
    ]


def judged(case_id: str, outcome: str, instance: str = "first", day: int = 60) -> Event[Any]:
    return event(
        "JudgmentIssued", case_id, "litigation", {"instance": instance, "outcome": outcome}, day=day
    )


def owed(events: list[Event[Any]], last: Event[Any]) -> list[Derived]:
    before = fold(events)
    return consequences(last, before, evolve(before, last), SETTINGS)


def test_a_lost_lawsuit_opens_one_review_and_one_rectification_caused_by_the_judgment() -> None:
    judgment = judged("L-1", "revoked")
    derived = owed(lawsuit("L-1"), judgment)
    assert [d.event_type for d in derived] == ["ReviewTaskOpened", "RectificationOpened"]
    assert {d.case_id for d in derived} == {rectification_id("L-1")}
    assert all(d.causation_id == str(judgment.event_id) for d in derived)
    opened = derived[1].payload
    assert isinstance(opened, RectificationOpened)
    assert (opened.department, opened.source_case_id, opened.source_case_kind) == (
        "治安大队",
        "L-1",
        "litigation",
    )


def test_redelivery_of_the_judgment_gives_the_same_event_ids() -> None:
    judgment = judged("L-2", "compensation")
    assert owed(lawsuit("L-2"), judgment) == owed(lawsuit("L-2"), judgment)


def test_a_won_lawsuit_owes_nothing_and_a_case_without_department_falls_back() -> None:
    assert owed(lawsuit("L-3"), judged("L-3", "claim_dismissed")) == []
    derived = owed(lawsuit("L-4", department=None), judged("L-4", "confirmed_illegal"))
    assert derived[1].payload.department == "法制大队"


def test_a_loss_overturned_on_appeal_cancels_the_rectification_and_an_upheld_one_changes_nothing() -> (
    None
):
    history = [
        *lawsuit("L-5"),
        judged("L-5", "revoked"),
        event("AppealFiled", "L-5", "litigation", {"appellant": "bureau"}, day=70),
    ]
    (cancelled,) = owed(history, judged("L-5", "claim_dismissed", instance="second", day=150))
    assert (cancelled.event_type, cancelled.case_id) == (
        "RectificationCancelled",
        rectification_id("L-5"),
    )
    assert owed(history, judged("L-5", "revoked", instance="second", day=150)) == []


def test_a_reconsideration_correction_and_an_opinion_each_open_a_rectification() -> None:
    applied = [
        event(
            "ReconsiderationApplied",
            "R-1",
            "reconsideration",
            {
                "applicant": {"name": "李娜"},
                "decision_ref": "D-9",
                "reconsideration_body": "县政府",
                "department": "交警大队",
            },
        ),
        event("ReconsiderationAccepted", "R-1", "reconsideration", day=1),
    ]
    corrected = owed(
        applied,
        event("ReconsiderationDecided", "R-1", "reconsideration", {"decision": "altered"}, day=50),
    )
    assert [d.event_type for d in corrected] == ["ReviewTaskOpened", "RectificationOpened"]
    assert (
        owed(
            applied,
            event(
                "ReconsiderationDecided",
                "R-1",
                "reconsideration",
                {"decision": "maintained"},
                day=50,
            ),
        )
        == []
    )
    (opinion,) = owed(
        applied,
        event(
            "ReconsiderationOpinionReceived",
            "R-1",
            "reconsideration",
            {"opinion_no": "意见〔2026〕3号", "requested_action": "规范告知程序"},
            day=55,
        ),
    )
    assert opinion.event_type == "RectificationOpened"
    assert opinion.case_id != rectification_id("R-1")
