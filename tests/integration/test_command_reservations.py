"""The reservation of a case version by a command, on SQLite and PostgreSQL: it commits with the
command's events in the outbox, a second reservation of the same version is refused by the
primary key and writes nothing, and the outbox relay finds the events with their case kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from casestream.domain import catalog as ev
from casestream.domain.envelope import Event, new_event
from casestream.read_models.command_reservations import (
    RELAY_GRACE,
    CommandReservations,
    Reservation,
    VersionTaken,
    command_event_id,
)
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.outbox import Outbox
from casestream.read_models.schema import command_reservations, outbox
from tests.conftest import Database

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _events(case_id: str, version: int, *payloads: ev.Payload) -> list[Event[Any]]:
    return [
        new_event(
            payload,
            case_id=case_id,
            case_kind=ev.CaseKind.rectification,
            occurred_at=NOW + timedelta(microseconds=index),  # as the API orders them
            source="api",
            actor="head-1",
            event_id=command_event_id(case_id, version, index),
        )
        for index, payload in enumerate(payloads)
    ]


def test_a_version_is_reserved_once_with_its_events_in_the_outbox(database: Database) -> None:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    reservations = CommandReservations(engine)
    first = _events("RECT-1", 3, ev.MeasureAdded(measure="培训"), ev.ProgressReported(progress="x"))
    reservations.reserve(Reservation("RECT-1", 3, "add_measure", "head-1", NOW), first)
    assert reservations.standing("RECT-1") == (5, None)  # reserved, not projected yet
    assert reservations.standing("RECT-2") == (0, None)
    assert reservations.projected_versions(["RECT-1"]) == {}  # nothing projected yet

    rival = _events("RECT-1", 3, ev.MeasureAdded(measure="另一项"))
    with pytest.raises(VersionTaken, match="version 3 of RECT-1"):
        reservations.reserve(Reservation("RECT-1", 3, "add_measure", "head-2", NOW), rival)

    # the API sends them itself: the relay leaves them alone until the grace has passed
    assert Outbox(engine).unpublished(now=NOW + RELAY_GRACE - timedelta(seconds=1)) == []
    pending = Outbox(engine).unpublished(now=NOW + RELAY_GRACE)
    assert [row.event_id for row in pending] == [str(event.event_id) for event in first]
    assert {row.case_kind for row in pending} == {ev.CaseKind.rectification}
    with engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(command_reservations)).scalar() == 1
        )
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar() == 2


def test_command_event_ids_are_the_same_on_every_send_and_differ_by_version() -> None:
    assert command_event_id("RECT-1", 3, 0) == command_event_id("RECT-1", 3, 0)
    assert len({command_event_id("RECT-1", v, i) for v in (3, 4) for i in (0, 1)}) == 4
