"""Signing staff in and out of the web console (登录): check a password, count the wrong ones
(lock-out), record every attempt, open and end server-side sessions.

Why server-side sessions rather than signed cookies: signing out and `casestream user disable`
must end a session at once, which a self-contained signed cookie cannot do before it expires.
The cookie holds a random id (256 bits); the database keeps only its SHA-256, so a copy of the
database opens no session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from casestream.credentials import Principal
from casestream.domain.staff import PASSWORD_MAX, USERNAME_MAX, LockOut, SignInOutcome
from casestream.read_models.staff_accounts import SignInRecord, StaffAccounts
from casestream.read_models.staff_sessions import OpenSession, SessionTerms, StaffSessions
from casestream.settings import Settings
from casestream.staff import no_account_matches, password_matches

SESSION_COOKIE = "casestream_session"
SIGNIN_CSRF_COOKIE = "casestream_signin_csrf"  # double-submit token of the sign-in form
CSRF_HEADER = "X-CSRF-Token"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
"""Methods that need the CSRF token when a request is signed in by the session cookie."""
CONSOLE_SOURCE = "console"  # the `source` of the events a signed-in member of staff sends


def session_sha256(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def same_token(presented: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented CSRF token with the expected one."""
    return presented is not None and hmac.compare_digest(presented.encode(), expected.encode())


def session_principal(session: OpenSession) -> Principal:
    """The caller a session signs in: the account's username is the `actor` of its events."""
    return Principal(session.username, session.role, session.department, source=CONSOLE_SOURCE)


@dataclass(frozen=True)
class SignedIn:
    session_id: str  # goes into the cookie, nowhere else
    session: OpenSession


class SignInDesk:
    """Checks passwords and keeps the sessions of the console's staff accounts."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        lock_out: LockOut,
        terms: SessionTerms,
        now: Callable[[], datetime],
    ) -> None:
        self.accounts = StaffAccounts(engine)
        self.sessions = StaffSessions(engine, terms)
        self.lock_out = lock_out
        self._now = now

    @classmethod
    def from_settings(
        cls, engine: sa.Engine, settings: Settings, now: Callable[[], datetime]
    ) -> SignInDesk:
        return cls(
            engine,
            lock_out=LockOut(
                settings.signin_max_failures, timedelta(minutes=settings.signin_lock_minutes)
            ),
            terms=SessionTerms(
                idle=timedelta(minutes=settings.session_idle_minutes),
                absolute=timedelta(hours=settings.session_absolute_hours),
            ),
            now=now,
        )

    def sign_in(self, username: str, password: str, remote_address: str | None) -> SignedIn | None:
        """A new session, or None for any refusal (the caller says the same thing whatever the
        reason; the sign-in record keeps the reason). A password is checked against a hash even
        for an unknown username, so the answer takes about as long either way."""
        now = self._now()
        outcome, signed_in = self._attempt(username, password, now)
        self.accounts.record_signin(SignInRecord(username, now, outcome, remote_address))
        return signed_in

    def _attempt(
        self, username: str, password: str, now: datetime
    ) -> tuple[SignInOutcome, SignedIn | None]:
        if len(password) > PASSWORD_MAX:
            return SignInOutcome.bad_form, None
        found = self.accounts.credentials(username) if len(username) <= USERNAME_MAX else None
        if found is None:
            no_account_matches(password)
            return SignInOutcome.unknown_user, None
        account = found.account
        matches = password_matches(found.password_hash, password)
        if account.disabled:
            return SignInOutcome.disabled, None
        if self.lock_out.locked(account.locked_until, now):
            return SignInOutcome.locked, None
        if not matches:
            self.accounts.count_failure(account.username, self.lock_out, now=now)
            return SignInOutcome.wrong_password, None
        if account.failed_attempts or account.locked_until is not None:
            self.accounts.clear_failures(account.username)
        self.sessions.end_expired(now=now)
        session_id = secrets.token_urlsafe(32)
        csrf_token = secrets.token_urlsafe(32)
        self.sessions.open(session_sha256(session_id), account.username, csrf_token, now=now)
        opened = self.sessions.find(session_sha256(session_id), now=now)
        if opened is None:  # disabled between the two reads
            return SignInOutcome.disabled, None
        return SignInOutcome.signed_in, SignedIn(session_id, opened)

    def record_bad_form(self, username: str, remote_address: str | None) -> None:
        """A sign-in form without its CSRF token or a field: refused unchecked, recorded."""
        self.accounts.record_signin(
            SignInRecord(username, self._now(), SignInOutcome.bad_form, remote_address)
        )

    def session(self, session_id: str | None) -> OpenSession | None:
        """The live session of a cookie's id, or None (none, expired, ended, account disabled)."""
        if not session_id or len(session_id) > 100:
            return None
        return self.sessions.find(session_sha256(session_id), now=self._now())

    def sign_out(self, session_id: str | None) -> None:
        if session_id and len(session_id) <= 100:
            self.sessions.end(session_sha256(session_id))
