"""The API probed as an attacker and a careless integrator would: every bad input is a 4xx
naming the field, never a 500, and nothing accepted can stop the projection."""

from __future__ import annotations

import base64
import json
import socket
from collections.abc import Iterator

import httpx
import pytest

from casestream.producers.topics import Topics
from tests.auth import auth_env, auth_headers, bearer, token_for
from tests.conftest import Database
from tests.processes import Process, free_port, service_env, wait_until_answers


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

    try:
        wait_until_answers(client.base_url)
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


def _cursor(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


DEEP: object = []
for _ in range(60):
    DEEP = [DEEP]


@pytest.mark.parametrize("route", ["/cases", "/alerts", "/rectifications"])
@pytest.mark.parametrize(
    "cursor",
    [
        _cursor(["2026-01-01T00:00:00", "x"]),  # no offset
        _cursor(DEEP),
        _cursor(["2026-01-01T00:00:00+08:00", "\ud800"]),  # a lone surrogate
        _cursor(["0001-01-01T00:00:00-23:59", "x"]),
        _cursor({"a": 1}),
        "A" * 5000,
    ],
)
def test_forged_cursors_are_422_naming_the_cursor(
    api: httpx.Client, route: str, cursor: str
) -> None:
    answer = api.get(route, params={"cursor": cursor}, headers=auth_headers("legal"))
    assert answer.status_code == 422, answer.text
    assert _fields(answer) == ["query.cursor"]


@pytest.mark.parametrize(
    ("route", "params", "field"),
    [
        ("/rectifications", {"opened_from": "2026-01-01T00:00:00"}, "query.opened_from"),
        ("/rectifications", {"opened_from": "0001-01-01T00:00:00-23:59"}, "query.opened_from"),
        ("/rectifications.csv", {"opened_to": "9999-12-31T23:59:59-23:59"}, "query.opened_to"),
        ("/cases", {"received_from": "2026-01-01T00:00:00"}, "query.received_from"),
        ("/cases.csv", {"received_to": "0001-01-01T00:00:00+23:59"}, "query.received_to"),
        ("/stats", {"from": "0001-01-01", "to": "0001-01-01"}, "query.from"),
        ("/cases/X-1", {"consistency_token": "A" * 5000}, "query.consistency_token"),
        ("/cases", {"kind": "complaint", "sttaus": "received"}, "query.sttaus"),
        ("/cases/overdue", {"kind": "complaint"}, "query.kind"),
    ],
)
def test_crafted_query_parameters_are_422_naming_the_parameter(
    api: httpx.Client, route: str, params: dict[str, str], field: str
) -> None:
    answer = api.get(route, params=params, headers=auth_headers("legal"))
    assert answer.status_code == 422, answer.text
    assert field in _fields(answer)
    assert len(answer.content) < 5000  # the input is not echoed back


def test_one_name_per_concept_with_the_old_one_still_taken(api: httpx.Client) -> None:
    legal = auth_headers("legal")
    for params in ({"case_kind": "complaint"}, {"kind": "complaint"}):
        assert api.get("/cases", params=params, headers=legal).status_code == 200
    assert (
        api.get("/cases/overdue", params={"case_kind": "complaint"}, headers=legal).status_code
        == 200
    )


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/rectifications",
            {"department": "治安大队", "responsible_person": "李四", "source_case_id": ""},
            "body.source_case_id",
        ),
        ("/rectifications/R-1/completion", {"evidence": [""]}, "body.evidence.0"),
        ("/rectifications/R-1/completion", {"evidence": ["x" * 201]}, "body.evidence.0"),
        ("/rectifications/R-1/completion", {"evidence": ["x"] * 101}, "body.evidence"),
        ("/rectifications/R-1/review", {"root_causes": ["law"], "lessons": ""}, "body.lessons"),
    ],
)
def test_command_bodies_are_held_to_the_event_schema(
    api: httpx.Client, path: str, body: dict[str, object], field: str
) -> None:
    answer = api.post(path, json=body, headers=auth_headers("legal"))
    assert answer.status_code == 422, answer.text
    assert field in _fields(answer)


def test_a_token_with_an_overlong_subject_is_refused_at_sign_in(api: httpx.Client) -> None:
    token = token_for("legal", subject="x" * 101)
    answer = api.get("/cases", headers=bearer(token))
    assert answer.status_code == 401
    posted = api.post(
        "/rectifications",
        json={"department": "治安大队", "responsible_person": "李四"},
        headers=bearer(token),
    )
    assert posted.status_code == 401


def test_a_lone_surrogate_in_a_body_is_a_422_not_a_500(api: httpx.Client) -> None:
    body = (
        '{"event_type": "ComplaintReceived", "case_id": "H-S", "case_kind": "complaint", '
        '"payload": {"channel": "letter", "subject": "\\ud800"}}'
    )
    answer = api.post(
        "/events",
        content=body.encode(),
        headers={**auth_headers("legal"), "content-type": "application/json"},
    )
    assert answer.status_code == 422, answer.text


def test_an_anonymous_body_is_refused_before_it_is_read(api: httpx.Client) -> None:
    """Headers announcing 50 MB, no credential: the 401 comes without waiting for the body."""
    host, port = str(api.base_url.host), int(api.base_url.port or 80)
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(
            b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 52428800\r\n\r\n" + b"{" * 1024
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_a_body_over_the_cap_is_413_and_short(api: httpx.Client) -> None:
    big = {
        "event_type": "ComplaintReceived",
        "case_id": "H-B",
        "case_kind": "complaint",
        "payload": {"channel": "letter", "subject": "s", "description": "x" * 10_000_000},
    }
    answer = api.post("/events", json=big, headers=auth_headers("legal"))
    assert answer.status_code == 413
    assert len(answer.content) < 1000

    def chunks() -> Iterator[bytes]:
        yield b'{"event_type": "ComplaintReceived", "payload": {"description": "'
        for _ in range(3000):
            yield b"x" * 1000
        yield b'"}}'

    streamed = api.post(
        "/events",
        content=chunks(),
        headers={**auth_headers("legal"), "content-type": "application/json"},
    )
    assert streamed.status_code == 413


def test_a_huge_invalid_body_under_the_cap_is_not_echoed(api: httpx.Client) -> None:
    body = {
        "event_type": "ComplaintReceived",
        "case_id": "H-E",
        "case_kind": "complaint",
        "payload": {"channel": "letter", "subject": "y" * 900_000},
    }
    answer = api.post("/events", json=body, headers=auth_headers("legal"))
    assert answer.status_code == 422
    assert _fields(answer) == ["body.payload.subject"]
    assert len(answer.content) < 5000
