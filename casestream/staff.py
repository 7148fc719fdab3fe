"""Staff accounts as `casestream user …`, `casestream up --demo` and the console's sign-in use
them: passwords hashed with argon2id (never stored nor logged in clear), the checks of a new
account, and the demo accounts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from casestream.credentials import DEPARTMENT_ROLES, ROLE_NAMES
from casestream.domain.commands import Role
from casestream.domain.staff import (
    AccountRefused,
    check_department,
    check_password,
    check_username,
)
from casestream.read_models.staff_accounts import StaffAccount, StaffAccounts

DEMO_DEPARTMENT = "治安大队"
"""The department of the department-role demo accounts: one the simulated cases use."""


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher().hash(check_password(password))


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(24))


def no_account_matches(password: str) -> bool:
    """Check `password` against a hash no account has, so an unknown username takes as long
    to refuse as a wrong password does; always False."""
    password_matches(_dummy_hash(), password)
    return False


def account_role(role: str, department: str | None) -> tuple[Role, str | None]:
    """The role and department of a new account; AccountRefused naming the fix."""
    if role not in {known.value for known in Role}:
        raise AccountRefused(f"unknown role {role!r}; choose one of: {ROLE_NAMES}")
    checked = Role(role)
    if department is not None:
        check_department(department)
    elif checked in DEPARTMENT_ROLES:
        raise AccountRefused(f"a {role} sees one department's cases: give --department D")
    return checked, department


def add_account(
    accounts: StaffAccounts,
    username: str,
    *,
    role: str,
    department: str | None,
    password: str,
    now: datetime,
) -> StaffAccount:
    """A new account; AccountRefused (bad field) or AccountExists (username taken)."""
    checked_role, checked_department = account_role(role, department)
    return accounts.add(
        check_username(username),
        role=checked_role,
        department=checked_department,
        password_hash=hash_password(password),
        now=now,
    )


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    department: str | None
    password: str


def demo_accounts(accounts: StaffAccounts, *, now: datetime) -> list[DemoAccount]:
    """One account per role (`demo-<role>`), each with a new random password (an account of
    an earlier run gets a new one, and is enabled again)."""
    made: list[DemoAccount] = []
    for role in Role:
        username = f"demo-{role.value.replace('_', '-')}"
        department = DEMO_DEPARTMENT if role in DEPARTMENT_ROLES else None
        password = secrets.token_urlsafe(12)
        if accounts.find(username) is None:
            accounts.add(
                username,
                role=role,
                department=department,
                password_hash=hash_password(password),
                now=now,
            )
        else:
            accounts.set_password_hash(username, hash_password(password), now=now)
            accounts.set_disabled(username, False, now=now)
        made.append(DemoAccount(username, role, department, password))
    return made
