"""The table-driven checks the unit tests of every kind's commands share: one `CommandCase`
per command (a state that allows it and the events it becomes there, a state that refuses it
and words of the refusal, a role it does not name) and the checks each kind runs on its table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from pydantic import BaseModel

from casestream.domain import catalog as ev
from casestream.domain import command_catalogue
from casestream.domain.cases import fold
from casestream.domain.commands import Command, Context, Refusal, Role, RoleRefused, decide
from casestream.domain.envelope import Event
from casestream.domain.lifecycle import CaseState
from tests.events import event


@dataclass(frozen=True)
class CommandCase:
    """One command and what its decision must answer."""

    body: Command
    allowed: CaseState | None  # a state that allows it (None: not registered yet)
    payloads: tuple[ev.Payload, ...]  # what it becomes there
    refused: CaseState  # a state that refuses it
    because: str  # words the refusal names
    wrong_role: Role  # a role that may not give it
    role: Role | None = None  # the role that gives it; None: every role the command names

    @property
    def roles(self) -> tuple[Role, ...]:
        """The roles the checks give the command as (the first of them for the refusal)."""
        return (self.role,) if self.role is not None else tuple(sorted(self.body.roles))


def case_name(case: CommandCase) -> str:
    return case.body.name


def each_case(cases: Iterable[CommandCase]) -> pytest.MarkDecorator:
    """Parametrise a test over `cases` (argument `case`), each named after its command."""
    return pytest.mark.parametrize("case", list(cases), ids=case_name)


def check_allowed(case: CommandCase, actor: str, now: datetime) -> None:
    """Each role of the case, on its allowing state, gets exactly its payloads."""
    for role in case.roles:
        assert decide(case.allowed, case.body, Context(actor, role, now)) == case.payloads


def check_refused(case: CommandCase, actor: str, now: datetime) -> None:
    """On the refusing state the command is refused with a reason naming `because`."""
    decision = decide(case.refused, case.body, Context(actor, case.roles[0], now))
    assert isinstance(decision, Refusal) and case.because in decision.reason, decision


def check_wrong_role(case: CommandCase, actor: str, now: datetime) -> None:
    """A role the command does not name is refused (before the state is looked at)."""
    assert case.wrong_role not in case.body.roles
    with pytest.raises(RoleRefused, match=f"not {case.wrong_role.value}"):
        decide(case.allowed, case.body, Context(actor, case.wrong_role, now))


def check_decision(case: CommandCase, actor: str, now: datetime) -> None:
    """The three answers of a command's decision: its events where the state allows it, a
    refusal naming why where it does not, a refusal of a role it does not name."""
    check_allowed(case, actor, now)
    check_refused(case, actor, now)
    check_wrong_role(case, actor, now)


def declared_commands(kind: ev.CaseKind) -> Mapping[str, type[Command]]:
    """The command models the catalogue declares for `kind`, by name."""
    return {
        name: handler.model
        for (declared_kind, name), handler in command_catalogue.COMMANDS.items()
        if declared_kind is kind
    }


def check_every_command_tested(kind: ev.CaseKind, cases: Iterable[CommandCase]) -> None:
    """The table names every command the catalogue declares for `kind`, and no other."""
    assert set(declared_commands(kind)) == {case.body.name for case in cases}


def bounds(model: type[BaseModel], field: str) -> dict[str, Any]:
    """The JSON-schema bounds of a model's field (its title, default and description left out)."""
    found = dict(model.model_json_schema()["properties"][field])
    for loose in ("title", "default", "description"):
        found.pop(loose, None)
    return found


def check_bounds(case: CommandCase, *, every_field_fills: bool = False) -> None:
    """Each field of the command has the bounds of the field of the same name it fills in its
    first event (with `every_field_fills`, every field of the command fills one)."""
    command, filled = type(case.body), type(case.payloads[0])
    shared = set(command.model_fields) & set(filled.model_fields)
    if every_field_fills:
        assert shared == set(command.model_fields), "every field fills its event"
    for field in sorted(shared):
        assert bounds(command, field) == bounds(filled, field), field


def folded(opening: Event[Any], *later: tuple[str, dict[str, Any]]) -> CaseState:
    """The case `opening` opened after the `later` events (type, payload), one a day."""
    events = [opening] + [
        event(name, opening.case_id, opening.case_kind.value, payload, day=number + 1)
        for number, (name, payload) in enumerate(later)
    ]
    state = fold(events)
    assert state is not None
    return state
