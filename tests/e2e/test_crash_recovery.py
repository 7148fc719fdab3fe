"""A worker killed with SIGKILL mid-stream resumes with read models equal to a clean replay."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from casestream.producers.kafka_producer import EventProducer
from casestream.producers.simulation import simulate
from casestream.producers.topics import Topics
from casestream.read_models.database import create_engine
from tests.conftest import Database
from tests.events import T0
from tests.processes import Process, caught_up, replay_into, service_env, table_rows, wait_for

EVENT_COUNT = 20_000


def _projected_offsets(db: Database, topics: Topics) -> int:
    """Messages of the case topics projected so far."""
    engine = create_engine(db.url, db.schema)
    try:
        with engine.connect() as conn:
            query = sa.text(
                "SELECT COALESCE(SUM(next_offset), 0) FROM checkpoints WHERE topic <> :alerts"
            )
            return int(conn.execute(query, {"alerts": topics.alerts}).scalar() or 0)
    except sa.exc.DatabaseError:
        return 0
    finally:
        engine.dispose()


def test_worker_killed_mid_stream_ends_equal_to_a_clean_replay(
    kafka_bootstrap: str,
    topics: Topics,
    database: Database,
    make_database: Any,
    request: Any,
    tmp_path: Path,
) -> None:
    events = simulate(random.Random(2026), 5000, T0, prefix="K")[:EVENT_COUNT]
    assert len(events) == EVENT_COUNT
    with EventProducer(kafka_bootstrap, topics) as producer:
        producer.send_many(events)

    # this is about the projector: no escalation scanner, so no alerts arrive meanwhile
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_PROJECTOR_BATCH_SIZE="500",
        CASESTREAM_SCANNER_ENABLED="false",
    )
    worker = Process(["worker"], env, tmp_path / "worker-1.log")
    kill_at = random.Random().randint(3000, 14000)
    try:
        wait_for(
            lambda: _projected_offsets(database, topics) >= kill_at, timeout=180, interval=0.02
        )
        worker.kill()
    finally:
        worker.stop()
    killed_at = _projected_offsets(database, topics)
    assert killed_at < EVENT_COUNT, "the worker finished before it could be killed"

    restarted = Process(["worker"], env, tmp_path / "worker-2.log")
    try:
        wait_for(
            lambda: (
                _projected_offsets(database, topics) >= EVENT_COUNT
                and caught_up(database.url, database.schema, kafka_bootstrap, topics)
            ),
            timeout=300,
            interval=0.5,
        )
    finally:
        restarted.stop()

    clean = make_database(request.node.callspec.params["database"])
    replay_out = replay_into(clean.url, clean.schema, kafka_bootstrap, topics)
    # the simulated events, and the reviews and rectifications the worker derived from them
    replayed = int(replay_out.split("replayed ")[1].split(" events")[0])
    assert replayed >= EVENT_COUNT

    expected = table_rows(clean.url, clean.schema)
    actual = table_rows(database.url, database.schema)
    for table in expected:
        assert len(actual[table]) == len(expected[table]), table
        assert actual[table] == expected[table], table
