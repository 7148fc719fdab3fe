"""The overdue rule in SQL (read_models/overdue.py) answers as domain/overdue.py does, on SQLite
and PostgreSQL, for every clock and rectification status around the due instant."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from casestream.domain import overdue as rule
from casestream.domain.clocks import ClockStatus
from casestream.domain.rectifications import RectificationStatus
from casestream.read_models import overdue as sql
from casestream.read_models.database import create_engine
from tests.conftest import Database

NOW = datetime(2026, 4, 1, 9, tzinfo=UTC)
DUE = (NOW - timedelta(seconds=1), NOW, NOW + timedelta(seconds=1), None)
INSTANT = sa.DateTime(timezone=True)


def _answer(engine: sa.Engine, expression: sa.ColumnElement[bool]) -> bool:
    with engine.connect() as conn:
        value = conn.execute(sa.select(sa.case((expression, True), else_=False))).scalar_one()
    return bool(value)


def test_the_sql_overdue_rule_is_the_domain_rule(database: Database) -> None:
    engine = create_engine(database.url, database.schema)
    try:
        for status, due_at in itertools.product(ClockStatus, DUE[:3]):
            expression = sql.clock_overdue(
                sa.literal(status.value), sa.literal(due_at, INSTANT), NOW
            )
            assert _answer(engine, expression) == rule.clock_overdue(status, due_at, NOW), (
                status,
                due_at,
            )
        for status, breached, due_at in itertools.product(RectificationStatus, (0, 1), DUE):
            expression = sql.rectification_overdue(
                sa.literal(status.value),
                completion_breached=sa.literal(breached) == 1,
                deadline_at=sa.literal(due_at, INSTANT),
                now=NOW,
            )
            expected = rule.rectification_overdue(
                status, completion_breached=bool(breached), deadline_at=due_at, now=NOW
            )
            assert _answer(engine, expression) == expected, (status, breached, due_at)
    finally:
        engine.dispose()
