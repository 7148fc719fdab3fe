"""Enforcement supervision (执法监督) in the functional core: a review folds its opinions and
score; a 执法监督书 opens one rectification with its deadline, caused by the notice, whatever
redelivery happens, and is rectified by that rectification's first verification; a 不予处罚
decision's publication clock counts 7 working days from the decision's date, warns before it
and is breached when published late."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from casestream.domain.calendar import package_calendar
from casestream.domain.cases import evolve, fold
from casestream.domain.catalog import CaseKind, OpinionCategory
from casestream.domain.clocks import ClockPolicy, ClockStatus
from casestream.domain.deadline_explanation import explain_clock
from casestream.domain.enforcement import (
    EnforcementDecisionState,
    EnforcementNoticeState,
    EnforcementReviewState,
    OpinionCounts,
)
from casestream.domain.envelope import Event, parse_event
from casestream.domain.outcomes import Derived, OutcomeSettings, consequences
from casestream.domain.rules import RuleFileError, load_rulebook
from tests.events import T0, event, local

SETTINGS = OutcomeSettings()
POLICY = ClockPolicy(load_rulebook(), package_calendar())
NOTICE_ID = "JDS-2026-4"
RECT_ID = f"RECT-{NOTICE_ID}"


def owed(events: list[Event[Any]], last: Event[Any]) -> list[Derived]:
    before = fold(events)
    return consequences(last, before, evolve(before, last), SETTINGS)


def issued() -> Event[Any]:
    return event(
        "EnforcementNoticeIssued",
        NOTICE_ID,
        "enforcement_notice",
        {
            "notice_no": "公法监字〔2026〕4号",
            "department": "治安大队",
            "decision_ref": "公(治)行罚决字〔2026〕88号",
            "matters": ["补正告知程序", "重新审核处罚裁量"],
            "deadline": "2026-04-01",
        },
    )


def test_a_review_holds_its_opinions_in_order_and_its_score() -> None:
    opened = {"decision_ref": "公(治)行罚决字〔2026〕88号", "department": "治安大队"}
    events = [
        event(
            "EnforcementReviewOpened", "KP-1", "enforcement_review", opened | {"reviewer": "张敏"}
        ),
        event(
            "ReviewOpinionIssued",
            "KP-1",
            "enforcement_review",
            {"category": "procedure", "text": "未告知陈述申辩权利"},
            day=1,
        ),
        event(
            "ReviewOpinionIssued",
            "KP-1",
            "enforcement_review",
            {"category": "documents", "text": "文书编号错误"},
            day=2,
        ),
        event("EnforcementReviewCompleted", "KP-1", "enforcement_review", {"score": 82}, day=3),
    ]
    state = fold(events)
    assert isinstance(state, EnforcementReviewState)
    assert (state.status, state.score, state.department) == ("completed", 82, "治安大队")
    assert [(o.category.value, o.text) for o in state.opinions] == [
        ("procedure", "未告知陈述申辩权利"),
        ("documents", "文书编号错误"),
    ]
    late = event(
        "ReviewOpinionIssued",
        "KP-1",
        "enforcement_review",
        {"category": "other", "text": "补充意见"},
        day=4,
    )
    after = evolve(state, late)  # a fact read from the topic is kept, as an anomaly
    assert after.anomalies and "'completed'" in after.anomalies[0].reason


def test_the_opinion_counts_have_one_field_per_category_and_a_state_hashes() -> None:
    assert set(OpinionCounts.model_fields) == {category.value for category in OpinionCategory}
    counts = OpinionCounts().counted(OpinionCategory.law).counted(OpinionCategory.law)
    assert (counts.law, counts.facts) == (2, 0)
    state = EnforcementReviewState(
        case_id="KP-1",
        case_kind=CaseKind.enforcement_review,
        status="opened",
        opinions_by_category=counts,
    )
    assert hash(state) == hash(state.model_copy())


def test_a_notice_opens_one_rectification_with_its_deadline_caused_by_the_notice() -> None:
    notice = issued()
    (opened,) = owed([], notice)
    assert (opened.event_type, opened.case_id, opened.case_kind.value) == (
        "RectificationOpened",
        RECT_ID,
        "rectification",
    )
    assert opened.causation_id == str(notice.event_id)
    payload = opened.payload
    assert (payload.deadline, payload.department, payload.responsible_person) == (
        date(2026, 4, 1),
        "治安大队",
        "治安大队负责人",
    )
    assert (payload.source_case_id, payload.source_case_kind.value) == (
        NOTICE_ID,
        "enforcement_notice",
    )
    assert "补正告知程序" in payload.description
    redelivered = parse_event(notice.to_json_bytes())
    assert [d.event_id for d in owed([], redelivered)] == [opened.event_id]
    state = fold([notice])
    assert isinstance(state, EnforcementNoticeState)
    assert (state.status, state.rectification_id) == ("issued", RECT_ID)


def _rectification_events(notice: Event[Any]) -> list[Event[Any]]:
    (opened,) = owed([], notice)
    done = {"evidence": ["重新告知笔录"]}
    return [
        parse_event(opened.to_json_bytes()),
        event("RectificationCompleted", RECT_ID, "rectification", done, day=10),
    ]


def test_the_first_verification_of_the_notice_s_rectification_marks_the_notice_rectified() -> None:
    notice = issued()
    rectification = _rectification_events(notice)
    verified = event(
        "RectificationVerified", RECT_ID, "rectification", {"supervisor": "督察1"}, day=12
    )
    (rectified,) = owed(rectification, verified)
    assert (rectified.event_type, rectified.case_id) == ("EnforcementNoticeRectified", NOTICE_ID)
    assert rectified.causation_id == str(verified.event_id)
    state = fold([notice, parse_event(rectified.to_json_bytes())])
    assert isinstance(state, EnforcementNoticeState)
    assert (state.status, state.verified_by, state.anomalies) == ("rectified", "督察1", ())
    # reopened and verified again: the notice stays rectified, nothing more is derived
    again = [
        *rectification,
        verified,
        event("RectificationReopened", RECT_ID, "rectification", {"reason": "复查"}, day=13),
        event("RectificationCompleted", RECT_ID, "rectification", {"evidence": ["补正"]}, day=14),
    ]
    second = event(
        "RectificationVerified", RECT_ID, "rectification", {"supervisor": "督察2"}, day=15
    )
    assert owed(again, second) == []


def test_a_rectification_of_a_lost_case_verified_owes_the_notice_nothing() -> None:
    opened = {"department": "治安大队", "responsible_person": "李四"}
    events = [
        event("RectificationOpened", "RECT-M-1", "rectification", opened),
        event("RectificationCompleted", "RECT-M-1", "rectification", {"evidence": ["x"]}, day=1),
    ]
    verified = event(
        "RectificationVerified", "RECT-M-1", "rectification", {"supervisor": "督察1"}, day=2
    )
    assert owed(events, verified) == []


def _decision(decided_on: str, recorded: datetime) -> Event[Any]:
    return event(
        "EnforcementDecisionRecorded",
        "BYCF-1",
        "enforcement_decision",
        {
            "decision_ref": "公(交)不罚决字〔2026〕17号",
            "exemption": "first_offence",
            "legal_basis": "《行政处罚法》第三十三条第一款",
            "decided_on": decided_on,
            "department": "交警大队",
        },
        at=recorded,
    )


def test_the_publication_clock_counts_7_working_days_from_the_decision_date() -> None:
    # decided Mon 28 Sep, recorded after 国庆 on 9 Oct: Sep 29, 30, Oct 8, 9, Sat 10 调休, 12, 13
    recorded = _decision("2026-09-28", local("2026-10-09T10:00"))
    state = fold([recorded])
    assert isinstance(state, EnforcementDecisionState)
    (clock,) = POLICY.advance((), recorded, state)
    assert (clock.rule_id, clock.due_date) == (
        "enforcement_decision.publication",
        date(2026, 10, 13),
    )
    assert POLICY.status(clock) is ClockStatus.running
    owed_alerts = {
        a.payload_type.__name__ for a in POLICY.due_alerts(clock, local("2026-10-12T12:00"))
    }
    assert "DeadlineApproaching" in owed_alerts and "DeadlineBreached" not in owed_alerts
    overdue = {a.payload_type.__name__ for a in POLICY.due_alerts(clock, local("2026-10-14T09:00"))}
    assert "DeadlineBreached" in overdue


def test_a_publication_in_time_meets_the_clock_and_a_late_one_breaches_it() -> None:
    recorded = _decision("2026-03-02", T0)
    state = fold([recorded])
    assert state is not None
    (clock,) = POLICY.advance((), recorded, state)
    for day, expected in ((3, ClockStatus.met), (20, ClockStatus.breached)):
        published = event(
            "EnforcementDecisionPublished",
            "BYCF-1",
            "enforcement_decision",
            {"platform": "门户网站"},
            at=T0 + timedelta(days=day),
        )
        after = evolve(state, published)
        (stopped,) = POLICY.advance((clock,), published, after)
        assert (after.status, POLICY.status(stopped)) == ("published", expected)


def test_a_deployment_sets_the_national_20_working_days_for_the_publication(
    tmp_path: Path,
) -> None:
    """国办发〔2018〕118号 alone: 20 working days, counted from the decision date all the same."""
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\nid = "enforcement_decision.publication"\nlength = 20\n', "utf-8")
    policy = ClockPolicy(load_rulebook(path), package_calendar())
    recorded = _decision("2026-03-02", local("2026-03-05T10:00"))
    state = fold([recorded])
    assert state is not None
    (clock,) = policy.advance((), recorded, state)
    # Mon 2 Mar: 3-6 (4), 9-13 (9), 16-20 (14), 23-27 (19), Mon 30 Mar (20)
    assert clock.due_date == date(2026, 3, 30)


def test_a_start_date_field_that_is_not_a_date_of_the_starting_event_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(
        '[[rule]]\nid = "enforcement_decision.publication"\nstart_date_field = "legal_basis"\n',
        "utf-8",
    )
    with pytest.raises(RuleFileError, match=r"start_date_field.*no date field 'legal_basis'"):
        load_rulebook(path)


def test_the_explanation_of_the_publication_clock_says_it_counts_from_the_decision_date() -> None:
    recorded = _decision("2026-09-28", local("2026-10-09T10:00"))
    state = fold([recorded])
    assert state is not None
    (clock,) = POLICY.advance((), recorded, state)
    rule = POLICY.rulebook.get(clock.rule_id)
    explained = explain_clock(clock, rule, POLICY.calendar, POLICY.timezone, [recorded])
    assert explained.start.start_day == date(2026, 9, 28)
    assert "decided_on" in explained.start.note
