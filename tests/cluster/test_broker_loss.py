"""A deployment on a cluster of three KRaft brokers (topics replicated three times, two replicas
in sync to confirm a write) loses a broker mid-stream: SIGKILL, then brought back. Nothing is
lost, nothing is doubled, the read models end equal to a clean replay, and the worker and the
API serve throughout. Run by `make test-cluster` (not part of `make test`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from casestream.domain.envelope import Event
from casestream.local import cluster_node_dir, start_kafka_cluster, stop_kafka_cluster
from casestream.producers.topics import Topics
from casestream.read_models.database import create_engine
from tests.auth import auth_env, auth_headers
from tests.conftest import ROOT, Database
from tests.faults.harness import Feeder, assert_equal_to_a_clean_replay, settle, topic_ids, workload
from tests.processes import Process, caught_up, free_port, service_env, wait_for, wait_until_answers

pytestmark = pytest.mark.cluster

BROKERS = 3
CLUSTER_EVENTS = int(os.environ.get("CASESTREAM_CLUSTER_EVENTS", "100000"))
"""Events streamed while a broker is lost (`make test-cluster`: 100,000)."""
FEED_RATE = 1500.0  # events/s: the stream outlasts the outage and its recovery
BROKER_DOWN_SECONDS = 20.0  # longer than the controller's 9 s wait before it moves leaders
GET_TRIES = 3  # a GET may be tried again twice, 0.5 s apart, before it counts as unanswered
console = Console()


class ApiProbe(threading.Thread):
    """GETs a case list and single cases, as staff would, every 0.1 s until stopped; records
    each request's fate. A request is answered when a try gets a status below 500."""

    def __init__(self, base_url: str, events: list[Event[Any]], feeder: Feeder) -> None:
        super().__init__(daemon=True)
        self.base_url, self._events, self._feeder = base_url, events, feeder
        self.stopping = threading.Event()
        self.answered = 0
        self.retried: list[str] = []  # answered, but not at the first try: why the first failed
        self.unanswered: list[str] = []
        self.slowest = 0.0

    def run(self) -> None:
        headers = auth_headers("legal")
        with httpx.Client(base_url=self.base_url, timeout=5, headers=headers) as client:
            number = 0
            while not self.stopping.wait(0.1):
                number += 1
                sent = max(1, self._feeder.sent)
                case_id = self._events[(number * 7919) % sent].case_id
                self._get(client, "/cases?limit=20" if number % 2 else f"/cases/{case_id}")

    def _get(self, client: httpx.Client, path: str) -> None:
        failures = []
        for _ in range(GET_TRIES):
            began = time.monotonic()
            try:
                status = client.get(path).status_code
            except httpx.TransportError as exc:
                failures.append(f"{path}: {type(exc).__name__}")
            else:
                if status < 500:
                    self.slowest = max(self.slowest, time.monotonic() - began)
                    self.answered += 1
                    if failures:
                        self.retried.append(failures[0])
                    return
                failures.append(f"{path}: {status}")
            time.sleep(0.5)
        self.unanswered.append("; ".join(failures))


