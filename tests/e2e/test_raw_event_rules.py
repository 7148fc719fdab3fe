"""Raw events (`POST /events`) are facts from outside: staff decisions cannot be forged as raw
events, the audit trail names the authenticated caller, a raw event the case does not allow is
refused, and an event id stands for one fact only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from casestream.producers.topics import Topics
from tests.auth import auth_env, auth_headers
from tests.conftest import Database, fresh_topics
from tests.processes import free_port, running_system, service_env, wait_for

SYSTEM = auth_headers("system")
LEGAL = auth_headers("legal")


@pytest.fixture(scope="module")
def system(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, Topics]]:
    """One worker and API for the module's tests (each uses cases of its own), and its topics."""
    topics = fresh_topics(kafka_bootstrap)
    logs = tmp_path_factory.mktemp("raw-events")
    database = Database(f"sqlite:///{logs / 'raw.db'}", None)
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_API_PORT=str(free_port()),
        CASESTREAM_CONSISTENCY_WAIT_SECONDS="30",
        **auth_env(),
    )
    with running_system(env, logs) as client:
        yield client, topics


@pytest.fixture
def api(system: tuple[httpx.Client, Topics]) -> httpx.Client:
    return system[0]


def _complaint(case_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_type": "ComplaintReceived",
        "case_id": case_id,
        "case_kind": "complaint",
        "occurred_at": "2026-11-20T09:30:00+08:00",
        "payload": {"channel": "hotline_12345", "subject": "窗口办证拖延"},
        **extra,
    }


def _history(api: httpx.Client, case_id: str, token: str) -> list[dict[str, Any]]:
    answer = api.get(f"/cases/{case_id}/events", params={"consistency_token": token}, headers=LEGAL)
    assert answer.status_code == 200, answer.text
    return [row["event"] for row in answer.json()]


def test_a_supervisors_decision_cannot_be_posted_raw_by_legal_or_system(
    api: httpx.Client,
) -> None:
    for headers in (LEGAL, SYSTEM):
        forged = api.post(
            "/events",
            json={
                "event_type": "RectificationVerified",
                "case_id": "RECT-X",
                "case_kind": "rectification",
                "payload": {"supervisor": "张督察"},
            },
            headers=headers,
        )
        assert forged.status_code == 403, forged.text
        assert "/verification" in forged.text


def test_the_actor_and_source_recorded_are_the_callers_own(api: httpx.Client) -> None:
    by_system = api.post(
        "/events",
        json=_complaint("RAW-A1", actor="operator-17", source="court"),
        headers=SYSTEM,
    )
    assert by_system.status_code == 202, by_system.text
    (recorded,) = _history(api, "RAW-A1", by_system.json()["consistency_token"])
    assert recorded["actor"] == "test-system"
    assert recorded["source"] == "api"  # the credential's, not the body's "court"
    assert recorded["on_behalf_of"] == "operator-17"

    forged = api.post("/events", json=_complaint("RAW-A2", actor="someone-else"), headers=LEGAL)
    assert forged.status_code == 422
    assert forged.json()["detail"][0]["loc"] == ["body", "actor"]
    own = api.post("/events", json=_complaint("RAW-A2", actor="test-legal"), headers=LEGAL)
    assert own.status_code == 202, own.text


def test_a_raw_event_the_case_does_not_allow_is_refused_with_409(api: httpx.Client) -> None:
    early = api.post(
        "/events",
        json={
            "event_type": "ComplaintResolved",
            "case_id": "RAW-T1",
            "case_kind": "complaint",
            "payload": {"outcome": "explained"},
        },
        headers=SYSTEM,
    )
    assert early.status_code == 409, early.text
    assert early.json()["detail"]["current_version"] == 0

    assert api.post("/events", json=_complaint("RAW-T1"), headers=SYSTEM).status_code == 202
    # posted straight after the opening event: decided on the state that event made
    resolved_too_soon = api.post(
        "/events",
        json={
            "event_type": "ComplaintFollowUpVisited",
            "case_id": "RAW-T1",
            "case_kind": "complaint",
            "payload": {"satisfaction": 5},
        },
        headers=SYSTEM,
    )
    assert resolved_too_soon.status_code == 409, resolved_too_soon.text
    assert resolved_too_soon.json()["detail"]["current_version"] == 1
    accepted = api.post(
        "/events",
        json={
            "event_type": "ComplaintAccepted",
            "case_id": "RAW-T1",
            "case_kind": "complaint",
            "payload": {},
        },
        headers=SYSTEM,
    )
    assert accepted.status_code == 202, accepted.text
    again = api.post("/events", json=_complaint("RAW-T1"), headers=SYSTEM)
    assert again.status_code == 409 and "already exists" in again.text
    lawsuit = api.post(
        "/events",
        json={
            "event_type": "JudgmentIssued",
            "case_id": "RAW-T1",
            "case_kind": "litigation",
            "payload": {"instance": "first", "outcome": "revoked"},
        },
        headers=SYSTEM,
    )
    assert lawsuit.status_code == 409 and "is a complaint" in lawsuit.text


