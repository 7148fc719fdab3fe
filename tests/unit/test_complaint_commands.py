"""The staff commands on a complaint: an allowed role on a state that allows the step gets the
expected events; a state that does not allow it is refused naming why; a role the command does
not name is refused before the state is looked at."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from casestream.domain import catalog as ev
from casestream.domain.commands import Context, Refusal, Role, decide
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
from tests.command_cases import (
    CommandCase,
    check_bounds,
    check_decision,
    check_every_command_tested,
    declared_commands,
    each_case,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTOR = "li.si"


def complaint(status: str, **fields: Any) -> ComplaintState:
    known: dict[str, Any] = {"department": "治安大队", **fields}
    return ComplaintState(
        case_id="C-1", case_kind=ev.CaseKind.complaint, status=status, version=3, **known
    )


CASES = [
    CommandCase(
        RegisterComplaint(
            channel=ev.Channel.window,
            subject="窗口办证拖延",
            complainant=ev.Person(name="王伟"),
            department="户政大队",
        ),
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
        role=Role.handler,
    ),
    CommandCase(
        AcceptComplaint(department="户政大队"),
        complaint("received"),
        (ev.ComplaintAccepted(department="户政大队"),),
        complaint("resolved"),
        "ComplaintAccepted is not allowed while the complaint is 'resolved'",
        Role.leader,
        role=Role.handler,
    ),
    CommandCase(
        RejectComplaint(reason="不属于本机关职责范围"),
        complaint("received"),
        (ev.ComplaintRejected(reason="不属于本机关职责范围"),),
        complaint("accepted"),
        "'accepted'; allowed when: received",
        Role.handler,
        role=Role.department_head,
    ),
    CommandCase(
        AssignComplaint(department="治安大队", handler="民警101"),
        complaint("accepted"),
        (ev.ComplaintAssigned(department="治安大队", handler="民警101"),),
        complaint("received"),
        "'received'",
        Role.handler,
        role=Role.legal,
    ),
    CommandCase(
        TransferComplaint(to_department="交警大队", reason="属交通管理"),
        complaint("assigned"),
        (ev.ComplaintTransferred(to_department="交警大队", reason="属交通管理"),),
        complaint("assigned", department="交警大队"),
        "already with 交警大队",
        Role.handler,
        role=Role.department_head,
    ),
    CommandCase(
        ReplyToComplaint(reply="已电话答复投诉人"),
        complaint("assigned"),
        (ev.ComplaintReplied(reply="已电话答复投诉人"),),
        complaint("received"),
        "'received'",
        Role.supervisor,
        role=Role.handler,
    ),
    CommandCase(
        ResolveComplaint(outcome=ev.ComplaintOutcome.explained, summary="已解释说明"),
        complaint("replied"),
        (ev.ComplaintResolved(outcome=ev.ComplaintOutcome.explained, summary="已解释说明"),),
        complaint("followed_up"),
        "'followed_up'",
        Role.leader,
        role=Role.handler,
    ),
    CommandCase(
        RecordFollowUp(satisfaction=2, comment="仍不满意"),
        complaint("resolved"),
        (ev.ComplaintFollowUpVisited(satisfaction=2, comment="仍不满意"),),
        complaint("assigned"),
        "'assigned'; allowed when: followed_up, resolved",
        Role.leader,
        role=Role.supervisor,
    ),
    CommandCase(
        ReopenComplaint(reason="投诉人不满意答复"),
        complaint("followed_up"),
        (ev.ComplaintReopened(reason="投诉人不满意答复"),),
        complaint("assigned"),
        "'assigned'",
        Role.handler,
        role=Role.supervisor,
    ),
    CommandCase(
        ExtendDeadline(new_length=30, rule="complaint.handling", reason="案情复杂"),
        complaint("assigned"),
        (
            ev.DeadlineExtended(
                approved_by=ACTOR, new_length=30, rule="complaint.handling", reason="案情复杂"
            ),
        ),
        complaint("resolved"),
        "'resolved'",
        Role.legal,
        role=Role.leader,
    ),
    CommandCase(
        SuspendComplaint(reason="等待鉴定结果"),
        complaint("assigned"),
        (ev.CaseSuspended(reason="等待鉴定结果"),),
        complaint("assigned", paused=True),
        "already suspended",
        Role.handler,
        role=Role.department_head,
    ),
    CommandCase(
        ResumeComplaint(reason="鉴定结果已出"),
        complaint("assigned", paused=True),
        (ev.CaseResumed(reason="鉴定结果已出"),),
        complaint("assigned"),
        "not suspended",
        Role.handler,
        role=Role.legal,
    ),
    CommandCase(
        CloseSupervision(conclusion="已约谈承办人并重新答复"),
        complaint("followed_up", satisfaction=1, supervision=True),
        (ev.SupervisionClosed(supervisor=ACTOR, conclusion="已约谈承办人并重新答复"),),
        complaint("followed_up", satisfaction=4),
        "not under 督察 supervision",
        Role.legal,
        role=Role.supervisor,
    ),
]


@each_case(CASES)
def test_a_command_gives_its_events_where_allowed_and_is_refused_by_state_and_by_role(
    case: CommandCase,
) -> None:
    check_decision(case, ACTOR, NOW)


def test_the_catalogue_declares_every_complaint_command_with_both_labels() -> None:
    check_every_command_tested(ev.CaseKind.complaint, CASES)
    for model in declared_commands(ev.CaseKind.complaint).values():
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


@each_case(CASES)
def test_each_command_field_has_the_bounds_of_the_event_field_it_fills(case: CommandCase) -> None:
    check_bounds(case)