@pytest.fixture
def cluster() -> Iterator[tuple[Path, str]]:
    data_dir = ROOT / "var" / f"test-cluster-{uuid.uuid4().hex[:8]}"
    console.print(f"starting {BROKERS} KRaft brokers in {data_dir} …")
    try:
        yield data_dir, start_kafka_cluster(data_dir, BROKERS)
    finally:
        stop_kafka_cluster(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def pg(postgres_url: str) -> Database:
    return Database(postgres_url, f"c_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def clean(postgres_url: str) -> Database:
    return Database(postgres_url, f"r_{uuid.uuid4().hex[:12]}")


def test_a_broker_killed_mid_stream_loses_nothing_doubles_nothing_and_the_api_serves(
    cluster: tuple[Path, str], pg: Database, clean: Database, tmp_path: Path
) -> None:
    data_dir, bootstrap = cluster
    topics = Topics(prefix="cl.")
    _create_topics_with_the_production_defaults(bootstrap, topics)
    layout = _layout(bootstrap, topics)
    assert layout == {(3, 3, "2")}, f"(partitions, replicas, min.insync.replicas): {layout}"

    events = workload(CLUSTER_EVENTS, "CL")
    api_port = free_port()
    env = service_env(
        bootstrap,
        topics,
        pg.env(),
        CASESTREAM_API_PORT=str(api_port),
        CASESTREAM_SCANNER_INTERVAL_SECONDS="0.5",
        **auth_env(),
    )
    worker = Process(["worker"], env, tmp_path / "worker.log")
    api = Process(["api"], env, tmp_path / "api.log")
    feeder = Feeder(bootstrap, topics, events, rate=FEED_RATE)
    probe = ApiProbe(f"http://127.0.0.1:{api_port}", events, feeder)
    try:
        wait_until_answers(probe.base_url, "/readyz", timeout=120, interval=0.5)
        feeder.start()
        probe.start()
        with _progress(feeder, pg, len(events)) as show:
            show.until(lambda: feeder.sent >= len(events) // 3)
            victim = _controller(bootstrap)
            os.kill(_pid(cluster_node_dir(data_dir, victim)), signal.SIGKILL)
            show.say(f"broker {victim} (the active controller) killed with SIGKILL")
            projected_at_kill = _projected(pg)
            down_until = time.monotonic() + BROKER_DOWN_SECONDS
            show.until(lambda: time.monotonic() >= down_until)
            projected_while_down = _projected(pg) - projected_at_kill
            assert start_kafka_cluster(data_dir, BROKERS) == bootstrap
            show.say(f"broker {victim} back; {projected_while_down:,} events projected without it")
            show.until(lambda: not feeder.is_alive())
            assert feeder.sent == len(events) and not feeder.failures, feeder.failures[:1]
            show.until(lambda: caught_up(pg.url, pg.schema, bootstrap, topics))
        assert worker.popen.poll() is None, "the worker died with the broker"
        assert api.popen.poll() is None, "the API died with the broker"
        wait_for(lambda: _layout(bootstrap, topics, in_sync=True) == layout, timeout=180)
    finally:
        probe.stopping.set()
        probe.join(timeout=30)
        api.stop()
        worker.stop()
    assert projected_while_down > 0, "the worker stopped projecting while a broker was down"
    assert not probe.unanswered, (
        f"{len(probe.unanswered)} of {probe.answered + len(probe.unanswered)} GETs unanswered "
        f"after {GET_TRIES} tries, e.g. {probe.unanswered[:3]}"
    )

    settle(pg, bootstrap, topics, tmp_path)
    counts = assert_equal_to_a_clean_replay(pg, clean, bootstrap, topics)
    histories = _histories(pg)
    sent = {str(event.event_id): event.case_id for event in events}
    lost = {event_id for event_id in sent if event_id not in histories}
    assert not lost, f"{len(lost)} events lost, e.g. {sorted(lost)[:3]}"
    assert all(histories[event_id][0] == case for event_id, case in sent.items())
    gaps = _cases_whose_versions_are_not_one_to_n(pg)
    assert not gaps, f"{len(gaps)} case histories with a version doubled or missing: {gaps[:3]}"
    on_topics = Counter[str]()
    for topic in topics.case_topics:
        on_topics.update(topic_ids(bootstrap, topic))
    resent = sum(1 for event_id in sent if on_topics[event_id] > 1)
    console.print(
        f"{len(events):,} events on {BROKERS} brokers, broker {victim} down "
        f"{BROKER_DOWN_SECONDS:g} s; {resent} sent twice by the producer (projected once); "
        f"API: {probe.answered:,} GETs answered, {len(probe.retried)} after a retry "
        f"{probe.retried[:3]}, slowest {probe.slowest * 1000:.0f} ms; tables {counts}"
    )


class _Shown:
    """The stream's progress: events confirmed by Kafka, and events in the read models."""

    def __init__(self, progress: Progress, feeder: Feeder, db: Database, total: int) -> None:
        self._progress, self._feeder, self._db = progress, feeder, db
        self._next_line = 0.0
        self._sent = progress.add_task("sent", total=total)
        self._projected = progress.add_task("projected", total=total)

    def until(self, done: Callable[[], object], timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, "the stream stalled"
            sent, projected = self._feeder.sent, _projected(self._db)
            self._progress.update(self._sent, completed=sent)
            self._progress.update(self._projected, completed=projected)
            if not console.is_terminal and time.monotonic() >= self._next_line:
                self.say(f"sent {sent:,}, projected {projected:,}")  # a log has no live bars
                self._next_line = time.monotonic() + 15
            time.sleep(1)
        self._progress.update(self._sent, completed=self._feeder.sent)
        self._progress.update(self._projected, completed=_projected(self._db))

    def say(self, message: str) -> None:
        self._progress.console.print(message)


@contextmanager
def _progress(feeder: Feeder, db: Database, total: int) -> Iterator[_Shown]:
    columns = (TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        yield _Shown(progress, feeder, db, total)


def _create_topics_with_the_production_defaults(bootstrap: str, topics: Topics) -> None:
    """`casestream topics create` with no layout setting: replication 3, min.insync 2."""
    created = subprocess.run(
        [sys.executable, "-m", "casestream.cli", "topics", "create"],
        env=service_env(bootstrap, topics, {}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    assert "replication 3, min.insync.replicas 2" in created.stdout, created.stdout


def _layout(bootstrap: str, topics: Topics, *, in_sync: bool = False) -> set[tuple[int, int, str]]:
    """(partitions, replicas of the emptiest partition, min.insync.replicas) of each topic;
    with `in_sync`, counting only the replicas in sync."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_topics(list(topics.all))
        configs = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in topics.all]
        )["topic"]
    finally:
        admin.close()
    replicas = "isr_nodes" if in_sync else "replica_nodes"
    return {
        (
            len(topic["partitions"]),
            min(len(partition[replicas]) for partition in topic["partitions"]),
            configs[topic["name"]]["min.insync.replicas"]["value"],
        )
        for topic in described
    }


def _controller(bootstrap: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return int(admin.describe_cluster()["controller_id"])
    finally:
        admin.close()


def _pid(node_dir: Path) -> int:
    return int((node_dir / "kafka.pid").read_text().split()[0])


def _projected(db: Database) -> int:
    engine = create_engine(db.url, db.schema)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT COUNT(*) FROM case_events")).scalar_one())
    except sa.exc.DatabaseError:
        return 0
    finally:
        engine.dispose()


def _histories(db: Database) -> dict[str, tuple[str, int]]:
    """event id → (case id, version) of every event in the case histories."""
    engine = create_engine(db.url, db.schema)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT event_id, case_id, version FROM case_events"))
            return {row.event_id: (row.case_id, row.version) for row in rows}
    finally:
        engine.dispose()


def _cases_whose_versions_are_not_one_to_n(db: Database) -> list[str]:
    engine = create_engine(db.url, db.schema)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT case_id FROM case_events GROUP BY case_id "
                    "HAVING COUNT(*) <> MAX(version) OR COUNT(DISTINCT version) <> COUNT(*) "
                    "OR MIN(version) <> 1"
                )
            )
            return [row.case_id for row in rows]
    finally:
        engine.dispose()
