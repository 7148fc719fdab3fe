"""The console's forms to act on cases (办理): a command on a case at
/console/cases/{case_id}/commands/{command_name}, and 登记 registering a new case at
/console/register/{case_kind}.

Each form is built from the command catalogue (`console_forms`) and posted through the same
path as the API's commands (`command_writes.carry_out`, as `case_commands.py` does), signed by
the session's user: the same role check, the same decision, the same one writer per case.
Forms are posted as multipart (they may carry evidence files), read here with a size cap and
the session's CSRF token; a urlencoded post goes through `console.checked_form`.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from casestream.domain.catalog import (
    MAX_CITED_FILES,
    CaseKind,
    EvidenceFile,
    EvidenceMediaType,
    FileName,
)
from casestream.domain.command_catalogue import COMMANDS
from casestream.domain.commands import Command
from casestream.domain.envelope import CaseId
from casestream.read_models.evidence_store import FileTooLarge, UnsupportedFileType
from casestream.read_models.staff_sessions import OpenSession

from .auth import Principal, visible_department
from .command_writes import (
    BUSY,
    Carried,
    CommandTarget,
    Standing,
    applied_within,
    carry_out,
    read_standing,
)
from .console import HOME_PAGE, SIGN_IN_PAGE, _page, _redirect, _refused, checked_form, signed_in
from .console_forms import (
    FormField,
    Posted,
    Widget,
    command_fields,
    command_values,
    field_of,
    filled,
    validation_errors,
    with_defaults,
)
from .console_labels import KINDS, ROLES, label, status_label
from .deps import Services, ServicesDep
from .evidence import keep_file
from .sessions import same_token, session_principal

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

REGISTERED_KINDS = (
    CaseKind.complaint,
    CaseKind.enterprise_tip,
    CaseKind.reconsideration,
    CaseKind.litigation,
)
CASE_ID = "case_id"  # the registration form's own input: the id the new case is given
MAX_FIELDS = 200  # inputs of one posted form (a list of checkboxes sends one value each)
MAX_PART_BYTES = 64 * 1024  # one text input's value (10 000 characters of Chinese fit)
CHUNK_BYTES = 64 * 1024
STALE = "案件已被更新（当前版本 {version}），请核对案件后重新提交。"
CASE_ID_ADAPTER: pydantic.TypeAdapter[str] = pydantic.TypeAdapter(CaseId)
FILE_NAME: pydantic.TypeAdapter[str] = pydantic.TypeAdapter(FileName)
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


def _chrome(session: OpenSession) -> dict[str, Any]:
    """What base.html shows of the signed-in user."""
    return {
        "csrf_token": session.csrf_token,
        "username": session.username,
        "role_label": label(ROLES, session.role),
    }


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
        **_chrome(session),
    )


def _missing(request: Request, session: OpenSession, what: str) -> HTMLResponse:
    """The 404 page: a case that does not exist and one of another department look alike."""
    return _notice(request, session, 404, "未找到", f"未找到{what}，或您无权查看。", HOME_PAGE)


def _roles_text(model: type[Command]) -> str:
    return "、".join(label(ROLES, role) for role in sorted(model.roles))


def _role_refusal(session: OpenSession, model: type[Command]) -> str | None:
    if session.role in model.roles:
        return None
    return (
        f"您的角色（{label(ROLES, session.role)}）不能执行「{model.label_zh}」；"
        f"可执行的角色：{_roles_text(model)}。"
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


# --- reading a posted form ----------------------------------------------------------------


@dataclass(frozen=True)
class PostedForm:
    """A checked post: the session, what each input sent and the files chosen, by input."""

    session: OpenSession
    posted: Posted
    uploads: Mapping[str, list[UploadFile]]
    multipart: FormData | None

    async def close(self) -> None:
        if self.multipart is not None:
            await self.multipart.close()


async def _read_multipart(request: Request, services: Services) -> FormData | None:
    """The multipart form of the request, or None when it is not one, is larger than
    CASESTREAM_MAX_BODY_BYTES (declared) or does not parse within the form's caps."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "multipart/form-data":
        return None
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > services.settings.max_body_bytes:
        return None
    try:
        return await request.form(
            max_files=MAX_CITED_FILES, max_fields=MAX_FIELDS, max_part_size=MAX_PART_BYTES
        )
    except (StarletteHTTPException, ClientDisconnect, ValueError):
        return None


