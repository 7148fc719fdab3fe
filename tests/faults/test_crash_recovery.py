"""A worker killed with SIGKILL mid-stream resumes with read models equal to a clean replay,
as the API shows them: every case, its state, history and clocks, every dispute and alert."""

from __future__ import annotations

import random
import time
import zlib
from pathlib import Path
from typing import Any

import httpx

from casestream.producers.kafka_producer import EventProducer
from casestream.producers.simulation import simulate
from casestream.producers.topics import Topics
from tests.api_view import api_server, case_versions, projector_lag, read_models
from tests.conftest import Database
from tests.events import T0
from tests.processes import Process, replay_into, service_env, wait_for

EVENT_COUNT = 8_000
DETAILED_SHARE = 0.15
"""The share of cases compared in full (state, history, clocks) besides every case's summary;
which ones comes from the test's seed, so a failure is read again on the same cases."""
QUIET_SECONDS = 4.0
"""How long nothing may change before the worker counts as settled: several passes of the
outbox relay (every 0.2 s), and longer than its lease (below) a restarted worker waits out."""


def _settled(client: httpx.Client) -> bool:
    """Nothing left to project, and nothing derived still to come: the projector has no lag
    and no case changes for QUIET_SECONDS (a review or rectification the relay publishes late
    would show as a new case or version)."""
    before = case_versions(client)
    if projector_lag(client) != 0:
        return False
    time.sleep(QUIET_SECONDS)
    return projector_lag(client) == 0 and case_versions(client) == before


def test_worker_killed_mid_stream_ends_equal_to_a_clean_replay(
    kafka_bootstrap: str,
    topics: Topics,
    database: Database,
    make_database: Any,
    request: Any,
    tmp_path: Path,
    chance: random.Random,
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
        CASESTREAM_TIMER_LEASE_SECONDS="2",
    )
    kill_at = chance.randint(1500, 6000)  # events projected when the worker is killed
    salt = chance.getrandbits(32)

    def detailed(case_id: str) -> bool:  # derived cases (reviews, rectifications) too
        return zlib.crc32(f"{salt}:{case_id}".encode()) % 1000 < DETAILED_SHARE * 1000

    with api_server(env, tmp_path / "api.log") as api:
        worker = Process(["worker"], env, tmp_path / "worker-1.log")
        try:
            wait_for(
                lambda: (lag := projector_lag(api)) is not None and lag <= EVENT_COUNT - kill_at,
                timeout=180,
                interval=0.02,
            )
            worker.kill()
        finally:
            worker.stop()
        left = wait_for(lambda: [lag] if (lag := projector_lag(api)) is not None else None)[0]
        assert left > 0, "the worker finished before it could be killed"

        restarted = Process(["worker"], env, tmp_path / "worker-2.log")
        try:
            wait_for(lambda: _settled(api), timeout=300, interval=0.5)
        finally:
            restarted.stop()
        live = read_models(api, detailed)

    clean = make_database(request.node.callspec.params["database"])
    replay_out = replay_into(clean.url, clean.schema, kafka_bootstrap, topics)
    # the simulated events, and the reviews and rectifications the worker derived from them
    replayed = int(replay_out.split("replayed ")[1].split(" events")[0])
    assert replayed >= EVENT_COUNT
    with api_server(
        service_env(kafka_bootstrap, topics, clean.env()), tmp_path / "replay-api.log"
    ) as api:
        assert projector_lag(api) == 0
        expected = read_models(api, detailed)

    assert len(live["summaries"]) == len(expected["summaries"]) > 0 and live["cases"]
    for view in expected:
        assert live[view] == expected[view], view
