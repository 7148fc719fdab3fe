"""The rules the read models ask the domain for: which clocks are a case's 时限 (rule roles),
when a deadline is overdue, when a 意见书 report clock stops, when a case joins a dispute,
and who the party of a case is (an anonymous informant never named)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from casestream.domain.anonymity import Party, party_of
from casestream.domain.calendar import load_calendar
from casestream.domain.case_results import case_result, went_against_bureau
from casestream.domain.cases import fold, kind_mismatch, raw_event_refusal
from casestream.domain.catalog import CaseKind, Person
from casestream.domain.clocks import ClockPolicy, ClockStatus
from casestream.domain.disputes import joins_dispute
from casestream.domain.overdue import clock_overdue, rectification_overdue
from casestream.domain.rectifications import RectificationStatus
from casestream.domain.reports import linked_completion, stopped_reports
from casestream.domain.rules import RuleRole, load_rulebook
from tests.events import event, reconsideration

RULES = load_rulebook()
NOW = datetime(2026, 4, 1, 9, tzinfo=UTC)


def test_the_main_rule_of_each_kind_is_the_bureau_s_own_duty() -> None:
    assert RULES.main_rules(CaseKind.complaint) == (
        "complaint.handling",
        "complaint.handling_enterprise",
        "petition.handling",
    )
    assert RULES.main_rules(CaseKind.enterprise_tip) == ("enterprise_tip.handling",)
    assert RULES.main_rules(CaseKind.reconsideration) == (
        "reconsideration.reply",
        "reconsideration.reply_simplified",
    )
    assert RULES.main_rules(CaseKind.litigation) == ("litigation.defence",)
    assert RULES.main_rules(CaseKind.rectification) == ("rectification.completion",)
    assert RULES.main_rules(CaseKind.enforcement_decision) == ("enforcement_decision.publication",)
    assert RULES.main_rules(CaseKind.enforcement_review) == ()
    assert len(RULES.main_rules()) == 9
    assert RULES.report_rules() == ("reconsideration.opinion_report",)


def test_a_deployment_gives_a_rule_its_role_field_by_field(tmp_path: Path) -> None:
    deployment = tmp_path / "rules.toml"
    deployment.write_text(
        '[[rule]]\nid = "complaint.follow_up"\nrole = "main"\n'
        '[[rule]]\nid = "petition.handling"\nlength = 30\n',
        encoding="utf-8",
    )
    rules = load_rulebook(deployment)
    assert rules.get("complaint.follow_up").role is RuleRole.main
    assert rules.get("petition.handling").role is RuleRole.main  # kept from the packaged entry
    assert "complaint.follow_up" in rules.main_rules(CaseKind.complaint)


def test_a_clock_is_overdue_when_breached_or_running_past_due() -> None:
    past, future = NOW - timedelta(hours=1), NOW + timedelta(hours=1)
    assert clock_overdue(ClockStatus.breached, future, NOW)
    assert clock_overdue(ClockStatus.running, past, NOW)
    assert not clock_overdue(ClockStatus.running, future, NOW)
    assert not clock_overdue(ClockStatus.paused, past, NOW)  # 中止: time stands still
    assert not clock_overdue(ClockStatus.met, past, NOW)
    assert not clock_overdue(ClockStatus.cancelled, past, NOW)


def test_a_rectification_is_overdue_only_while_still_to_be_done() -> None:
    past = NOW - timedelta(days=1)
    for status in RectificationStatus:
        overdue = rectification_overdue(
            status, completion_breached=False, deadline_at=past, now=NOW
        )
        assert overdue is (status in ("open", "in_progress", "rejected"))
    assert rectification_overdue(
        RectificationStatus.rejected, completion_breached=True, deadline_at=None, now=NOW
    )
    assert not rectification_overdue(
        RectificationStatus.open, completion_breached=False, deadline_at=None, now=NOW
    )


def test_an_opinion_report_clock_stops_when_its_rectification_completes() -> None:
    policy = ClockPolicy(RULES, load_calendar())
    case_id = "R-OP-1"
    opinion = event(
        "ReconsiderationOpinionReceived",
        case_id,
        "reconsideration",
        {"opinion_no": "意见书〔2026〕1号", "requested_action": "重新作出处罚决定"},
    )
    opened = fold(reconsideration(case_id, 1, None)[:1])
    assert opened is not None
    clocks = policy.advance((), opinion, opened)
    (report,) = [clock for clock in clocks if clock.rule_id in RULES.report_rules()]
    assert report.linked_case_id is not None
    completed_at = NOW
    stopped = stopped_reports(
        {report.clock_id: report}, {report.linked_case_id: completed_at}, RULES
    )
    assert stopped[report.clock_id].stopped_at == completed_at
    assert stopped_reports({report.clock_id: report}, {}, RULES) == {}
    assert linked_completion(opened) is None


def test_a_case_joins_a_dispute_when_it_first_names_a_decision() -> None:
    events = reconsideration("R-D-1", 7, "revoked")
    first = fold(events[:1])
    assert first is not None and first.decision_ref
    link = joins_dispute(None, first, events[0].occurred_at)
    assert link is not None and (link.case_id, link.case_kind) == ("R-D-1", first.case_kind)
    assert joins_dispute(first, first, events[1].occurred_at) is None


def test_an_event_of_another_kind_on_a_case_id_is_a_mismatch_with_its_fix() -> None:
    events = reconsideration("R-K-1", 8, None)
    state = fold(events[:1])
    stray = event("ComplaintAccepted", "R-K-1", "complaint")
    reason = kind_mismatch(state, stray)
    assert reason is not None and "use a new case id" in reason
    assert raw_event_refusal(state, stray) == reason
    assert kind_mismatch(state, events[1]) is None


def test_the_party_of_a_case_and_what_it_ended_with() -> None:
    decided = fold(reconsideration("R-P-1", 9, "revoked"))
    assert decided is not None
    assert party_of(decided) == Party(Person(name="王五", phone="13900001111"))
    assert (case_result(decided), went_against_bureau(decided)) == ("revoked", True)
    tip = fold(
        [
            event(
                "TipReceived",
                "T-A-1",
                "enterprise_tip",
                {
                    "enterprise": "恒通建材",
                    "subject": "线索",
                    "anonymous": True,
                    "informant": {"name": "周秘密", "phone": "13566667777"},
                },
            )
        ]
    )
    assert tip is not None and party_of(tip) == Party(None, anonymous=True)
    assert went_against_bureau(tip) is None
