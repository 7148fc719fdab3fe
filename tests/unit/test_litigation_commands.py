"""The staff commands on a lawsuit (行政诉讼): each allowed role on a case in a state that allows
it gets the expected events, a state that does not gets a refusal naming why, and a role the
command does not name is refused."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from casestream.domain import catalog as ev
from casestream.domain import litigation_commands as lc
from casestream.domain.commands import Context, Refusal, Role, decide
from casestream.domain.lifecycle import CaseState
from casestream.domain.litigation import HeldHearing, LitigationState, ScheduledHearing
from tests.command_cases import (
    CommandCase,
    check_decision,
    check_every_command_tested,
    each_case,
    folded,
)
from tests.events import event

NOW = datetime.fromisoformat("2026-04-01T10:00:00+08:00")
KIND = "litigation"
PLAINTIFF = ev.Person(name="张三")
FIRST = {"instance": "first", "outcome": "revoked"}


FILING = {"court": "县人民法院", "plaintiff": {"name": "张三"}, "decision_ref": "公(治)决字1号"}


def _case(*later: tuple[str, dict[str, Any]]) -> CaseState:
    return folded(event("LawsuitFiled", "L-1", KIND, FILING), *later)


FILED = _case()
SERVED = _case(("ComplaintCopyServed", {}))
DEFENDED = _case(("ComplaintCopyServed", {}), ("DefenceSubmitted", {}))
JUDGED = _case(("DefenceSubmitted", {}), ("JudgmentIssued", FIRST))
RULED = _case(("JudgmentIssued", {**FIRST, "form": "ruling"}))
APPEALED = _case(("JudgmentIssued", FIRST), ("AppealFiled", {"appellant": "bureau"}))
EFFECTIVE = _case(("JudgmentIssued", FIRST), ("JudgmentEffective", {}))
APPEARED = [ev.BureauAppearance(name="王副局长", title="副局长"), ev.BureauAppearance(name="李四")]


CASES = [
    CommandCase(
        lc.RegisterLawsuit(
            court="县人民法院", plaintiff=PLAINTIFF, decision_ref="公(治)决字1号", simplified=True
        ),
        None,
        (
            ev.LawsuitFiled(
                court="县人民法院",
                plaintiff=PLAINTIFF,
                decision_ref="公(治)决字1号",
                simplified=True,
            ),
        ),
        FILED,
        "already registered",
        Role.handler,
    ),
    CommandCase(
        lc.RecordCopyServed(),
        FILED,
        (ev.ComplaintCopyServed(),),
        DEFENDED,
        "allowed when: filed",
        Role.department_head,
    ),
    CommandCase(
        lc.SubmitDefence(summary="答辩状及证据"),
        SERVED,
        (ev.DefenceSubmitted(summary="答辩状及证据"),),
        JUDGED,
        "'judged'",
        Role.leader,
    ),
    CommandCase(
        lc.ScheduleHearing(hearing_date=date(2026, 4, 20), court="第二法庭", head_expected=True),
        DEFENDED,
        (
            ev.CourtHearingScheduled(
                hearing_date=date(2026, 4, 20), court="第二法庭", head_expected=True
            ),
        ),
        EFFECTIVE,
        "'effective'",
        Role.handler,
    ),
    CommandCase(
        lc.RecordCourtHearing(held_on=date(2026, 4, 1), appeared=APPEARED, head_appeared=True),
        DEFENDED,
        (ev.CourtHearingHeld(held_on=date(2026, 4, 1), appeared=APPEARED, head_appeared=True),),
        JUDGED,
        "'judged'",
        Role.department_head,
    ),
    CommandCase(
        lc.RecordJudgment(instance=ev.Instance.first, outcome=ev.JudgmentOutcome.claim_dismissed),
        DEFENDED,
        (
            ev.JudgmentIssued(
                instance=ev.Instance.first, outcome=ev.JudgmentOutcome.claim_dismissed
            ),
        ),
        EFFECTIVE,
        "'effective'",
        Role.handler,
    ),
    CommandCase(
        lc.RecordService(),
        RULED,
        (ev.JudgmentServed(form=ev.JudgmentForm.ruling),),
        DEFENDED,
        "allowed when: judged",
        Role.handler,
    ),
    CommandCase(
        lc.FileAppeal(appellant="plaintiff", court="市中级人民法院"),
        JUDGED,
        (ev.AppealFiled(appellant="plaintiff", court="市中级人民法院"),),
        DEFENDED,
        "allowed when: judged",
        Role.leader,
    ),
    CommandCase(
        lc.RecordEffective(),
        JUDGED,
        (ev.JudgmentEffective(),),
        APPEALED,
        "'appealed'",
        Role.supervisor,
    ),
]


def test_every_litigation_command_is_declared_in_the_catalogue_and_tested() -> None:
    check_every_command_tested(ev.CaseKind.litigation, CASES)


@each_case(CASES)
def test_a_command_gives_its_events_where_allowed_and_is_refused_by_state_and_by_role(
    case: CommandCase,
) -> None:
    check_decision(case, "li", NOW)


def test_who_may_give_what() -> None:
    assert lc.SubmitDefence.roles == {Role.legal, Role.handler, Role.department_head}
    assert lc.RecordCourtHearing.roles == {Role.legal, Role.leader}
    for model in (lc.RegisterLawsuit, lc.ScheduleHearing, lc.RecordJudgment, lc.FileAppeal):
        assert model.roles == {Role.legal}


def test_a_hearing_date_already_past_is_refused_and_a_hearing_not_yet_held_too() -> None:
    legal = Context("li", Role.legal, NOW)
    past = decide(DEFENDED, lc.ScheduleHearing(hearing_date=date(2026, 3, 31)), legal)
    assert isinstance(past, Refusal) and "has passed" in past.reason
    future = decide(DEFENDED, lc.RecordCourtHearing(held_on=date(2026, 4, 2)), legal)
    assert isinstance(future, Refusal) and "not been held yet" in future.reason


def test_the_head_appeared_only_with_those_who_appeared_named() -> None:
    with pytest.raises(ValidationError, match="name who appeared") as refused:
        lc.RecordCourtHearing(held_on=date(2026, 4, 1), head_appeared=True)
    assert [error["loc"] for error in refused.value.errors()] == [("head_appeared",)]


def test_a_second_instance_judgment_needs_an_appeal_and_an_appeal_a_second_instance() -> None:
    legal = Context("li", Role.legal, NOW)
    second = lc.RecordJudgment(instance=ev.Instance.second, outcome=ev.JudgmentOutcome.revoked)
    first = lc.RecordJudgment(instance=ev.Instance.first, outcome=ev.JudgmentOutcome.revoked)
    assert decide(DEFENDED, second, legal) == Refusal(
        "a second-instance judgment needs an appeal on record"
    )
    assert isinstance(decide(APPEALED, first, legal), Refusal)
    assert decide(APPEALED, second, legal) == (
        ev.JudgmentIssued(instance=ev.Instance.second, outcome=ev.JudgmentOutcome.revoked),
    )


def test_a_second_instance_hearing_may_be_scheduled_and_held_while_on_appeal() -> None:
    legal = Context("li", Role.legal, NOW)
    assert not isinstance(
        decide(APPEALED, lc.ScheduleHearing(hearing_date=date(2026, 5, 6)), legal), Refusal
    )
    assert not isinstance(
        decide(APPEALED, lc.RecordCourtHearing(held_on=date(2026, 4, 1)), legal), Refusal
    )


def test_the_lawsuit_keeps_its_next_hearing_and_who_appeared_at_each_one_held() -> None:
    held = {
        "held_on": "2026-04-20",
        "appeared": [{"name": "王副局长", "title": "副局长"}],
        "head_appeared": True,
    }
    scheduled = {"hearing_date": "2026-04-20", "head_expected": True}
    state = _case(("CourtHearingScheduled", scheduled))
    assert isinstance(state, LitigationState)
    assert state.next_hearing == ScheduledHearing(
        hearing_date=date(2026, 4, 20), court=None, head_expected=True
    )
    state = _case(
        ("CourtHearingScheduled", scheduled),
        ("CourtHearingHeld", held),
        ("HearingHeld", {"agency_head_appeared": False}),
    )
    assert isinstance(state, LitigationState)
    assert state.next_hearing is None
    assert (state.status, state.hearings, state.head_appearances) == ("heard", 2, 1)
    assert state.held_hearings == (
        HeldHearing(
            held_on=date(2026, 4, 20),
            appeared=(ev.BureauAppearance(name="王副局长", title="副局长"),),
            head_appeared=True,
        ),
        HeldHearing(held_on=None),
    )
    assert state.agency_head_appeared and not state.anomalies


def test_every_command_has_chinese_and_english_labels() -> None:
    for case in CASES:
        model = type(case.body)
        assert model.label_zh and model.label_en and model.label_zh != model.label_en


def test_the_defence_cites_the_evidence_files_it_names() -> None:
    cited = ev.EvidenceFile(sha256="b" * 64, name="答辩状.docx", media_type=DOCX, size=4096)
    decision = decide(
        SERVED, lc.SubmitDefence(summary="答辩状", files=[cited]), Context("li", Role.legal, NOW)
    )
    assert decision == (ev.DefenceSubmitted(summary="答辩状", files=[cited]),)


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
