"""An API process remembers the tokens it checked, but never past their expiry, and never a
forged one."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from casestream.credentials import (
    LEEWAY_SECONDS,
    Authenticator,
    InvalidCredentials,
    Principal,
    issue_token,
)
from casestream.domain.commands import Role

SECRET = "q7Lm2Xv9Rt4Zp8Wk3Nc6Hb1Jd5Fs0Ga9Ue2Yo7Ti4"
HEAD = Principal("zhang.wei", Role.department_head, "治安大队")


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    authenticator = Authenticator(SECRET, {})
    # valid for about one second more, counting the leeway
    token = issue_token(
        SECRET,
        HEAD,
        now=datetime.now(UTC) - timedelta(seconds=LEEWAY_SECONDS),
        ttl=timedelta(seconds=1.5),
    )
    assert authenticator.bearer(token) == HEAD
    assert authenticator.bearer(token) == HEAD  # remembered
    time.sleep(1.6)
    with pytest.raises(InvalidCredentials, match="expired"):
        authenticator.bearer(token)


def test_a_token_signed_with_another_secret_is_refused_though_one_alike_was_accepted() -> None:
    authenticator = Authenticator(SECRET, {})
    now = datetime.now(UTC)
    good = issue_token(SECRET, HEAD, now=now, ttl=timedelta(hours=1))
    forged = issue_token(SECRET[::-1], HEAD, now=now, ttl=timedelta(hours=1))
    assert authenticator.bearer(good) == HEAD
    for _ in range(2):
        with pytest.raises(InvalidCredentials, match="not valid"):
            authenticator.bearer(forged)
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    with pytest.raises(InvalidCredentials):
        authenticator.bearer(tampered)
