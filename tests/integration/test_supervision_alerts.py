"""The supervisors' alert through the projection writer and the outbox: the relayed flag puts
one SupervisionRequested in the outbox for alerts.events, recorded once in `alerts` whatever
the redelivery; closing the supervision or reopening the complaint clears it."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from casestream.domain.envelope import Event, parse_event
from casestream.read_models.alert_queries import AlertFilter, AlertQueries
from casestream.read_models.outbox import Outbox
from casestream.read_models.projection import ConsumedEvent
from casestream.read_models.schema import alerts
from tests.conftest import Database
from tests.events import event
from tests.integration.test_supervision_outbox import Worker, visited


def alert_rows(worker: Worker) -> list[tuple[str, str, str, str | None, int, str]]:
    with worker.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                alerts.c.case_id,
                alerts.c.event_type,
                alerts.c.rule_id,
                alerts.c.notify,
                alerts.c.level,
                alerts.c.status,
            ).order_by(alerts.c.raised_at, alerts.c.event_type)
        )
        return [tuple(row) for row in rows]


def closing(case_id: str, day: int = 8) -> Event[Any]:
    return event(
        "SupervisionClosed",
        case_id,
        "complaint",
        {"supervisor": "du.cha", "conclusion": "已约谈承办人"},
        day=day,
    )


def test_the_relayed_flag_raises_one_alert_for_supervisors_even_when_redelivered(
    database: Database,
) -> None:
    worker = Worker(database)
    follow_up = visited("C-ALERT", 1)
    worker.project(follow_up)
    worker.relay()  # the flag: applied, it owes the alert
    (pending,) = Outbox(worker.engine).unpublished()
    assert pending.alert and pending.case_id == "C-ALERT"
    worker.relay()  # the alert, to alerts.events
    worker.project(follow_up[-1:])  # the follow-up redelivered at a later offset
    worker.relay()
    assert alert_rows(worker) == [
        ("C-ALERT", "SupervisionRequested", "complaint.supervision", "supervisor", 3, "open")
    ]
    assert Outbox(worker.engine).unpublished() == []


def test_an_alert_already_recorded_is_marked_published_not_sent_again(
    database: Database,
) -> None:
    worker = Worker(database)
    worker.project(visited("C-SENT", 1))
    worker.relay()
    (pending,) = Outbox(worker.engine).unpublished()
    # an API or worker sent it and stopped before marking it: the projector has it already
    worker.writer.apply_batch(
        [ConsumedEvent("alerts.events", 0, 0, parse_event(json.loads(pending.body)))]
    )
    assert Outbox(worker.engine).unpublished() == []
    assert len(alert_rows(worker)) == 1


def test_closing_the_supervision_clears_its_alert(database: Database) -> None:
    worker = Worker(database)
    worker.project(visited("C-CLOSE", 2))
    worker.relay()
    worker.relay()
    worker.project([closing("C-CLOSE")])
    worker.relay()  # the clearing, to alerts.events
    assert [(event_type, status) for _, event_type, *_, status in alert_rows(worker)] == [
        ("SupervisionRequested", "cleared"),
        ("AlertCleared", "cleared"),
    ]
    queries = AlertQueries(worker.engine)
    still_open = queries.list_alerts(AlertFilter(status="open"), limit=10, cursor=None)
    assert still_open.rows == []


def test_reopening_clears_the_alert_and_a_new_supervision_raises_another(
    database: Database,
) -> None:
    worker = Worker(database)
    worker.project(visited("C-AGAIN", 1))
    worker.relay()
    worker.relay()
    reopened = event("ComplaintReopened", "C-AGAIN", "complaint", {"reason": "重新办理"}, day=7)
    resolved = event("ComplaintResolved", "C-AGAIN", "complaint", {"outcome": "explained"}, day=8)
    again = event("ComplaintFollowUpVisited", "C-AGAIN", "complaint", {"satisfaction": 1}, day=9)
    worker.project([reopened, resolved, again])
    for _ in range(3):  # the clearing and the new flag, then the new flag's alert
        worker.relay()
    statuses = [(event_type, status) for _, event_type, *_, status in alert_rows(worker)]
    assert statuses == [
        ("SupervisionRequested", "cleared"),
        ("AlertCleared", "cleared"),
        ("SupervisionRequested", "open"),
    ]
