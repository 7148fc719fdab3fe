"""The read-model pointer over real SQLite and PostgreSQL: a running API follows `switch` to other
read models within its poll interval, with the staff signed in before still signed in; new
processes start on the read models it names; the rows a switch carries over are copied once."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import sqlalchemy as sa

from casestream.api.app import create_app
from casestream.bootstrap import bootstrap
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.read_model_pointer import (
    ReadModelPointer,
    ReadModelTarget,
    copy_operational_rows,
)
from casestream.read_models.schema import cases, command_reservations, outbox
from casestream.read_models.staff_accounts import StaffAccounts
from casestream.settings import Settings
from casestream.staff import add_account
from tests.auth import TEST_SECRET, auth_headers
from tests.conftest import Database
from tests.integration.test_console_signin import CSRF_FIELD, PASSWORD, START, case_row
from tests.processes import wait_for

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _settings(home: Database) -> Settings:
    return Settings(
        database_url=home.url,
        database_schema=home.schema,
        kafka_bootstrap=None,
        auth_secret=TEST_SECRET,
        read_model_poll_seconds=0.05,
    )


def _target(other: Database) -> ReadModelTarget:
    return ReadModelTarget(other.url, other.schema)


def _read_models_with(db: Database, *case_ids: str) -> sa.Engine:
    engine = create_engine(db.url, db.schema)
    migrate(engine)
    if case_ids:
        with engine.begin() as conn:
            conn.execute(sa.insert(cases), [case_row(case_id, "治安大队") for case_id in case_ids])
    return engine


def _answers(client: TestClient, path: str, status: int) -> Callable[[], bool]:
    return lambda: client.get(path, headers=auth_headers("legal")).status_code == status


def test_a_running_api_follows_the_switch_and_keeps_its_signed_in_staff(
    database: Database, make_database: Callable[[str], Database]
) -> None:
    backend = "sqlite" if database.schema is None else "postgresql"
    rebuilt = make_database(backend)
    home_engine = _read_models_with(database, "C-OLD-1")
    add_account(  # the accounts live in the home, whatever is served
        StaffAccounts(home_engine),
        "fa.zhi",
        role="legal",
        department=None,
        password=PASSWORD,
        now=START,
    )
    _read_models_with(rebuilt, "C-OLD-1", "C-NEW-1").dispose()
    settings = _settings(database)
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        page = client.get("/console/signin")
        found = CSRF_FIELD.search(page.text)
        assert found is not None
        signed = client.post(
            "/console/signin",
            data={"username": "fa.zhi", "password": PASSWORD, "csrf_token": found.group(1)},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        assert client.get("/cases/C-NEW-1", headers=auth_headers("legal")).status_code == 404

        ReadModelPointer(home_engine, ReadModelTarget(database.url, database.schema)).point_at(
            _target(rebuilt)
        )
        wait_for(_answers(client, "/cases/C-NEW-1", 200), timeout=10, interval=0.05)
        assert client.get("/console/", follow_redirects=False).status_code == 200  # signed in

        ReadModelPointer(home_engine, ReadModelTarget(database.url, database.schema)).point_at(
            ReadModelTarget(database.url, database.schema)
        )  # back to the home: the pointer row goes
        wait_for(_answers(client, "/cases/C-NEW-1", 404), timeout=10, interval=0.05)
    home_engine.dispose()


def test_processes_start_on_the_read_models_the_pointer_names(
    database: Database, make_database: Callable[[str], Database]
) -> None:
    rebuilt = make_database("sqlite" if database.schema is None else "postgresql")
    home = ReadModelTarget(database.url, database.schema)
    parts = bootstrap(_settings(database))
    try:
        assert parts.serving == home and parts.home_engine is parts.engine
        parts.pointer.point_at(_target(rebuilt))
    finally:
        parts.close()
    parts = bootstrap(_settings(database))
    try:
        assert parts.serving == _target(rebuilt)
        assert parts.home_engine is not parts.engine
        assert parts.pointer.active() == _target(rebuilt)
        with parts.engine.connect() as conn:  # the rebuilt read models, migrated
            assert conn.execute(sa.select(sa.func.count()).select_from(cases)).scalar() == 0
    finally:
        parts.close()
    # a replay builds into the database it is given, whatever the pointer of that database
    parts = bootstrap(_settings(database), follow_pointer=False)
    try:
        assert parts.serving == home
    finally:
        parts.close()


def test_a_switch_carries_pending_commands_and_reservations_over_once(
    database: Database, make_database: Callable[[str], Database]
) -> None:
    old = _read_models_with(database)
    new = _read_models_with(make_database("sqlite" if database.schema is None else "postgresql"))
    pending = {
        "event_id": "e-pending",
        "case_id": "C-1",
        "case_kind": "complaint",
        "occurred_at": START,
        "body": "{}",
        "published": False,
    }
    with old.begin() as conn:
        conn.execute(
            sa.insert(outbox),
            [pending, {**pending, "event_id": "e-published", "published": True}],
        )
        conn.execute(
            sa.insert(command_reservations),
            {
                "case_id": "C-1",
                "version": 3,
                "next_version": 4,
                "command": "assign",
                "actor": "fa.zhi",
                "event_ids": ["e-pending"],
                "reserved_at": START,
            },
        )
    for expected in (2, 0):  # before the pointer turns, and again after: nothing twice
        with old.connect() as source, new.begin() as into:
            assert copy_operational_rows(source, into) == expected
    with new.connect() as conn:
        assert conn.execute(sa.select(outbox.c.event_id)).scalars().all() == ["e-pending"]
        assert conn.execute(sa.select(command_reservations.c.version)).scalars().all() == [3]
    old.dispose()
    new.dispose()
