from __future__ import annotations

from typing import Any

import pytest

from casestream.domain.cases import CaseKindMismatch, evolve, fold
from casestream.domain.catalog import JudgmentOutcome, ReconsiderationDecision
from casestream.domain.envelope import Event
from casestream.domain.outcomes import is_correction, is_loss
from tests.events import complaint_lifecycle, event


def test_complaint_moves_through_its_lifecycle_to_followed_up() -> None:
    state = fold(complaint_lifecycle("C-1"))
    assert state is not None
    assert state.status == "followed_up"
    assert state.version == 6
    assert state.department == "治安大队"
    assert state.satisfaction == 5  # type: ignore[attr-defined]
    assert state.anomalies == ()


def test_resolution_before_acceptance_is_recorded_as_anomaly_and_status_never_goes_back() -> None:
    received, accepted, _, _, resolved, _ = complaint_lifecycle("C-2")
    state = fold([received, resolved, accepted])
    assert state is not None
    assert state.status == "resolved"
    reasons = [(a.event_type, a.reason) for a in state.anomalies]
    assert [event_type for event_type, _ in reasons] == [
        "ComplaintResolved",
        "ComplaintAccepted",
        "ComplaintAccepted",
    ]
    assert "in status 'received'; expected one of" in reasons[0][1]
    assert "before the previous event" in reasons[2][1]


def test_event_before_the_opening_event_is_an_anomaly_and_the_case_opens_later() -> None:
    received, accepted, *_ = complaint_lifecycle("C-3")
    state = fold([accepted, received])
    assert state is not None
    assert state.anomalies[0].reason.startswith(
        "ComplaintAccepted arrived before the case was opened"
    )
    assert state.subject == "出警慢"


def test_an_event_of_another_kind_for_an_existing_case_is_refused() -> None:
    state = fold(complaint_lifecycle("C-4")[:1])
    with pytest.raises(CaseKindMismatch, match="use a new case id"):
        evolve(state, event("ComplaintCopyServed", "C-4", "litigation"))


def test_reopened_complaint_is_open_again() -> None:
    events = complaint_lifecycle("C-5")
    state = fold(
        [*events, event("ComplaintReopened", "C-5", "complaint", {"reason": "不满意"}, day=6)]
    )
    assert state is not None and state.status == "accepted"
    assert state.reopen_count == 1  # type: ignore[attr-defined]


def test_tip_verified_then_feedback_then_closed() -> None:
    state = fold(
        [
            event(
                "TipReceived",
                "T-1",
                "enterprise_tip",
                {"enterprise": "华星物流", "subject": "线索"},
            ),
            event("TipAssigned", "T-1", "enterprise_tip", {"department": "经侦大队"}, day=1),
            event("TipVerified", "T-1", "enterprise_tip", {"result": "partly"}, day=2),
            event("TipFeedbackGiven", "T-1", "enterprise_tip", day=3),
            event("TipClosed", "T-1", "enterprise_tip", day=4),
        ]
    )
    assert state is not None
    assert (state.status, state.enterprise, state.enterprise_name) == ("closed", True, "华星物流")
    assert state.feedback_given  # type: ignore[attr-defined]


def test_reconsideration_decided_revoked_is_a_correction() -> None:
    state = fold(
        [
            event(
                "ReconsiderationApplied",
                "R-1",
                "reconsideration",
                {
                    "applicant": {"name": "王伟"},
                    "decision_ref": "D-1",
                    "reconsideration_body": "县政府",
                },
            ),
            event("ReconsiderationAccepted", "R-1", "reconsideration", day=1),
            event("ApplicationCopyReceived", "R-1", "reconsideration", day=2),
            event("ReplySubmitted", "R-1", "reconsideration", day=5),
            event(
                "ReconsiderationDecided", "R-1", "reconsideration", {"decision": "revoked"}, day=40
            ),
        ]
    )
    assert state is not None
    assert state.status == "decided" and state.decision_ref == "D-1"
    assert is_correction(state.decision)  # type: ignore[attr-defined]
    assert not is_correction(ReconsiderationDecision.maintained)


