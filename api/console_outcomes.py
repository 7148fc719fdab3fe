"""Carrying out the command of a posted console form through the API's own path
(`command_writes.carry_out`, as `case_commands.py` does) as the signed-in user, and what a
refusal says to that user, in Chinese: the role, the case's state, a stale form, a busy case,
a missing Kafka, or the inputs at fault."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pydantic
from fastapi import HTTPException
from fastapi.exceptions import RequestValidationError

from casestream.domain.commands import Command
from casestream.read_models.staff_sessions import OpenSession

from .auth import Principal
from .command_writes import BUSY, Carried, CommandTarget, Standing, carry_out
from .console_forms import command_fields, command_values, field_of, validation_errors
from .console_labels import ROLES, label, status_label
from .console_posts import PostedForm, kept_files
from .deps import Services
from .sessions import session_principal

STALE = "案件已被更新（当前版本 {version}），请核对案件后重新提交。"
TO_CORRECT = "表单中有需要更正的内容，请查看标出的项目。"
NOT_ALLOWED = re.compile(r"is not allowed while the \w+ is '[^']*'; allowed when: (.+)$")


def roles_text(model: type[Command]) -> str:
    return "、".join(label(ROLES, role) for role in sorted(model.roles))


def role_refusal(session: OpenSession, model: type[Command]) -> str | None:
    """Why the session's role may not give the command (None: it may)."""
    if session.role in model.roles:
        return None
    return (
        f"您的角色（{label(ROLES, session.role)}）不能执行「{model.label_zh}」；"
        f"可执行的角色：{roles_text(model)}。"
    )


@dataclass(frozen=True)
class Outcome:
    """A form that was not carried out: the status, the form's message and each input's."""

    status_code: int
    message: str | None
    errors: dict[str, str]
    current_version: int | None = None


def refusal_outcome(
    exc: HTTPException, model: type[Command], session: OpenSession, standing: Standing | None
) -> Outcome:
    """A refusal of `carry_out`, said in Chinese (the domain's reason kept after it)."""
    detail = exc.detail
    reason = detail.get("reason", "") if isinstance(detail, dict) else str(detail)
    current = detail.get("current_version") if isinstance(detail, dict) else None
    if exc.status_code == 403:
        if model.opens_case and session.role in model.roles:
            text = f"您只能登记本部门（{session.department}）的案件，请在「承办部门」填写本部门。"
        else:
            text = role_refusal(session, model) or "您无权执行此操作。"
        return Outcome(403, text, {})
    if exc.status_code == 409:
        return Outcome(409, _conflict_text(reason, model, standing, current), {}, current)
    if exc.status_code == 503:
        text = (
            "消息服务（Kafka）暂时不可用，本次操作未执行。请稍后重新提交；"
            "如持续出现，请联系系统管理员。"
        )
        return Outcome(503, text, {})
    return Outcome(exc.status_code, f"操作未执行：{reason[:300]}", {})


def _conflict_text(
    reason: str, model: type[Command], standing: Standing | None, current: Any
) -> str:
    if reason == BUSY:
        return "此案件的上一项操作尚在处理中，请稍候几秒后重新提交。"
    if reason.startswith("the case is at version"):
        return STALE.format(version=current)
    if model.opens_case:
        return f"该案件编号已被使用，请换一个编号。（{reason[:300]}）"
    state = standing.state if standing is not None else None
    kind = model.case_kind.value
    status = status_label(kind, state.status) if state is not None else ""
    where = f"案件当前状态为「{status}」，" if status else ""
    by_state = NOT_ALLOWED.search(reason)
    if by_state is not None:  # the lifecycle's refusal: the statuses that would allow it
        allowed = "、".join(f"「{status_label(kind, s.strip())}」" for s in by_state[1].split(","))
        return f"{where}不能执行「{model.label_zh}」：仅在{allowed}状态下可执行。"
    return f"{where}不能执行「{model.label_zh}」。原因：{reason[:300]}"


def unprocessable_outcome(exc: RequestValidationError, names: list[str], at: str) -> Outcome:
    """A 422 of `carry_out` (an implausible date, a file not uploaded …) by input."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] == "body":
            location = location[1:]
        if at and location and location[0] == at:
            location = location[1:]
        where = field_of(location, names)
        errors.setdefault(where, f"填写有误：{str(error.get('msg', ''))[:300]}")
    return Outcome(422, TO_CORRECT, errors)


async def carried_out(
    services: Services,
    principal: Principal,
    target: CommandTarget,
    command: Command,
    standing: Standing | None,
    session: OpenSession,
    names: list[str],
) -> Carried | Outcome:
    try:
        return await carry_out(services, principal, target, command, standing)
    except HTTPException as exc:
        return refusal_outcome(exc, type(command), session, standing)
    except RequestValidationError as exc:
        return unprocessable_outcome(exc, names, target.fields_at)


async def decided(
    services: Services,
    checked: PostedForm,
    model: type[Command],
    target: CommandTarget,
    standing: Standing | None,
    extra_errors: dict[str, str],
) -> Carried | Outcome:
    """The command of the posted form carried out, or why not (the role first: no file of a
    caller who may not give the command is kept)."""
    session = checked.session
    refusal = role_refusal(session, model)
    if refusal is not None:
        return Outcome(403, refusal, {})
    principal = session_principal(session)
    fields = command_fields(model)
    names = [form_field.name for form_field in fields]
    files, errors = await kept_files(services, principal, fields, checked.uploads)
    values = command_values(model, checked.posted, services.settings.timezone, files)
    command: Command | None = None
    try:
        command = model.model_validate(values)
    except pydantic.ValidationError as exc:
        errors = {**validation_errors(exc, names), **errors}
    errors = {**errors, **extra_errors}
    if errors or command is None:
        return Outcome(422, TO_CORRECT, errors)
    return await carried_out(services, principal, target, command, standing, session, names)
