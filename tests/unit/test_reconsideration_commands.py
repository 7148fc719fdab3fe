"""The staff commands on a reconsideration (行政复议): each allowed role on a case in a state
that allows it gets the expected events, a state that does not gets a refusal naming why, and
a role the command does not name is refused."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from casestream.domain import catalog as ev
from casestream.domain import reconsideration_commands as rc
from casestream.domain.commands import Context, Refusal, Role, decide
from casestream.domain.lifecycle import CaseState
from tests.command_cases import (
    CommandCase,
    check_decision,
    check_every_command_tested,
    each_case,
    folded,
)
from tests.events import event

NOW = datetime.fromisoformat("2026-03-20T10:00:00+08:00")
KIND = "reconsideration"
APPLICANT = ev.Person(name="张三", phone="13800000000")


APPLICATION = {
    "applicant": {"name": "张三"},
    "decision_ref": "公(治)决字〔2026〕1号",
    "reconsideration_body": "县人民政府",
    "department": "治安大队",
}


def _case(*later: tuple[str, dict[str, Any]]) -> CaseState:
    return folded(event("ReconsiderationApplied", "R-1", KIND, APPLICATION), *later)


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


CASES = [
    CommandCase(
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
    CommandCase(
        rc.RecordAcceptance(simplified=True),
        APPLIED,
        (ev.ReconsiderationAccepted(simplified=True),),
        DECIDED,
        "allowed when: applied",
        Role.department_head,
    ),
    CommandCase(
        rc.RecordCopyReceived(),
        ACCEPTED,
        (ev.ApplicationCopyReceived(),),
        COPY_RECEIVED,
        "already recorded as received",
        Role.handler,
    ),
    CommandCase(
        rc.SubmitReply(summary="答复书及证据", evidence_count=7),
        COPY_RECEIVED,
        (ev.ReplySubmitted(summary="答复书及证据", evidence_count=7),),
        REPLIED,
        "already submitted",
        Role.leader,
    ),
    CommandCase(
        rc.RecordHearing(hearing_date=date(2026, 3, 18), agency_head_appeared=True),
        ACCEPTED,
        (ev.HearingHeld(hearing_date=date(2026, 3, 18), agency_head_appeared=True),),
        APPLIED,
        "allowed when: accepted",
        Role.handler,
    ),
    CommandCase(
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
    CommandCase(
        rc.RecordOpinion(opinion_no="复意字2号", requested_action="纠正并报告"),
        DECIDED,
        (ev.ReconsiderationOpinionReceived(opinion_no="复意字2号", requested_action="纠正并报告"),),
        WITH_OPINION.model_copy(update={"opinion_no": "复意字2号"}),
        "already recorded",
        Role.supervisor,
    ),
    CommandCase(
        rc.Withdraw(reason="申请人撤回"),
        ACCEPTED,
        (ev.ReconsiderationWithdrawn(reason="申请人撤回"),),
        DECIDED,
        "'decided'",
        Role.handler,
    ),
]


def test_every_reconsideration_command_is_declared_in_the_catalogue_and_tested() -> None:
    check_every_command_tested(ev.CaseKind.reconsideration, CASES)


@each_case(CASES)
def test_a_command_gives_its_events_where_allowed_and_is_refused_by_state_and_by_role(
    case: CommandCase,
) -> None:
    check_decision(case, "li", NOW)


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
