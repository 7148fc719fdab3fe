"""The web console's sign-in and sign-out, and the helpers its pages share (the 工作台 itself:
`console_home.py`).

Sessions are server-side (`sessions.py`). Every state-changing form under /console carries a
CSRF token (synchronizer: the session's own token, in a hidden field); the sign-in form, posted
before any session exists, is guarded by a double-submit token (a cookie and the same value in
the form). A failed sign-in says the same thing whatever the reason, so it never tells whether
a username exists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from casestream.domain.staff import PASSWORD_MAX
from casestream.read_models.staff_sessions import OpenSession

from .console_labels import ROLES, label
from .deps import Services, ServicesDep
from .limits import DATABASE_AWAY_RETRY_SECONDS
from .sessions import SESSION_COOKIE, SIGNIN_CSRF_COOKIE, same_token

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/console/static"

SIGN_IN_PAGE = "/console/signin"
HOME_PAGE = "/console/"
MAX_FORM_BYTES = 4096
SIGNIN_CSRF_SECONDS = 3600
REFUSED = "用户名或密码错误，或账号暂时无法登录。"  # one message for every refusal
PAGE_HEADERS = {
    # no inline code, no external asset: the console's own style sheet and script (served
    # from /console/static) and its own alert stream are all a page may load
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _secure(request: Request, services: Services) -> bool:
    return request.url.scheme == "https" or services.settings.cookie_secure


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("csrf_token", None)
    return templates.TemplateResponse(
        request, template, context, status_code=status_code, headers=PAGE_HEADERS
    )


def unavailable_page(request: Request) -> HTMLResponse | None:
    """The console's page while its database does not answer (503, to come back in a few
    seconds); None for a request outside the console (it gets the API's JSON answer)."""
    path = request.url.path
    if path != router.prefix and not path.startswith(router.prefix + "/"):
        return None
    headers = {**PAGE_HEADERS, "Retry-After": str(DATABASE_AWAY_RETRY_SECONDS)}
    return templates.TemplateResponse(
        request,
        "unavailable.html",
        {"csrf_token": None, "retry_seconds": DATABASE_AWAY_RETRY_SECONDS},
        status_code=503,
        headers=headers,
    )


def signed_in_frame(session: OpenSession) -> dict[str, Any]:
    """What base.html shows of the signed-in member of staff (name, role, sign-out token)."""
    return {
        "csrf_token": session.csrf_token,
        "username": session.username,
        "role_label": label(ROLES, session.role),
    }


def _refused(request: Request, message: str, back: str) -> HTMLResponse:
    return _page(request, "refused.html", 403, message=message, back=back)


def _redirect(to: str) -> RedirectResponse:
    return RedirectResponse(to, status_code=303, headers={"Cache-Control": "no-store"})


@dataclass(frozen=True)
class Form:
    """The fields of a posted urlencoded form (first value of each)."""

    fields: dict[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


async def read_form(request: Request) -> Form | None:
    """The urlencoded form of the request, or None when it is not one (or too large)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        return None
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    try:
        parsed = parse_qs(body.decode(), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    return Form({name: values[0] for name, values in parsed.items()})


async def signed_in(request: Request, services: Services) -> OpenSession | None:
    return await run_in_threadpool(services.signin.session, request.cookies.get(SESSION_COOKIE))


async def checked_form(request: Request, services: Services) -> tuple[OpenSession, Form] | Response:
    """The session and form of a state-changing console post, or the answer to give instead:
    to the sign-in page without a session, 403 without the session's CSRF token. Every form
    post under /console but the sign-in form goes through here."""
    session = await signed_in(request, services)
    if session is None:
        return _redirect(SIGN_IN_PAGE)
    form = await read_form(request)
    if form is None or not same_token(form.get("csrf_token") or None, session.csrf_token):
        return _refused(request, "表单已失效或缺少安全令牌（CSRF），请返回页面后重试。", HOME_PAGE)
    return session, form


def _signin_page(
    request: Request,
    services: Services,
    *,
    status_code: int = 200,
    error: str | None = None,
    username: str = "",
) -> HTMLResponse:
    token = request.cookies.get(SIGNIN_CSRF_COOKIE)
    if not token or len(token) > 100:
        token = secrets.token_urlsafe(32)
    desk = services.signin
    response = _page(
        request,
        "signin.html",
        status_code,
        signin_csrf=token,
        error=error,
        username=username,
        max_failures=desk.lock_out.max_failures,
        lock_minutes=int(desk.lock_out.duration.total_seconds() // 60),
    )
    response.set_cookie(
        SIGNIN_CSRF_COOKIE,
        token,
        max_age=SIGNIN_CSRF_SECONDS,
        path=SIGN_IN_PAGE,
        httponly=True,
        samesite="strict",
        secure=_secure(request, services),
    )
    return response


@router.get("/signin", response_class=HTMLResponse)
async def signin_page(request: Request, services: ServicesDep) -> Response:
    if await signed_in(request, services) is not None:
        return _redirect(HOME_PAGE)
    return _signin_page(request, services)


@router.post("/signin", response_class=HTMLResponse)
async def sign_in(request: Request, services: ServicesDep) -> Response:
    desk = services.signin
    remote = request.client.host if request.client else None
    form = await read_form(request)
    username = "" if form is None else form.get("username").strip()
    cookie_token = request.cookies.get(SIGNIN_CSRF_COOKIE)
    if (
        form is None
        or not username
        or not form.get("password")
        or not cookie_token
        or not same_token(form.get("csrf_token"), cookie_token)
    ):
        await run_in_threadpool(desk.record_bad_form, username, remote)
        return _refused(
            request, "登录表单已失效或缺少安全令牌（CSRF），请重新打开登录页。", SIGN_IN_PAGE
        )
    password = form.get("password")[: PASSWORD_MAX + 1]
    done = await run_in_threadpool(desk.sign_in, username, password, remote)
    previous = request.cookies.get(SESSION_COOKIE)
    if done is not None and previous:  # a new sign-in replaces the browser's old session
        await run_in_threadpool(desk.sign_out, previous)
    if done is None:
        return _signin_page(
            request, services, status_code=401, error=REFUSED, username=username[:64]
        )
    response = _redirect(HOME_PAGE)
    response.set_cookie(
        SESSION_COOKIE,
        done.session_id,
        max_age=int(desk.sessions.terms.absolute.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request, services),
    )
    response.delete_cookie(SIGNIN_CSRF_COOKIE, path=SIGN_IN_PAGE)
    return response


@router.post("/signout", response_class=HTMLResponse)
async def sign_out(request: Request, services: ServicesDep) -> Response:
    checked = await checked_form(request, services)
    if isinstance(checked, Response):
        return checked
    await run_in_threadpool(services.signin.sign_out, request.cookies.get(SESSION_COOKIE))
    response = _redirect(SIGN_IN_PAGE)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request, services)
    )
    return response
