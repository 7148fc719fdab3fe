"""Engines for the read-model database (SQLite by default, PostgreSQL in production) and migrations."""

from __future__ import annotations

import fcntl
import functools
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pydantic_core
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from .read_model_pointer import ReadModelTarget, pointer_meta
from .schema import (
    READ_MODEL_TABLES,
    case_figures,
    command_reservations,
    figure_counts,
    outbox,
    projection_meta,
)

MIGRATIONS = Path(__file__).parent / "migrations"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class DatabaseConfigError(ValueError):
    """The database URL or schema cannot be used; the message says what to set."""


def create_engine(url: str, schema: str | None = None) -> sa.Engine:
    """An engine on `url`; for PostgreSQL, `schema` (created if missing) holds the read models."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if schema:
            raise DatabaseConfigError(
                "CASESTREAM_DATABASE_SCHEMA applies to PostgreSQL only; unset it for SQLite"
            )
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30}, json_serializer=_to_json)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        connect_args: dict[str, Any] = {}
        if schema:
            if not _SCHEMA_NAME.match(schema):
                raise DatabaseConfigError(
                    f"schema {schema!r} is not a plain lower-case identifier; use letters, digits and _"
                )
            with sa.create_engine(url).begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connect_args["options"] = f"-csearch_path={schema}"
        engine = sa.create_engine(
            url, connect_args=connect_args, pool_size=10, json_serializer=_to_json
        )
        sa.event.listen(engine.pool, "checkin", _note_checkin)
        sa.event.listen(engine.pool, "checkout", functools.partial(_ping_if_idle, engine.dialect))
        return engine
    raise DatabaseConfigError(
        f"unsupported database {backend!r}; use sqlite:///path or postgresql+psycopg://user@host/db"
    )


PING_AFTER_IDLE_SECONDS = 10.0
"""A pooled connection idle this long is pinged before use (one round trip), so one the server
dropped meanwhile (a restart, an idle timeout) is replaced instead of failing a request. One
in use more recently is not: pinging every checkout (pool_pre_ping) cost every API read an
extra round trip. A connection that breaks anyway invalidates the whole pool on its error."""


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dialect: sa.Dialect, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    checked_in_at = record.info.get("checked_in_at")
    if checked_in_at is not None and time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
        return
    try:
        alive = dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as exc:
        raise sa.exc.DisconnectionError(str(exc)) from exc
    if not alive:
        raise sa.exc.DisconnectionError("the connection did not answer a ping")


def _to_json(value: Any) -> str:
    """JSON columns hold plain JSON data; pydantic-core's encoder is ~2.5x faster than json.dumps."""
    return pydantic_core.to_json(value).decode()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def migrate(engine: sa.Engine, then: Callable[[sa.Connection], object] | None = None) -> None:
    """Bring the schema to the newest migration (safe to run from several processes at once:
    an advisory lock on PostgreSQL, an exclusive lock file beside a SQLite database), then run
    `then` in the same transaction, under the same lock (e.g. build what a migration added from
    the rows already there)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _sqlite_migration_lock(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(727274)"))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        pointer_meta.create_all(conn, checkfirst=True)  # read in the home only
        found = conn.execute(
            sa.select(projection_meta.c.value).where(projection_meta.c.key == "projection_id")
        ).first()
        if found is None:
            conn.execute(
                projection_meta.insert().values(key="projection_id", value=uuid.uuid4().hex[:12])
            )
        if then is not None:
            then(conn)


@contextmanager
def _sqlite_migration_lock(engine: sa.Engine) -> Iterator[None]:
    database = engine.url.database if engine.url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def projection_id(engine: sa.Engine) -> str:
    """The id of this read-model database; a fresh database gets a fresh consumer group."""
    with engine.connect() as conn:
        value = conn.execute(
            sa.select(projection_meta.c.value).where(projection_meta.c.key == "projection_id")
        ).scalar_one()
    return str(value)


def target_engine(target: ReadModelTarget) -> sa.Engine:
    """An engine on the read models of `target` (a PostgreSQL schema is created if missing)."""
    return create_engine(target.url, target.schema)


def drop_read_models(target: ReadModelTarget, home: ReadModelTarget) -> None:
    """Remove read models no longer served: a schema is dropped, a SQLite file deleted; the
    home's read-model rows are deleted, its operational tables (staff, deliveries) kept."""
    if target.url == home.url and (target.schema or "public") == (home.schema or "public"):
        engine = target_engine(target)
        try:
            with engine.begin() as conn:
                derived = (case_figures, figure_counts, outbox, command_reservations)
                for table in (*READ_MODEL_TABLES, *derived):
                    conn.execute(table.delete())
        finally:
            engine.dispose()
        return
    if target.schema is not None:
        if not _SCHEMA_NAME.match(target.schema):
            raise DatabaseConfigError(f"schema {target.schema!r} is not a plain identifier")
        engine = sa.create_engine(target.url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{target.schema}" CASCADE'))
        finally:
            engine.dispose()
        return
    database = make_url(target.url).database
    if database:
        for suffix in ("", "-wal", "-shm", ".migrate-lock"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
