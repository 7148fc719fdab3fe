"""The rules of the rectification commands (decided in the domain before a command becomes an
event), and the command table every command route is made from."""

from __future__ import annotations

import pytest

from casestream.api.rectification_commands import COMMANDS, RectificationCommand
from casestream.credentials import Principal
from casestream.domain import catalog as ev
from casestream.domain.commands import Role
from casestream.domain.rectifications import (
    NO_OPEN_REVIEW,
    RectificationState,
    command_refusal,
    manual_rectification_id,
    manual_review_task,
)


def _state(status: str, review_status: str | None = None) -> RectificationState:
    return RectificationState(
        case_id="RECT-1",
        case_kind=ev.CaseKind.rectification,
        status=status,
        version=3,
        review_status=review_status,
    )


def test_a_review_is_completed_only_while_its_review_task_is_open() -> None:
    assert command_refusal(_state("open", "open"), ev.ReviewCompleted) is None
    assert command_refusal(_state("open", "completed"), ev.ReviewCompleted) == NO_OPEN_REVIEW
    assert command_refusal(_state("verified", None), ev.ReviewCompleted) == NO_OPEN_REVIEW


def test_other_commands_follow_the_transition_table() -> None:
    assert command_refusal(_state("completed"), ev.RectificationVerified) is None
    refusal = command_refusal(_state("open"), ev.RectificationVerified)
    assert refusal is not None and "'open'" in refusal and "completed" in refusal


def test_a_rectification_opened_by_hand_has_a_recognisable_id() -> None:
    assert manual_rectification_id("0a1b2c3d4e5f67890") == "RECT-M-0A1B2C3D4E"


def test_its_review_task_reviews_the_source_case_named_or_else_the_rectification() -> None:
    opened = ev.RectificationOpened(department="治安大队", responsible_person="李四")
    task = manual_review_task("RECT-M-1", opened)
    assert task.source_case_id == "RECT-M-1"
    assert task.source_case_kind is ev.CaseKind.rectification
    assert (task.department, task.responsible_person) == ("治安大队", "李四")
    named = opened.model_copy(update={"source_case_id": "L-9"})
    assert manual_review_task("RECT-M-1", named).source_case_id == "L-9"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_each_command_fills_every_required_field_of_its_event(
    command: RectificationCommand,
) -> None:
    filled = set(command.body.model_fields) | {command.signed_by} - {None}
    required = {name for name, field in command.event.model_fields.items() if field.is_required()}
    assert filled <= set(command.event.model_fields)
    assert required <= filled
    assert command.event.origin is ev.Origin.command


def test_the_table_names_each_route_once() -> None:
    assert len({command.path for command in COMMANDS}) == len(COMMANDS)
    assert len({command.name for command in COMMANDS}) == len(COMMANDS)


def test_a_signed_command_records_the_caller() -> None:
    verify = next(command for command in COMMANDS if command.event is ev.RectificationVerified)
    body = verify.body.model_validate({"comment": "已核实"})
    payload = verify.payload(body, Principal("sup-1", Role.supervisor, None))
    assert payload == ev.RectificationVerified(supervisor="sup-1", comment="已核实")
