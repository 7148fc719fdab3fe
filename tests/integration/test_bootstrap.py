"""The composition root: `bootstrap(settings)` builds the parts every entry point runs on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from casestream.api.app import create_app
from casestream.api.http_metrics import ApiRegistry
from casestream.bootstrap import REQUEST_PATIENCE, bootstrap
from casestream.domain.rules import RuleFileError
from casestream.read_models.database import projection_id
from casestream.settings import Settings
from tests.auth import TEST_SECRET, auth_headers
from tests.conftest import Database


def _settings(database: Database, **more: object) -> Settings:
    return Settings(
        database_url=database.url,
        database_schema=database.schema,
        kafka_bootstrap=None,
        auth_secret=TEST_SECRET,
        **more,
    )


def test_bootstrap_migrates_the_read_models_and_connects_kafka_only_when_a_send_needs_it(
    database: Database,
) -> None:
    parts = bootstrap(_settings(database))
    try:
        assert "cases" in sa.inspect(parts.engine).get_table_names()
        assert projection_id(parts.engine)  # a fresh database has its own projection id
        assert parts.topics.prefix == ""
        assert parts.policy.timezone == "Asia/Shanghai"
        with pytest.raises(RuntimeError, match="CASESTREAM_KAFKA_BOOTSTRAP"):
            parts.producer.get()
    finally:
        parts.close()
    again = bootstrap(_settings(database))  # a second start finds the schema up to date
    try:
        assert projection_id(again.engine) == projection_id(parts.engine)
    finally:
        again.close()


def test_an_invalid_rules_file_stops_bootstrap_before_the_database_is_touched(
    tmp_path: Path,
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("this is = = not toml\n")
    database = Database(f"sqlite:///{tmp_path / 'untouched' / 'rm.db'}", None)
    with pytest.raises(RuleFileError, match=r"rules\.toml"):
        bootstrap(_settings(database, rules_file=rules))
    assert not (tmp_path / "untouched").exists()


def test_the_api_takes_parts_built_for_it_and_refuses_parts_without_its_registry(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'rm.db'}", None)
    parts = bootstrap(_settings(database), registry=CollectorRegistry())
    try:
        with pytest.raises(TypeError, match="ApiRegistry"):
            create_app(parts=parts)
    finally:
        parts.close()
    served = bootstrap(_settings(database), registry=ApiRegistry(), patience=REQUEST_PATIENCE)
    with TestClient(create_app(parts=served), headers=auth_headers("legal")) as api:
        assert api.get("/cases").status_code == 200
        assert "casestream_api_request_seconds" in api.get("/metrics").text


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_api_command_refuses_an_invalid_rules_file_with_its_name_not_a_traceback(
    tmp_path: Path, workers: str
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text("this is = = not toml\n")
    env = {
        **os.environ,
        "CASESTREAM_AUTH_SECRET": TEST_SECRET,
        "CASESTREAM_RULES_FILE": str(rules),
        "CASESTREAM_DATABASE_URL": f"sqlite:///{tmp_path / 'rm.db'}",
        "CASESTREAM_VAR_DIR": str(tmp_path / "var"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "casestream.cli", "api", "--workers", workers, "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "rules.toml" in done.stderr and "Traceback" not in done.stderr
