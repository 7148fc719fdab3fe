"""可办理事项 of the case detail page: which commands of the catalogue the signed-in role may
give on the case now, asked of the domain's own decisions (`commands.decide`).

A decision needs a command's fields, which only the command's form collects; the page asks it
with neutral sample fields (a placeholder text, the first or last member of a choice, today
or a year ahead for a date) and counts a command as possible now when any sample is allowed.
What the samples cannot tell (a decision that refuses one particular value, e.g. the
department the case is already with) the form's answer tells when it is posted.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from casestream.domain.command_catalogue import COMMANDS
from casestream.domain.commands import Command, Context, Refusal, Role, RoleRefused, decide
from casestream.domain.lifecycle import CaseState

from .console_labels import ROLES, label, status_label

PLACEHOLDER = "待填写"
SAMPLES = 2  # low (first member, today) and high (last member, a year ahead)


@dataclass(frozen=True)
class CommandOption:
    """A command of the case's kind as the page lists it: possible now (`reason` None) or not."""

    name: str
    label: str
    href: str
    reason: str | None = None  # why it is not possible now (Chinese)
    detail: str | None = None  # the domain's own words for a refusal by the case's state


def _sample(annotation: Any, high: bool, today: date) -> Any:
    """A value of `annotation` that passes the event models' checks."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _sample(args[0], high, today)
    if origin in (Union, types.UnionType):
        members = [member for member in args if member is not type(None)]
        return _sample(members[0], high, today) if members else None
    if origin is Literal:
        return args[-1] if high else args[0]
    if origin in (list, tuple, set, frozenset):
        return [_sample(args[0], high, today)] if args else []
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            members = list(annotation)
            return members[-1] if high else members[0]
        if issubclass(annotation, bool):
            return False
        if issubclass(annotation, int):
            return 1
        if issubclass(annotation, str):
            return PLACEHOLDER
        if issubclass(annotation, datetime):
            return datetime.combine(today, datetime.min.time())
        if issubclass(annotation, date):
            return today + timedelta(days=365) if high else today
        if issubclass(annotation, BaseModel):
            return annotation.model_construct(**_required(annotation, high, today))
    return None


def _required(model: type[BaseModel], high: bool, today: date) -> dict[str, Any]:
    return {
        name: _sample(field.annotation, high, today)
        for name, field in model.model_fields.items()
        if field.is_required()
    }


def _samples(model: type[Command], today: date) -> list[Command]:
    return [
        model.model_construct(**_required(model, high, today)) for high in (False, True)[:SAMPLES]
    ]


def _refusal(state: CaseState, model: type[Command], context: Context) -> str | None:
    """The domain's reason against `model` on `state` for every sample; None when one is
    allowed, or when no sample can be decided (the form decides)."""
    reasons: list[str] = []
    for body in _samples(model, context.now.date()):
        try:
            decision = decide(state, body, context)
        except RoleRefused:
            raise
        except Exception:  # a sample the decision cannot read: leave it to the form
            return None
        if not isinstance(decision, Refusal):
            return None
        reasons.append(decision.reason)
    return reasons[0] if reasons else None


def command_options(state: CaseState, role: Role, actor: str, now: datetime) -> list[CommandOption]:
    """Every command of the case's kind but its registration, in the catalogue's order: those
    `role` may give on `state` now first, then the others with the reason (`now`: local)."""
    context = Context(actor, role, now, state.case_id)
    refused_now = f"案件当前为“{status_label(state.case_kind, state.status)}”，不可办理"
    possible: list[CommandOption] = []
    barred: list[CommandOption] = []
    for (kind, name), handler in COMMANDS.items():  # declaration order: working order
        model: type[Command] = handler.model
        if kind is not state.case_kind or model.opens_case:
            continue
        href = f"/console/cases/{state.case_id}/commands/{name}"
        if role not in model.roles:
            who = "、".join(label(ROLES, r) for r in sorted(model.roles))
            barred.append(CommandOption(name, model.label_zh, href, f"需由{who}办理"))
            continue
        reason = _refusal(state, model, context)
        if reason is None:
            possible.append(CommandOption(name, model.label_zh, href))
        else:
            barred.append(CommandOption(name, model.label_zh, href, refused_now, reason))
    return possible + barred
