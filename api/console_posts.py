"""Reading a console form posted to act on a case (multipart: it may carry evidence files):
the session's CSRF token checked as `console.checked_form` checks it, the body capped, and the
files chosen kept through the one upload path of POST /files (`evidence.keep_file`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import pydantic
from fastapi import Request, Response
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from casestream.domain.catalog import MAX_CITED_FILES, EvidenceFile, FileName
from casestream.read_models.evidence_store import FileTooLarge, UnsupportedFileType
from casestream.read_models.staff_sessions import OpenSession
from casestream.settings import Settings

from .auth import Principal
from .console import (
    HOME_PAGE,
    SIGN_IN_PAGE,
    _page,
    _redirect,
    _refused,
    checked_form,
    signed_in,
)
from .console_forms import FormField, Posted, Widget
from .deps import Services
from .evidence import keep_file
from .sessions import same_token

MAX_FIELDS = 200  # inputs of one posted form (a list of checkboxes sends one value each)
MAX_PART_BYTES = 64 * 1024  # one text input's value (10 000 characters of Chinese fit)
CHUNK_BYTES = 64 * 1024
FILE_NAME: pydantic.TypeAdapter[str] = pydantic.TypeAdapter(FileName)
COMMAND_FORMS = ("/console/cases/", "/console/register/")  # the paths the forms post to


def form_cap(settings: Settings) -> int:
    """How large a posted command form may be: a file at CASESTREAM_MAX_FILE_BYTES and the
    text of the form (CASESTREAM_MAX_BODY_BYTES); the files of one form share this."""
    return settings.max_file_bytes + settings.max_body_bytes


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


TOO_LARGE = "提交的表单超过 {limit} MB 的上限，请选择较小的文件后重试。"
UNREADABLE = (
    "无法读取提交的表单：文件过多（每项最多 {files} 个）、某项内容过长，或表单已损坏。"
    "请返回页面后重试。"
)


async def _read_multipart(request: Request) -> FormData | None:
    """The multipart form of the request, or None when it does not parse within the form's
    caps (its body is capped by `form_cap`, declared here and as sent in limits.RequestGuard)."""
    try:
        return await request.form(
            max_files=MAX_CITED_FILES + 1,  # one too many is named next to its input
            max_fields=MAX_FIELDS,
            max_part_size=MAX_PART_BYTES,
        )
    except (StarletteHTTPException, ClientDisconnect, ValueError):
        return None


async def checked_post(request: Request, services: Services) -> PostedForm | Response:
    """The session and form of a command form's post, or the answer to give instead: to the
    sign-in page without a session, 403 without the session's CSRF token (as `checked_form`),
    400 for a form that does not parse. The body is read only for a live session."""
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
    declared = request.headers.get("content-length", "")
    if not declared.isdigit() or int(declared) > form_cap(services.settings):
        limit_mb = form_cap(services.settings) / (1024 * 1024)
        message = TOO_LARGE.format(limit=f"{limit_mb:.0f}")
        return _page(request, "refused.html", 413, message=message, back=HOME_PAGE)
    form_data = await _read_multipart(request)
    if form_data is None:
        message = UNREADABLE.format(files=MAX_CITED_FILES)
        return _page(request, "refused.html", 400, message=message, back=HOME_PAGE)
    sent = form_data.get("csrf_token")
    if not same_token(sent if isinstance(sent, str) and sent else None, session.csrf_token):
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


async def kept_files(
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
