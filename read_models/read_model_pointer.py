"""Which read models the API and the worker serve: a one-row pointer kept in the home database
(CASESTREAM_DATABASE_URL and CASESTREAM_DATABASE_SCHEMA), which never moves.

`casestream replay --into` builds read models beside the live ones; `casestream switch` turns
this pointer, and every API and worker process follows it (see README, "Rebuilding read models
without downtime"). Without a pointer row the home holds the read models, as before.

The home also keeps, whichever read models are served, the operational tables that no event
rebuilds and that are not written in a read-model transaction: staff accounts, sign-ins and
sessions, webhook deliveries and the workers' heartbeats (`CONTROL_TABLES`). A switch copies
those that are (`COPIED_AT_SWITCH`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from .schema import (
    command_reservations,
    evidence_uploads,
    outbox,
    staff_accounts,
    staff_sessions,
    staff_signins,
    webhook_deliveries,
    worker_heartbeats,
)

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

pointer_meta = sa.MetaData()

# Not an alembic table of the read models: only the home's row is read, so it is created beside
# them by `database.migrate` on any database, and a rebuilt target's stays empty.
read_model_pointer = sa.Table(
    "read_model_pointer",
    pointer_meta,
    sa.Column("slot", sa.Integer, primary_key=True),  # always 1: one pointer per home
    sa.Column("database_url", sa.Text, nullable=False),
    sa.Column("database_schema", sa.String(63)),
    sa.Column("switched_at", sa.DateTime(timezone=True), nullable=False),
)

CONTROL_TABLES = (
    staff_accounts,
    staff_signins,
    staff_sessions,
    webhook_deliveries,
    worker_heartbeats,
)
"""Kept in the home for good: a switch neither signs anyone out nor forgets a delivery."""

COPIED_AT_SWITCH = (command_reservations, evidence_uploads)
"""Written in the read models' own transactions or read joined with them: a switch copies the
rows the target lacks (and the outbox's unpublished rows), twice: before it turns the pointer
and once every process has followed it."""


class TargetError(ValueError):
    """A target that names no usable read models; the message says what to give."""


@dataclass(frozen=True)
class ReadModelTarget:
    """Where a set of read models lives: a database URL and, on PostgreSQL, a schema."""

    url: str
    schema: str | None = None

    def describe(self) -> str:
        """The target as `casestream switch` and `replay --into` take it back."""
        if self.schema is not None:
            return self.schema
        return self.url

    @property
    def backend(self) -> str:
        return make_url(self.url).get_backend_name()


def parse_target(text: str, home: ReadModelTarget) -> ReadModelTarget:
    """The target a command line names: a PostgreSQL schema (on the home's database), or a
    SQLite URL (`sqlite:///path/new.db`); the home itself by its schema, or `home`."""
    text = text.strip()
    if text == "home":
        return home
    if "://" in text:
        url = make_url(text)
        if url.get_backend_name() != "sqlite":
            raise TargetError(
                f"{text!r}: give a PostgreSQL target as a schema name on the home database, "
                "or a SQLite one as sqlite:///path/new.db"
            )
        if not url.database or url.database == ":memory:":
            raise TargetError(f"{text!r}: a SQLite target needs a file, sqlite:///path/new.db")
        if home.backend != "sqlite":
            raise TargetError("the home database is PostgreSQL: give a schema name")
        return ReadModelTarget(text)
    if home.backend != "postgresql":
        raise TargetError(
            f"{text!r}: the home database is SQLite: give a new file as sqlite:///path/new.db"
        )
    if not _SCHEMA_NAME.match(text):
        raise TargetError(f"schema {text!r} is not a plain lower-case identifier")
    if text == (home.schema or "public"):
        return home
    return ReadModelTarget(home.url, text)


def same_place(one: ReadModelTarget, other: ReadModelTarget) -> bool:
    """Whether two targets name the same read models (a missing schema is `public`)."""
    return one.url == other.url and (one.schema or "public") == (other.schema or "public")


def drop_refusal(target: ReadModelTarget, *, active: ReadModelTarget) -> str | None:
    """Why `target` may not be dropped now, or None: the read models served are never dropped."""
    if same_place(target, active):
        return (
            f"{target.describe()} is the read models served now: switch to others first "
            "(`casestream switch TARGET`), then drop it"
        )
    return None


class ReadModelPointer:
    """The pointer row in the home database (`home_engine`)."""

    def __init__(self, home_engine: sa.Engine, home: ReadModelTarget) -> None:
        self._engine = home_engine
        self.home = home

    def active(self) -> ReadModelTarget:
        """The read models served now: the pointer's target, else the home."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(
                    read_model_pointer.c.database_url, read_model_pointer.c.database_schema
                ).where(read_model_pointer.c.slot == 1)
            ).first()
        if row is None:
            return self.home
        return ReadModelTarget(row.database_url, row.database_schema)

    def point_at(self, target: ReadModelTarget, conn: sa.Connection | None = None) -> None:
        """Serve `target` from now on (the home: remove the pointer); in `conn`'s transaction
        when given, so that the copy of the operational rows commits with it."""
        if conn is None:
            with self._engine.begin() as own:
                self.point_at(target, own)
            return
        conn.execute(read_model_pointer.delete())
        if not same_place(target, self.home):
            conn.execute(
                read_model_pointer.insert().values(
                    slot=1,
                    database_url=target.url,
                    database_schema=target.schema,
                    switched_at=datetime.now(UTC),
                )
            )


def copy_operational_rows(source: sa.Connection, target: sa.Connection) -> int:
    """Copy into `target` the rows of `COPIED_AT_SWITCH` and the unpublished outbox rows of
    `source` that it lacks (by primary key); how many were new. Idempotent."""
    copied = 0
    sources = [(table, sa.select(table)) for table in COPIED_AT_SWITCH]
    sources.append((outbox, sa.select(outbox).where(outbox.c.published.is_(False))))
    for table, query in sources:
        keys = [column.name for column in table.primary_key.columns]
        rows = [dict(row._mapping) for row in source.execute(query)]
        if not rows:
            continue
        present = {tuple(row) for row in target.execute(sa.select(*(table.c[key] for key in keys)))}
        missing = [row for row in rows if tuple(row[key] for key in keys) not in present]
        if missing:
            target.execute(table.insert(), missing)
            copied += len(missing)
    return copied
