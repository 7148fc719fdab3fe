"""Escalation timers on the real broker: a back-dated complaint breaches at once, is cleared when
resolved, and a restarted worker emits no alert twice."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from kafka import KafkaConsumer

from casestream.domain.envelope import parse_event
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from casestream.read_models.database import create_engine
from casestream.read_models.schema import clocks
from tests.conftest import Database
from tests.events import raw
from tests.processes import Process, replay_into, service_env, table_rows, wait_for


class AlertLog:
    """Everything on alerts.events, read as it arrives."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self._consumer = KafkaConsumer(
            topics.alerts,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=200,
        )
        self.events: list[dict[str, object]] = []

    def read(self) -> list[dict[str, object]]:
        self.events.extend(json.loads(message.value) for message in self._consumer)
        return self.events

    def types(self) -> list[str]:
        return [str(event["event_type"]) for event in self.read()]

    def close(self) -> None:
        self._consumer.close()


def test_back_dated_complaint_breaches_at_once_clears_when_resolved_and_never_twice(
    kafka_bootstrap: str,
    topics: Topics,
    database: Database,
    make_database: Any,
    request: Any,
    tmp_path: Path,
) -> None:
    accepted_at = datetime.now(UTC) - timedelta(days=40)
    env = service_env(
        kafka_bootstrap, topics, database.env(), CASESTREAM_SCANNER_INTERVAL_SECONDS="0.2"
    )
    alerts = AlertLog(kafka_bootstrap, topics)
    worker = Process(["worker"], env, tmp_path / "worker-1.log")
    try:
        with EventProducer(kafka_bootstrap, topics) as producer:
            for item in (
                raw(
                    "ComplaintReceived",
                    "ESC-1",
                    "complaint",
                    {"channel": "hotline_12345", "subject": "超期", "enterprise": True},
                    at=accepted_at - timedelta(hours=1),
                ),
                raw(
                    "ComplaintAccepted",
                    "ESC-1",
                    "complaint",
                    {"department": "交警大队"},
                    at=accepted_at,
                ),
            ):
                producer.send(parse_event(item))
            wait_for(lambda: "DeadlineBreached" in alerts.types(), timeout=60)
            breach = next(e for e in alerts.read() if e["event_type"] == "DeadlineBreached")
            assert breach["case_id"] == "ESC-1"
            payload = breach["payload"]
            assert isinstance(payload, dict)
            assert (payload["rule"], payload["department"], payload["enterprise"]) == (
                "complaint.handling_enterprise",
                "交警大队",
                True,
            )
            wait_for(
                lambda: alerts.types().count("Escalated") == 3, timeout=30
            )  # levels 1, 2 and 3
            # everything owed since the back-dated acceptance came at once, in due order
            owed = [e["payload"]["scheduled_at"] for e in alerts.read()]  # type: ignore[index]
            assert owed == sorted(owed, key=datetime.fromisoformat)

            producer.send(
                parse_event(
                    raw(
                        "ComplaintResolved",
                        "ESC-1",
                        "complaint",
                        {"outcome": "explained"},
                        at=datetime.now(UTC),
                    )
                )
            )
            wait_for(lambda: "AlertCleared" in alerts.types(), timeout=30)
        worker.stop()
        settled = len(alerts.read())

        restarted = Process(["worker"], env, tmp_path / "worker-2.log")
        try:
            wait_for(
                lambda: "started" in restarted.output() or restarted.popen.poll() is None,
                timeout=10,
            )
            time.sleep(3)  # fifteen scanner passes
        finally:
            restarted.stop()
        events = alerts.read()
        assert len(events) == settled, "the restarted worker emitted alerts again"
        ids = [e["event_id"] for e in events]
        assert len(ids) == len(set(ids))
        handling = [
            e["event_type"]
            for e in events
            if e["payload"]["rule"] == "complaint.handling_enterprise"
        ]  # type: ignore[index]
        assert handling.count("DeadlineApproaching") == 2 and handling.count("AlertCleared") == 1

        # clocks and alerts rebuilt from the topics equal the live ones, whichever topic a
        # replay happens to read first
        clean = make_database(request.node.callspec.params["database"])
        replay_into(clean.url, clean.schema, kafka_bootstrap, topics)
        live, rebuilt = (
            table_rows(database.url, database.schema),
            table_rows(clean.url, clean.schema),
        )
        for table in rebuilt:  # every read-model table, checkpoints included
            assert live[table] == rebuilt[table], table
    finally:
        worker.stop()
        alerts.close()


