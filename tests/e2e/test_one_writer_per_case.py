"""One writer per case, from the outside: two API processes on one PostgreSQL read model and one
worker. Fifty commands that exclude each other, sent at once across both, apply exactly once
(the others answer 409, nothing is lost or doubled); fifty legal commands sent one after
another, alternating between the processes, all apply, in order, without a false conflict."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.auth import auth_env, auth_headers
from tests.conftest import Database, fresh_topics
from tests.processes import Process, free_port, service_env, wait_until_answers

DEPARTMENT = "治安大队"
HEAD = auth_headers("department_head", DEPARTMENT)


@pytest.fixture(scope="module")
def apis(
    kafka_bootstrap: str, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """The system of the module's tests (each opens a case of its own)."""
    topics = fresh_topics(kafka_bootstrap)
    tmp_path = tmp_path_factory.mktemp("one-writer")
    database = Database(postgres_url, f"t_{uuid.uuid4().hex[:12]}")
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_COMMAND_WAIT_SECONDS="30",
        **auth_env(),
    )
    worker = Process(["worker"], env, tmp_path / "worker.log")
    ports = (free_port(), free_port())
    servers = [
        Process(["api", "--port", str(port)], env, tmp_path / f"api-{port}.log") for port in ports
    ]
    clients = [
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, headers=HEAD)
        for port in ports
    ]
    try:
        for client in clients:
            wait_until_answers(client.base_url, "/readyz", timeout=90, interval=0.3)
        yield clients[0], clients[1]
    finally:
        for client in clients:
            client.close()
        for server in servers:
            server.stop()
        worker.stop()


def _open(api: httpx.Client) -> str:
    body = {
        "case_kind": "rectification",
        "command": "open",
        "fields": {"department": DEPARTMENT, "responsible_person": "李四"},
    }
    opened = api.post("/cases", json=body)
    assert opened.status_code == 201, opened.text
    return str(opened.json()["case_id"])


def _history(api: httpx.Client, case_id: str) -> list[dict[str, Any]]:
    found = api.get(f"/cases/{case_id}/events")
    assert found.status_code == 200, found.text
    return list(found.json())


def test_fifty_conflicting_commands_at_once_across_two_apis_apply_exactly_once(
    apis: tuple[httpx.Client, httpx.Client],
) -> None:
    first, second = apis
    case_id = _open(first)

    def complete(number: int) -> httpx.Response:
        api = (first, second)[number % 2]
        body = {"evidence": [f"证据-{number}.pdf"]}
        return api.post(f"/cases/{case_id}/commands/complete", json=body)

    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(complete, range(50)))

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [409] * 49, [
        answer.text for answer in answers if answer.status_code != 409
    ]
    for answer in answers:
        if answer.status_code == 409:
            assert {"reason", "current_version"} <= set(answer.json()["detail"])
    (applied,) = [answer.json() for answer in answers if answer.status_code == 200]
    history = _history(second, case_id)
    completed = [item for item in history if item["event_type"] == "RectificationCompleted"]
    assert len(completed) == 1 and completed[0]["event_id"] == applied["event_ids"][0]
    assert [item["version"] for item in history] == [1, 2]
    assert second.get(f"/rectifications/{case_id}").json()["status"] == "completed"


def test_fifty_legal_commands_in_sequence_across_two_apis_all_apply_in_order(
    apis: tuple[httpx.Client, httpx.Client],
) -> None:
    first, second = apis
    case_id = _open(first)
    for number in range(1, 51):
        api = (first, second)[number % 2]
        body = {"progress": f"第{number}次进展", "percent": number * 2}
        answer = api.post(f"/cases/{case_id}/commands/report_progress", json=body)
        assert answer.status_code == 200, (number, answer.text)
        assert answer.json()["version"] == number + 1
    history = _history(first, case_id)
    assert [item["version"] for item in history] == list(range(1, 52))
    reported = [item["event"]["payload"]["progress"] for item in history[1:]]
    assert reported == [f"第{number}次进展" for number in range(1, 51)]
