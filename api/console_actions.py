"""The console's forms to act on cases (办理): a command on a case at
/console/cases/{case_id}/commands/{command_name}, and 登记 registering a new case at
/console/register/{case_kind}.

Each form is built from the command catalogue (`console_forms`) and posted through the same
path as the API's commands (`command_writes.carry_out`, as `case_commands.py` does), signed by
the session's user: the same role check, the same decision, the same one writer per case.
Forms are posted as multipart (they may carry evidence files) and read by `console_posts`;
`console_outcomes` carries them out and says why when it cannot.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pydantic
from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from casestream.domain.catalog import CaseKind, EvidenceMediaType
from casestream.domain.command_catalogue import COMMANDS
from casestream.domain.commands import Command
from casestream.domain.envelope import CaseId
from casestream.read_models.staff_sessions import OpenSession

from .auth import visible_department
from .command_writes import (
    Carried,
    CommandTarget,
    Standing,
    applied_within,
    read_standing,
)
from .console import HOME_PAGE, SIGN_IN_PAGE, _page, _redirect, signed_in, signed_in_frame
from .console_forms import (
    Choice,
    FormField,
    Widget,
    command_fields,
    filled,
    with_defaults,
)
from .console_labels import KINDS, RULE_UNITS, label, rule_title_zh, status_label
from .console_outcomes import Outcome, decided, role_refusal, roles_text
from .console_posts import checked_post
from .deps import Services, ServicesDep
from .sessions import session_principal

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

REGISTERED_KINDS = (
    CaseKind.complaint,
    CaseKind.enterprise_tip,
    CaseKind.reconsideration,
    CaseKind.litigation,
    CaseKind.enforcement_review,
    CaseKind.enforcement_notice,
    CaseKind.enforcement_decision,
)
CASE_ID = "case_id"  # the registration form's own input: the id the new case is given
CASE_ID_ADAPTER: pydantic.TypeAdapter[str] = pydantic.TypeAdapter(CaseId)
ACCEPT = ",".join(media_type.value for media_type in EvidenceMediaType)  # the file inputs' hint


@dataclass(frozen=True)
class Section:
    """Inputs shown together: a nested model's fields under its legend, or the others."""

    legend: str | None
    fields: tuple[FormField, ...]


def _sections(fields: tuple[FormField, ...]) -> list[Section]:
    sections: list[Section] = []
    for form_field in fields:
        if sections and sections[-1].legend == form_field.group and form_field.group is not None:
            last = sections[-1]
            sections[-1] = Section(last.legend, (*last.fields, form_field))
        else:
            sections.append(Section(form_field.group, (form_field,)))
    return sections


def _notice(
    request: Request, session: OpenSession, status_code: int, title: str, message: str, back: str
) -> HTMLResponse:
    return _page(
        request,
        "actions_notice.html",
        status_code,
        title=title,
        message=message,
        back=back,
        **signed_in_frame(session),
    )


def _missing(request: Request, session: OpenSession, what: str) -> HTMLResponse:
    """The 404 page: a case that does not exist and one of another department look alike."""
    return _notice(request, session, 404, "未找到", f"未找到{what}，或您无权查看。", HOME_PAGE)


def _offered(
    fields: tuple[FormField, ...], services: Services, kind: CaseKind
) -> tuple[FormField, ...]:
    """The inputs with the choices the deployment gives: a `rule` names one of the case kind's
    deadline rules that an extension moves (the API refuses any other with 422)."""
    rules = [
        rule
        for rule in services.rulebook.rules.values()
        if kind in rule.case_kinds and rule.extended_by
    ]
    if not rules:
        return fields
    choices = tuple(
        Choice(
            rule.id, f"{rule_title_zh(rule.title)}（{rule.length} {label(RULE_UNITS, rule.unit)}）"
        )
        for rule in rules
    )
    return tuple(
        replace(f, widget=Widget.select, choices=choices)
        if f.name == "rule" and f.widget is Widget.text
        else f
        for f in fields
    )


def _command_on(kind: CaseKind, name: str) -> type[Command] | None:
    handler = COMMANDS.get((kind, name))
    if handler is None or handler.model.opens_case:
        return None
    model: type[Command] = handler.model
    return model


def _registering(kind: CaseKind) -> type[Command] | None:
    """The command that registers a case of `kind` (`opens_case`)."""
    for (command_kind, _), handler in sorted(COMMANDS.items()):
        if command_kind is kind and handler.model.opens_case:
            model: type[Command] = handler.model
            return model
    return None


