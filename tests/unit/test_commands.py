"""The command base: roles, registration and the decision's order of refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import pytest

from casestream.domain import commands
from casestream.domain.catalog import CaseKind, ComplaintReplied, ComplaintResolved
from casestream.domain.commands import (
    Command,
    Context,
    Handler,
    Refusal,
    Role,
    RoleRefused,
    allowed,
    command,
    decide,
)
from casestream.domain.complaint_commands import RegisterComplaint
from casestream.domain.complaints import COMPLAINT, ComplaintState

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class _Note(Command):
    name: ClassVar[str] = "test_note"
    case_kind: ClassVar[CaseKind] = CaseKind.complaint
    roles: ClassVar[frozenset[Role]] = frozenset({Role.handler})
    label_zh: ClassVar[str] = "备注"
    label_en: ClassVar[str] = "Note"

    text: str


def _decide_note(state: ComplaintState | None, note: _Note, context: Context) -> Refusal:
    return Refusal(f"noted {note.text} by {context.actor}")


@pytest.fixture(autouse=True)
def _declared(monkeypatch: pytest.MonkeyPatch) -> None:
    """_Note is in the catalogue for one test only (the real catalogue stays as declared)."""
    monkeypatch.setitem(
        commands._COMMANDS, (CaseKind.complaint, "test_note"), Handler(_Note, _decide_note)
    )


def _state(kind: CaseKind = CaseKind.complaint) -> ComplaintState:
    return ComplaintState(case_id="C-1", case_kind=kind, status="received", version=3)


def test_a_role_the_command_does_not_name_is_refused_before_the_state_is_judged() -> None:
    with pytest.raises(RoleRefused, match="may be given by handler, not leader"):
        decide(_state(), _Note(text="x"), Context("li", Role.leader, NOW))


def test_a_command_on_a_case_that_does_not_exist_is_refused_and_a_valid_one_decided() -> None:
    assert decide(None, _Note(text="x"), Context("li", Role.handler, NOW)) == Refusal(
        "no such case is registered"
    )
    assert decide(_state(), _Note(text="x"), Context("li", Role.handler, NOW)) == Refusal(
        "noted x by li"
    )


def test_a_command_of_another_kind_is_not_found_and_a_name_is_declared_once() -> None:
    other = _state().model_copy(update={"case_kind": CaseKind.enterprise_tip})
    with pytest.raises(LookupError):
        decide(other, _Note(text="x"), Context("li", Role.handler, NOW))
    with pytest.raises(ValueError, match="declared twice"):
        command(_Note)(lambda state, note, context: ())


def test_a_registration_under_an_id_a_case_of_another_kind_holds_is_refused_as_taken() -> None:
    lawsuit = _state(CaseKind.litigation)
    register = RegisterComplaint(channel="window", subject="窗口拖延")
    assert decide(lawsuit, register, Context("li", Role.handler, NOW)) == Refusal(
        "case C-1 is already registered as a litigation (version 3)"
    )
    with pytest.raises(RoleRefused):  # the role is judged first, as for any command
        decide(lawsuit, register, Context("li", Role.leader, NOW))


def _complaint(status: str) -> ComplaintState:
    return ComplaintState(case_id="C-1", case_kind=CaseKind.complaint, status=status, version=2)


def test_allowed_answers_the_payloads_when_the_lifecycle_allows_the_first_of_them() -> None:
    reply, resolved = ComplaintReplied(reply="已答复"), ComplaintResolved(outcome="substantiated")
    assert allowed(COMPLAINT.refusal, _complaint("assigned"), reply, resolved) == (reply, resolved)


def test_allowed_names_the_lifecycle_s_reason_before_another_one() -> None:
    resolved = ComplaintResolved(outcome="substantiated")
    refused = allowed(COMPLAINT.refusal, _complaint("received"), resolved, unless="another")
    assert isinstance(refused, Refusal) and "'received'" in refused.reason
    assert allowed(COMPLAINT.refusal, _complaint("assigned"), resolved, unless="another") == (
        Refusal("another")
    )
    assert allowed(COMPLAINT.refusal, None, resolved) == Refusal(
        "case does not exist yet; ComplaintResolved needs an opened complaint"
    )


def test_allowed_needs_a_payload() -> None:
    with pytest.raises(ValueError, match="at least one payload"):
        allowed(COMPLAINT.refusal, _complaint("assigned"))