async def checked_post(request: Request, services: Services) -> PostedForm | Response:
    """The session and form of a command form's post, or the answer to give instead: to the
    sign-in page without a session, 403 without the session's CSRF token (as `checked_form`)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type != "multipart/form-data":
        checked = await checked_form(request, services)
        if isinstance(checked, Response):
            return checked
        return PostedForm(
            checked[0], Posted({name: [v] for name, v in checked[1].fields.items()}), {}, None
        )
    session = await signed_in(request, services)
    if session is None:
        return _redirect(SIGN_IN_PAGE)
    form_data = await _read_multipart(request, services)
    token = None
    if form_data is not None:
        sent = form_data.get("csrf_token")
        token = sent if isinstance(sent, str) and sent else None
    if form_data is None or not same_token(token, session.csrf_token):
        if form_data is not None:
            await form_data.close()
        return _refused(request, "表单已失效或缺少安全令牌（CSRF），请返回页面后重试。", HOME_PAGE)
    values: dict[str, list[str]] = {}
    uploads: dict[str, list[UploadFile]] = {}
    for name, value in form_data.multi_items():
        if isinstance(value, str):
            values.setdefault(name, []).append(value)
        elif value.filename or value.size:  # a file input left empty sends an empty part
            uploads.setdefault(name, []).append(value)
    return PostedForm(session, Posted(values), uploads, form_data)


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK_BYTES):
        yield chunk


async def _kept_files(
    services: Services,
    principal: Principal,
    fields: tuple[FormField, ...],
    uploads: Mapping[str, list[UploadFile]],
) -> tuple[dict[str, list[EvidenceFile]], dict[str, str]]:
    """The evidence files chosen in each file input, kept as POST /files keeps them (the same
    type and size checks), and the message of each file input at fault."""
    kept: dict[str, list[EvidenceFile]] = {}
    errors: dict[str, str] = {}
    limit_mb = services.settings.max_file_bytes / (1024 * 1024)
    for form_field in fields:
        if form_field.widget is not Widget.files:
            continue
        chosen = uploads.get(form_field.name, [])
        if form_field.max_items is not None and len(chosen) > form_field.max_items:
            errors[form_field.name] = f"最多上传 {form_field.max_items} 个文件。"
            continue
        for upload in chosen:
            name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1][:255]
            try:
                FILE_NAME.validate_python(name)
                kept.setdefault(form_field.name, []).append(
                    await keep_file(services, principal, name, _chunks(upload))
                )
            except pydantic.ValidationError:
                errors[form_field.name] = "文件名为空或含有不允许的字符，请改名后重新选择。"
            except FileTooLarge:
                errors[form_field.name] = f"文件「{name}」超过 {limit_mb:g} MB 的上限。"
            except UnsupportedFileType:
                errors[form_field.name] = (
                    f"文件「{name}」的类型不受支持：请上传 PDF、图片或 Office 文档。"
                )
            if form_field.name in errors:
                break
    return kept, errors


# --- carrying a command out -------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A form that was not carried out: the status, the form's message and each input's."""

    status_code: int
    message: str | None
    errors: dict[str, str]
    current_version: int | None = None


def _refusal_outcome(
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
            text = _role_refusal(session, model) or "您无权执行此操作。"
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
    status = status_label(state.case_kind, state.status) if state is not None else ""
    where = f"案件当前状态为「{status}」，" if status else ""
    return f"{where}不能执行「{model.label_zh}」。原因：{reason[:300]}"


def _unprocessable_outcome(exc: RequestValidationError, names: list[str], at: str) -> Outcome:
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
    return Outcome(422, "表单中有需要更正的内容，请查看标出的项目。", errors)


async def _carried(
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
        return _refusal_outcome(exc, type(command), session, standing)
    except RequestValidationError as exc:
        return _unprocessable_outcome(exc, names, target.fields_at)


async def _decided(
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
    refusal = _role_refusal(session, model)
    if refusal is not None:
        return Outcome(403, refusal, {})
    principal = session_principal(session)
    fields = command_fields(model)
    names = [form_field.name for form_field in fields]
    files, errors = await _kept_files(services, principal, fields, checked.uploads)
    values = command_values(model, checked.posted, services.settings.timezone, files)
    command: Command | None = None
    try:
        command = model.model_validate(values)
    except pydantic.ValidationError as exc:
        errors = {**validation_errors(exc, names), **errors}
    errors = {**errors, **extra_errors}
    if errors or command is None:
        return Outcome(422, "表单中有需要更正的内容，请查看标出的项目。", errors)
    return await _carried(services, principal, target, command, standing, session, names)


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
        **_chrome(session),
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
    refusal = _role_refusal(session, model)
    return _command_page(
        request,
        session,
        model,
        standing,
        command_fields(model),
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
        result = await _decided(services, checked, model, target, standing, {})
        if isinstance(result, Carried):
            return await _answer_carried(request, services, session, result)
        if result.status_code == 404:
            return _missing(request, session, "该案件或操作")
        fields = filled(command_fields(model), checked.posted, result.errors)
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
        **_chrome(session),
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
                    None if session.role in model.roles else f"仅{_roles_text(model)}可登记",
                )
            )
    return _page(
        request,
        "register.html",
        title="登记",
        kinds=kinds,
        sections=[],
        message=None,
        **_chrome(session),
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
    refusal = _role_refusal(session, model)
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
        result = await _decided(services, checked, model, target, None, id_errors)
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
