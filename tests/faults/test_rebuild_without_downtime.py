"""Rebuilding the read models without downtime: with a worker and an API running and events
still arriving, `casestream replay --into` builds new read models beside the served ones and
`casestream switch` serves them; the API answers every request throughout, a console session
stays signed in, the worker goes on projecting into the new read models, which end equal to a
clean replay, and the old ones stay until `casestream replay drop` (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import re
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from casestream.producers.kafka_producer import EventProducer
from casestream.producers.simulation import simulate
from casestream.producers.topics import Topics
from casestream.read_models.database import create_engine
from casestream.read_models.read_model_pointer import ReadModelTarget, read_model_pointer
from tests.api_view import api_server
from tests.conftest import Database
from tests.events import T0
from tests.processes import (
    Process,
    caught_up,
    replay_into,
    service_env,
    table_rows,
    wait_for,
)

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery staple 2026"


def _casestream(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "casestream.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
    return done.stdout


@dataclass
class Reader:
    """GETs the API the whole time, as users would, and keeps every failure."""

    client: httpx.Client
    case_id: str
    console: httpx.Client
    answered: int = 0
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            for client, path in (
                (self.client, f"/cases/{self.case_id}"),
                (self.client, "/cases?limit=20"),
                (self.client, "/healthz"),
                (self.client, "/readyz"),  # a worker restarting on the new read models: ready
                (self.console, "/console/"),  # signed in: 200, not a redirect to sign in
            ):
                try:
                    answer = client.get(path, follow_redirects=False)
                except httpx.HTTPError as exc:
                    self.failures.append(f"{path}: {exc!r}")
                    continue
                if answer.status_code != 200:
                    self.failures.append(f"{path}: {answer.status_code} {answer.text[:200]}")
                self.answered += 1


def _feed(bootstrap: str, topics: Topics, events: list[Any], stop: threading.Event) -> None:
    """Send `events` in small batches, a few per second, as intake would."""
    with EventProducer(bootstrap, topics) as producer:
        for start in range(0, len(events), 25):
            producer.send_many(events[start : start + 25])
            if stop.wait(0.05):
                return


def _sign_in(base_url: str, env: dict[str, str]) -> httpx.Client:
    _casestream(
        env, "user", "add", "zhi.an", "--role", "legal", "--password-stdin", stdin=PASSWORD + "\n"
    )
    console = httpx.Client(base_url=base_url, timeout=60)
    page = console.get("/console/signin")
    found = CSRF_FIELD.search(page.text)
    assert found is not None, page.text
    form = {"username": "zhi.an", "password": PASSWORD, "csrf_token": found.group(1)}
    signed = console.post("/console/signin", data=form, follow_redirects=False)
    assert signed.status_code == 303, signed.text
    return console


def _target(database: Database, tmp_path: Path) -> tuple[str, ReadModelTarget]:
    if database.schema is None:
        url = f"sqlite:///{tmp_path / 'rebuilt.db'}"
        return url, ReadModelTarget(url)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    return schema, ReadModelTarget(database.url, schema)


def _pointer(database: Database) -> ReadModelTarget | None:
    engine = create_engine(database.url, database.schema)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.select(read_model_pointer)).first()
    finally:
        engine.dispose()
    return None if row is None else ReadModelTarget(row.database_url, row.database_schema)


def _has_cases(url: str, schema: str | None) -> bool:
    engine = create_engine(url, schema)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(sa.text("SELECT COUNT(*) FROM cases")).scalar())
    except sa.exc.DatabaseError:
        return False
    finally:
        engine.dispose()


def test_replay_into_and_switch_serve_new_read_models_without_a_failed_request(
    kafka_bootstrap: str,
    topics: Topics,
    database: Database,
    make_database: Any,
    request: Any,
    tmp_path: Path,
) -> None:
    events = simulate(random.Random(14), 1500, T0, prefix="R")
    first, arriving = events[: len(events) // 2], events[len(events) // 2 :]
    with EventProducer(kafka_bootstrap, topics) as producer:
        producer.send_many(first)
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_SCANNER_ENABLED="false",  # about projection: no alerts raised meanwhile
        CASESTREAM_TIMER_LEASE_SECONDS="2",
        CASESTREAM_READ_MODEL_POLL_SECONDS="0.5",
    )
    into, target = _target(database, tmp_path)

    with api_server(env, tmp_path / "api.log") as api:
        worker = Process(["worker"], env, tmp_path / "worker.log")
        feeding = threading.Event()
        feeder = threading.Thread(
            target=_feed, args=(kafka_bootstrap, topics, arriving, feeding), daemon=True
        )
        reader: Reader | None = None
        try:
            wait_for(lambda: caught_up(database.url, database.schema, kafka_bootstrap, topics), 180)
            console = _sign_in(str(api.base_url), env)
            reader = Reader(api, first[0].case_id, console)
            reading = threading.Thread(target=reader.run, daemon=True)
            reading.start()
            feeder.start()

            replayed = _casestream(env, "replay", "--into", into, "--lag", "50")
            assert "caught up" in replayed
            switched = _casestream(env, "switch", into, "--settle-seconds", "2")
            assert f"serving {target.describe()}" in switched
            assert _pointer(database) == target

            feeder.join(timeout=300)  # the rest arrives after the switch
            assert not feeder.is_alive()
            wait_for(lambda: caught_up(target.url, target.schema, kafka_bootstrap, topics), 180)
            reader.stop.set()
            reading.join(timeout=60)
        finally:
            feeding.set()
            if reader is not None:
                reader.stop.set()
            worker.stop()
        # the last events reached the API's new read models through the worker
        last = api.get(f"/cases/{arriving[-1].case_id}")
        assert last.status_code == 200, last.text

    assert reader.failures == [], reader.failures[:10]
    assert reader.answered > 100
    assert "restarting on them" in worker.output()

    clean = make_database(request.node.callspec.params["database"])
    replay_into(clean.url, clean.schema, kafka_bootstrap, topics)
    assert table_rows(target.url, target.schema) == table_rows(clean.url, clean.schema)

    # the old read models stay until dropped; the served ones cannot be
    assert _has_cases(database.url, database.schema)
    refused = subprocess.run(
        [sys.executable, "-m", "casestream.cli", "replay", "drop", into],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2 and "served now" in refused.stderr
    _casestream(env, "replay", "drop", "home")
    assert not _has_cases(database.url, database.schema)
    assert _has_cases(target.url, target.schema)
