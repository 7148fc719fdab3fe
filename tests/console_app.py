"""A console over a test database, for the console's TestClient tests: the app as `casestream
api` builds it (no Kafka), served at https://testserver so its cookies are the Secure ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from casestream.api.app import create_app
from casestream.settings import Settings
from tests.auth import TEST_SECRET
from tests.conftest import Database


@contextmanager
def console_client(database: Database, now: datetime, **settings: Any) -> Iterator[TestClient]:
    """A client of the API on `database` whose clock stands at `now`."""
    configured = Settings(
        database_url=database.url,
        database_schema=database.schema,
        kafka_bootstrap=None,
        auth_secret=TEST_SECRET,
        **settings,
    )
    with TestClient(
        create_app(configured, now=lambda: now), base_url="https://testserver"
    ) as client:
        yield client
