"""`casestream replay --processes N` on the real broker and PostgreSQL: split by partition
number over processes, it builds the very read models one process builds; a process that
fails fails the replay, naming its partitions."""

from __future__ import annotations

import signal
import uuid
from typing import Any

import pytest

from casestream.domain.catalog import CaseKind
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from casestream.settings import Settings
from casestream.stream_processors.replay_processes import ReplayFailed, _run_split
from tests.faults.harness import workload
from tests.processes import replay_into, table_rows

EVENTS = 1500


def test_a_replay_split_over_processes_builds_what_one_process_builds(
    kafka_bootstrap: str, topics: Topics, postgres_url: str
) -> None:
    events = workload(EVENTS, f"RP{uuid.uuid4().hex[:6]}-")
    with EventProducer(kafka_bootstrap, topics) as producer:
        producer.send_many(events)
        for key in (b"bad-1", b"bad-2"):  # the live worker dead-lettered these
            producer.send_raw(topics.for_kind(CaseKind.complaint), key, b"\x00not json")
    one, three = f"t_{uuid.uuid4().hex[:12]}", f"t_{uuid.uuid4().hex[:12]}"
    alone = replay_into(postgres_url, one, kafka_bootstrap, topics, processes=1)
    split = replay_into(postgres_url, three, kafka_bootstrap, topics, processes=3)
    for said in (alone, split):  # each event applied once: no process read another's
        assert f"replayed {EVENTS} events (0 duplicates skipped; 2 bad messages passed over" in (
            said.replace("\n", " ")
        ), said
    expected, actual = table_rows(postgres_url, one), table_rows(postgres_url, three)
    assert sum(len(rows) for rows in expected.values()) > EVENTS  # history, cases, clocks, …
    for table, rows in expected.items():
        assert actual[table] == rows, table
    checkpoints = actual["checkpoints"]
    assert len(checkpoints) == len({(row[1], row[2]) for row in checkpoints}) >= 3


def test_a_failing_process_fails_the_replay_and_names_its_partitions(
    kafka_bootstrap: str, tmp_path: Any
) -> None:
    unreachable = Settings().model_copy(
        update={
            "database_url": "postgresql+psycopg://casestream@127.0.0.1:9/nowhere",
            "database_schema": "t_nowhere",
            "kafka_bootstrap": kafka_bootstrap,
        }
    )
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(ReplayFailed) as failed:
        _run_split(unreachable, [(0, 2), (1,)], 100, None, None)
    assert signal.getsignal(signal.SIGTERM) is before  # the caller's handling is given back
    message = str(failed.value)
    assert "partitions [0, 2]" in message or "partitions [1]" in message
    assert "replay again into a fresh database or schema" in message
