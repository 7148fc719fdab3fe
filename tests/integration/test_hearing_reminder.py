"""The reminder of a hearing the agency head is expected at, through the real projection writer
and GET /cases/{id}/clocks on SQLite and PostgreSQL: due on the hearing date, replaced when the
hearing is rescheduled, met when it is held."""

from __future__ import annotations

from typing import Any

from casestream.domain.envelope import Event
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from tests.conftest import Database
from tests.events import event, local
from tests.integration.test_stats import POLICY, client_for, lawsuit

RULE = "litigation.hearing_reminder"


def _scheduled(hearing_date: str, at: str) -> Event[Any]:
    payload = {"hearing_date": hearing_date, "head_expected": True}
    return event("CourtHearingScheduled", "L1", "litigation", payload, at=local(at))


def _project(database: Database, events: list[Event[Any]], first_offset: int) -> None:
    """Project `events` as the next records of the topic (the writer skips offsets it has)."""
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    batch = [
        ConsumedEvent("cases.events", 0, first_offset + index, item)
        for index, item in enumerate(events)
    ]
    ProjectionWriter(engine, POLICY).apply_batch(batch)
    engine.dispose()


def _reminders(database: Database) -> list[dict[str, Any]]:
    for api in client_for(database):
        response = api.get("/cases/L1/clocks")
        assert response.status_code == 200, response.text
        return [clock for clock in response.json() if clock["rule"] == RULE]
    raise AssertionError("no API")


def test_a_rescheduled_hearing_replaces_its_reminder_and_the_hearing_held_meets_it(
    database: Database,
) -> None:
    filed = lawsuit("L1", 201, head_appeared=None, outcome=None)
    _project(database, [*filed, _scheduled("2026-04-22", "2026-03-12T09:00")], 0)
    (first,) = _reminders(database)
    assert (first["status"], first["due_date"]) == ("running", "2026-04-22")

    _project(database, [_scheduled("2026-04-29", "2026-03-20T09:00")], 10)
    first, second = _reminders(database)
    assert first["status"] == "cancelled"
    assert (second["status"], second["due_date"]) == ("running", "2026-04-29")

    held = {"held_on": "2026-04-29", "appeared": [{"name": "王局长"}], "head_appeared": True}
    hearing = event("CourtHearingHeld", "L1", "litigation", held, at=local("2026-04-29T11:00"))
    _project(database, [hearing], 11)
    assert [clock["status"] for clock in _reminders(database)] == ["cancelled", "met"]
