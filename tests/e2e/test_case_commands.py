"""Commands through the public API only: the catalogue a client builds its forms from, a
rectification registered with POST /cases and moved on with POST /cases/{id}/commands/{name},
each answer as a user meets it (200 and visible at once, 403, 404, 409 with the reason, 422
naming the field)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from casestream.domain import catalog as ev
from casestream.domain.command_catalogue import COMMANDS
from casestream.domain.envelope import new_event
from casestream.read_models.command_reservations import (
    CommandReservations,
    Reservation,
    command_event_id,
)
from casestream.read_models.database import create_engine
from tests.auth import auth_env, auth_headers
from tests.conftest import Database, fresh_topics
from tests.processes import free_port, running_system, service_env

DEPARTMENT = "治安大队"
HEAD = auth_headers("department_head", DEPARTMENT)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Database:
    return Database(f"sqlite:///{tmp_path_factory.mktemp('db') / 'commands.db'}", None)


@pytest.fixture(scope="module")
def api(
    kafka_bootstrap: str, database: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    topics = fresh_topics(kafka_bootstrap)  # one system for the module
    tmp_path = tmp_path_factory.mktemp("commands")
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_API_PORT=str(free_port()),
        CASESTREAM_COMMAND_WAIT_SECONDS="30",
        **auth_env(),
    )
    with running_system(env, tmp_path) as client:
        yield client


def _open(api: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {
        "case_kind": "rectification",
        "command": "open",
        "fields": {"department": DEPARTMENT, "responsible_person": "李四", **fields},
    }
    opened = api.post("/cases", json=body, headers=HEAD)
    assert opened.status_code == 201, opened.text
    return dict(opened.json())


def _command(
    api: httpx.Client, case_id: str, name: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    return api.post(f"/cases/{case_id}/commands/{name}", json=body, headers=headers)


def test_the_catalogue_lists_every_declared_command_with_the_schema_of_its_body(
    api: httpx.Client,
) -> None:
    listed = api.get("/commands", headers=auth_headers("handler", DEPARTMENT))
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert {(item["case_kind"], item["name"]) for item in items} == set(COMMANDS)
    by_name = {item["name"]: item for item in items if item["case_kind"] == "rectification"}
    progress = by_name["report_progress"]
    assert progress["label_zh"] and progress["label_en"]
    assert "handler" in progress["roles"] and progress["opens_case"] is False
    assert progress["body_schema"]["required"] == ["progress"]
    assert {"progress", "percent", "expected_version"} <= set(progress["body_schema"]["properties"])
    assert by_name["open"]["opens_case"] is True
    assert by_name["extend_deadline"]["roles"] == ["leader"]
    assert api.get("/commands").status_code == 401


def test_a_rectification_registered_and_moved_on_is_visible_in_the_answer_s_wake(
    api: httpx.Client,
) -> None:
    opened = _open(api, deadline=(datetime.now(UTC) + timedelta(days=20)).date().isoformat())
    case_id = opened["case_id"]
    assert opened["applied"] is True and opened["version"] == 1 and case_id.startswith("RECT-M-")
    assert len(opened["event_ids"]) == 1

    measure = _command(api, case_id, "add_measure", {"measure": "全员培训"}, HEAD)
    assert measure.status_code == 200, measure.text
    assert measure.json()["applied"] is True and measure.json()["version"] == 2
    detail = api.get(f"/rectifications/{case_id}", headers=HEAD).json()  # no token, no wait
    assert (detail["status"], detail["measures"]) == ("in_progress", ["全员培训"])

    later = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    leader = auth_headers("leader")
    extended = _command(api, case_id, "extend_deadline", {"deadline": later}, leader)
    assert extended.status_code == 200, extended.text
    reassigned = _command(
        api, case_id, "reassign", {"responsible_person": "王五", "expected_version": 3}, HEAD
    )
    assert reassigned.status_code == 200, reassigned.text
    state = api.get(f"/cases/{case_id}", headers=HEAD).json()["state"]
    assert (state["deadline"], state["responsible_person"], state["version"]) == (later, "王五", 4)
    clocks = api.get(f"/cases/{case_id}/clocks", headers=HEAD).json()
    completion = [clock for clock in clocks if clock["rule"] == "rectification.completion"]
    assert [clock["due_date"] for clock in completion] == [later]


def test_each_refusal_answers_as_documented(api: httpx.Client) -> None:
    case_id = _open(api)["case_id"]
    # a role the command does not allow
    forbidden = _command(api, case_id, "verify", {}, HEAD)
    assert forbidden.status_code == 403, forbidden.text
    # a department that does not see the case: as if it did not exist
    other = auth_headers("department_head", "交警大队")
    hidden = _command(api, case_id, "add_measure", {"measure": "培训"}, other)
    assert hidden.status_code == 404, hidden.text
    assert _command(api, "RECT-NOPE", "add_measure", {"measure": "x"}, HEAD).status_code == 404
    assert _command(api, case_id, "no_such_command", {}, HEAD).status_code == 404
    # a state that does not allow it: the reason and the version
    refused = _command(api, case_id, "verify", {}, auth_headers("supervisor"))
    assert refused.status_code == 409, refused.text
    assert "'open'" in refused.json()["detail"]["reason"]
    assert refused.json()["detail"]["current_version"] == 1
    stale = _command(api, case_id, "add_measure", {"measure": "x", "expected_version": 0}, HEAD)
    assert stale.status_code == 409 and stale.json()["detail"]["current_version"] == 1
    # an invalid body names its field
    invalid = _command(api, case_id, "report_progress", {"progress": "x", "percent": 101}, HEAD)
    assert invalid.status_code == 422, invalid.text
    assert [problem["loc"] for problem in invalid.json()["detail"]] == [["body", "percent"]]
    unknown = _command(api, case_id, "add_measure", {"measure": "x", "colour": "red"}, HEAD)
    assert unknown.status_code == 422
    assert [problem["loc"] for problem in unknown.json()["detail"]] == [["body", "colour"]]
    # nothing refused was written
    history = api.get(f"/cases/{case_id}/events", headers=HEAD).json()
    assert [item["event_type"] for item in history] == ["RectificationOpened"]


def test_a_registration_answers_as_documented(api: httpx.Client) -> None:
    body: dict[str, Any] = {
        "case_kind": "rectification",
        "command": "open",
        "fields": {"department": "交警大队", "responsible_person": "李四"},
    }
    assert api.post("/cases", json=body, headers=HEAD).status_code == 403  # own department only
    missing = {**body, "fields": {"department": DEPARTMENT}}
    invalid = api.post("/cases", json=missing, headers=HEAD)
    assert invalid.status_code == 422
    assert [problem["loc"] for problem in invalid.json()["detail"]] == [
        ["body", "fields", "responsible_person"]
    ]
    far = {**body, "fields": {**body["fields"], "department": DEPARTMENT, "deadline": "2999-01-01"}}
    implausible = api.post("/cases", json=far, headers=HEAD)
    assert implausible.status_code == 422, implausible.text
    assert [problem["loc"] for problem in implausible.json()["detail"]] == [
        ["body", "fields", "deadline"]
    ]
    not_opening = {**body, "command": "add_measure"}
    assert api.post("/cases", json=not_opening, headers=HEAD).status_code == 404
    named = {
        **body,
        "case_id": "RECT-OWN-1",
        "fields": {**body["fields"], "department": DEPARTMENT},
    }
    assert api.post("/cases", json=named, headers=HEAD).status_code == 201
    again = api.post("/cases", json=named, headers=HEAD)
    assert again.status_code == 409 and "already registered" in again.json()["detail"]["reason"]
    assert (
        api.post("/cases", json=body, headers=auth_headers("handler", DEPARTMENT)).status_code
        == 403
    )


def test_a_command_committed_by_an_api_that_died_before_sending_is_published_by_the_worker(
    api: httpx.Client, database: Database
) -> None:
    case_id = _open(api)["case_id"]
    # what an API process leaves when it stops between its commit and its send to Kafka
    now = datetime.now(UTC)
    measure = new_event(
        ev.MeasureAdded(measure="遗留的措施"),
        case_id=case_id,
        case_kind=ev.CaseKind.rectification,
        occurred_at=now,
        source="api",
        actor="head-1",
        event_id=command_event_id(case_id, 1, 0),
    )
    engine = create_engine(database.url, database.schema)
    try:
        CommandReservations(engine).reserve(
            Reservation(case_id, 1, "add_measure", "head-1", now), [measure]
        )
    finally:
        engine.dispose()
    # the next command waits for it, then is decided on the state it made
    later = _command(api, case_id, "add_measure", {"measure": "新措施"}, HEAD)
    assert later.status_code == 200, later.text
    assert later.json()["version"] == 3
    detail = api.get(f"/rectifications/{case_id}", headers=HEAD).json()
    assert detail["measures"] == ["遗留的措施", "新措施"]


def test_another_kind_s_commands_take_the_same_routes(api: httpx.Client) -> None:
    body = {
        "case_kind": "complaint",
        "command": "register",
        "case_id": f"C-CMD-{uuid.uuid4().hex[:8]}",
        "fields": {"channel": "window", "subject": "窗口办证拖延", "department": DEPARTMENT},
    }
    registered = api.post("/cases", json=body, headers=HEAD)
    assert registered.status_code == 201, registered.text
    case_id = registered.json()["case_id"]
    accepted = _command(api, case_id, "accept", {"expected_version": 1}, HEAD)
    assert accepted.status_code == 200, accepted.text
    state = api.get(f"/cases/{case_id}", headers=HEAD).json()
    assert (state["status"], state["version"]) == ("accepted", 2)
    unnamed = api.post("/cases", json={**body, "case_id": None}, headers=HEAD)
    assert unnamed.status_code == 422
    assert [problem["loc"] for problem in unnamed.json()["detail"]] == [["body", "case_id"]]


def test_a_command_cites_only_files_uploaded_whole_as_they_were_described(
    api: httpx.Client,
) -> None:
    case_id = _open(api)["case_id"]
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    described = {"sha256": "e" * 64, "name": "报告.pdf", "media_type": "application/pdf", "size": 9}
    body = {"evidence": ["整改报告"], "files": [described]}
    missing = _command(api, case_id, "complete", body, HEAD)
    assert missing.status_code == 422, missing.text
    assert [problem["loc"] for problem in missing.json()["detail"]] == [["body", "files", "0"]]
    uploaded = api.post("/files", params={"name": "报告.pdf"}, content=pdf, headers=HEAD)
    assert uploaded.status_code == 201, uploaded.text
    wrong_size = {**uploaded.json(), "size": uploaded.json()["size"] + 1}
    misdescribed = _command(api, case_id, "complete", {**body, "files": [wrong_size]}, HEAD)
    assert misdescribed.status_code == 422, misdescribed.text
    completed = _command(api, case_id, "complete", {**body, "files": [uploaded.json()]}, HEAD)
    assert completed.status_code == 200, completed.text
    history = api.get(f"/cases/{case_id}/events", headers=HEAD).json()
    assert history[-1]["event"]["payload"]["files"] == [uploaded.json()]
