"""The API probed as an attacker and a careless integrator would: every bad input is a 4xx
naming the field, never a 500, and nothing accepted can stop the projection."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from casestream.producers.topics import Topics
from tests.auth import auth_env, auth_headers
from tests.conftest import Database
from tests.processes import Process, free_port, service_env, wait_for


@pytest.fixture(scope="module")
def api(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """An API alone (no worker): what it refuses never reaches Kafka."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    topics = Topics(prefix="hostile.")
    database = Database(f"sqlite:///{tmp_path / 'hostile.db'}", None)
    port = free_port()
    env = service_env(
        kafka_bootstrap, topics, database.env(), CASESTREAM_API_PORT=str(port), **auth_env()
    )
    server = Process(["api"], env, tmp_path / "api.log")
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

    def up() -> bool:
        try:
            return client.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(up, timeout=60)
        yield client
    finally:
        client.close()
        server.stop()


def _fields(response: httpx.Response) -> list[str]:
    return [".".join(str(part) for part in problem["loc"]) for problem in response.json()["detail"]]


COMPLAINT = {"channel": "letter", "subject": "扣证"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "event_type": "ComplaintReceived",
                "case_kind": "complaint",
                "payload": COMPLAINT,
                "occurred_at": "0001-01-01T00:00:00+08:00",
            },
            "body.occurred_at",
        ),
        (
            {
                "event_type": "ComplaintReceived",
                "case_kind": "complaint",
                "payload": COMPLAINT,
                "occurred_at": "9999-12-31T23:59:59-12:00",
            },
            "body.occurred_at",
        ),
        (
            {
                "event_type": "TipReceived",
                "case_kind": "enterprise_tip",
                "payload": {"enterprise": "华星物流", "subject": "乱罚款"},
                "occurred_at": "9999-12-20T09:00:00+08:00",
            },
            "body.occurred_at",
        ),
        (
            {
                "event_type": "HearingHeld",
                "case_kind": "litigation",
                "payload": {"hearing_date": "9999-12-25"},
            },
            "body.payload.hearing_date",
        ),
    ],
)
def test_posted_events_with_implausible_dates_are_refused_naming_the_field(
    api: httpx.Client, body: dict[str, object], field: str
) -> None:
    answer = api.post("/events", json={"case_id": "H-1", **body}, headers=auth_headers("legal"))
    assert answer.status_code == 422, answer.text
    assert _fields(answer) == [field]


@pytest.mark.parametrize("deadline", ["9999-12-31", "0001-01-01"])
def test_a_rectification_deadline_at_the_edge_of_the_calendar_is_refused(
    api: httpx.Client, deadline: str
) -> None:
    answer = api.post(
        "/rectifications",
        json={"department": "治安大队", "responsible_person": "李四", "deadline": deadline},
        headers=auth_headers("legal"),
    )
    assert answer.status_code == 422, answer.text
    assert _fields(answer) == ["body.deadline"]
