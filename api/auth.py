"""Access control of the HTTP API: who is calling (401), what their role may do (403), what they see.

Every router that `app.py` includes (all but health's: /healthz, /readyz, /metrics; /docs and
/openapi.json are FastAPI's own) runs `current_principal` first, so a request without a valid
bearer token or API key never reaches an endpoint. For a new router:

    from .auth import PrincipalDep, Role, require_roles, visible_department
    from .masking import shown_to

    @router.get("/rectifications")
    def list_rectifications(services: ServicesDep, principal: PrincipalDep) -> ...:
        department = visible_department(principal)  # None: every department
        rows = services.rectifications.find(..., visible_department=department)

    @router.post("/rectifications/{case_id}/verification", status_code=202)
    async def verify(
        case_id: str, principal: Annotated[Principal, Depends(require_roles(Role.supervisor))]
    ) -> ...: ...

- `PrincipalDep`: the caller, a `Principal(subject, role, department)`: from a bearer token,
  an API key, or the web console's session cookie (`sessions.py`; the account's username is
  the subject; a POST/PUT/PATCH/DELETE so signed in needs the X-CSRF-Token header).
- `require_roles(*roles)`: a dependency answering 403 to any other role; it returns the
  principal, so it can stand in for `PrincipalDep`.
- `visible_department(principal)`: the only department whose cases (cases.department), clocks,
  alerts and rectifications the caller may see, or None for all. Scope the query with it
  (`read_models.queries.in_department`); a single item outside it answers **404** exactly as
  an unknown one does (`not_found`), never 403, so its existence does not leak; a list simply
  leaves it out.
- `masking.shown_to(principal, view)` (a response model) and `masking.event_shown_to(principal,
  body)` (a stored event): personal data (each field marked `catalog.PersonalData`) masked for
  the roles that don't need it, and an anonymous informant withheld from every role.

Roles: handler and department_head see one department; legal, supervisor, leader and system
see every department. Only system and legal post raw events; only supervisor verifies or
rejects rectifications.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from casestream.credentials import (
    DEPARTMENT_ROLES,
    Authenticator,
    InvalidCredentials,
    Principal,
)
from casestream.domain.commands import Role

from .deps import Services, ServicesDep
from .sessions import (
    CSRF_HEADER,
    SESSION_COOKIE,
    STATE_CHANGING,
    same_token,
    session_principal,
)

__all__ = [
    "DEPARTMENT_ROLES",
    "Principal",
    "PrincipalDep",
    "Role",
    "current_principal",
    "not_found",
    "require_roles",
    "visible_department",
]

_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A token from `casestream token issue --role R [--department D]`, "
    "or an API key of CASESTREAM_API_KEYS_FILE",
)
_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="An API key of CASESTREAM_API_KEYS_FILE"
)
SIGN_IN = (
    "send `Authorization: Bearer <token>` (a token from `casestream token issue --role R "
    "[--department D]`, or from whoever runs casestream for you) or `X-API-Key: <key>`"
)


def unauthorized(message: str, *, invalid: bool) -> HTTPException:
    """401 with the WWW-Authenticate challenge of RFC 6750."""
    challenge = 'Bearer realm="casestream"'
    if invalid:
        challenge += ', error="invalid_token"'
    return HTTPException(401, message, headers={"WWW-Authenticate": challenge})


def authenticate(
    authenticator: Authenticator, authorization: str | None, api_key: str | None
) -> Principal:
    """The caller named by the request's credential headers; 401 when none is presented, or an
    invalid or expired one (the one rule for routes and for the body guard of `limits.py`)."""
    try:
        if api_key is not None and authorization is not None:
            raise InvalidCredentials("send one credential: either Authorization or X-API-Key")
        if api_key is not None:
            return authenticator.api_key(api_key)
        if authorization is not None:
            scheme, _, credential = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credential.strip():
                raise unauthorized(f"use the Bearer scheme: {SIGN_IN}", invalid=True)
            return authenticator.bearer(credential.strip())
    except InvalidCredentials as exc:
        raise unauthorized(f"{exc}; {SIGN_IN}", invalid=True) from exc
    raise unauthorized(f"authentication required: {SIGN_IN}", invalid=False)


async def current_principal(
    request: Request,
    services: ServicesDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The caller; 401 when no credential, or an invalid or expired one, is presented.

    Without Authorization and X-API-Key, the web console's session cookie signs the caller in
    (the browser's EventSource cannot send headers); a state-changing request so signed in
    must also carry the session's CSRF token in X-CSRF-Token (403 otherwise)."""
    del bearer  # declared for the OpenAPI security scheme; the header is read below
    authorization = request.headers.get("Authorization")
    session_id = request.cookies.get(SESSION_COOKIE)
    if authorization is None and api_key is None and session_id is not None:
        return await cookie_principal(services, session_id, request)
    return authenticate(services.authenticator, authorization, api_key)


async def cookie_principal(services: Services, session_id: str, request: Request) -> Principal:
    """The account of a console session cookie, as a principal of its role and department."""
    session = await run_in_threadpool(services.signin.session, session_id)
    if session is None:
        raise unauthorized(
            "the console session has ended or is not valid; sign in again at /console/signin, "
            f"or {SIGN_IN}",
            invalid=True,
        )
    if request.method in STATE_CHANGING and not same_token(
        request.headers.get(CSRF_HEADER), session.csrf_token
    ):
        raise HTTPException(
            403,
            f"a request signed in by the console's session cookie must carry the session's CSRF "
            f"token in the {CSRF_HEADER} header (the console page holds it in "
            '<meta name="csrf-token">)',
        )
    return session_principal(session)


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only `roles` through (403 for the others) and returns the caller."""
    allowed = frozenset(roles)
    names = ", ".join(role.value for role in roles)

    async def only_allowed_roles(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(
                403, f"role {principal.role.value} may not do this; it needs one of: {names}"
            )
        return principal

    return only_allowed_roles


def visible_department(principal: Principal) -> str | None:
    """The one department the caller may see, or None when they see every department."""
    return principal.department if principal.role in DEPARTMENT_ROLES else None


def not_found(what: str) -> HTTPException:
    """The 404 for an item that does not exist *or* lies outside the caller's department."""
    return HTTPException(404, f"no {what[:160]}")
