"""The faust worker on the real broker, projecting into SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from kafka import KafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import parse_event
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from casestream.read_models.database import create_engine, migrate
from tests.auth import auth_env
from tests.conftest import Database
from tests.events import raw
from tests.processes import (
    Process,
    case_status,
    free_port,
    service_env,
    wait_for,
    wait_until_answers,
)


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


def _metric(port: int, name: str, **labels: str) -> float | None:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def test_an_unprojectable_event_goes_to_the_dead_letters_and_its_neighbours_are_projected(
    kafka_bootstrap: str, topics: Topics, database: Database, tmp_path: Path
) -> None:
    """A valid event the read models cannot hold (a date at the end of the calendar), produced
    straight onto the topic between two good ones, never stops the partition."""
    port = free_port()
    worker = Process(
        ["worker", "--metrics-port", str(port)],
        service_env(kafka_bootstrap, topics, database.env()),
        tmp_path / "worker.log",
    )
    far = datetime(9999, 12, 20, 9, 0, tzinfo=UTC)
    try:
        with EventProducer(kafka_bootstrap, topics) as producer:
            complaint = {"channel": "letter", "subject": "扣证"}
            tip = {"enterprise": "华星物流", "subject": "乱罚款"}
            producer.send_many(
                [
                    parse_event(raw("ComplaintReceived", "U-1", "complaint", complaint)),
                    parse_event(raw("TipReceived", "U-2", "enterprise_tip", tip, at=far)),
                    parse_event(raw("ComplaintReceived", "U-3", "complaint", complaint)),
                ]
            )
            # all three land on partitions of their own topics; a good case behind the bad one
            # on the same partition too
            producer.send(parse_event(raw("TipReceived", "U-2b", "enterprise_tip", tip)))
        for case_id in ("U-1", "U-3", "U-2b"):
            wait_for(
                lambda c=case_id: case_status(database.url, database.schema, c) == ("received", 1),
                timeout=60,
            )
        assert case_status(database.url, database.schema, "U-2") is None
        letters = _dead_letters(kafka_bootstrap, topics, 1)
        assert [headers["reason"] for _, headers in letters] == [b"unprojectable"]
        assert b"U-2" in letters[0][0]
        assert b"out of range" in letters[0][1]["detail"] or b"Overflow" in letters[0][1]["detail"]
        assert worker.popen.poll() is None, worker.output()
        counted = wait_for(
            lambda: _metric(
                port,
                "casestream_deadletter_messages_total",
                reason="unprojectable",
                topic=topics.for_kind(CaseKind.enterprise_tip),
            ),
            timeout=10,
        )
        assert counted == 1
        assert _metric(port, "casestream_projector_up") == 1
    finally:
        worker.stop()


def test_read_models_refusing_every_write_stop_the_worker_non_zero_and_readiness_says_why(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    """Not a message at fault (every write fails, the checkpoint's too): the projector does not
    dead-letter everything, it stops the worker for its supervisor to restart, and the API's
    /readyz says it crashed."""
    database = Database(f"sqlite:///{tmp_path / 'refusing.db'}", None)
    engine = create_engine(database.url)
    migrate(engine)
    with engine.begin() as conn:
        for when in ("INSERT", "UPDATE"):
            conn.execute(
                sa.text(
                    f"CREATE TRIGGER refuse_{when.lower()} BEFORE {when} ON checkpoints "
                    "BEGIN SELECT RAISE(ABORT, 'checkpoints are read-only'); END"
                )
            )
    engine.dispose()
    api_port = free_port()
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_API_PORT=str(api_port),
        CASESTREAM_HEARTBEAT_SECONDS="0.5",
        CASESTREAM_READINESS_STALE_SECONDS="30",
        **auth_env(),
    )
    worker = Process(["worker"], env, tmp_path / "worker.log")
    api = Process(["api"], env, tmp_path / "api.log")
    try:
        with EventProducer(kafka_bootstrap, topics) as producer:
            producer.send(
                parse_event(
                    raw(
                        "ComplaintReceived",
                        "R-1",
                        "complaint",
                        {"channel": "letter", "subject": "s"},
                    )
                )
            )
        wait_for(lambda: worker.popen.poll() is not None, timeout=90)
        assert worker.popen.returncode != 0, worker.output()
        assert "projector crashed" in worker.output()
        assert case_status(database.url, None, "R-1") is None
        assert _dead_letters_now(kafka_bootstrap, topics) == []  # the message was not blamed

        answer = wait_until_answers(f"http://127.0.0.1:{api_port}", "/readyz", status=None)
        assert answer.status_code == 503
        assert answer.json()["checks"]["projector"].startswith("crashed"), answer.text
    finally:
        api.stop()
        worker.stop()


def _dead_letters_now(bootstrap: str, topics: Topics) -> list[bytes]:
    consumer = KafkaConsumer(
        topics.deadletter,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=2000,
    )
    try:
        return [message.value for message in consumer]
    finally:
        consumer.close()
