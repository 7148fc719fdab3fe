"""The staff accounts of the web console and their sign-in record (`staff_accounts`,
`staff_signins`): what `casestream user …` edits and what signing in reads and counts. A
password is handled here only as its hash."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casestream.domain.commands import Role
from casestream.domain.staff import REMOTE_ADDRESS_MAX, USERNAME_MAX, LockOut, SignInOutcome

from .schema import staff_accounts, staff_sessions, staff_signins


class AccountExists(ValueError):
    """An account of that username exists already."""


class UnknownAccount(LookupError):
    """No account of that username."""


@dataclass(frozen=True)
class StaffAccount:
    """An account as it may be shown: never its password hash."""

    username: str
    role: Role
    department: str | None
    disabled: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Credentials:
    """An account with the hash its password is checked against (sign-in only)."""

    account: StaffAccount
    password_hash: str


@dataclass(frozen=True)
class SignInRecord:
    """One attempt to sign in (登录记录)."""

    username: str
    attempted_at: datetime
    outcome: SignInOutcome
    remote_address: str | None


def _account(row: Any) -> StaffAccount:
    return StaffAccount(
        username=row.username,
        role=Role(row.role),
        department=row.department,
        disabled=row.disabled,
        failed_attempts=row.failed_attempts,
        locked_until=row.locked_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class StaffAccounts:
    """The staff accounts of the read-model database."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def add(
        self,
        username: str,
        *,
        role: Role,
        department: str | None,
        password_hash: str,
        now: datetime,
    ) -> StaffAccount:
        """A new enabled account; AccountExists when the username is taken."""
        row = {
            "username": username,
            "password_hash": password_hash,
            "role": role.value,
            "department": department,
            "disabled": False,
            "failed_attempts": 0,
            "locked_until": None,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(staff_accounts.insert().values(row))
        except sa.exc.IntegrityError as exc:
            raise AccountExists(username) from exc
        return StaffAccount(username, role, department, False, 0, None, now, now)

    def find(self, username: str) -> StaffAccount | None:
        found = self.credentials(username)
        return None if found is None else found.account

    def credentials(self, username: str) -> Credentials | None:
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(staff_accounts).where(staff_accounts.c.username == username)
            ).first()
        return None if row is None else Credentials(_account(row), row.password_hash)

    def all(self) -> list[StaffAccount]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(staff_accounts).order_by(staff_accounts.c.username))
            return [_account(row) for row in rows]

    def set_disabled(self, username: str, disabled: bool, *, now: datetime) -> None:
        """Disable (ending its sessions at once) or enable an account; UnknownAccount if none."""
        with self._engine.begin() as conn:
            self._update(conn, username, disabled=disabled, updated_at=now)
            if disabled:
                conn.execute(staff_sessions.delete().where(staff_sessions.c.username == username))

    def set_password_hash(self, username: str, password_hash: str, *, now: datetime) -> None:
        """A new password: the lock-out is lifted and every session of the account ends."""
        with self._engine.begin() as conn:
            self._update(
                conn,
                username,
                password_hash=password_hash,
                failed_attempts=0,
                locked_until=None,
                updated_at=now,
            )
            conn.execute(staff_sessions.delete().where(staff_sessions.c.username == username))

    def _update(self, conn: sa.Connection, username: str, **values: Any) -> None:
        changed = conn.execute(
            staff_accounts.update().where(staff_accounts.c.username == username).values(values)
        )
        if changed.rowcount == 0:
            raise UnknownAccount(username)

    def count_failure(self, username: str, lock_out: LockOut, *, now: datetime) -> bool:
        """One more wrong password for an existing account; True when it locks it now."""
        with self._engine.begin() as conn:
            failures = conn.execute(
                sa.select(staff_accounts.c.failed_attempts)
                .where(staff_accounts.c.username == username)
                .with_for_update()
            ).scalar_one()
            count, locked_until = lock_out.after_failure(failures, now)
            values: dict[str, Any] = {"failed_attempts": count}
            if locked_until is not None:
                values["locked_until"] = locked_until
            self._update(conn, username, **values)
        return locked_until is not None

    def clear_failures(self, username: str) -> None:
        """A right password: the run of wrong ones is over."""
        with self._engine.begin() as conn:
            self._update(conn, username, failed_attempts=0, locked_until=None)

    def record_signin(self, record: SignInRecord) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                staff_signins.insert().values(
                    username=record.username[:USERNAME_MAX],
                    attempted_at=record.attempted_at,
                    outcome=record.outcome.value,
                    remote_address=(record.remote_address or None)
                    and record.remote_address[:REMOTE_ADDRESS_MAX],
                )
            )

    def signins(self, username: str | None = None, *, limit: int = 1000) -> list[SignInRecord]:
        """The latest attempts, oldest first (of `username` only when given)."""
        query = sa.select(staff_signins).order_by(staff_signins.c.signin_id.desc()).limit(limit)
        if username is not None:
            query = query.where(staff_signins.c.username == username)
        with self._engine.connect() as conn:
            rows = list(conn.execute(query))
        return [
            SignInRecord(
                row.username, row.attempted_at, SignInOutcome(row.outcome), row.remote_address
            )
            for row in reversed(rows)
        ]
