"""The escalation scanner over real SQLite and PostgreSQL read models: a pass over a cohort of
clocks due at one instant, among many open clocks not due, reads the due clocks and nothing
else (counted in statements and rows, not in time), and the projector's recording of the
alerts moves every clock on, once, however often the alerts arrive.

Rows go straight into `clocks` (as the projector would write them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import Clock, ClockPolicy
from casestream.domain.envelope import Event
from casestream.domain.rules import load_rulebook
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import alerts, clocks
from casestream.stream_processors.scanner import EscalationScanner
from tests.conftest import Database
from tests.events import local
from tests.unit.test_clocks import accepted_complaint, run

POLICY = ClockPolicy(load_rulebook(), load_calendar())
DUE = 1_250  # clocks whose first warning falls at one instant (a midnight cohort)
NOT_DUE = 6_000  # open clocks started a month later: their alerts are weeks away
PAGE = 100


def _clock_row(clock: Clock) -> dict[str, Any]:
    return {
        "clock_id": clock.clock_id,
        "case_id": clock.case_id,
        "case_kind": clock.case_kind.value,
        "rule_id": clock.rule_id,
        "status": POLICY.status(clock).value,
        "started_at": clock.started_at,
        "due_date": clock.due_date,
        "due_at": clock.due_at,
        "provisional": clock.provisional,
        "stopped_at": clock.stopped_at,
        "department": clock.department,
        "enterprise": clock.enterprise,
        "next_alert_at": POLICY.next_alert_at(clock),
        "detail": clock.model_dump(mode="json"),
        "linked_case_id": clock.linked_case_id,
    }


def _copies(template: Clock, prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        _clock_row(
            template.model_copy(
                update={
                    "case_id": f"{prefix}-{number:05d}",
                    "clock_id": template.clock_id.replace("K-1", f"{prefix}-{number:05d}"),
                }
            )
        )
        for number in range(count)
    ]


class Collect:
    def __init__(self) -> None:
        self.events: list[Event[Any]] = []

    async def __call__(self, events: list[Event[Any]]) -> None:
        self.events.extend(events)


class ScannerReads:
    """The scanner's statements as sent to the database (its reads of `clocks`)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: list[tuple[str, Any]] = []
        self._engine = engine
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM clocks" in statement:
            self.statements.append((statement, parameters))

    def close(self) -> None:
        sa.event.remove(self._engine, "before_cursor_execute", self._seen)


def _rows_examined(engine: sa.Engine, statement: str, parameters: Any) -> int:
    """Index entries PostgreSQL visited for one statement: rows it returned from the scan and
    rows it read only to throw away (a filter, not a range)."""
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
        ).scalar_one()
    examined = 0
    nodes = [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        if "Scan" in node["Node Type"]:
            examined += int(node["Actual Rows"]) + int(node.get("Rows Removed by Filter", 0))
        nodes.extend(node.get("Plans", []))
    return examined


@pytest.fixture
def engine(database: Database) -> Iterator[sa.Engine]:
    made = create_engine(database.url, database.schema)
    migrate(made)
    yield made
    made.dispose()


def test_a_pass_over_a_midnight_cohort_reads_the_due_clocks_and_nothing_else(
    engine: sa.Engine,
) -> None:
    _, (due_template, *_) = run(accepted_complaint())
    _, (later_template, *_) = run(
        [
            event.model_copy(update={"occurred_at": event.occurred_at + timedelta(days=30)})
            for event in accepted_complaint()
        ]
    )
    with engine.begin() as conn:
        conn.execute(clocks.insert(), _copies(due_template, "DUE", DUE))
        conn.execute(clocks.insert(), _copies(later_template, "LATER", NOT_DUE))
    first_alert = POLICY.next_alert_at(due_template)
    assert first_alert is not None
    assert first_alert < (POLICY.next_alert_at(later_template) or first_alert)
    now = first_alert + timedelta(seconds=1)
    owed = POLICY.due_alerts(due_template, now)
    assert owed  # the cohort's first warning (and what falls with it)

    sink = Collect()
    reads = ScannerReads(engine)
    try:
        result = asyncio.run(EscalationScanner(engine, POLICY, sink, lambda: now, PAGE).scan_once())
    finally:
        reads.close()

    assert result.clocks == DUE
    assert len(sink.events) == result.emitted == DUE * len(owed)
    assert {event.case_id for event in sink.events} == {f"DUE-{n:05d}" for n in range(DUE)}
    assert len(reads.statements) == DUE // PAGE + 1  # one per page, and the empty page ending it
    if engine.dialect.name == "postgresql":
        examined = sum(_rows_examined(engine, *statement) for statement in reads.statements)
        assert examined <= DUE + len(reads.statements)  # each page starts where the last ended


def _project(writer: ProjectionWriter, events: list[Event[Any]], first_offset: int) -> None:
    writer.apply_batch(
        [
            ConsumedEvent("alerts", 0, first_offset + number, event)
            for number, event in enumerate(events)
        ]
    )


def test_recording_a_cohort_s_alerts_moves_each_clock_on_once_even_when_they_arrive_twice(
    engine: sa.Engine,
) -> None:
    _, (template, *_) = run(accepted_complaint())
    with engine.begin() as conn:
        conn.execute(clocks.insert(), _copies(template, "DUE", 300))
    now = local("2026-10-01T00:00:00")  # the handling clock's warnings are due, not its breach
    expected = POLICY.due_alerts(template, now)
    first = EscalationScanner(engine, POLICY, sink := Collect(), lambda: now, PAGE)
    asyncio.run(first.scan_once())
    writer = ProjectionWriter(engine, POLICY)
    _project(writer, sink.events[:250], 0)  # the worker stops part-way through the projection
    restarted = Collect()  # a new worker's scanner: no memory of what was sent
    asyncio.run(EscalationScanner(engine, POLICY, restarted, lambda: now, PAGE).scan_once())
    _project(writer, restarted.events, 250)
    _project(writer, sink.events, 250 + len(restarted.events))  # the first pass's, again

    with engine.connect() as conn:
        recorded = conn.execute(sa.select(alerts.c.alert_id, alerts.c.clock_id)).all()
        stored = [
            Clock.model_validate(detail)
            for detail in conn.execute(sa.select(clocks.c.detail)).scalars()
        ]
        next_alerts = set(conn.execute(sa.select(clocks.c.next_alert_at)).scalars())
    assert len(recorded) == len({alert_id for alert_id, _ in recorded}) == 300 * len(expected)
    assert {event.event_id for event in restarted.events} <= {e.event_id for e in sink.events}
    assert all(len(clock.emitted) == len(expected) for clock in stored)
    assert next_alerts == {POLICY.next_alert_at(stored[0])}
    assert min(next_alerts) > now
    again = Collect()
    asyncio.run(EscalationScanner(engine, POLICY, again, lambda: now, PAGE).scan_once())
    assert again.events == []
