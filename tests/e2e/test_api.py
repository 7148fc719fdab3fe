"""The HTTP API from the outside: write through POST /events, read back with the consistency token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.auth import auth_env, auth_headers
from tests.conftest import Database, fresh_topics
from tests.processes import free_port, running_system, service_env


@pytest.fixture(scope="module")
def api(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The system of the module's tests (each writes cases of its own: ids, kinds)."""
    topics = fresh_topics(kafka_bootstrap)
    tmp_path = tmp_path_factory.mktemp("api")
    database = Database(f"sqlite:///{tmp_path / 'api.db'}", None)
    port = free_port()
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_API_PORT=str(port),
        CASESTREAM_CONSISTENCY_WAIT_SECONDS="30",
        **auth_env(),
    )
    # a system (another system's integration) may post raw events and read every case
    with running_system(env, tmp_path, auth_headers("system")) as client:
        yield client


def _post(client: httpx.Client, body: dict[str, object]) -> httpx.Response:
    return client.post("/events", json=body)


def test_a_posted_complaint_is_visible_with_its_token_and_a_lawsuit_joins_its_dispute(
    api: httpx.Client,
) -> None:
    ready = api.get("/readyz").json()
    assert ready["status"] == "ready" and ready["checks"]["projector_lag"].endswith("events behind")
    posted = _post(
        api,
        {
            "event_type": "ComplaintReceived",
            "case_id": "E2E-1",
            "case_kind": "complaint",
            "occurred_at": "2026-11-20T09:30:00+08:00",
            "payload": {
                "channel": "hotline_12345",
                "subject": "罚款有异议",
                "enterprise": True,
                "enterprise_name": "华星物流",
                "decision_ref": "公决字〔2026〕9号",
            },
        },
    )
    assert posted.status_code == 202, posted.text
    accepted = posted.json()
    case = api.get("/cases/E2E-1", params={"consistency_token": accepted["consistency_token"]})
    assert case.status_code == 200, case.text
    body = case.json()
    assert (body["status"], body["version"], body["enterprise"]) == ("received", 1, True)

    second = _post(
        api,
        {
            "event_type": "ComplaintAccepted",
            "case_id": "E2E-1",
            "case_kind": "complaint",
            "payload": {},
        },
    )
    assert api.get("/cases/E2E-1", params={"min_version": 2}).json()["status"] == "accepted"
    history = api.get("/cases/E2E-1/events").json()
    assert [e["event_id"] for e in history] == [accepted["event_id"], second.json()["event_id"]]

    lawsuit = _post(
        api,
        {
            "event_type": "LawsuitFiled",
            "case_id": "E2E-L1",
            "case_kind": "litigation",
            "payload": {
                "court": "县人民法院",
                "plaintiff": {"name": "王伟"},
                "decision_ref": "公决字〔2026〕9号",
            },
        },
    ).json()
    api.get("/cases/E2E-L1", params={"consistency_token": lawsuit["consistency_token"]})
    dispute = api.get("/disputes/公决字〔2026〕9号").json()
    assert [item["case"]["case_id"] for item in dispute["cases"]] == ["E2E-1", "E2E-L1"]

    listed = api.get("/cases", params={"kind": "complaint", "enterprise": "华星物流"}).json()
    assert [item["case_id"] for item in listed["items"]] == ["E2E-1"]
    assert (
        api.get("/cases", params={"kind": "litigation", "status": "received"}).json()["items"] == []
    )


def test_invalid_bodies_answer_422_naming_the_field_and_unknown_cases_404(
    api: httpx.Client,
) -> None:
    bad = _post(
        api,
        {
            "event_type": "ComplaintFollowUpVisited",
            "case_id": "E2E-2",
            "case_kind": "complaint",
            "payload": {"satisfaction": 9},
        },
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "payload", "satisfaction"]

    unknown = _post(
        api, {"event_type": "Nope", "case_id": "E2E-2", "case_kind": "complaint", "payload": {}}
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == [
        "body",
        "event_type",
    ]

    derived = _post(
        api,
        {
            "event_type": "DeadlineBreached",
            "case_id": "E2E-2",
            "case_kind": "complaint",
            "payload": {"alert_id": "a", "rule": "r", "due_at": "2026-01-01T00:00:00+08:00"},
        },
    )
    assert derived.status_code == 422

    assert api.get("/cases/NO-SUCH-CASE").status_code == 404
    assert api.get("/cases", params={"cursor": "garbage"}).status_code == 422
    assert api.get("/cases", params={"kind": "parking"}).status_code == 422
    assert "casestream_api_events_rejected_total 3.0" in api.get("/metrics").text


def test_cases_are_paginated_with_a_cursor(api: httpx.Client) -> None:
    tokens = []
    for number in range(5):
        tokens.append(
            _post(
                api,
                {
                    "event_type": "TipReceived",
                    "case_id": f"E2E-T{number}",
                    "case_kind": "enterprise_tip",
                    "occurred_at": f"2026-11-0{number + 1}T10:00:00+08:00",
                    "payload": {"enterprise": "远帆科技", "subject": "线索"},
                },
            ).json()
        )
    for number, token in enumerate(tokens):
        assert (
            api.get(
                f"/cases/E2E-T{number}", params={"consistency_token": token["consistency_token"]}
            ).status_code
            == 200
        )
    seen: list[str] = []
    cursor = None
    while True:
        params = {"kind": "enterprise_tip", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/cases", params=params).json()
        seen.extend(item["case_id"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"E2E-T{n}" for n in range(4, -1, -1)]
