"""The faust worker on the real broker, projecting into SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from kafka import KafkaConsumer

from casestream.domain.envelope import parse_event
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from tests.conftest import Database
from tests.events import raw
from tests.processes import Process, case_status, service_env, wait_for


def _dead_letters(
    bootstrap: str, topics: Topics, expected: int
) -> list[tuple[bytes, dict[str, bytes]]]:
    consumer = KafkaConsumer(
        topics.deadletter,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=1000,
    )
    found: list[tuple[bytes, dict[str, bytes]]] = []
    try:
        wait_for(
            lambda: (
                found.extend((m.value, dict(m.headers)) for m in consumer) or len(found) >= expected
            ),
            timeout=30,
        )
    finally:
        consumer.close()
    return found


def test_worker_projects_dedupes_and_dead_letters_bad_messages(
    kafka_bootstrap: str, topics: Topics, database: Database, tmp_path: Path
) -> None:
    worker = Process(
        ["worker"], service_env(kafka_bootstrap, topics, database.env()), tmp_path / "worker.log"
    )
    try:
        with EventProducer(kafka_bootstrap, topics) as producer:
            received = parse_event(
                raw(
                    "ComplaintReceived",
                    "W-1",
                    "complaint",
                    {"channel": "letter", "subject": "扣证"},
                )
            )
            producer.send(received)
            wait_for(
                lambda: case_status(database.url, database.schema, "W-1") == ("received", 1),
                timeout=60,
            )

            producer.send(received)  # the same event again
            complaints = topics.for_kind(received.case_kind)
            producer.send_raw(complaints, b"W-1", b"\x00\xffnot json at all")
            unknown = raw("ComplaintTeleported", "W-1", "complaint")
            producer.send_raw(complaints, b"W-1", json.dumps(unknown).encode())
            producer.send(parse_event(raw("ComplaintAccepted", "W-1", "complaint", day=1)))

            wait_for(
                lambda: case_status(database.url, database.schema, "W-1") == ("accepted", 2),
                timeout=30,
            )
        letters = _dead_letters(kafka_bootstrap, topics, 2)
        reasons = sorted(headers["reason"].decode() for _, headers in letters)
        assert reasons == ["undecodable", "unknown_event_type"]
        assert b"\x00\xffnot json at all" in [value for value, _ in letters]
        assert all(headers["source_topic"].decode() == complaints for _, headers in letters)
        assert case_status(database.url, database.schema, "W-1") == (
            "accepted",
            2,
        )  # the duplicate changed nothing
    finally:
        worker.stop()
