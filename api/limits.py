"""What a request may cost before anything reads it: a request with a body is authenticated
from its headers (or the console's session cookie) first (an anonymous one is refused before a byte of its body is read), and
its body is capped (413; a route that takes files has a cap of its own). Validation errors
never echo the input back."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi import HTTPException, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from casestream.credentials import Authenticator

from .auth import authenticate
from .sessions import SESSION_COOKIE

log = logging.getLogger(__name__)

DATABASE_AWAY_RETRY_SECONDS = 5
"""The Retry-After of a 503 answered while the database does not answer."""
DATABASE_AWAY = (sa.exc.OperationalError, sa.exc.InterfaceError)
"""What a database that does not answer raises (`database_away`)."""

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOC_PART_CHARACTERS = 100  # a field name in an error is the caller's text: bounded


@dataclass(frozen=True)
class BodyCap:
    """How large a body may be, and what the 413 says about it."""

    max_bytes: int
    setting: str  # the environment variable that sets it
    advice: str

    def too_large(self) -> str:
        return f"the body is larger than {self.max_bytes} bytes ({self.setting}); {self.advice}"


class RequestGuard:
    """Pure ASGI middleware: authenticate requests that carry a body from their headers, then
    let at most `max_body_bytes` of the body through (413 beyond, however it is sent); a path
    of `route_caps` (exact), or under a prefix of `prefix_caps`, has its own cap instead."""

    def __init__(
        self,
        app: ASGIApp,
        authenticator: Callable[[], Authenticator],
        max_body_bytes: int,
        open_paths: Sequence[str] = (),
        route_caps: Mapping[str, BodyCap] | None = None,
        signed_in: Callable[[str], bool] | None = None,
        prefix_caps: Mapping[str, BodyCap] | None = None,
        database_away: Callable[[Request, Exception], Awaitable[Response]] | None = None,
    ) -> None:
        self.app = app
        self._authenticator = authenticator
        self._cap = BodyCap(
            max_body_bytes, "CASESTREAM_MAX_BODY_BYTES", "send fewer records per request"
        )
        self._open = tuple(open_paths)
        self._route_caps = dict(route_caps or {})
        self._prefix_caps = dict(prefix_caps or {})  # every path under each prefix
        self._signed_in = signed_in  # whether a console session cookie's id is live
        self._away = database_away  # the answer when that cannot be told: no database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value for key, value in scope["headers"]}
        if not scope["path"].startswith(self._open):
            try:
                authenticate(
                    self._authenticator(),
                    _header(headers, "authorization"),
                    _header(headers, "x-api-key"),
                )
            except HTTPException as exc:
                try:
                    signed_in = await self._cookie_signs_in(scope, headers)
                except DATABASE_AWAY as away:
                    if self._away is None:
                        raise
                    await (await self._away(Request(scope), away))(scope, receive, send)
                    return
                if not signed_in:
                    await _answer(send, exc.status_code, exc.detail, exc.headers)
                    return
        cap = self._route_caps.get(scope["path"]) or next(
            (cap for prefix, cap in self._prefix_caps.items() if scope["path"].startswith(prefix)),
            self._cap,
        )
        declared = _header(headers, "content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > cap.max_bytes):
            await _answer(send, 413, cap.too_large())
            return
        received = 0
        started = answered = False

        async def capped_receive() -> Message:
            # past the cap: answer 413 here and tell the app the client went away (it would
            # turn an exception raised into its body reader into a 400)
            nonlocal received, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap.max_bytes:
                    answered = True
                    if not started:
                        await _answer(send, 413, cap.too_large())
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 413 is the answer
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, capped_receive, tracking_send)
        except Exception:
            if not answered:
                raise  # the app's own error; a disconnect we caused is not one

    async def _cookie_signs_in(self, scope: Scope, headers: dict[str, bytes]) -> bool:
        """Whether a request without credential headers carries a live console session
        cookie (its CSRF token is checked by `auth.current_principal`)."""
        if self._signed_in is None or "authorization" in headers or "x-api-key" in headers:
            return False
        session_id = HTTPConnection(scope).cookies.get(SESSION_COOKIE)
        return session_id is not None and await run_in_threadpool(self._signed_in, session_id)


def _header(headers: dict[str, bytes], name: str) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


async def _answer(
    send: Send, status: int, detail: Any, headers: Mapping[str, str] | None = None
) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode()
    extra = [(key.lower().encode(), value.encode()) for key, value in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each field at fault, without echoing the input (a 10 MB body is not sent
    back): location (each part bounded), message and error type only."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        {
            "loc": [
                part if isinstance(part, int) else str(part)[:LOC_PART_CHARACTERS]
                for part in error.get("loc", ())
            ],
            "msg": str(error.get("msg", ""))[:500],
            "type": str(error.get("type", "value_error")),
        }
        for error in exc.errors()[:50]
    ]
    return JSONResponse({"detail": problems}, status_code=422)


async def unreadable_body(request: Request, exc: Exception) -> Response:
    """A body that is not UTF-8 text is invalid JSON too: 422 as for any other malformed JSON
    (FastAPI answers it 400 with no field named); every other HTTP error unchanged."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        problem = {
            "loc": ["body"],
            "msg": "the body is not JSON: it is not UTF-8 text",
            "type": "json_invalid",
        }
        return JSONResponse({"detail": [problem]}, status_code=422)
    return await http_exception_handler(request, exc)


def database_away(
    page_for: Callable[[Request], Response | None] = lambda request: None,
) -> Callable[[Request, Exception], Awaitable[Response]]:
    """The answer while the database does not answer (restarting, unreachable, out of
    connections): the service is unavailable for a while, which is not a fault of the request:
    503 with Retry-After, as for a broker away; `page_for` gives a page instead of JSON where
    people read the answer (the console). The cause is logged in one line, never sent back."""

    async def answer(request: Request, exc: Exception) -> Response:
        cause = getattr(exc, "orig", None) or exc
        log.warning(
            "%s %s: the database did not answer (%s: %s)",
            request.method,
            request.url.path,
            type(cause).__name__,
            str(cause).splitlines()[0][:200] if str(cause) else "",
        )
        return page_for(request) or JSONResponse(
            {"detail": "the database does not answer at the moment; try again shortly"},
            status_code=503,
            headers={"Retry-After": str(DATABASE_AWAY_RETRY_SECONDS)},
        )

    return answer