async def _answer_carried(
    request: Request, services: Services, session: OpenSession, carried: Carried
) -> Response:
    """303 to the case's page once the command is in the read models (the API's wait), or a
    notice when it is not there yet."""
    page = f"/console/cases/{carried.case_id}"
    if await applied_within(services, carried):
        return _redirect(page)
    return _notice(
        request,
        session,
        202,
        "已提交",
        "操作已提交，正在处理，稍后即可在案件页看到结果。",
        page,
    )


# --- a command on a case ------------------------------------------------------------------


def _command_page(
    request: Request,
    session: OpenSession,
    model: type[Command],
    standing: Standing,
    fields: tuple[FormField, ...],
    *,
    status_code: int = 200,
    message: str | None = None,
    version: int | None = None,
) -> HTMLResponse:
    state = standing.state
    assert state is not None
    return _page(
        request,
        "command_form.html",
        status_code,
        title=model.label_zh,
        case_id=state.case_id,
        kind_label=label(KINDS, state.case_kind),
        status_label=status_label(state.case_kind, state.status),
        expected_version=state.version if version is None else version,
        sections=_sections(fields),
        accept_types=ACCEPT,
        message=message,
        errors_count=sum(1 for form_field in fields if form_field.error),
        action=f"/console/cases/{state.case_id}/commands/{model.name}",
        case_page=f"/console/cases/{state.case_id}",
        **signed_in_frame(session),
    )


async def _case_command(
    services: Services, session: OpenSession, case_id: str, command_name: str
) -> tuple[Standing, type[Command]] | None:
    """The case and command of the page, or None for a 404 (no such case, another
    department's, or no such command on its kind)."""
    if len(case_id) > 100 or len(command_name) > 64:
        return None
    standing = await run_in_threadpool(read_standing, services, case_id)
    state = standing.state
    scope = visible_department(session_principal(session))
    if state is None or (scope is not None and state.department != scope):
        return None
    model = _command_on(state.case_kind, command_name)
    return None if model is None else (standing, model)


@router.get("/cases/{case_id}/commands/{command_name}", response_class=HTMLResponse)
async def command_form(
    request: Request, case_id: str, command_name: str, services: ServicesDep
) -> Response:
    session = await signed_in(request, services)
    if session is None:
        return _redirect(SIGN_IN_PAGE)
    found = await _case_command(services, session, case_id, command_name)
    if found is None:
        return _missing(request, session, "该案件或操作")
    standing, model = found
    refusal = role_refusal(session, model)
    return _command_page(
        request,
        session,
        model,
        standing,
        _offered(command_fields(model), services, model.case_kind),
        status_code=200 if refusal is None else 403,
        message=refusal,
    )


@router.post("/cases/{case_id}/commands/{command_name}", response_class=HTMLResponse)
async def give_command(
    request: Request, case_id: str, command_name: str, services: ServicesDep
) -> Response:
    checked = await checked_post(request, services)
    if isinstance(checked, Response):
        return checked
    try:
        session = checked.session
        found = await _case_command(services, session, case_id, command_name)
        if found is None:
            return _missing(request, session, "该案件或操作")
        standing, model = found
        sent = checked.posted.first("expected_version")
        expected = int(sent) if sent.isdigit() and len(sent) < 10 else None
        target = CommandTarget(case_id, f"case {case_id!r}", expected)
        result = await decided(services, checked, model, target, standing, {})
        if isinstance(result, Carried):
            return await _answer_carried(request, services, session, result)
        if result.status_code == 404:
            return _missing(request, session, "该案件或操作")
        offered = _offered(command_fields(model), services, model.case_kind)
        fields = filled(offered, checked.posted, result.errors)
        return _command_page(
            request,
            session,
            model,
            standing,
            fields,
            status_code=result.status_code,
            message=result.errors.get("") or result.message,
            version=result.current_version if result.current_version is not None else expected,
        )
    finally:
        await checked.close()


# --- 登记 registering a case -------------------------------------------------------------


@dataclass(frozen=True)
class KindChoice:
    kind: str
    label: str
    command_label: str
    href: str
    refusal: str | None


