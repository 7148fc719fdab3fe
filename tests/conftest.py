"""Session-wide real services: one Kafka broker and one PostgreSQL cluster per test run.

Tests isolate themselves by unique topic prefixes, SQLite files and PostgreSQL schemas.
"""

from __future__ import annotations

import os
import random
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from casestream.local import start_kafka, start_postgres, stop_kafka, stop_postgres
from casestream.producers.topics import TopicLayout, Topics, create_topics

ROOT = Path(__file__).resolve().parents[1]

TEST_SEED = int(os.environ.get("CASESTREAM_TEST_SEED") or random.SystemRandom().randrange(2**32))
"""The seed of the random moments at which tests kill workers: set CASESTREAM_TEST_SEED to
the value a failed run printed to repeat its kill points."""


def pytest_report_header() -> str:
    return f"CASESTREAM_TEST_SEED={TEST_SEED}"


@pytest.fixture
def chance(request: pytest.FixtureRequest) -> random.Random:
    """Random draws for one test (e.g. when to kill a worker), from CASESTREAM_TEST_SEED: the
    same seed gives the same draws, whichever tests run before."""
    print(f"\n{request.node.nodeid}: CASESTREAM_TEST_SEED={TEST_SEED}")
    return random.Random(f"{TEST_SEED}:{request.node.nodeid}")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    if os.environ.get("CASESTREAM_TEST_KAFKA"):
        yield os.environ["CASESTREAM_TEST_KAFKA"]
        return
    data_dir = ROOT / "var" / f"test-kafka-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    bootstrap = start_kafka(data_dir)
    yield bootstrap
    stop_kafka(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if os.environ.get("CASESTREAM_TEST_POSTGRES"):
        yield os.environ["CASESTREAM_TEST_POSTGRES"]
        return
    data_dir = ROOT / "var" / "test-postgres"
    os.environ.setdefault("CASESTREAM_PG_FAST", "1")
    url = start_postgres(data_dir)
    yield url
    stop_postgres(data_dir)


@dataclass(frozen=True)
class Database:
    """A fresh read-model database: a SQLite file, or a new PostgreSQL schema."""

    url: str
    schema: str | None

    def env(self) -> dict[str, str]:
        found = {"CASESTREAM_DATABASE_URL": self.url}
        if self.schema:
            found["CASESTREAM_DATABASE_SCHEMA"] = self.schema
        return found


def _fresh_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Database:
    if backend == "sqlite":
        return Database(f"sqlite:///{tmp_path / f'rm-{uuid.uuid4().hex[:8]}.db'}", None)
    return Database(request.getfixturevalue("postgres_url"), f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    return _fresh_database(request.param, tmp_path, request)


@pytest.fixture
def make_database(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Another fresh database on the same backend as `database` (for replay comparisons)."""

    def make(backend: str) -> Database:
        return _fresh_database(backend, tmp_path, request)

    return make


def fresh_topics(bootstrap: str) -> Topics:
    """Topics of a name prefix no other test uses, created on the broker (one partition each
    as on a single broker): what isolates a test's system from the others."""
    created = Topics(prefix=f"t{uuid.uuid4().hex[:10]}.")
    create_topics(bootstrap, created, TopicLayout.single_broker())
    return created


@pytest.fixture
def topics(kafka_bootstrap: str) -> Topics:
    return fresh_topics(kafka_bootstrap)
