"""Dialect-aware bulk statements (upsert, insert-or-skip) shared by the writers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

T = TypeVar("T")

CHUNK = 500  # bound parameters per IN list, well under SQLite's limit
STAGED_ROWS = 20  # from this many rows PostgreSQL upserts go through COPY and one INSERT


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def among(conn: sa.Connection, column: sa.Column[str], values: Sequence[str]) -> Any:
    """`column IN (values)`. On PostgreSQL `column = ANY(array)`: one statement text whatever
    the number of values, so neither SQLAlchemy nor the driver parses a new query each batch."""
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.literal(list(values), postgresql.ARRAY(sa.String)))
    return column.in_(values)


def _insert(conn: sa.Connection, table: sa.Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"read models support SQLite and PostgreSQL, not {conn.dialect.name}")


def _execute_rows(conn: sa.Connection, statement: Any, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(statement, list(rows))


def insert_rows(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows that must be new (a duplicate key is an error).

    On PostgreSQL through COPY, in the connection's transaction: one stream instead of a
    round trip per row (the driver's executemany), with the columns' own type conversions.
    """
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert(), list(rows))
        return
    _copy(conn, table, table.name, rows)


def _copy(conn: sa.Connection, table: sa.Table, into: str, rows: Sequence[dict[str, Any]]) -> None:
    """COPY `rows` (of `table`'s columns) into the table named `into`."""
    names = list(rows[0])
    processors = [table.c[name].type.bind_processor(conn.dialect) for name in names]
    columns = ", ".join(f'"{name}"' for name in names)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f'COPY "{into}" ({columns}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(
                [
                    value if process is None or value is None else process(value)
                    for process, value in zip(
                        processors, (row[name] for name in names), strict=True
                    )
                ]
            )


def _copy_and_insert(
    conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], on_conflict: str
) -> None:
    """PostgreSQL: COPY `rows` into a temporary table shaped like `table`'s columns, then one
    `INSERT … SELECT … ON CONFLICT …`: a few round trips per table instead of one statement
    per row, in the connection's transaction."""
    columns = ", ".join(f'"{name}"' for name in rows[0])
    stage = f"staged_{table.name}"
    conn.exec_driver_sql(
        f'CREATE TEMPORARY TABLE "{stage}" ON COMMIT DROP AS '
        f'SELECT {columns} FROM "{table.name}" WITH NO DATA'
    )
    _copy(conn, table, stage, rows)
    conn.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{stage}" {on_conflict}'
    )
    conn.exec_driver_sql(f'DROP TABLE "{stage}"')  # the table may be written again before commit


def _last_per_key(rows: Sequence[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """One row per primary key, the last given: what upserting them one after another leaves
    (one INSERT … ON CONFLICT DO UPDATE may not touch a row twice)."""
    return list({tuple(row[key] for key in keys): row for row in rows}.values())


def upsert(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, replacing the non-key columns of rows whose primary key exists."""
    if not rows:
        return
    keys = [column.name for column in table.primary_key.columns]
    if conn.dialect.name == "postgresql" and len(rows) >= STAGED_ROWS:
        assignments = ", ".join(
            f'"{name}" = EXCLUDED."{name}"' for name in rows[0] if name not in keys
        )
        target = ", ".join(f'"{key}"' for key in keys)
        action = f"DO UPDATE SET {assignments}" if assignments else "DO NOTHING"
        unique = _last_per_key(rows, keys)
        _copy_and_insert(conn, table, unique, f"ON CONFLICT ({target}) {action}")
        return
    statement = _insert(conn, table)
    updates = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    _execute_rows(conn, statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)


def insert_missing(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows whose primary key does not exist yet; leave the others alone."""
    if conn.dialect.name == "postgresql" and len(rows) >= STAGED_ROWS:
        _copy_and_insert(conn, table, rows, "ON CONFLICT DO NOTHING")
        return
    _execute_rows(conn, _insert(conn, table).on_conflict_do_nothing(), rows)


def increment(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, adding their non-key columns to those of rows whose primary key exists.

    Rows are written in key order, so writers incrementing the same rows at once (several
    workers) lock them in one order and never deadlock."""
    if not rows:
        return
    keys = [column.name for column in table.primary_key.columns]
    statement = _insert(conn, table)
    updates = {
        name: table.c[name] + statement.excluded[name] for name in rows[0] if name not in keys
    }
    ordered = sorted(rows, key=lambda row: tuple(row[key] for key in keys))
    _execute_rows(conn, statement.on_conflict_do_update(index_elements=keys, set_=updates), ordered)
