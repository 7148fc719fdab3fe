"""What every fault test needs: a realistic stream of events of every kind, fed in the
background, and the check that the read models equal a clean replay, row for row."""

from __future__ import annotations

import os
import random
import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kafka import KafkaConsumer, TopicPartition

from casestream.domain.envelope import Event
from casestream.local import start_kafka, stop_kafka
from casestream.producers.kafka_producer import EventProducer, SendFailed
from casestream.producers.simulation import simulate
from casestream.producers.topics import Topics
from tests.conftest import ROOT, Database
from tests.processes import Process, caught_up, replay_into, service_env, table_rows, wait_for

FAULT_EVENTS = int(os.environ.get("CASESTREAM_FAULT_EVENTS", "100000"))
"""Events of the SIGKILL run (`make test-faults`: 100,000)."""


def workload(events: int, prefix: str, seed: int = 2026) -> list[Event[Any]]:
    """`events` events of every case kind, over the last 90 days (so clocks fall due and the
    escalation scanner raises and clears alerts while the stream runs)."""
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    found = simulate(random.Random(seed), max(10, events // 6), now, prefix=prefix)
    while len(found) < events:  # simulate() makes about six events a case
        found += simulate(
            random.Random(seed + len(found)), events // 6 + 10, now, prefix=f"{prefix}{len(found)}"
        )
    return found[:events]


class Feeder(threading.Thread):
    """Sends events in chunks at about `rate` events/s, waiting for each chunk; records what
    Kafka confirmed, and how often the producer was renewed (`EventProducer.renewals`)."""

    def __init__(
        self,
        bootstrap: str,
        topics: Topics,
        events: list[Event[Any]],
        rate: float,
        *,
        retry_seconds: float = 120.0,
        timeout_seconds: float = 30.0,
    ) -> None:
        super().__init__(daemon=True)
        self._kafka, self._topics, self._events = bootstrap, topics, events
        self._rate, self._retry, self._timeout = rate, retry_seconds, timeout_seconds
        self.sent = 0
        self.renewals = 0
        self.failures: list[SendFailed] = []

    def run(self) -> None:
        chunk = max(1, int(self._rate / 10))
        with EventProducer(
            self._kafka, self._topics, retry_seconds=self._retry, timeout_seconds=self._timeout
        ) as producer:
            try:
                self._feed(producer, chunk)
            finally:
                self.renewals = producer.renewals

    def _feed(self, producer: EventProducer, chunk: int) -> None:
        for start in range(0, len(self._events), chunk):
            began = time.monotonic()
            part = self._events[start : start + chunk]
            try:
                producer.send_many(part)
            except SendFailed as failed:
                self.failures.append(failed)
                continue
            self.sent += len(part)
            time.sleep(max(0.0, chunk / self._rate - (time.monotonic() - began)))


@contextmanager
def own_kafka(name: str) -> Iterator[tuple[str, Path]]:
    """A broker of the test's own, which it may stop (`stop_kafka(data_dir)`) and start again
    (`start_kafka(data_dir)`): its bootstrap address and data directory, removed afterwards."""
    data_dir = ROOT / "var" / f"{name}-kafka-{uuid.uuid4().hex[:8]}"
    bootstrap = start_kafka(data_dir)
    try:
        yield bootstrap, data_dir
    finally:
        stop_kafka(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def topic_ids(bootstrap: str, topic: str) -> Counter[str]:
    """How many times each event id is on `topic` (read to its end now)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        seen: Counter[str] = Counter()
        import json

        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1000, max_records=5000).values():
                for record in records:
                    seen[json.loads(record.value)["event_id"]] += 1
        return seen
    finally:
        consumer.close()


def settle(db: Database, bootstrap: str, topics: Topics, logs: Path, timeout: float = 600) -> None:
    """Project whatever is left (alerts raised by the last scanner pass, derived events) with a
    worker whose scanner is off, so nothing new arrives; stop it once all is in."""
    env = service_env(bootstrap, topics, db.env(), CASESTREAM_SCANNER_ENABLED="false")
    worker = Process(["worker"], env, logs / "settling-worker.log")
    try:
        wait_for(
            lambda: caught_up(db.url, db.schema, bootstrap, topics), timeout=timeout, interval=1.0
        )
    finally:
        worker.stop()


def assert_equal_to_a_clean_replay(
    db: Database, clean: Database, bootstrap: str, topics: Topics
) -> dict[str, int]:
    """Every read-model table (cases, history, disputes, anomalies, checkpoints, clocks,
    alerts) equals a replay into `clean`, row for row; the row counts."""
    replay_into(clean.url, clean.schema, bootstrap, topics)
    expected = table_rows(clean.url, clean.schema)
    actual = table_rows(db.url, db.schema)
    for table in expected:
        missing = set(expected[table]) - set(actual[table])
        extra = set(actual[table]) - set(expected[table])
        assert not missing and not extra, (
            f"{table}: {len(missing)} rows only in the replay, {len(extra)} only live; "
            f"e.g. {sorted(missing)[:2]} / {sorted(extra)[:2]}"
        )
        assert len(actual[table]) == len(expected[table]), table
    return {table: len(rows) for table, rows in actual.items()}
