"""The faust worker on the real broker, projecting into SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from kafka import KafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from casestream.domain.envelope import parse_event
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from tests.conftest import Database
from tests.events import raw
from tests.processes import Process, case_status, free_port, service_env, wait_for


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
    port = free_port()
    worker = Process(
        ["worker", "--metrics-port", str(port)],
        service_env(
            kafka_bootstrap,
            topics,
            database.env(),
            CASESTREAM_WORKER_METRICS_INTERVAL_SECONDS="0.3",
        ),
        tmp_path / "worker.log",
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

        # what the worker says about itself: every assigned partition caught up, each fact once
        def caught_up() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
            text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            samples = {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(text)
                for sample in family.samples
            }
            lags = [
                v for (name, _), v in samples.items() if name == "casestream_consumer_lag_events"
            ]
            return samples if lags and not any(lags) else None

        samples = wait_for(caught_up, timeout=30)
        lag_topics = {
            dict(labels)["topic"]
            for name, labels in samples
            if name == "casestream_consumer_lag_events"
        }
        assert lag_topics == {*topics.case_topics, topics.alerts}  # one worker: all partitions
        assert samples[("casestream_projection_age_seconds", ())] == 0
        received = (
            ("case_kind", "complaint"),
            ("channel", "letter"),
            ("department", "none"),
            ("enterprise", "false"),
        )
        assert samples[("casestream_cases_received_total", received)] == 1
        dead = (("reason", "undecodable"), ("topic", complaints))
        assert samples[("casestream_deadletter_messages_total", dead)] == 1
    finally:
        worker.stop()
