"""The staff commands on an enterprise tip-off: an allowed role on a state that allows the step
gets the expected events; a state that does not allow it is refused naming why; a role the
command does not name is refused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from casestream.domain import catalog as ev
from casestream.domain import command_catalogue
from casestream.domain.commands import Command, Context, Refusal, Role, RoleRefused, decide
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

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTOR = "zhao.liu"


def tip(status: str, **fields: Any) -> TipState:
    return TipState(
        case_id="T-1", case_kind=ev.CaseKind.enterprise_tip, status=status, version=2, **fields
    )


@dataclass(frozen=True)
class Step:
    body: Command
    role: Role
    allowed: TipState | None
    payloads: tuple[ev.Payload, ...]
    refused: TipState
    because: str
    wrong_role: Role


STEPS = [
    Step(
        RegisterTip(
            enterprise="华星物流有限公司",
            subject="检查中乱罚款",
            informant=ev.Person(name="周某"),
            anonymous=True,
            department="治安大队",
        ),
        Role.legal,
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
    ),
    Step(
        AssignTip(department="督察大队", handler="民警205"),
        Role.department_head,
        tip("received"),
        (ev.TipAssigned(department="督察大队", handler="民警205"),),
        tip("closed"),
        "TipAssigned is not allowed while the enterprise_tip is 'closed'",
        Role.handler,
    ),
    Step(
        RecordVerification(result=ev.VerificationResult.partly, findings="部分属实"),
        Role.handler,
        tip("assigned"),
        (ev.TipVerified(result=ev.VerificationResult.partly, findings="部分属实"),),
        tip("verified"),
        "'verified'; allowed when: assigned, received",
        Role.leader,
    ),
    Step(
        CloseTip(summary="已责令退还罚款"),
        Role.legal,
        tip("verified"),
        (ev.TipClosed(summary="已责令退还罚款"),),
        tip("assigned"),
        "'assigned'; allowed when: verified",
        Role.handler,
    ),
    Step(
        GiveFeedback(method="phone", summary="已电话反馈举报人"),
        Role.handler,
        tip("closed"),
        (ev.TipFeedbackGiven(method="phone", summary="已电话反馈举报人"),),
        tip("assigned"),
        "'assigned'",
        Role.system,
    ),
    Step(
        ExtendTipDeadline(new_length=20, rule="enterprise_tip.handling", reason="涉及多家企业"),
        Role.department_head,
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
    ),
    Step(
        SuspendTip(reason="等待税务部门核查"),
        Role.legal,
        tip("assigned"),
        (ev.CaseSuspended(reason="等待税务部门核查"),),
        tip("assigned", paused=True),
        "already suspended",
        Role.handler,
    ),
    Step(
        ResumeTip(reason="核查结果已出"),
        Role.department_head,
        tip("verified", paused=True),
        (ev.CaseResumed(reason="核查结果已出"),),
        tip("verified"),
        "not suspended",
        Role.handler,
    ),
]


def _id(step: Step) -> str:
    return step.body.name


@pytest.mark.parametrize("step", STEPS, ids=_id)
def test_an_allowed_role_on_a_state_that_allows_the_step_gets_its_events(step: Step) -> None:
    assert decide(step.allowed, step.body, Context(ACTOR, step.role, NOW)) == step.payloads


@pytest.mark.parametrize("step", STEPS, ids=_id)
def test_a_state_that_does_not_allow_the_step_is_refused_naming_why(step: Step) -> None:
    decision = decide(step.refused, step.body, Context(ACTOR, step.role, NOW))
    assert isinstance(decision, Refusal)
    assert step.because in decision.reason


@pytest.mark.parametrize("step", STEPS, ids=_id)
def test_a_role_the_step_does_not_name_is_refused(step: Step) -> None:
    assert step.wrong_role not in step.body.roles
    with pytest.raises(RoleRefused, match=f"not {step.wrong_role.value}"):
        decide(step.allowed, step.body, Context(ACTOR, step.wrong_role, NOW))


def test_the_catalogue_declares_every_tip_command_with_both_labels() -> None:
    declared = {
        name: handler.model
        for (kind, name), handler in command_catalogue.COMMANDS.items()
        if kind is ev.CaseKind.enterprise_tip
    }
    assert set(declared) == {step.body.name for step in STEPS}
    for model in declared.values():
        assert model.label_zh and model.label_en and model.roles
        assert model.__doc__ and "Roles:" in model.__doc__


def test_a_tip_command_on_a_complaint_is_not_found() -> None:
    complaint = TipState(case_id="C-1", case_kind=ev.CaseKind.complaint, status="received")
    with pytest.raises(LookupError):
        decide(complaint, CloseTip(), Context(ACTOR, Role.legal, NOW))


def _bounds(model: type[BaseModel], field: str) -> dict[str, Any]:
    found = dict(model.model_json_schema()["properties"][field])
    for loose in ("title", "default", "description"):
        found.pop(loose, None)
    return found


@pytest.mark.parametrize("step", STEPS, ids=_id)
def test_each_command_field_has_the_bounds_of_the_event_field_it_fills(step: Step) -> None:
    command, event = type(step.body), type(step.payloads[0])
    shared = set(command.model_fields) & set(event.model_fields)
    assert shared == set(command.model_fields), "every field fills its event"
    for field in sorted(shared):
        assert _bounds(command, field) == _bounds(event, field), field