def test_an_event_id_reused_for_other_content_is_a_conflict_and_a_retry_is_the_first_answer(
    api: httpx.Client,
) -> None:
    event_id = str(uuid.uuid4())
    first = api.post("/events", json=_complaint("RAW-I1", event_id=event_id), headers=SYSTEM)
    assert first.status_code == 202, first.text
    _history(api, "RAW-I1", first.json()["consistency_token"])
    retry = api.post("/events", json=_complaint("RAW-I1", event_id=event_id), headers=SYSTEM)
    assert retry.status_code == 202 and retry.json() == first.json()
    other = api.post("/events", json=_complaint("RAW-I2", event_id=event_id), headers=SYSTEM)
    assert other.status_code == 409, other.text
    assert "already stands for" in other.json()["detail"]["reason"]

    record = {**_complaint("RAW-I3"), "source_record_id": "WO-2026-0001"}
    sent = api.post("/events", json=record, headers=SYSTEM)
    assert sent.status_code == 202
    _history(api, "RAW-I3", sent.json()["consistency_token"])
    changed = {**record, "payload": {"channel": "hotline_12345", "subject": "改过的诉求"}}
    assert api.post("/events", json=changed, headers=SYSTEM).status_code == 409


def test_a_reused_event_id_on_the_topic_is_recorded_as_an_anomaly_not_dropped(
    system: tuple[httpx.Client, Topics], kafka_bootstrap: str
) -> None:
    api, topics = system
    from casestream.domain.envelope import parse_event
    from casestream.producers.kafka_producer import EventProducer
    from tests.events import raw

    event_id = str(uuid.uuid4())
    payload = {"channel": "letter", "subject": "扣证"}
    with EventProducer(kafka_bootstrap, topics) as producer:
        producer.send(
            parse_event(raw("ComplaintReceived", "RAW-C1", "complaint", payload, event_id=event_id))
        )
        producer.send(
            parse_event(raw("ComplaintReceived", "RAW-C2", "complaint", payload, event_id=event_id))
        )
        producer.send(parse_event(raw("ComplaintReceived", "RAW-C3", "complaint", payload)))

    def third_projected() -> bool:
        return api.get("/cases/RAW-C3", headers=LEGAL).status_code == 200

    wait_for(third_projected, timeout=60)
    # the two share one id: whichever was projected first holds it, the other is not applied
    # but shows on the case that holds the id
    found = {
        case_id: api.get(f"/cases/{case_id}", headers=LEGAL) for case_id in ("RAW-C1", "RAW-C2")
    }
    held = [case_id for case_id, answer in found.items() if answer.status_code == 200]
    assert len(held) == 1, {k: v.status_code for k, v in found.items()}
    other = ({"RAW-C1", "RAW-C2"} - set(held)).pop()
    reasons = [anomaly["reason"] for anomaly in found[held[0]].json()["anomalies"]]
    assert any("sent again for another fact" in r and other in r for r in reasons), reasons


def test_a_reply_posted_at_version_1_is_recorded_at_version_2_and_a_newer_one_is_refused(
    api: httpx.Client,
) -> None:
    applied = api.post(
        "/events",
        json={
            "event_type": "ReconsiderationApplied",
            "case_id": "RAW-V1",
            "case_kind": "reconsideration",
            "payload": {
                "applicant": {"name": "赵申请"},
                "decision_ref": "公(治)决字〔2026〕9号",
                "reconsideration_body": "县人民政府",
            },
        },
        headers=SYSTEM,
    )
    assert applied.status_code == 202, applied.text
    reply = {
        "event_type": "ReplySubmitted",
        "case_id": "RAW-V1",
        "case_kind": "reconsideration",
        "schema_version": 1,
        "source_record_id": "reply-RAW-V1",
        "payload": {"summary": "答复", "evidence_items": 3},
    }
    first = api.post("/events", json=reply, headers=SYSTEM)
    assert first.status_code == 202, first.text
    recorded = _history(api, "RAW-V1", first.json()["consistency_token"])[-1]
    assert recorded["schema_version"] == 2
    assert recorded["payload"] == {"summary": "答复", "evidence_count": 3}
    retry = api.post("/events", json=reply, headers=SYSTEM)  # the same fact, sent again at v1
    assert retry.status_code == 202 and retry.json() == first.json()

    newer = api.post(
        "/events", json={**reply, "schema_version": 3, "source_record_id": "r2"}, headers=SYSTEM
    )
    assert newer.status_code == 422, newer.text
    [problem] = newer.json()["detail"]
    assert problem["loc"] == ["body", "schema_version"]
    assert "reads (version 2)" in problem["msg"]
