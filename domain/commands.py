"""Commands: what a member of staff asks casestream to do on a case, and the pure decision on it.

A command is a request, named as a verb (`accept`, `assign`, `submit_reply`); the events it
produces are facts in the past tense. Each command model declares its case kind, the roles that
may give it and its labels; `decide(state, command, context)` answers with the payloads of the
events to append, or a `Refusal` naming why the case's state does not allow it now (the decide
half of the decide/evolve pair: `cases.evolve` folds the events it returns).

The catalogue (`COMMANDS`) is filled by the modules of each case kind through `command`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from .catalog import CaseKind, Payload
from .lifecycle import CaseState


class Role(StrEnum):
    """Who a caller is in the bureau; what each may decide is declared on each command."""

    handler = "handler"  # 承办人: one department's cases
    department_head = "department_head"  # 部门负责人: one department's cases
    legal = "legal"  # 法制大队: every case
    supervisor = "supervisor"  # 督察: every case; verifies rectifications
    leader = "leader"  # 局领导 bureau leadership: every case
    system = "system"  # another system (12345 hotline, court platform …): posts events


STAFF = frozenset({Role.handler, Role.department_head, Role.legal})
"""Those who carry a case's day-to-day work."""


class Command(BaseModel):
    """Base of every command body: frozen, no unknown fields; bounded like the events."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ClassVar[str]  # e.g. "accept"; unique within the case kind
    case_kind: ClassVar[CaseKind]
    roles: ClassVar[frozenset[Role]]
    label_zh: ClassVar[str]  # one line, shown on forms (受理)
    label_en: ClassVar[str]  # one line (Accept the complaint)
    opens_case: ClassVar[bool] = False  # registers a new case (POST /cases)


@dataclass(frozen=True)
class Refusal:
    """Why a command may not be carried out on the case as it stands (answered as 409)."""

    reason: str


@dataclass(frozen=True)
class Context:
    """What a decision may depend on besides the state and the command."""

    actor: str  # the authenticated caller
    role: Role
    now: datetime  # aware, in the bureau's time zone: `now.date()` is the bureau's day
    case_id: str | None = None  # the case commanded (a registration: the id it is given)


Decision = tuple[Payload, ...] | Refusal
"""The payloads of the events to append to the case, in order, or a refusal."""

C = TypeVar("C", bound=Command)
# a decision's state parameter, `SomeState | None`: the bound is the union itself, since mypy
# does not solve `S | None` against a decorated decision's `SomeState | None`
OptS = TypeVar("OptS", bound=CaseState | None)


@dataclass(frozen=True)
class Handler(Generic[OptS, C]):
    """A command model and its pure decision."""

    model: type[C]
    decide: Callable[[OptS, C, Context], Decision]


_COMMANDS: dict[tuple[CaseKind, str], Handler[Any, Any]] = {}
COMMANDS: Mapping[tuple[CaseKind, str], Handler[Any, Any]] = MappingProxyType(_COMMANDS)
"""Every command by (case kind, name): the catalogue `GET /commands` lists."""


def command(
    model: type[C],
) -> Callable[[Callable[[OptS, C, Context], Decision]], Callable[[OptS, C, Context], Decision]]:
    """Register `model` with the decision it decorates; a name is registered once per kind."""

    def register(
        decide: Callable[[OptS, C, Context], Decision],
    ) -> Callable[[OptS, C, Context], Decision]:
        key = (model.case_kind, model.name)
        if key in _COMMANDS:
            raise ValueError(f"command {model.name!r} of {model.case_kind} is declared twice")
        _COMMANDS[key] = Handler(model, decide)
        return decide

    return register


def allowed(
    refusal: Callable[[OptS, type[Payload]], str | None],
    state: OptS,
    *payloads: Payload,
    unless: str | None = None,
) -> Decision:
    """The payloads when the case in `state` allows the first of them now and no other reason
    (`unless`) stands against it; `refusal` (a lifecycle's `refusal`, or a kind's check built
    on it) is asked first, so its reason is the one named when both stand."""
    if not payloads:
        raise ValueError("a decision allows at least one payload; give the events to append")
    reason = refusal(state, type(payloads[0])) or unless
    return Refusal(reason) if reason is not None else payloads


class RoleRefused(PermissionError):
    """The caller's role may not give this command (answered as 403)."""


def decide(state: CaseState | None, command: Command, context: Context) -> Decision:
    """The decision on `command` for the case in `state` (None: not registered yet).

    Raises RoleRefused for a role the command does not allow and LookupError for a command
    that is not declared or not of the case's kind (the edges answer 403 and 404); refuses a
    registration under an id a case of any kind holds, and any other command on a case that
    does not exist."""
    handler = COMMANDS.get((command.case_kind, command.name))
    if handler is None or not isinstance(command, handler.model):
        raise LookupError(f"no command {command.name!r} of {command.case_kind} is declared")
    # a registration under an id any case holds is refused below, whatever that case's kind
    if state is not None and state.case_kind is not command.case_kind and not command.opens_case:
        raise LookupError(
            f"{command.name} is a {command.case_kind} command, not a {state.case_kind} one"
        )
    if context.role not in command.roles:
        roles = ", ".join(sorted(command.roles))
        raise RoleRefused(f"{command.name} may be given by {roles}, not {context.role}")
    if command.opens_case and state is not None:
        return Refusal(
            f"case {state.case_id} is already registered as a {state.case_kind} "
            f"(version {state.version})"
        )
    if not command.opens_case and state is None:
        return Refusal("no such case is registered")
    return handler.decide(state, command, context)
