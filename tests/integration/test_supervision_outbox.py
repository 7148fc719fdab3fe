"""督察 through the projection writer: a poor 回访 puts one SupervisionFlagged in the outbox, in the
transaction that applies the follow-up, whatever the redelivery; relayed back, it marks the
complaint, and reopening clears it."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import Event, parse_event
from casestream.domain.rules import load_rulebook
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.outbox import Outbox
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import cases
from tests.conftest import Database
from tests.events import complaint_lifecycle, event

POLICY = ClockPolicy(load_rulebook(), load_calendar())


def visited(case_id: str, satisfaction: int) -> list[Event[Any]]:
    """A complaint through resolution and its 回访 with `satisfaction`."""
    return [
        *complaint_lifecycle(case_id)[:-1],
        event(
            "ComplaintFollowUpVisited", case_id, "complaint", {"satisfaction": satisfaction}, day=5
        ),
    ]


class Worker:
    """The projection writer and the outbox relay, without Kafka between them."""

    def __init__(self, database: Database) -> None:
        self.engine = create_engine(database.url, database.schema)
        migrate(self.engine)
        self.writer = ProjectionWriter(self.engine, POLICY)
        self.offset = 0

    def project(self, events: list[Event[Any]], topic: str = "complaints.events") -> None:
        batch = []
        for item in events:
            batch.append(ConsumedEvent(topic, 0, self.offset, item))
            self.offset += 1
        self.writer.apply_batch(batch)

    def relay(self) -> None:
        """Send what the outbox holds (an alert to alerts.events), as the worker's relay does."""
        outbox = Outbox(self.engine)
        pending = outbox.unpublished()
        for row in pending:
            topic = "alerts.events" if row.alert else "complaints.events"
            self.project([parse_event(json.loads(row.body))], topic)
        outbox.mark_published([row.event_id for row in pending])

    def outbox(self) -> list[tuple[str, str, str, str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT event_id, case_id, case_kind, body FROM outbox"))
            return [
                (row.event_id, row.case_id, row.case_kind, json.loads(row.body)["event_type"])
                for row in rows
            ]

    def state(self, case_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            stored = conn.execute(
                sa.select(cases.c.state).where(cases.c.case_id == case_id)
            ).scalar_one()
        return dict(stored)


def test_a_poor_follow_up_puts_one_supervision_flag_in_the_outbox_even_when_redelivered(
    database: Database,
) -> None:
    worker = Worker(database)
    poor, fine = visited("C-LOW", 1), visited("C-HIGH", 4)
    worker.project(poor + fine)
    worker.project(poor[-1:])  # the follow-up again, at a later offset
    worker.writer.apply_batch([ConsumedEvent("complaints.events", 0, 0, poor[0])])  # redelivered

    rows = worker.outbox()
    assert [(case_id, kind, event_type) for _, case_id, kind, event_type in rows] == [
        ("C-LOW", "complaint", "SupervisionFlagged")
    ]
    (pending,) = Outbox(worker.engine).unpublished()
    assert pending.case_kind == "complaint" and pending.event_id == rows[0][0]


def test_the_relayed_flag_marks_the_complaint_and_a_reopening_clears_it(
    database: Database,
) -> None:
    worker = Worker(database)
    worker.project(visited("C-SUP", 2))
    assert worker.state("C-SUP")["supervision"] is False
    worker.relay()
    assert worker.state("C-SUP")["supervision"] is True
    worker.relay()  # nothing left to send: the flag is projected once
    assert worker.state("C-SUP")["version"] == 7

    reopened = event("ComplaintReopened", "C-SUP", "complaint", {"reason": "重新办理"}, day=7)
    worker.project([reopened])
    assert worker.state("C-SUP")["supervision"] is False
