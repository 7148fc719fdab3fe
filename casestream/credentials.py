"""Who is calling: bearer tokens (JWT, HS256) of staff and API keys of other systems.

Checked against the deployment's CASESTREAM_AUTH_SECRET and CASESTREAM_API_KEYS_FILE. No
FastAPI here: the CLI issues tokens with the same code (`casestream token issue`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from casestream.domain.commands import Role
from casestream.domain.envelope import field_errors
from casestream.settings import Settings

ALGORITHM = "HS256"
MIN_SECRET_LENGTH = 32
MAX_SUBJECT_LENGTH = 100  # the `actor` recorded on every event the caller sends
LEEWAY_SECONDS = 30  # clock skew tolerated between the issuer and the API servers
TOKENS_REMEMBERED = 4096  # valid tokens an API process remembers having checked
NEW_SECRET_HINT = (
    "set CASESTREAM_AUTH_SECRET to at least 32 random characters, e.g. the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` (the same value on every "
    "API process), or start everything with `casestream up`, which generates one into "
    "var/auth-secret"
)
_PLACEHOLDERS = ("changeme", "change-me", "change_me", "changethis", "secret", "password")


DEPARTMENT_ROLES = frozenset({Role.handler, Role.department_head})
"""Roles that see only their own department's cases, clocks, alerts and rectifications."""

ROLE_NAMES = ", ".join(role.value for role in Role)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a member of staff (token) or a system (API key)."""

    subject: str
    role: Role
    department: str | None = None
    source: str = "api"  # recorded as the `source` of the events it sends: a key's system id


class AuthConfigError(RuntimeError):
    """The deployment's auth settings are missing or unsafe: the API refuses to start."""


class InvalidCredentials(ValueError):
    """A token or API key that does not authenticate anyone (HTTP 401)."""


def check_secret(secret: str) -> str:
    """`secret` if it is fit to sign tokens; AuthConfigError naming the fix otherwise."""
    if len(secret) < MIN_SECRET_LENGTH:
        raise AuthConfigError(
            f"CASESTREAM_AUTH_SECRET is too short ({len(secret)} characters); {NEW_SECRET_HINT}"
        )
    lowered = secret.lower()
    if any(word in lowered for word in _PLACEHOLDERS) or len(set(secret)) < 10:
        raise AuthConfigError(
            f"CASESTREAM_AUTH_SECRET looks like a placeholder, not a random key; {NEW_SECRET_HINT}"
        )
    return secret


def stored_secret(path: Path) -> str:
    """The secret kept in `path` (mode 0600), generated there on first use."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        path.chmod(0o600)
        return check_secret(path.read_text().strip())
    with os.fdopen(descriptor, "w") as handle:
        secret = secrets.token_urlsafe(48)
        handle.write(secret + "\n")
    return secret


def secret_file(settings: Settings) -> Path:
    """Where `casestream up` keeps the secret it generated: auth-secret in CASESTREAM_VAR_DIR."""
    return settings.var_dir / "auth-secret"


def signing_secret(settings: Settings, *, generate: bool = False) -> str:
    """The secret tokens are signed with, chosen as `casestream up` chooses it:
    CASESTREAM_AUTH_SECRET if set, else the one kept in `secret_file` (created there first
    when `generate`). AuthConfigError naming the fix when there is none, or it is unfit."""
    if settings.auth_secret is not None:
        return check_secret(settings.auth_secret.get_secret_value())
    path = secret_file(settings)
    if not generate and not path.exists():
        raise AuthConfigError(
            f"no secret to sign tokens with: CASESTREAM_AUTH_SECRET is not set and {path} does "
            "not exist; run `casestream up` once (it generates that file), or set "
            "CASESTREAM_AUTH_SECRET to the API's secret"
        )
    return stored_secret(path)


def make_principal(subject: Any, role: Any, department: Any) -> Principal:
    """A principal from untrusted claims; InvalidCredentials naming the claim at fault."""
    if not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_LENGTH:
        raise InvalidCredentials(
            f"claim 'sub' must name the user in 1 to {MAX_SUBJECT_LENGTH} characters"
        )
    try:
        checked = Role(role)
    except ValueError as exc:
        raise InvalidCredentials(f"claim 'role' must be one of {ROLE_NAMES}") from exc
    if department is not None and (
        not isinstance(department, str) or not department or len(department) > 200
    ):
        raise InvalidCredentials("claim 'department' must be a department name (≤ 200 characters)")
    if checked in DEPARTMENT_ROLES and department is None:
        raise InvalidCredentials(f"a {checked.value} token must carry claim 'department'")
    return Principal(subject, checked, department)


def issue_token(secret: str, principal: Principal, *, now: datetime, ttl: timedelta) -> str:
    """A signed bearer token for `principal`, valid from `now` for `ttl`."""
    checked = make_principal(principal.subject, principal.role, principal.department)
    claims: dict[str, Any] = {
        "sub": checked.subject,
        "role": checked.role.value,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if checked.department is not None:
        claims["department"] = checked.department
    return jwt.encode(claims, check_secret(secret), algorithm=ALGORITHM)


def decode_token(secret: str, token: str) -> Principal:
    """The principal a token names; InvalidCredentials if forged, malformed or expired."""
    return _decoded(secret, token)[0]


def _decoded(secret: str, token: str) -> tuple[Principal, float]:
    """The principal a token names and the instant (epoch seconds) it expires."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "role"]},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidCredentials("the token has expired; get a new one") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidCredentials(f"the token is not valid: {exc}") from exc
    principal = make_principal(claims.get("sub"), claims.get("role"), claims.get("department"))
    return principal, float(claims["exp"])