def _suggested_case_id(kind: CaseKind, timezone: str) -> str:
    """A fresh id to offer on the registration form (the caller may type the bureau's own)."""
    prefix = {
        CaseKind.complaint: "TS",
        CaseKind.enterprise_tip: "JB",
        CaseKind.reconsideration: "FY",
        CaseKind.litigation: "SS",
        CaseKind.enforcement_review: "KP",  # 考评
        CaseKind.enforcement_notice: "JDS",  # 监督书
        CaseKind.enforcement_decision: "BCF",  # 不处罚
    }.get(kind, "AJ")
    today = datetime.now(ZoneInfo(timezone))
    return f"{prefix}-{today:%Y%m%d}-{secrets.token_hex(3).upper()}"


def _case_id_field(value: str = "", error: str | None = None) -> FormField:
    return FormField(
        CASE_ID,
        "案件编号",
        Widget.text,
        True,
        max_length=100,
        hint="字母、数字及 . _ : -，以字母或数字开头",
        value=value[:100],
        error=error,
    )


def _register_page(
    request: Request,
    session: OpenSession,
    kind: CaseKind,
    model: type[Command],
    fields: tuple[FormField, ...],
    *,
    status_code: int = 200,
    message: str | None = None,
) -> HTMLResponse:
    return _page(
        request,
        "register.html",
        status_code,
        title=model.label_zh,
        kind_label=label(KINDS, kind),
        kinds=None,
        sections=_sections(fields),
        accept_types=ACCEPT,
        message=message,
        errors_count=sum(1 for form_field in fields if form_field.error),
        action=f"/console/register/{kind.value}",
        **signed_in_frame(session),
    )


def _registration(kind_name: str) -> tuple[CaseKind, type[Command]] | None:
    try:
        kind = CaseKind(kind_name)
    except ValueError:
        return None
    model = _registering(kind) if kind in REGISTERED_KINDS else None
    return None if model is None else (kind, model)


@router.get("/register", response_class=HTMLResponse)
async def register_choice(request: Request, services: ServicesDep) -> Response:
    session = await signed_in(request, services)
    if session is None:
        return _redirect(SIGN_IN_PAGE)
    kinds = []
    for kind in REGISTERED_KINDS:
        model = _registering(kind)
        if model is not None:
            kinds.append(
                KindChoice(
                    kind.value,
                    label(KINDS, kind),
                    model.label_zh,
                    f"/console/register/{kind.value}",
                    None if session.role in model.roles else f"仅{roles_text(model)}可登记",
                )
            )
    return _page(
        request,
        "register.html",
        title="登记",
        kinds=kinds,
        sections=[],
        message=None,
        **signed_in_frame(session),
    )


@router.get("/register/{case_kind}", response_class=HTMLResponse)
async def register_form(request: Request, case_kind: str, services: ServicesDep) -> Response:
    session = await signed_in(request, services)
    if session is None:
        return _redirect(SIGN_IN_PAGE)
    found = _registration(case_kind)
    if found is None:
        return _missing(request, session, "该案件类型")
    kind, model = found
    defaults = {CASE_ID: _suggested_case_id(kind, services.settings.timezone)}
    if session.department and "department" in model.model_fields:
        defaults["department"] = session.department  # a department role registers its own
    fields = with_defaults((_case_id_field(), *command_fields(model)), defaults)
    refusal = role_refusal(session, model)
    return _register_page(
        request,
        session,
        kind,
        model,
        fields,
        status_code=200 if refusal is None else 403,
        message=refusal,
    )


@router.post("/register/{case_kind}", response_class=HTMLResponse)
async def register(request: Request, case_kind: str, services: ServicesDep) -> Response:
    checked = await checked_post(request, services)
    if isinstance(checked, Response):
        return checked
    try:
        session = checked.session
        found = _registration(case_kind)
        if found is None:
            return _missing(request, session, "该案件类型")
        kind, model = found
        case_id = checked.posted.first(CASE_ID).strip()
        id_errors: dict[str, str] = {}
        try:
            CASE_ID_ADAPTER.validate_python(case_id)
        except pydantic.ValidationError:
            id_errors[CASE_ID] = "请填写案件编号：字母、数字及 . _ : -，以字母或数字开头。"
        target = CommandTarget(case_id, f"case {case_id[:100]!r}")
        result = await decided(services, checked, model, target, None, id_errors)
        if isinstance(result, Carried):
            return await _answer_carried(request, services, session, result)
        if result.status_code == 409:
            result = Outcome(409, None, {CASE_ID: result.message or ""})
        fields = filled((_case_id_field(), *command_fields(model)), checked.posted, result.errors)
        return _register_page(
            request,
            session,
            kind,
            model,
            fields,
            status_code=result.status_code,
            message=result.errors.get("") or result.message,
        )
    finally:
        await checked.close()
