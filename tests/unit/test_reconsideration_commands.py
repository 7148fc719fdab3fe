"""The staff commands on a reconsideration (行政复议): each allowed role on a case in a state
that allows it gets the expected events, a state that does not gets a refusal naming why, and
a role the command does not name is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest

from casestream.domain import catalog as ev
from casestream.domain import command_catalogue
from casestream.domain import reconsideration_commands as rc
from casestream.domain.cases import fold
from casestream.domain.commands import Command, Context, Refusal, Role, RoleRefused, decide
from casestream.domain.envelope import Event
from casestream.domain.lifecycle import CaseState
from tests.events import event

NOW = datetime.fromisoformat("2026-03-20T10:00:00+08:00")
KIND = "reconsideration"
APPLICANT = ev.Person(name="张三", phone="13800000000")


def _case(*later: tuple[str, dict[str, Any]]) -> CaseState:
    applied = {
        "applicant": {"name": "张三"},
        "decision_ref": "公(治)决字〔2026〕1号",
        "reconsideration_body": "县人民政府",
        "department": "治安大队",
    }
    events: list[Event[Any]] = [event("ReconsiderationApplied", "R-1", KIND, applied)]
    events += [
        event(name, "R-1", KIND, payload, day=i + 1) for i, (name, payload) in enumerate(later)
    ]
    state = fold(events)
    assert state is not None
    return state


APPLIED = _case()
ACCEPTED = _case(("ReconsiderationAccepted", {}))
COPY_RECEIVED = _case(("ReconsiderationAccepted", {}), ("ApplicationCopyReceived", {}))
REPLIED = _case(("ApplicationCopyReceived", {}), ("ReplySubmitted", {"evidence_count": 3}))
DECIDED = _case(
    ("ReconsiderationAccepted", {}), ("ReconsiderationDecided", {"decision": "maintained"})
)
WITHDRAWN = _case(("ReconsiderationWithdrawn", {}))
WITH_OPINION = _case(
    ("ReconsiderationOpinionReceived", {"opinion_no": "复意字1号", "requested_action": "纠正"})
)


@dataclass(frozen=True)
class Case:
    """One command: a state that allows it and the events it gives, a state that does not and
    a word of the refusal, and a role it does not name."""

    body: Command
    allowed: CaseState | None
    expected: tuple[ev.Payload, ...]
    illegal: CaseState
    refusal: str
    wrong_role: Role


CASES = [
    Case(
        rc.RegisterReconsideration(
            applicant=APPLICANT,
            decision_ref="公(治)决字〔2026〕1号",
            reconsideration_body="县人民政府",
            matter="请求撤销",
            department="治安大队",
        ),
        None,
        (
            ev.ReconsiderationApplied(
                applicant=APPLICANT,
                decision_ref="公(治)决字〔2026〕1号",
                reconsideration_body="县人民政府",
                matter="请求撤销",
                department="治安大队",
            ),
        ),
        APPLIED,
        "already registered",
        Role.handler,
    ),
    Case(
        rc.RecordAcceptance(simplified=True),
        APPLIED,
        (ev.ReconsiderationAccepted(simplified=True),),
        DECIDED,
        "allowed when: applied",
        Role.department_head,
    ),
    Case(
        rc.RecordCopyReceived(),
        ACCEPTED,
        (ev.ApplicationCopyReceived(),),
        COPY_RECEIVED,
        "already recorded as received",
        Role.handler,
    ),
    Case(
        rc.SubmitReply(summary="答复书及证据", evidence_count=7),
        COPY_RECEIVED,
        (ev.ReplySubmitted(summary="答复书及证据", evidence_count=7),),
        REPLIED,
        "already submitted",
        Role.leader,
    ),
    Case(
        rc.RecordHearing(hearing_date=date(2026, 3, 18), agency_head_appeared=True),
        ACCEPTED,
        (ev.HearingHeld(hearing_date=date(2026, 3, 18), agency_head_appeared=True),),
        APPLIED,
        "allowed when: accepted",
        Role.handler,
    ),
    Case(
        rc.RecordDecision(decision=ev.ReconsiderationDecision.revoked, decision_no="复决字1号"),
        COPY_RECEIVED,
        (
            ev.ReconsiderationDecided(
                decision=ev.ReconsiderationDecision.revoked, decision_no="复决字1号"
            ),
        ),
        WITHDRAWN,
        "'withdrawn'",
        Role.department_head,
    ),
    Case(
        rc.RecordOpinion(opinion_no="复意字2号", requested_action="纠正并报告"),
        DECIDED,
        (ev.ReconsiderationOpinionReceived(opinion_no="复意字2号", requested_action="纠正并报告"),),
        WITH_OPINION.model_copy(update={"opinion_no": "复意字2号"}),
        "already recorded",
        Role.supervisor,
    ),
    Case(
        rc.Withdraw(reason="申请人撤回"),
        ACCEPTED,
        (ev.ReconsiderationWithdrawn(reason="申请人撤回"),),
        DECIDED,
        "'decided'",
        Role.handler,
    ),
]


def _id(case: Case) -> str:
    return case.body.name


def test_every_reconsideration_command_is_declared_in_the_catalogue_and_tested() -> None:
    declared = {
        name for kind, name in command_catalogue.COMMANDS if kind is ev.CaseKind.reconsideration
    }
    assert declared == {case.body.name for case in CASES}


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_an_allowed_role_on_a_case_that_allows_it_gets_the_expected_events(case: Case) -> None:
    for role in sorted(case.body.roles):
        assert decide(case.allowed, case.body, Context("li", role, NOW)) == case.expected


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_a_case_that_does_not_allow_it_is_refused_with_the_reason(case: Case) -> None:
    role = sorted(case.body.roles)[0]
    decision = decide(case.illegal, case.body, Context("li", role, NOW))
    assert isinstance(decision, Refusal) and case.refusal in decision.reason, decision


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_a_role_the_command_does_not_name_is_refused(case: Case) -> None:
    assert case.wrong_role not in case.body.roles
    with pytest.raises(RoleRefused):
        decide(case.allowed, case.body, Context("li", case.wrong_role, NOW))


def test_the_department_whose_act_is_challenged_may_submit_the_reply_but_not_decide() -> None:
    assert rc.SubmitReply.roles == {Role.legal, Role.handler, Role.department_head}
    for model in (rc.RegisterReconsideration, rc.RecordDecision, rc.Withdraw, rc.RecordOpinion):
        assert model.roles == {Role.legal}


def test_a_command_on_a_reconsideration_that_is_not_registered_is_refused() -> None:
    decision = decide(None, rc.SubmitReply(), Context("li", Role.legal, NOW))
    assert decision == Refusal("no such case is registered")


def test_every_command_has_chinese_and_english_labels() -> None:
    for case in CASES:
        model = type(case.body)
        assert model.label_zh and model.label_en and model.label_zh != model.label_en


def test_the_reply_cites_the_evidence_files_it_names() -> None:
    cited = ev.EvidenceFile(
        sha256="a" * 64, name="答复书.pdf", media_type="application/pdf", size=2048
    )
    decision = decide(
        COPY_RECEIVED,
        rc.SubmitReply(summary="答复书", evidence_count=1, files=[cited]),
        Context("li", Role.legal, NOW),
    )
    assert decision == (ev.ReplySubmitted(summary="答复书", evidence_count=1, files=[cited]),)