def test_lawsuit_appealed_and_judged_again_at_second_instance() -> None:
    state = fold(
        [
            event(
                "LawsuitFiled",
                "L-1",
                "litigation",
                {"court": "县法院", "plaintiff": {"name": "李娜"}, "decision_ref": "D-1"},
            ),
            event("ComplaintCopyServed", "L-1", "litigation", day=1),
            event("DefenceSubmitted", "L-1", "litigation", day=10),
            event("HearingHeld", "L-1", "litigation", {"agency_head_appeared": True}, day=30),
            event(
                "JudgmentIssued",
                "L-1",
                "litigation",
                {"instance": "first", "outcome": "revoked"},
                day=60,
            ),
            event("AppealFiled", "L-1", "litigation", {"appellant": "bureau"}, day=70),
            event(
                "JudgmentIssued",
                "L-1",
                "litigation",
                {"instance": "second", "outcome": "claim_dismissed"},
                day=150,
            ),
        ]
    )
    assert state is not None
    assert state.status == "judged" and state.anomalies == ()
    assert state.agency_head_appeared  # type: ignore[attr-defined]
    assert state.judgment_outcome == JudgmentOutcome.claim_dismissed  # type: ignore[attr-defined]
    assert is_loss(JudgmentOutcome.revoked) and not is_loss(JudgmentOutcome.claim_dismissed)


def test_rectification_rejected_then_completed_again_and_verified() -> None:
    rect = "RECT-1"
    state = fold(
        [
            event(
                "ReviewTaskOpened",
                rect,
                "rectification",
                {
                    "source_case_id": "L-1",
                    "source_case_kind": "litigation",
                    "department": "治安大队",
                },
            ),
            event(
                "RectificationOpened",
                rect,
                "rectification",
                {"department": "治安大队", "responsible_person": "张强", "deadline": "2026-04-30"},
            ),
            event(
                "ReviewCompleted",
                rect,
                "rectification",
                {"root_causes": ["procedure"], "lessons": "告知程序缺失"},
                day=5,
            ),
            event("MeasureAdded", rect, "rectification", {"measure": "组织程序培训"}, day=6),
            event(
                "RectificationCompleted", rect, "rectification", {"evidence": ["培训记录"]}, day=10
            ),
            event(
                "RectificationRejected",
                rect,
                "rectification",
                {"supervisor": "督察01", "reason": "证据不足"},
                day=11,
            ),
            event(
                "RectificationCompleted",
                rect,
                "rectification",
                {"evidence": ["培训记录", "考试成绩"]},
                day=15,
            ),
            event("RectificationVerified", rect, "rectification", {"supervisor": "督察01"}, day=16),
        ]
    )
    assert state is not None
    assert state.status == "verified" and state.anomalies == ()
    assert state.review_status == "completed" and state.rejections == 1  # type: ignore[attr-defined]


def test_a_verification_recorded_for_an_open_rectification_is_applied_as_a_fact_with_an_anomaly() -> (
    None
):
    state = fold(
        [
            event(
                "RectificationOpened",
                "RECT-2",
                "rectification",
                {"department": "交警大队", "responsible_person": "刘军"},
            ),
            event(
                "RectificationVerified", "RECT-2", "rectification", {"supervisor": "督察01"}, day=1
            ),
        ]
    )
    assert state is not None and state.status == "verified"
    assert "RectificationVerified in status 'open'" in state.anomalies[0].reason


def _verified_rectification(rect: str) -> list[Event[Any]]:
    kind = "rectification"
    opened = {"department": "治安大队", "responsible_person": "张强"}
    return [
        event("RectificationOpened", rect, kind, opened),
        event("MeasureAdded", rect, kind, {"measure": "组织程序培训"}, day=1),
        event("RectificationCompleted", rect, kind, {"evidence": ["培训记录"]}, day=2),
        event("RectificationVerified", rect, kind, {"supervisor": "督察01"}, day=3),
    ]


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [
        ("MeasureAdded", {"measure": "补充培训"}),
        ("ProgressReported", {"progress": "补充培训完成", "percent": 100}),
    ],
)
def test_work_recorded_on_a_verified_rectification_is_an_anomaly_and_it_stays_verified(
    event_type: str, payload: dict[str, Any]
) -> None:
    late = event(event_type, "RECT-3", "rectification", payload, day=4)
    state = fold([*_verified_rectification("RECT-3"), late])
    assert state is not None and state.status == "verified"
    assert [(a.event_type, a.version) for a in state.anomalies] == [(event_type, 5)]
    assert f"{event_type} in status 'verified'" in state.anomalies[0].reason


def test_work_on_a_rejected_rectification_takes_it_back_to_in_progress() -> None:
    events = _verified_rectification("RECT-4")[:3]
    rejected = event(
        "RectificationRejected",
        "RECT-4",
        "rectification",
        {"supervisor": "督察01", "reason": "证据不足"},
        day=3,
    )
    measure = event("MeasureAdded", "RECT-4", "rectification", {"measure": "补充"}, day=4)
    state = fold([*events, rejected, measure])
    assert state is not None and state.status == "in_progress" and state.anomalies == ()