def key_hash(key: str) -> str:
    """What the API keys file stores for a key: its SHA-256, hex."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyEntry(BaseModel):
    """One `[[key]]` of the API keys file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=MAX_SUBJECT_LENGTH - len("api-key:"))
    key_sha256: str
    role: Role
    department: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("key_sha256")
    @classmethod
    def _hex_digest(cls, value: str) -> str:
        digest = value.strip().lower()
        if len(digest) != 64 or any(char not in "0123456789abcdef" for char in digest):
            raise ValueError("give the SHA-256 of the key as 64 hex digits")
        return digest


def _entry_problems(raw: Any) -> str | None:
    """Why a `[[key]]` table is unusable, field by field; None if it is fine."""
    if isinstance(raw, dict) and "key" in raw:
        return (
            "key: never store the key itself; replace it by key_sha256 = its SHA-256 in hex "
            "(python -c 'import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode())"
            ".hexdigest())' KEY)"
        )
    try:
        entry = ApiKeyEntry.model_validate(raw)
    except pydantic.ValidationError as exc:
        return "; ".join(f"{field}: {message}" for field, message in field_errors(exc))
    if entry.role in DEPARTMENT_ROLES and entry.department is None:
        return f"department: a {entry.role.value} key needs the department it belongs to"
    return None


def load_api_keys(path: Path) -> dict[str, Principal]:
    """Principals by key hash; AuthConfigError naming the file, the key and the field."""
    where = f"{path} (CASESTREAM_API_KEYS_FILE)"
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise AuthConfigError(f"{where} does not exist; create it or unset the variable") from exc
    except tomllib.TOMLDecodeError as exc:
        raise AuthConfigError(f"{where} is not valid TOML: {exc}") from exc
    entries = document.get("key", [])
    if set(document) - {"key"} or not isinstance(entries, list):
        raise AuthConfigError(f"{where}: write each key as a [[key]] table, and nothing else")
    found: dict[str, Principal] = {}
    ids: set[str] = set()
    for number, raw in enumerate(entries, start=1):
        label = f"{where}, key #{number}"
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            label += f" ({raw['id']})"
        problems = _entry_problems(raw)
        if problems:
            raise AuthConfigError(f"{label}: {problems}")
        entry = ApiKeyEntry.model_validate(raw)
        if entry.id in ids or entry.key_sha256 in found:
            raise AuthConfigError(f"{label}: id and key_sha256 must be unique in the file")
        ids.add(entry.id)
        subject = f"api-key:{entry.id}"
        found[entry.key_sha256] = Principal(subject, entry.role, entry.department, source=subject)
    return found


class Authenticator:
    """Turns a presented credential into a Principal, or raises InvalidCredentials."""

    def __init__(self, secret: str, api_keys: Mapping[str, Principal]) -> None:
        self._secret = check_secret(secret)
        self._api_keys = dict(api_keys)
        # tokens checked already, until they expire: a client sends its token with every
        # request, and checking its signature each time was a tenth of a read's CPU
        self._tokens: dict[str, tuple[Principal, float]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        if settings.auth_secret is None:
            raise AuthConfigError(
                "the API needs CASESTREAM_AUTH_SECRET to check bearer tokens; " + NEW_SECRET_HINT
            )
        keys = load_api_keys(settings.api_keys_file) if settings.api_keys_file else {}
        return cls(settings.auth_secret.get_secret_value(), keys)

    def api_key(self, key: str) -> Principal:
        found = self._api_keys.get(key_hash(key))
        if found is None:
            raise InvalidCredentials("unknown API key")
        return found

    def bearer(self, credential: str) -> Principal:
        """A bearer credential: an API key of the keys file, else a token."""
        found = self._api_keys.get(key_hash(credential))
        if found is not None:
            return found
        if credential.count(".") != 2:
            raise InvalidCredentials("neither a token nor a known API key")
        return self._token(credential)

    def _token(self, token: str) -> Principal:
        """The principal of a token, from the tokens checked already while it is valid."""
        checked = self._tokens.get(token)
        if checked is not None and time.time() < checked[1] + LEEWAY_SECONDS:  # as PyJWT's exp
            return checked[0]
        principal, expires = _decoded(self._secret, token)  # an expired one raises here
        if len(self._tokens) >= TOKENS_REMEMBERED:
            self._tokens.clear()  # (only tokens checked valid are remembered)
        self._tokens[token] = (principal, expires)
        return principal
