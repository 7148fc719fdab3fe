"""Faults injected into a running deployment (real broker, PostgreSQL): a worker killed at
random, the broker restarted, the database away for 30 s, several workers with partitions
moving between them, poison messages. Nothing is lost, nothing is doubled, and the read models
end equal to a clean replay. Run by `make test-faults` (and `make test`)."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import parse_event
from casestream.local import start_kafka, stop_kafka
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import TopicLayout, Topics, create_topics
from casestream.read_models.database import create_engine
from tests.auth import auth_env, auth_headers
from tests.conftest import Database
from tests.events import raw
from tests.faults.harness import (
    FAULT_EVENTS,
    Feeder,
    assert_equal_to_a_clean_replay,
    own_kafka,
    settle,
    topic_ids,
    workload,
)
from tests.faults.proxy import proxied
from tests.processes import Process, caught_up, free_port, service_env, wait_for, wait_until_answers

pytestmark = pytest.mark.faults


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Database]:
    yield Database(postgres_url, f"f_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def clean(postgres_url: str) -> Database:
    return Database(postgres_url, f"r_{uuid.uuid4().hex[:12]}")


def _projected_case_ids(db: Database) -> set[str]:
    engine = create_engine(db.url, db.schema)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.text("SELECT event_id FROM case_events")).scalars())
    except sa.exc.DatabaseError:
        return set()
    finally:
        engine.dispose()


def test_a_worker_killed_twenty_times_mid_stream_ends_equal_to_a_clean_replay(
    kafka_bootstrap: str,
    topics: Topics,
    pg: Database,
    clean: Database,
    tmp_path: Path,
    chance: random.Random,
) -> None:
    events = workload(FAULT_EVENTS, "KILL")
    feeder = Feeder(kafka_bootstrap, topics, events, rate=2500)
    env = service_env(kafka_bootstrap, topics, pg.env(), CASESTREAM_SCANNER_INTERVAL_SECONDS="0.5")
    feeder.start()
    kills = 0
    worker = Process(["worker"], env, tmp_path / "worker-0.log")
    try:
        while kills < 20:
            time.sleep(chance.uniform(1.0, 6.0))  # a random point: starting, mid-batch, idle
            worker.kill()
            kills += 1
            worker = Process(["worker"], env, tmp_path / f"worker-{kills}.log")
        feeder.join(timeout=900)
        assert feeder.sent == len(events) and not feeder.failures
        wait_for(
            lambda: caught_up(pg.url, pg.schema, kafka_bootstrap, topics), timeout=900, interval=1
        )
    finally:
        worker.stop()
    settle(pg, kafka_bootstrap, topics, tmp_path)
    counts = assert_equal_to_a_clean_replay(pg, clean, kafka_bootstrap, topics)
    sent = {str(event.event_id) for event in events}
    assert sent <= _projected_case_ids(pg), "an event was lost"
    assert counts["alerts"] > 0, "the scanner raised no alert: the comparison would be weak"
    print(f"\n{kills} kills, {len(events)} events, tables {counts}")


def test_the_broker_restarted_mid_stream_loses_nothing(
    tmp_path: Path, pg: Database, clean: Database
) -> None:
    with own_kafka("fault") as (bootstrap, data_dir):
        topics = Topics(prefix="br.")
        create_topics(bootstrap, topics, TopicLayout.single_broker())
        events = workload(6000, "BRK")
        api_port = free_port()
        env = service_env(
            bootstrap, topics, pg.env(), CASESTREAM_API_PORT=str(api_port), **auth_env()
        )
        worker = Process(["worker"], env, tmp_path / "worker.log")
        api = Process(["api"], env, tmp_path / "api.log")
        feeder = Feeder(bootstrap, topics, events, rate=300)
        posted: list[str] = []
        refused: list[dict[str, Any]] = []
        try:
            client = httpx.Client(
                base_url=f"http://127.0.0.1:{api_port}", timeout=60, headers=auth_headers("system")
            )
            wait_until_answers(client.base_url, "/readyz", timeout=90)
            feeder.start()
            time.sleep(5)
            stop_kafka(data_dir)
            down_until = time.monotonic() + 20
            number = 0
            while time.monotonic() < down_until:  # the API while the broker is away
                number += 1
                body = _api_complaint(f"BRK-API-{number}")
                answer = client.post("/events", json=body)
                assert answer.status_code in (202, 503), answer.text
                if answer.status_code == 503:
                    refused.append({**body, "event_id": answer.json()["detail"]["event_id"]})
                else:
                    posted.append(answer.json()["event_id"])
            assert start_kafka(data_dir) == bootstrap
            for body in refused:  # a retry with the id the 503 named
                answer = client.post("/events", json=body)
                wait_for(
                    lambda b=body: client.post("/events", json=b).status_code == 202,
                    timeout=120,
                    interval=1,
                )
                posted.append(body["event_id"])
            feeder.join(timeout=600)
            assert feeder.sent == len(events) and not feeder.failures
            assert worker.popen.poll() is None, "the worker did not reconnect by itself"
            wait_for(
                lambda: caught_up(pg.url, pg.schema, bootstrap, topics), timeout=600, interval=1
            )
            client.close()
        finally:
            api.stop()
            worker.stop()
        assert refused, "the broker outage was not seen by the API"
        settle(pg, bootstrap, topics, tmp_path)
        assert_equal_to_a_clean_replay(pg, clean, bootstrap, topics)
        projected = _projected_case_ids(pg)
        assert {str(e.event_id) for e in events} <= projected, "a producer event was lost"
        assert set(posted) <= projected, "an event the API accepted was lost"
        case_counts = topic_ids(bootstrap, topics.for_kind(CaseKind.complaint))
        assert all(case_counts[event_id] >= 1 for event_id in posted)
        print(f"\nbroker down 20 s: {len(refused)} API 503s retried, {len(events)} events")


def _api_complaint(case_id: str) -> dict[str, Any]:
    return {
        "event_type": "ComplaintReceived",
        "case_id": case_id,
        "case_kind": "complaint",
        "payload": {"channel": "hotline_12345", "subject": "断网期间的来电"},
    }


def test_the_database_away_for_30_seconds_is_waited_out(
    kafka_bootstrap: str, topics: Topics, pg: Database, clean: Database, tmp_path: Path
) -> None:
    url = make_url(pg.url)
    with proxied(url.host or "127.0.0.1", url.port or 5432) as proxy:
        through = Database(
            url.set(port=proxy.port).render_as_string(hide_password=False), pg.schema
        )
        api_port = free_port()
        env = service_env(
            kafka_bootstrap,
            topics,
            through.env(),
            CASESTREAM_API_PORT=str(api_port),
            CASESTREAM_HEARTBEAT_SECONDS="0.5",
            CASESTREAM_READINESS_STALE_SECONDS="5",
            CASESTREAM_SCANNER_INTERVAL_SECONDS="0.5",
            **auth_env(),
        )
        worker = Process(
            ["worker", "--metrics-port", str(metrics := free_port())], env, tmp_path / "worker.log"
        )
        api = Process(["api"], env, tmp_path / "api.log")
        events = workload(8000, "DB")
        feeder = Feeder(kafka_bootstrap, topics, events, rate=250)
        client = httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=30)
        try:
            wait_until_answers(client.base_url, "/readyz", timeout=90)
            feeder.start()
            time.sleep(6)
            proxy.cut()
            cut_at = time.monotonic()
            not_ready = wait_for(lambda: client.get("/readyz").status_code == 503, timeout=20)
            assert not_ready
            listed = client.get("/cases", headers=auth_headers("legal"))  # 503, never 500
            assert (listed.status_code, listed.headers.get("Retry-After")) == (503, "5")
            while time.monotonic() - cut_at < 30:
                assert worker.popen.poll() is None, "the worker died with its database"
                time.sleep(1)
            proxy.restore()
            wait_until_answers(client.base_url, "/readyz", timeout=90, interval=0.5)
            feeder.join(timeout=600)
            assert feeder.sent == len(events)
            wait_for(
                lambda: caught_up(through.url, through.schema, kafka_bootstrap, topics),
                timeout=600,
                interval=1,
            )
            assert worker.popen.poll() is None
            metrics_text = httpx.get(f"http://127.0.0.1:{metrics}/metrics").text
            assert "casestream_projector_database_retries_total" in metrics_text
            log = (tmp_path / "worker.log").read_text(errors="replace")
            assert "We experienced a crash" not in log
        finally:
            client.close()
            api.stop()
            worker.stop()
    settle(pg, kafka_bootstrap, topics, tmp_path)
    assert_equal_to_a_clean_replay(pg, clean, kafka_bootstrap, topics)
    assert {str(e.event_id) for e in events} <= _projected_case_ids(pg)


def test_three_workers_with_partitions_moving_send_nothing_twice(
    kafka_bootstrap: str, topics: Topics, pg: Database, clean: Database, tmp_path: Path
) -> None:
    env = service_env(
        kafka_bootstrap,
        topics,
        pg.env(),
        CASESTREAM_SCANNER_INTERVAL_SECONDS="0.3",
        CASESTREAM_TIMER_LEASE_SECONDS="3",
    )
    events = workload(15000, "REP")
    feeder = Feeder(kafka_bootstrap, topics, events, rate=800)
    workers = [Process(["worker"], env, tmp_path / "w0.log")]
    try:
        feeder.start()
        time.sleep(4)
        workers.append(Process(["worker"], env, tmp_path / "w1.log"))  # partitions move
        time.sleep(4)
        workers.append(Process(["worker"], env, tmp_path / "w2.log"))
        time.sleep(5)
        workers[0].stop()  # the lease holder leaves: another takes the timers over
        time.sleep(5)
        workers[0] = Process(["worker"], env, tmp_path / "w0-again.log")
        feeder.join(timeout=600)
        assert feeder.sent == len(events)
        wait_for(
            lambda: caught_up(pg.url, pg.schema, kafka_bootstrap, topics), timeout=600, interval=1
        )
        time.sleep(3)  # scanner passes with everything in
        wait_for(
            lambda: caught_up(pg.url, pg.schema, kafka_bootstrap, topics), timeout=120, interval=1
        )
    finally:
        for worker in workers:
            worker.stop()
    settle(pg, kafka_bootstrap, topics, tmp_path)
    counts = assert_equal_to_a_clean_replay(pg, clean, kafka_bootstrap, topics)
    alerts = topic_ids(kafka_bootstrap, topics.alerts)
    derived = topic_ids(kafka_bootstrap, topics.for_kind(CaseKind.rectification))
    assert alerts and derived
    twice = {k: v for k, v in alerts.items() if v > 1}
    assert not twice, f"{len(twice)} of {len(alerts)} alerts sent more than once"
    twice = {k: v for k, v in derived.items() if v > 1}
    assert not twice, f"{len(twice)} of {len(derived)} rectification events sent twice"
    print(f"\n3 workers: {len(alerts)} alerts, {len(derived)} derived events, once each; {counts}")


def test_poison_messages_of_every_kind_go_to_the_dead_letters_and_the_rest_goes_on(
    kafka_bootstrap: str, topics: Topics, pg: Database, tmp_path: Path
) -> None:
    complaints = topics.for_kind(CaseKind.complaint)
    good = {"channel": "letter", "subject": "扣证"}
    wrong_version = raw("ComplaintReceived", "PZ-3", "complaint", good)
    wrong_version["schema_version"] = 99
    wrong_type = raw("ComplaintFollowUpVisited", "PZ-4", "complaint", {"satisfaction": "很好"})
    oversized = raw(
        "ComplaintReceived", "PZ-5", "complaint", {**good, "description": "x" * 900_000}
    )
    far = raw(
        "TipReceived", "PZ-6", "enterprise_tip", {"enterprise": "华星物流", "subject": "乱罚款"}
    )
    far["occurred_at"] = far["recorded_at"] = "9999-12-31T23:59:59-12:00"
    poison = [
        (complaints, b"PZ-1", b"\xff\xfe not json", "undecodable"),
        (
            complaints,
            b"PZ-2",
            json.dumps(raw("ComplaintTeleported", "PZ-2", "complaint")).encode(),
            "unknown_event_type",
        ),
        (complaints, b"PZ-3", json.dumps(wrong_version).encode(), "invalid"),
        (complaints, b"PZ-4", json.dumps(wrong_type).encode(), "invalid"),
        (complaints, b"PZ-5", json.dumps(oversized).encode(), "invalid"),
        (
            topics.for_kind(CaseKind.enterprise_tip),
            b"PZ-6",
            json.dumps(far).encode(),
            "unprojectable",
        ),
        (
            complaints,
            b"PZ-OTHER",
            json.dumps(raw("ComplaintReceived", "PZ-7", "complaint", good)).encode(),
            "wrong_key",
        ),
    ]
    env = service_env(kafka_bootstrap, topics, pg.env())
    worker = Process(["worker"], env, tmp_path / "worker.log")
    try:
        with EventProducer(kafka_bootstrap, topics) as producer:
            producer.send(parse_event(raw("ComplaintReceived", "PZ-GOOD-1", "complaint", good)))
            for topic, key, value, _ in poison:
                producer.send_raw(topic, key, value)
            producer.send(parse_event(raw("ComplaintReceived", "PZ-GOOD-2", "complaint", good)))
        wait_for(lambda: caught_up(pg.url, pg.schema, kafka_bootstrap, topics), timeout=120)
        assert worker.popen.poll() is None
    finally:
        worker.stop()
    projected = _case_ids(pg)
    assert {"PZ-GOOD-1", "PZ-GOOD-2"} <= projected
    assert not projected & {f"PZ-{n}" for n in range(1, 8)}
    letters = _dead_letters(kafka_bootstrap, topics)
    reasons = sorted(headers["reason"].decode() for headers in letters.values())
    assert reasons == sorted(reason for *_, reason in poison), reasons


def _case_ids(db: Database) -> set[str]:
    engine = create_engine(db.url, db.schema)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.text("SELECT case_id FROM cases")).scalars())
    finally:
        engine.dispose()


def _dead_letters(bootstrap: str, topics: Topics) -> dict[int, dict[str, bytes]]:
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(
        topics.deadletter,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )
    try:
        return {m.offset * 10 + m.partition: dict(m.headers) for m in consumer}
    finally:
        consumer.close()
