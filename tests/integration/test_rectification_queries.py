"""Listing rectifications: keyset pages in both orders, and the one-page deadline order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import parse_event
from casestream.domain.rules import load_rulebook
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.queries import BadCursor
from casestream.read_models.rectification_queries import RectificationFilter, RectificationQueries
from tests.conftest import Database
from tests.events import raw

OPENED = datetime.fromisoformat("2026-06-01T09:00:00+08:00")


def _seeded(database: Database) -> RectificationQueries:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    events = [
        parse_event(
            raw(
                "RectificationOpened",
                f"RQ-{n}",
                "rectification",
                {"department": "治安大队", "responsible_person": "张强"},
                at=OPENED,
                day=n,
            )
        )
        for n in range(5)
    ]
    writer = ProjectionWriter(engine, ClockPolicy(load_rulebook(), load_calendar()))
    writer.apply_batch([ConsumedEvent("r", 0, n, event) for n, event in enumerate(events)])
    return RectificationQueries(engine, load_rulebook())


def _all(queries: RectificationQueries, sort: str) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = queries.list(
            RectificationFilter(), now=datetime.now(UTC), sort=sort, limit=2, cursor=cursor
        )  # type: ignore[arg-type]
        seen.extend(row.case_id for row in page.rows)
        cursor = page.next_cursor
        if cursor is None:
            return seen


def test_rectifications_page_through_in_both_orders_and_by_deadline(database: Database) -> None:
    queries = _seeded(database)
    assert _all(queries, "opened_desc") == [f"RQ-{n}" for n in range(4, -1, -1)]
    assert _all(queries, "opened_asc") == [f"RQ-{n}" for n in range(5)]
    soonest = queries.list(
        RectificationFilter(),
        now=OPENED + timedelta(days=60),
        sort="deadline_asc",
        limit=3,
        cursor=None,
    )
    assert [row.case_id for row in soonest.rows] == [
        "RQ-0",
        "RQ-1",
        "RQ-2",
    ] and soonest.next_cursor is None
    assert all(row.overdue for row in soonest.rows)  # 30 days to rectify, 60 days on
    with pytest.raises(BadCursor):
        queries.list(RectificationFilter(), now=OPENED, sort="deadline_asc", limit=3, cursor="x")