def test_a_back_dated_reopening_s_new_handling_clock_breaches_escalates_and_clears_when_resolved(
    kafka_bootstrap: str, topics: Topics, database: Database, tmp_path: Path
) -> None:
    accepted_at = datetime.now(UTC) - timedelta(days=80)
    reopened_at = datetime.now(UTC) - timedelta(days=40)  # past any 15 working days
    env = service_env(
        kafka_bootstrap, topics, database.env(), CASESTREAM_SCANNER_INTERVAL_SECONDS="0.2"
    )
    alerts = AlertLog(kafka_bootstrap, topics)
    worker = Process(["worker"], env, tmp_path / "worker.log")
    try:
        with EventProducer(kafka_bootstrap, topics) as producer:
            for item in (
                raw(
                    "ComplaintReceived",
                    "ESC-R",
                    "complaint",
                    {"channel": "window", "subject": "重新办理"},
                    at=accepted_at - timedelta(hours=1),
                ),
                raw("ComplaintAccepted", "ESC-R", "complaint", at=accepted_at),
                raw(
                    "ComplaintResolved",
                    "ESC-R",
                    "complaint",
                    {"outcome": "explained"},
                    at=accepted_at + timedelta(days=1),
                ),
                raw("ComplaintReopened", "ESC-R", "complaint", {"reason": "复核"}, at=reopened_at),
            ):
                producer.send(parse_event(item))
            again = "ESC-R/complaint.handling/1"
            wait_for(lambda: ("DeadlineBreached", again) in _of_clocks(alerts), timeout=60)
            wait_for(lambda: ("Escalated", again) in _of_clocks(alerts), timeout=30)
            producer.send(
                parse_event(
                    raw(
                        "ComplaintResolved",
                        "ESC-R",
                        "complaint",
                        {"outcome": "substantiated"},
                        at=datetime.now(UTC),
                    )
                )
            )
            wait_for(lambda: ("AlertCleared", again) in _of_clocks(alerts), timeout=30)
    finally:
        worker.stop()
        alerts.close()


def test_a_reopening_clears_the_follow_up_owed_and_the_next_resolution_owes_a_fresh_one(
    kafka_bootstrap: str, topics: Topics, database: Database, tmp_path: Path
) -> None:
    accepted_at = datetime.now(UTC) - timedelta(days=80)
    env = service_env(
        kafka_bootstrap, topics, database.env(), CASESTREAM_SCANNER_INTERVAL_SECONDS="0.2"
    )
    alerts = AlertLog(kafka_bootstrap, topics)
    worker = Process(["worker"], env, tmp_path / "worker.log")
    case = "ESC-F"

    def resolved(at: datetime) -> dict[str, Any]:
        return raw("ComplaintResolved", case, "complaint", {"outcome": "explained"}, at=at)

    try:
        with EventProducer(kafka_bootstrap, topics) as producer:
            received = {"channel": "window", "subject": "回访"}
            for item in (
                raw("ComplaintReceived", case, "complaint", received, at=accepted_at),
                raw("ComplaintAccepted", case, "complaint", at=accepted_at),
                resolved(accepted_at + timedelta(days=1)),  # 回访 owed 3 working days later
            ):
                producer.send(parse_event(item))
            first, fresh = f"{case}/complaint.follow_up/0", f"{case}/complaint.follow_up/1"
            wait_for(lambda: ("DeadlineBreached", first) in _of_clocks(alerts), timeout=60)
            reopened_at = datetime.now(UTC) - timedelta(days=40)
            for item in (
                raw("ComplaintReopened", case, "complaint", {"reason": "不满意"}, at=reopened_at),
                resolved(reopened_at + timedelta(days=1)),
            ):
                producer.send(parse_event(item))
            # the visit owed on the undone resolution is no longer owed: its alerts are cleared
            wait_for(lambda: ("AlertCleared", first) in _of_clocks(alerts), timeout=30)
            # the second resolution owes its own visit, overdue too (back-dated)
            wait_for(lambda: ("DeadlineBreached", fresh) in _of_clocks(alerts), timeout=30)
            expected = {first: "cancelled", fresh: "breached"}
            wait_for(lambda: _follow_ups(database) == expected or None, timeout=30)
    finally:
        worker.stop()
        alerts.close()


def _of_clocks(alerts: AlertLog) -> list[tuple[object, object]]:
    """(event type, clock id) of every alert so far."""
    return [
        (event["event_type"], event["payload"]["clock_id"])  # type: ignore[index]
        for event in alerts.read()
    ]


def _follow_ups(database: Database) -> dict[str, str]:
    """The status of each 回访 clock in the read model, by clock id."""
    engine = create_engine(database.url, database.schema)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(clocks.c.clock_id, clocks.c.status).where(
                    clocks.c.rule_id == "complaint.follow_up"
                )
            )
            return {row.clock_id: row.status for row in rows}
    finally:
        engine.dispose()
