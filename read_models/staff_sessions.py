"""Open sign-in sessions of the web console (`staff_sessions`): kept server-side, so signing
out or disabling an account ends them at once. A session is found by the SHA-256 of the random
id its cookie holds; the id itself is never stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from casestream.domain.commands import Role

from .schema import staff_accounts, staff_sessions


@dataclass(frozen=True)
class SessionTerms:
    """How long a session lives: `idle` without a request, `absolute` at most."""

    idle: timedelta = timedelta(hours=8)
    absolute: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)  # last_seen_at is written at most this often


@dataclass(frozen=True)
class OpenSession:
    """A live session and the enabled account it signs in."""

    username: str
    role: Role
    department: str | None
    csrf_token: str
    created_at: datetime
    expires_at: datetime


class StaffSessions:
    """The sessions of the read-model database."""

    def __init__(self, engine: sa.Engine, terms: SessionTerms) -> None:
        self._engine = engine
        self.terms = terms

    def open(self, session_sha256: str, username: str, csrf_token: str, *, now: datetime) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                staff_sessions.insert().values(
                    session_sha256=session_sha256,
                    username=username,
                    csrf_token=csrf_token,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + self.terms.absolute,
                )
            )

    def find(self, session_sha256: str, *, now: datetime) -> OpenSession | None:
        """The session if it is live and its account enabled; an expired one is ended here."""
        query = (
            sa.select(staff_sessions, staff_accounts.c.role, staff_accounts.c.department)
            .join(staff_accounts, staff_accounts.c.username == staff_sessions.c.username)
            .where(
                staff_sessions.c.session_sha256 == session_sha256,
                staff_accounts.c.disabled.is_(False),
            )
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        if now >= row.expires_at or now >= row.last_seen_at + self.terms.idle:
            self.end(session_sha256)
            return None
        if now - row.last_seen_at >= self.terms.touch_every:
            with self._engine.begin() as conn:
                conn.execute(
                    staff_sessions.update()
                    .where(staff_sessions.c.session_sha256 == session_sha256)
                    .values(last_seen_at=now)
                )
        return OpenSession(
            username=row.username,
            role=Role(row.role),
            department=row.department,
            csrf_token=row.csrf_token,
            created_at=row.created_at,
            expires_at=min(row.expires_at, now + self.terms.idle),
        )

    def end(self, session_sha256: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                staff_sessions.delete().where(staff_sessions.c.session_sha256 == session_sha256)
            )

    def end_expired(self, *, now: datetime) -> int:
        """Forget the sessions past their absolute end (signing in calls it: no timer needed)."""
        with self._engine.begin() as conn:
            gone = conn.execute(staff_sessions.delete().where(staff_sessions.c.expires_at <= now))
        return gone.rowcount
