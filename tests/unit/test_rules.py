"""Deadline rules as data: the packaged defaults, matching, deployment overrides, bad files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from casestream.domain import catalog as ev
from casestream.domain.complaints import ComplaintState
from casestream.domain.reconsiderations import ReconsiderationState
from casestream.domain.rules import (
    DEFAULT_LADDER,
    RuleBook,
    RuleFileError,
    Severity,
    Unit,
    UnknownRule,
    case_facts,
    load_rulebook,
    packaged_rule_files,
)

RULES = load_rulebook()

STATUTORY = {
    "reconsideration.reply": ("ApplicationCopyReceived", 10, Unit.working_days),
    "reconsideration.reply_simplified": ("ApplicationCopyReceived", 5, Unit.working_days),
    "reconsideration.decision": ("ReconsiderationAccepted", 60, Unit.calendar_days),
    "reconsideration.decision_simplified": ("ReconsiderationAccepted", 30, Unit.calendar_days),
    "litigation.defence": ("ComplaintCopyServed", 15, Unit.calendar_days),
    "litigation.appeal_judgment": ("JudgmentServed", 15, Unit.calendar_days),
    "litigation.appeal_ruling": ("JudgmentServed", 10, Unit.calendar_days),
    "litigation.first_instance": ("LawsuitFiled", 6, Unit.months),
    "litigation.first_instance_simplified": ("LawsuitFiled", 45, Unit.calendar_days),
    "litigation.second_instance": ("AppealFiled", 3, Unit.months),
    "petition.acceptance_notice": ("ComplaintReceived", 15, Unit.calendar_days),
    "petition.handling": ("ComplaintAccepted", 60, Unit.calendar_days),
    "reconsideration.opinion_report": ("ReconsiderationOpinionReceived", 60, Unit.calendar_days),
}
LOCAL_POLICY = {
    "complaint.handling": ("ComplaintAccepted", 15, Unit.working_days),
    "complaint.handling_enterprise": ("ComplaintAccepted", 5, Unit.working_days),
    "complaint.follow_up": ("ComplaintResolved", 3, Unit.working_days),
    "enterprise_tip.handling": ("TipReceived", 15, Unit.working_days),
    "enterprise_tip.feedback": ("TipVerified", 5, Unit.working_days),
    "rectification.review": ("ReviewTaskOpened", 15, Unit.working_days),
    "rectification.completion": ("RectificationOpened", 30, Unit.calendar_days),
    "rectification.verification": ("RectificationCompleted", 5, Unit.working_days),
    "enforcement_decision.publication": ("EnforcementDecisionRecorded", 7, Unit.working_days),
    # due on the hearing date the event gives; the length is never counted
    "litigation.hearing_reminder": ("CourtHearingScheduled", 1, Unit.calendar_days),
}


def test_the_packaged_rules_are_exactly_those_of_deadlines_md() -> None:
    assert set(RULES.ids) == set(STATUTORY) | set(LOCAL_POLICY)
    assert len(RULES.ids) == 23


@pytest.mark.parametrize(("rule_id", "row"), [*STATUTORY.items(), *LOCAL_POLICY.items()])
def test_each_rule_starts_on_its_event_with_its_length(
    rule_id: str, row: tuple[str, int, Unit]
) -> None:
    rule = RULES.get(rule_id)
    assert (rule.starts_on, rule.length, rule.unit) == row
    assert rule.source and rule.title


def test_every_event_a_rule_names_is_in_the_catalog() -> None:
    for rule in RULES.rules.values():
        named = [rule.starts_on, *(m.event for m in rule.stops_on)]
        named += [*rule.pauses_on, *rule.resumes_on, *rule.extended_by, *rule.restarts_on]
        assert all(name in ev.PAYLOAD_TYPES for name in named), rule.id


def test_every_packaged_rule_entry_has_a_comment_naming_its_source() -> None:
    for resource in packaged_rule_files():
        lines = resource.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if line.strip() == "[[rule]]":
                assert lines[number - 1].startswith("#"), f"{resource.name}:{number + 1}"


def test_statutory_specifics() -> None:
    assert RULES.get("reconsideration.reply").severity is Severity.critical
    assert RULES.get("litigation.first_instance").escalate is False
    assert RULES.get("reconsideration.decision").max_extension == 30
    assert RULES.get("reconsideration.decision").extended_by == ("ReconsiderationExtended",)
    assert RULES.get("reconsideration.decision").pauses_on == ("ReconsiderationSuspended",)
    assert RULES.get("petition.handling").max_extension == 30
    assert RULES.get("reconsideration.decision_simplified").extended_by == ()


def test_every_rule_has_the_default_warnings_and_ladder() -> None:
    for rule in RULES.rules.values():
        if rule.id == "litigation.hearing_reminder":
            continue  # its own: see the next test
        assert rule.warnings == (3, 1)
        assert rule.escalation == DEFAULT_LADDER
        assert rule.effective_alert_unit is Unit.working_days
    assert [(s.level, s.notify, s.at.value, s.after) for s in DEFAULT_LADDER] == [
        (1, "handler", "first_warning", 0),
        (2, "department_head", "breach", 0),
        (3, "bureau_leadership", "breach", 3),
    ]


def test_the_hearing_reminder_warns_leadership_5_and_1_working_days_before_the_hearing() -> None:
    rule = RULES.get("litigation.hearing_reminder")
    assert rule.warnings == (5, 1)
    assert rule.effective_alert_unit is Unit.working_days
    assert [(s.level, s.notify, s.at.value, s.after) for s in rule.escalation] == [
        (3, "bureau_leadership", "first_warning", 0)
    ]
    assert (rule.due_date_field, rule.when) == ("hearing_date", {"head_expected": True})
    assert rule.cancelled_on == ("CourtHearingScheduled", "JudgmentIssued")


def test_cancelled_on_names_events_of_the_rules_case_kind(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match=r"cancelled_on.*never happens to"):
        _deployment(
            tmp_path,
            '[[rule]]\nid = "litigation.hearing_reminder"\ncancelled_on = ["TipClosed"]\n',
        )


def _complaint_rules(channel: ev.Channel, enterprise: bool) -> set[str]:
    state = ComplaintState(
        case_id="C-1", case_kind=ev.CaseKind.complaint, status="accepted", enterprise=enterprise
    ).model_copy(update={"channel": channel})
    facts = case_facts(ev.ComplaintAccepted(), state)
    return {rule.id for rule in RULES.starting_on("ComplaintAccepted", facts)}


def test_an_accepted_complaint_gets_exactly_one_handling_rule_by_channel_and_enterprise() -> None:
    assert _complaint_rules(ev.Channel.hotline_12345, False) == {"complaint.handling"}
    assert _complaint_rules(ev.Channel.window, True) == {"complaint.handling_enterprise"}
    assert _complaint_rules(ev.Channel.petition, False) == {"petition.handling"}
    assert _complaint_rules(ev.Channel.petition, True) == {"petition.handling"}


def test_a_received_petition_starts_the_acceptance_notice_only_for_petitions() -> None:
    petition = ev.ComplaintReceived(channel=ev.Channel.petition, subject="s")
    hotline = ev.ComplaintReceived(channel=ev.Channel.hotline_12345, subject="s")
    assert [r.id for r in RULES.starting_on("ComplaintReceived", case_facts(petition))] == [
        "petition.acceptance_notice"
    ]
    assert RULES.starting_on("ComplaintReceived", case_facts(hotline)) == ()


def test_appeal_windows_follow_the_form_of_the_decision_served() -> None:
    ruling = case_facts(ev.JudgmentServed(form=ev.JudgmentForm.ruling))
    judgment = case_facts(ev.JudgmentServed())
    assert [r.id for r in RULES.starting_on("JudgmentServed", ruling)] == [
        "litigation.appeal_ruling"
    ]
    assert [r.id for r in RULES.starting_on("JudgmentServed", judgment)] == [
        "litigation.appeal_judgment"
    ]


def test_a_lawsuit_starts_the_first_instance_period_matching_its_procedure() -> None:
    person = ev.Person(name="张三")
    ordinary = ev.LawsuitFiled(court="c", plaintiff=person, decision_ref="d")
    simplified = ev.LawsuitFiled(court="c", plaintiff=person, decision_ref="d", simplified=True)
    second = ev.LawsuitFiled(court="c", plaintiff=person, decision_ref="d", instance="second")
    ids = [
        [r.id for r in RULES.starting_on("LawsuitFiled", case_facts(p))]
        for p in (ordinary, simplified, second)
    ]
    assert ids == [["litigation.first_instance"], ["litigation.first_instance_simplified"], []]


def test_the_instance_of_a_judgment_decides_which_court_period_it_stops() -> None:
    first = case_facts(ev.JudgmentIssued(instance=ev.Instance.first, outcome="revoked"))
    second = case_facts(ev.JudgmentIssued(instance=ev.Instance.second, outcome="revoked"))
    first_instance = RULES.get("litigation.first_instance")
    second_instance = RULES.get("litigation.second_instance")
    assert first_instance.stops("JudgmentIssued", first)
    assert not first_instance.stops("JudgmentIssued", second)
    assert second_instance.stops("JudgmentIssued", second)
    assert not second_instance.stops("JudgmentIssued", first)


def test_a_yes_no_fact_never_matches_a_number() -> None:
    rule = RULES.get("reconsideration.reply")
    assert rule.starts("ApplicationCopyReceived", {"simplified": False})
    assert not rule.starts("ApplicationCopyReceived", {"simplified": 0})
    assert not rule.starts("ApplicationCopyReceived", {})


def test_the_rectification_time_limit_on_the_event_is_the_fixed_due_date() -> None:
    rule = RULES.get("rectification.completion")
    with_limit = ev.RectificationOpened(
        department="d", responsible_person="p", deadline=date(2026, 3, 15)
    )
    assert rule.fixed_due_date(with_limit) == date(2026, 3, 15)
    assert (
        rule.fixed_due_date(ev.RectificationOpened(department="d", responsible_person="p")) is None
    )
    assert RULES.get("complaint.handling").fixed_due_date(with_limit) is None


def test_an_unknown_rule_id_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownRule) as caught:
        RULES.get("complaint.handlng")
    assert "complaint.handling, complaint.handling_enterprise" in str(caught.value)


# --- deployment files ------------------------------------------------------------------


def _deployment(tmp_path: Path, text: str) -> RuleBook:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return load_rulebook(path)


def test_a_deployment_overrides_a_rule_field_by_field(tmp_path: Path) -> None:
    rules = _deployment(
        tmp_path, '[[rule]]\nid = "complaint.handling"\nlength = 10\nwarnings = [2]\n'
    )
    changed, packaged = rules.get("complaint.handling"), RULES.get("complaint.handling")
    assert (changed.length, changed.warnings) == (10, (2,))
    assert changed.model_copy(update={"length": 15, "warnings": (3, 1)}) == packaged
    assert rules.get("reconsideration.reply") == RULES.get("reconsideration.reply")


def test_deployment_defaults_apply_to_every_rule_below_its_own_entries(tmp_path: Path) -> None:
    rules = _deployment(
        tmp_path,
        '[defaults]\nwarnings = [5, 2]\n[[rule]]\nid = "litigation.defence"\nwarnings = [1]\n',
    )
    assert rules.get("complaint.handling").warnings == (5, 2)
    assert rules.get("litigation.defence").warnings == (1,)


HOTLINE_SIGN_OFF = """
# 12345 工单签收: sign off a hotline work order within 2 working hours (local regulation)
[[rule]]
id = "hotline.sign_off"
title = "工单签收 Work-order sign-off"
source = "local regulation"
starts_on = "ComplaintReceived"
when = { channel = "hotline_12345" }
stops_on = ["ComplaintAccepted", "ComplaintRejected"]
length = 2
unit = "hours"
working_hours = true
warnings = [1]
"""


def test_a_deployment_adds_a_rule(tmp_path: Path) -> None:
    rules = _deployment(tmp_path, HOTLINE_SIGN_OFF)
    added = rules.get("hotline.sign_off")
    assert (added.unit, added.working_hours, added.effective_alert_unit) == (
        Unit.hours,
        True,
        Unit.hours,
    )
    assert len(rules.ids) == 24


def test_replace_takes_the_deployment_entry_as_the_whole_rule(tmp_path: Path) -> None:
    text = (
        '[[rule]]\nid = "litigation.defence"\nreplace = true\ntitle = "答辩"\nsource = "x"\n'
        'starts_on = "ComplaintCopyServed"\nstops_on = ["DefenceSubmitted"]\n'
        'length = 20\nunit = "calendar_days"\n'
    )
    rules = _deployment(tmp_path, text)
    assert (rules.get("litigation.defence").title, rules.get("litigation.defence").length) == (
        "答辩",
        20,
    )
    with pytest.raises(RuleFileError) as caught:
        _deployment(tmp_path, '[[rule]]\nid = "litigation.defence"\nreplace = true\nlength = 9\n')
    assert "field 'starts_on'" in str(caught.value)


@pytest.mark.parametrize(
    ("entry", "rule_id", "field", "fragment"),
    [
        (
            'id = "complaint.handling"\nstops_on = ["ComplaintSolved"]',
            "complaint.handling",
            "stops_on",
            "ComplaintSolved",
        ),
        ('id = "complaint.handling"\nlenght = 10', "complaint.handling", "lenght", "Extra"),
        ('id = "complaint.handling"\nunit = "weeks"', "complaint.handling", "unit", "working_days"),
        ('id = "complaint.handling"\nlength = 0', "complaint.handling", "length", "greater"),
        (
            'id = "petition.handling"\nwhen = { channel = "fax" }',
            "petition.handling",
            "when",
            "fax",
        ),
        (
            'id = "reconsideration.reply"\nwhen = { simplified = "yes" }',
            "reconsideration.reply",
            "when",
            "yes",
        ),
        (
            'id = "complaint.handling"\nwhen = { colour = "red" }',
            "complaint.handling",
            "when",
            "colour",
        ),
        (
            'id = "complaint.follow_up"\nmax_extension = 10',
            "complaint.follow_up",
            "max_extension",
            "extended_by",
        ),
        (
            'id = "complaint.handling"\npauses_on = ["ReconsiderationSuspended"]',
            "complaint.handling",
            "pauses_on",
            "never happens",
        ),
        (
            'id = "complaint.handling"\nrestarts_on = ["RectificationReopened"]',
            "complaint.handling",
            "restarts_on",
            "never happens",
        ),
        (
            'id = "complaint.handling"\nrestarts_on = ["ComplaintRedone"]',
            "complaint.handling",
            "restarts_on",
            "ComplaintRedone",
        ),
        (
            'id = "complaint.handling"\nworking_hours = true',
            "complaint.handling",
            "working_hours",
            "hours",
        ),
        (
            'id = "complaint.handling"\nwarnings = []',
            "complaint.handling",
            "warnings",
            "first_warning",
        ),
        (
            'id = "complaint.handling"\nescalation = [{ level = 4, notify = "x" }]',
            "complaint.handling",
            "escalation",
            "less than",
        ),
        ('id = "complaint.new"\ntitle = "t"', "complaint.new", "source", "required"),
    ],
)
def test_an_invalid_rule_file_names_the_file_the_rule_and_the_field(
    tmp_path: Path, entry: str, rule_id: str, field: str, fragment: str
) -> None:
    with pytest.raises(RuleFileError) as caught:
        _deployment(tmp_path, f"[[rule]]\n{entry}\n")
    message = str(caught.value)
    assert str(tmp_path / "rules.toml") in message
    assert f"rule {rule_id!r}" in message
    assert f"field {field!r}" in message
    assert fragment in message
    problem = caught.value.problems[0]
    assert (problem.rule_id, problem.field) == (rule_id, field)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[[rule]\n", "not valid TOML"),
        ('[[rule]]\ntitle = "no id"\n', "every rule needs an id"),
        ('[[rule]]\nid = "a.b"\n[[rule]]\nid = "a.b"\n', "defined twice"),
        ('[rules]\nid = "a.b"\n', "[defaults] and [[rule]]"),
    ],
)
def test_a_malformed_rule_file_names_the_file(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(RuleFileError) as caught:
        _deployment(tmp_path, text)
    assert str(tmp_path / "rules.toml") in str(caught.value)
    assert fragment in str(caught.value)


def test_a_missing_rule_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match=r"missing\.toml"):
        load_rulebook(tmp_path / "missing.toml")


def test_a_payload_field_left_at_its_default_yields_to_the_case_state() -> None:
    state = ReconsiderationState(
        case_id="R-1", case_kind=ev.CaseKind.reconsideration, status="accepted", simplified=True
    )
    implicit = case_facts(ev.ApplicationCopyReceived(), state)
    explicit = case_facts(ev.ApplicationCopyReceived(simplified=False), state)
    assert [r.id for r in RULES.starting_on("ApplicationCopyReceived", implicit)] == [
        "reconsideration.reply_simplified"
    ]
    assert [r.id for r in RULES.starting_on("ApplicationCopyReceived", explicit)] == [
        "reconsideration.reply"
    ]


def test_rules_can_be_kept_in_sets_and_as_keys() -> None:
    assert len(set(RULES.rules.values())) == 23


def test_a_complaint_handling_rule_starts_again_on_a_reopening_of_its_kind_of_complaint() -> None:
    reopened = ev.ComplaintReopened(reason="重新办理")
    window = ComplaintState(
        case_id="C-1", case_kind=ev.CaseKind.complaint, status="accepted", channel="window"
    )
    enterprise = window.model_copy(update={"enterprise": True})
    petition = window.model_copy(update={"channel": "petition"})
    starting = RULES.starting_on
    assert [r.id for r in starting("ComplaintReopened", case_facts(reopened, window))] == [
        "complaint.handling"
    ]
    assert [r.id for r in starting("ComplaintReopened", case_facts(reopened, enterprise))] == [
        "complaint.handling_enterprise"
    ]
    assert starting("ComplaintReopened", case_facts(reopened, petition)) == ()


def test_the_rules_an_event_starts_are_those_of_the_whole_book_in_its_order() -> None:
    """starting_on looks only at the rules an event type can start (an index built with the
    book): the same rules, in the same order, as asking every rule of the book."""
    facts_seen = [
        {},
        {"enterprise": True},
        {"enterprise": False},
        {"procedure": "simplified"},
        {"channel": "hotline_12345", "enterprise": True},
    ]
    for event_type in sorted(ev.PAYLOAD_TYPES):
        for facts in facts_seen:
            every = tuple(rule for rule in RULES.rules.values() if rule.starts(event_type, facts))
            assert RULES.starting_on(event_type, facts) == every, (event_type, facts)
    reopened = {
        rule.id for facts in facts_seen for rule in RULES.starting_on("ComplaintReopened", facts)
    }
    assert reopened  # a restart is found through the index too
    assert all("ComplaintReopened" in RULES.get(rule).restarts_on for rule in reopened)
