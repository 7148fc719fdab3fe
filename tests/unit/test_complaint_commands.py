"""The staff commands on a complaint: an allowed role on a state that allows the step gets the
expected events; a state that does not allow it is refused naming why; a role the command does
not name is refused before the state is looked at."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from casestream.domain import catalog as ev
from casestream.domain import command_catalogue
from casestream.domain.commands import Command, Context, Refusal, Role, RoleRefused, decide
from casestream.domain.complaint_commands import (
    AcceptComplaint,
    AssignComplaint,
    CloseSupervision,
    ExtendDeadline,
    RecordFollowUp,
    RegisterComplaint,
    RejectComplaint,
    ReopenComplaint,
    ReplyToComplaint,
    ResolveComplaint,
    ResumeComplaint,
    SuspendComplaint,
    TransferComplaint,
)
from casestream.domain.complaints import ComplaintState

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTOR = "li.si"


def complaint(status: str, **fields: Any) -> ComplaintState:
    known: dict[str, Any] = {"department": "治安大队", **fields}
    return ComplaintState(
        case_id="C-1", case_kind=ev.CaseKind.complaint, status=status, version=3, **known
    )


@dataclass(frozen=True)
class Step:
    body: Command
    role: Role  # one role that may give it
    allowed: ComplaintState | None  # a state that allows it
    payloads: tuple[ev.Payload, ...]  # what it becomes there
    refused: ComplaintState  # a state that refuses it
    because: str  # words the refusal names
    wrong_role: Role  # a role that may not give it


STEPS = [
    Step(
        RegisterComplaint(
            channel=ev.Channel.window,
            subject="窗口办证拖延",
            complainant=ev.Person(name="王伟"),
            department="户政大队",
        ),
        Role.handler,
        None,
        (
            ev.ComplaintReceived(
                channel=ev.Channel.window,
                subject="窗口办证拖延",
                complainant=ev.Person(name="王伟"),
                department="户政大队",
            ),
        ),
        complaint("received"),
        "already registered",
        Role.system,
    ),
    Step(
        AcceptComplaint(department="户政大队"),
        Role.handler,
        complaint("received"),
        (ev.ComplaintAccepted(department="户政大队"),),
        complaint("resolved"),
        "ComplaintAccepted is not allowed while the complaint is 'resolved'",
        Role.leader,
    ),
    Step(
        RejectComplaint(reason="不属于本机关职责范围"),
        Role.department_head,
        complaint("received"),
        (ev.ComplaintRejected(reason="不属于本机关职责范围"),),
        complaint("accepted"),
        "'accepted'; allowed when: received",
        Role.handler,
    ),
    Step(
        AssignComplaint(department="治安大队", handler="民警101"),
        Role.legal,
        complaint("accepted"),
        (ev.ComplaintAssigned(department="治安大队", handler="民警101"),),
        complaint("received"),
        "'received'",
        Role.handler,
    ),
    Step(
        TransferComplaint(to_department="交警大队", reason="属交通管理"),
        Role.department_head,
        complaint("assigned"),
        (ev.ComplaintTransferred(to_department="交警大队", reason="属交通管理"),),
        complaint("assigned", department="交警大队"),
        "already with 交警大队",
        Role.handler,
    ),
    Step(
        ReplyToComplaint(reply="已电话答复投诉人"),
        Role.handler,
        complaint("assigned"),
        (ev.ComplaintReplied(reply="已电话答复投诉人"),),
        complaint("received"),
        "'received'",
        Role.supervisor,
    ),
    Step(
        ResolveComplaint(outcome=ev.ComplaintOutcome.explained, summary="已解释说明"),
        Role.handler,
        complaint("replied"),
        (ev.ComplaintResolved(outcome=ev.ComplaintOutcome.explained, summary="已解释说明"),),
        complaint("followed_up"),
        "'followed_up'",
        Role.leader,
    ),
    Step(
        RecordFollowUp(satisfaction=2, comment="仍不满意"),
        Role.supervisor,
        complaint("resolved"),
        (ev.ComplaintFollowUpVisited(satisfaction=2, comment="仍不满意"),),
        complaint("assigned"),
        "'assigned'; allowed when: followed_up, resolved",
        Role.leader,
    ),
    Step(
        ReopenComplaint(reason="投诉人不满意答复"),
        Role.supervisor,
        complaint("followed_up"),
        (ev.ComplaintReopened(reason="投诉人不满意答复"),),
        complaint("assigned"),
        "'assigned'",
        Role.handler,
    ),
    Step(
        ExtendDeadline(new_length=30, rule="complaint.handling", reason="案情复杂"),
        Role.leader,
        complaint("assigned"),
        (
            ev.DeadlineExtended(
                approved_by=ACTOR, new_length=30, rule="complaint.handling", reason="案情复杂"
            ),
        ),
        complaint("resolved"),
        "'resolved'",
        Role.legal,
    ),
    Step(
        SuspendComplaint(reason="等待鉴定结果"),
        Role.department_head,
        complaint("assigned"),
        (ev.CaseSuspended(reason="等待鉴定结果"),),
        complaint("assigned", paused=True),
        "already suspended",
        Role.handler,
    ),
    Step(
        ResumeComplaint(reason="鉴定结果已出"),
        Role.legal,
        complaint("assigned", paused=True),
        (ev.CaseResumed(reason="鉴定结果已出"),),
        complaint("assigned"),
        "not suspended",
        Role.handler,
    ),
    Step(
        CloseSupervision(conclusion="已约谈承办人并重新答复"),
        Role.supervisor,
        complaint("followed_up", satisfaction=1, supervision=True),
        (ev.SupervisionClosed(supervisor=ACTOR, conclusion="已约谈承办人并重新答复"),),
        complaint("followed_up", satisfaction=4),
        "not under 督察 supervision",
        Role.legal,
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


def test_the_catalogue_declares_every_complaint_command_with_both_labels() -> None:
    declared = {
        name: handler.model
        for (kind, name), handler in command_catalogue.COMMANDS.items()
        if kind is ev.CaseKind.complaint
    }
    assert set(declared) == {step.body.name for step in STEPS}
    for model in declared.values():
        assert model.label_zh and model.label_en and model.roles
        assert model.__doc__ and "Roles:" in model.__doc__


def test_only_a_department_head_or_the_leadership_approves_an_extension() -> None:
    assert ExtendDeadline.roles == {Role.department_head, Role.leader}


def test_a_12345_work_order_is_not_registered_by_staff() -> None:
    with pytest.raises(ValidationError) as caught:
        RegisterComplaint(channel=ev.Channel.hotline_12345, subject="出警慢")
    assert [error["loc"] for error in caught.value.errors()] == [("channel",)]


def test_a_step_the_lifecycle_refuses_is_refused_for_that_before_the_flag_is_looked_at() -> None:
    decision = decide(
        complaint("resolved"), SuspendComplaint(reason="等待"), Context(ACTOR, Role.legal, NOW)
    )
    assert isinstance(decision, Refusal) and "'resolved'" in decision.reason


def _bounds(model: type[BaseModel], field: str) -> dict[str, Any]:
    found = dict(model.model_json_schema()["properties"][field])
    for loose in ("title", "default", "description"):
        found.pop(loose, None)
    return found


@pytest.mark.parametrize("step", STEPS, ids=_id)
def test_each_command_field_has_the_bounds_of_the_event_field_it_fills(step: Step) -> None:
    command, event = type(step.body), type(step.payloads[0])
    shared = set(command.model_fields) & set(event.model_fields)
    for field in sorted(shared):
        assert _bounds(command, field) == _bounds(event, field), field
