"""Credentials for tests: tokens signed with a fixed test secret, minted independently of the
API's own code (plain PyJWT), so the tests check the token contract, not our implementation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

TEST_SECRET = "k7Qz2vN9xWm4Lp8Rt3Yb6Hc1Jd5Fg0Ae-test-only"
"""The CASESTREAM_AUTH_SECRET of every API a test starts (never use it anywhere else)."""


def token_for(
    role: str,
    department: str | None = None,
    *,
    subject: str | None = None,
    ttl: timedelta = timedelta(hours=1),
    secret: str = TEST_SECRET,
    **claims: Any,
) -> str:
    """A bearer token for `role` (and `department`), as `casestream token issue` would mint it."""
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "sub": subject or f"test-{role}",
        "role": role,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        **claims,
    }
    if department is not None:
        body["department"] = department
    return jwt.encode(body, secret, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def auth_headers(role: str = "system", department: str | None = None) -> dict[str, str]:
    """Headers of a request made as `role`."""
    return bearer(token_for(role, department))


def auth_env() -> dict[str, str]:
    """The environment a casestream process needs to check the tokens of `token_for`."""
    return {"CASESTREAM_AUTH_SECRET": TEST_SECRET}


def sha256_hex(key: str) -> str:
    """The `key_sha256` of an API key, for test keys files."""
    return hashlib.sha256(key.encode()).hexdigest()
