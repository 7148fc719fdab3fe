"""Staff accounts of the web console (工作人员账号): what a username and a password must be,
and the lock-out after repeated wrong passwords. Pure rules; the accounts live in the read-model
database (`read_models/staff_accounts.py`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

USERNAME_MAX = 64
USERNAME = re.compile(r"^[\w.\-]{1,64}$")
"""Letters (Chinese too), digits, `.`, `_` and `-`: the name is the `actor` of the events the
account sends, so it stays short and free of separators such as `:` (`api-key:…` are keys)."""
PASSWORD_MIN = 10
PASSWORD_MAX = 128
DEPARTMENT_MAX = 200  # as cases.department
REMOTE_ADDRESS_MAX = 64


class AccountRefused(ValueError):
    """A username, password or department that an account may not have; the message names the fix."""


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise AccountRefused(
            f"a username is 1 to {USERNAME_MAX} letters, digits, '.', '_' or '-' "
            "(no spaces or ':'); choose another"
        )
    return username


def check_password(password: str) -> str:
    """`password` if it may be set; AccountRefused naming the bound otherwise."""
    if len(password) < PASSWORD_MIN:
        raise AccountRefused(
            f"the password is too short ({len(password)} characters); use at least {PASSWORD_MIN}"
        )
    if len(password) > PASSWORD_MAX:
        raise AccountRefused(f"the password is longer than {PASSWORD_MAX} characters")
    if password.strip() != password or not password.isprintable():
        raise AccountRefused(
            "the password may not start or end with spaces, nor hold control characters"
        )
    return password


def check_department(department: str) -> str:
    if not department.strip() or len(department) > DEPARTMENT_MAX:
        raise AccountRefused(f"a department is a name of 1 to {DEPARTMENT_MAX} characters")
    return department


class SignInOutcome(StrEnum):
    """What became of one sign-in attempt (登录记录), as the sign-in record keeps it."""

    signed_in = "signed_in"
    wrong_password = "wrong_password"
    unknown_user = "unknown_user"
    locked = "locked"  # right or wrong, the account was locked out
    disabled = "disabled"
    bad_form = "bad_form"  # missing field or CSRF token: the password was not even checked


@dataclass(frozen=True)
class LockOut:
    """`max_failures` wrong passwords in a row lock an account for `duration` (账号锁定)."""

    max_failures: int = 5
    duration: timedelta = timedelta(minutes=15)

    def locked(self, locked_until: datetime | None, now: datetime) -> bool:
        return locked_until is not None and now < locked_until

    def after_failure(self, failures_before: int, now: datetime) -> tuple[int, datetime | None]:
        """The failure count and lock of an account after one more wrong password: the count
        starts again at 0 when it locks, so the next run of failures locks it again."""
        failures = failures_before + 1
        if failures >= self.max_failures:
            return 0, now + self.duration
        return failures, None
