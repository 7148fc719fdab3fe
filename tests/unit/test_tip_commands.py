"""The staff commands on an enterprise tip-off: an allowed role on a state that allows the step
gets the expected events; a state that does not allow it is refused naming why; a role the
command does not name is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from casestream.domain import catalog as ev
from casestream.domain.commands import Context, Role, decide
from casestream.domain.tip_commands import (
    AssignTip,
    CloseTip,
    ExtendTipDeadline,
    GiveFeedback,
    RecordVerification,
    RegisterTip,
    ResumeTip,
    SuspendTip,
)
from casestream.domain.tips import TipState
from tests.command_cases import (
    CommandCase,
    check_bounds,
    check_decision,
    check_every_command_tested,
    declared_commands,
    each_case,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTOR = "zhao.liu"


def tip(status: str, **fields: Any) -> TipState:
    return TipState(
        case_id="T-1", case_kind=ev.CaseKind.enterprise_tip, status=status, version=2, **fields
    )


CASES = [
    CommandCase(
        RegisterTip(
            enterprise="华星物流有限公司",
            subject="检查中乱罚款",
            informant=ev.Person(name="周某"),
            anonymous=True,
            department="治安大队",
        ),
        None,
        (
            ev.TipReceived(
                enterprise="华星物流有限公司",
                subject="检查中乱罚款",
                informant=ev.Person(name="周某"),
                anonymous=True,
                department="治安大队",
            ),
        ),
        tip("received"),
        "already registered",
        Role.supervisor,
        role=Role.legal,
    ),
    CommandCase(
        AssignTip(department="督察大队", handler="民警205"),
        tip("received"),
        (ev.TipAssigned(department="督察大队", handler="民警205"),),
        tip("closed"),
        "TipAssigned is not allowed while the enterprise_tip is 'closed'",
        Role.handler,
        role=Role.department_head,
    ),
    CommandCase(
        RecordVerification(result=ev.VerificationResult.partly, findings="部分属实"),
        tip("assigned"),
        (ev.TipVerified(result=ev.VerificationResult.partly, findings="部分属实"),),
        tip("verified"),
        "'verified'; allowed when: assigned, received",
        Role.leader,
        role=Role.handler,
    ),
    CommandCase(
        CloseTip(summary="已责令退还罚款"),
        tip("verified"),
        (ev.TipClosed(summary="已责令退还罚款"),),
        tip("assigned"),
        "'assigned'; allowed when: verified",
        Role.handler,
        role=Role.legal,
    ),
    CommandCase(
        GiveFeedback(method="phone", summary="已电话反馈举报人"),
        tip("closed"),
        (ev.TipFeedbackGiven(method="phone", summary="已电话反馈举报人"),),
        tip("assigned"),
        "'assigned'",
        Role.system,
        role=Role.handler,
    ),
    CommandCase(
        ExtendTipDeadline(new_length=20, rule="enterprise_tip.handling", reason="涉及多家企业"),
        tip("assigned"),
        (
            ev.DeadlineExtended(
                approved_by=ACTOR,
                new_length=20,
                rule="enterprise_tip.handling",
                reason="涉及多家企业",
            ),
        ),
        tip("closed"),
        "'closed'",
        Role.legal,
        role=Role.department_head,
    ),
    CommandCase(
        SuspendTip(reason="等待税务部门核查"),
        tip("assigned"),
        (ev.CaseSuspended(reason="等待税务部门核查"),),
        tip("assigned", paused=True),
        "already suspended",
        Role.handler,
        role=Role.legal,
    ),
    CommandCase(
        ResumeTip(reason="核查结果已出"),
        tip("verified", paused=True),
        (ev.CaseResumed(reason="核查结果已出"),),
        tip("verified"),
        "not suspended",
        Role.handler,
        role=Role.department_head,
    ),
]


@each_case(CASES)
def test_a_command_gives_its_events_where_allowed_and_is_refused_by_state_and_by_role(
    case: CommandCase,
) -> None:
    check_decision(case, ACTOR, NOW)


def test_the_catalogue_declares_every_tip_command_with_both_labels() -> None:
    check_every_command_tested(ev.CaseKind.enterprise_tip, CASES)
    for model in declared_commands(ev.CaseKind.enterprise_tip).values():
        assert model.label_zh and model.label_en and model.roles
        assert model.__doc__ and "Roles:" in model.__doc__


def test_a_tip_command_on_a_complaint_is_not_found() -> None:
    complaint = TipState(case_id="C-1", case_kind=ev.CaseKind.complaint, status="received")
    with pytest.raises(LookupError):
        decide(complaint, CloseTip(), Context(ACTOR, Role.legal, NOW))


@each_case(CASES)
def test_each_command_field_has_the_bounds_of_the_event_field_it_fills(case: CommandCase) -> None:
    check_bounds(case, every_field_fills=True)
