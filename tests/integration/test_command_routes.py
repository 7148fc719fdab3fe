"""The command route's answers that need no broker, in-process on a SQLite read model: a command
behind an earlier one not yet projected waits for it, then answers 409 "retry" with Retry-After
(nothing done); without Kafka a command answers 503 and reserves nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from casestream.api.app import create_app
from casestream.domain import catalog as ev
from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import new_event, parse_event
from casestream.domain.rules import load_rulebook
from casestream.read_models.command_reservations import (
    CommandReservations,
    Reservation,
    command_event_id,
)
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import command_reservations, outbox
from casestream.settings import Settings
from tests.auth import TEST_SECRET, auth_headers
from tests.events import raw

DEPARTMENT = "治安大队"
HEAD = auth_headers("department_head", DEPARTMENT)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    built = create_engine(f"sqlite:///{tmp_path / 'routes.db'}")
    migrate(built)
    writer = ProjectionWriter(built, ClockPolicy(load_rulebook(), load_calendar()))
    opened = raw(
        "RectificationOpened",
        "RECT-B1",
        "rectification",
        {"department": DEPARTMENT, "responsible_person": "李四"},
        at=datetime.now(UTC),
    )
    writer.apply_batch([ConsumedEvent("routes", 0, 0, parse_event(opened))])
    yield built
    built.dispose()


def _client(engine: sa.Engine, kafka: str | None) -> TestClient:
    settings = Settings(
        database_url=str(engine.url),
        kafka_bootstrap=kafka,
        auth_secret=TEST_SECRET,
        command_wait_seconds=0.3,
    )
    return TestClient(create_app(settings), headers=HEAD)


def _rows(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() or 0)


def test_a_command_behind_an_earlier_one_not_projected_answers_409_retry(
    engine: sa.Engine,
) -> None:
    now = datetime.now(UTC)
    earlier = new_event(
        ev.MeasureAdded(measure="培训"),
        case_id="RECT-B1",
        case_kind=ev.CaseKind.rectification,
        occurred_at=now,
        source="api",
        actor="head-1",
        event_id=command_event_id("RECT-B1", 1, 0),
    )
    CommandReservations(engine).reserve(
        Reservation("RECT-B1", 1, "add_measure", "head-1", now), [earlier]
    )
    # a broker that is never asked: the command is refused before anything is sent
    with _client(engine, "127.0.0.1:1") as client:
        answer = client.post("/cases/RECT-B1/commands/add_measure", json={"measure": "x"})
    assert answer.status_code == 409, answer.text
    assert answer.headers["Retry-After"] == "1"
    assert "not in the read models yet" in answer.json()["detail"]["reason"]
    assert answer.json()["detail"]["current_version"] == 1
    assert (_rows(engine, command_reservations), _rows(engine, outbox)) == (1, 1)


def test_without_kafka_a_command_answers_503_and_reserves_nothing(engine: sa.Engine) -> None:
    with _client(engine, None) as client:
        answer = client.post("/cases/RECT-B1/commands/add_measure", json={"measure": "x"})
    assert answer.status_code == 503, answer.text
    assert "CASESTREAM_KAFKA_BOOTSTRAP" in answer.json()["detail"]["reason"]
    assert (_rows(engine, command_reservations), _rows(engine, outbox)) == (0, 0)


def test_with_the_broker_away_a_command_is_kept_for_the_relay_and_answers_202(
    engine: sa.Engine,
) -> None:
    """Reserved with its events in the outbox before anything is sent: when no broker answers
    (here: nothing listens on the port), the answer is 202 without a consistency token and the
    worker's relay publishes the events once the broker is back."""
    with _client(engine, "127.0.0.1:1") as client:
        answer = client.post("/cases/RECT-B1/commands/add_measure", json={"measure": "培训"})
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["applied"] is False and body["consistency_token"] is None
    assert body["event_ids"] == [str(command_event_id("RECT-B1", 1, 0))]
    with engine.connect() as conn:
        kept = conn.execute(sa.select(outbox.c.event_id, outbox.c.published)).all()
    assert [(row.event_id, row.published) for row in kept] == [(body["event_ids"][0], False)]
    assert _rows(engine, command_reservations) == 1


def test_an_extension_of_a_rule_the_case_kind_does_not_have_is_422_naming_rule(
    engine: sa.Engine,
) -> None:
    """A misspelt rule would move no clock; it is refused before anything is decided."""
    complaint = raw(
        "ComplaintReceived",
        "C-R1",
        "complaint",
        {"channel": "window", "subject": "窗口投诉", "department": DEPARTMENT},
        at=datetime.now(UTC),
    )
    writer = ProjectionWriter(engine, ClockPolicy(load_rulebook(), load_calendar()))
    writer.apply_batch([ConsumedEvent("routes", 0, 1, parse_event(complaint))])
    with _client(engine, None) as client:
        for rule in ("complaint.handlng", "rectification.completion"):
            answer = client.post(
                "/cases/C-R1/commands/extend_deadline",
                json={"new_length": 90, "rule": rule},
            )
            assert answer.status_code == 422, answer.text
            (problem,) = answer.json()["detail"]
            assert problem["loc"] == ["body", "rule"] and "complaint.handling" in problem["msg"]
    assert (_rows(engine, command_reservations), _rows(engine, outbox)) == (0, 0)
