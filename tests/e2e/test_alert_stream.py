"""GET /alerts/stream from the outside: the API process, a real broker, alerts produced to Kafka."""

from __future__ import annotations

import json
import queue
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from casestream.domain.envelope import Event, parse_event
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from tests.auth import auth_env, auth_headers
from tests.conftest import Database
from tests.processes import Process, free_port, service_env, wait_for, wait_until_answers
from tests.sse import Listener


def alert_event(case_id: str, *, level: int, event_type: str = "Escalated") -> Event[Any]:
    alert_id = str(uuid.uuid4())
    return parse_event(
        {
            "event_id": alert_id,
            "event_type": event_type,
            "case_id": case_id,
            "case_kind": "complaint",
            "occurred_at": "2026-03-20T09:00:00+08:00",
            "recorded_at": "2026-03-20T09:00:00+08:00",
            "source": "casestream",
            "actor": "scanner",
            "payload": {
                "alert_id": alert_id,
                "clock_id": f"{case_id}/complaint.handling/0",
                "rule": "complaint.handling",
                "due_at": "2026-03-19T23:59:59+08:00",
                "scheduled_at": "2026-03-20T09:00:00+08:00",
                "department": "治安大队",
                "level": level,
                "notify": "bureau_leadership" if level == 3 else "handler",
            },
        }
    )


@pytest.fixture
def producer(kafka_bootstrap: str, topics: Topics) -> Iterator[EventProducer]:
    with EventProducer(kafka_bootstrap, topics) as found:
        yield found


def send(producer: EventProducer, topics: Topics, event: Event[Any]) -> float:
    """Produce like the scanner: key = case id, on alerts.events; the instant it was stored."""
    producer.send_raw(topics.alerts, event.case_id.encode(), event.to_json_bytes())
    return time.monotonic()


@pytest.fixture
def api_url(
    kafka_bootstrap: str, topics: Topics, producer: EventProducer, tmp_path: Path
) -> Iterator[str]:
    # an alert already on the topic before the API starts is history, not live
    send(producer, topics, alert_event("OLD-1", level=3))
    database = Database(f"sqlite:///{tmp_path / 'api.db'}", None)
    port = free_port()
    env = service_env(
        kafka_bootstrap, topics, database.env(), CASESTREAM_API_PORT=str(port), **auth_env()
    )
    server = Process(["api"], env, tmp_path / "api.log")
    url = f"http://127.0.0.1:{port}"

    try:
        wait_until_answers(url)
        yield url
    finally:
        server.stop()


def test_a_produced_alert_reaches_matching_stream_clients_within_a_second(
    api_url: str, producer: EventProducer, topics: Topics
) -> None:
    legal = auth_headers("legal")  # sees every department
    everyone = Listener(api_url, {}, legal)
    leaders = Listener(api_url, {"level": 3}, legal)
    police = Listener(api_url, {"department": "治安大队", "rule": "complaint.handling"}, legal)
    others = Listener(api_url, {"department": "交警大队"}, legal)
    listeners = [everyone, leaders, police, others]
    try:
        for listener in listeners:
            assert listener.connected.wait(10), "no ': connected' comment from /alerts/stream"

        warning = alert_event("LIVE-1", level=1, event_type="DeadlineApproaching")
        sent = send(producer, topics, warning)
        frame = everyone.next(timeout=5)
        assert frame.received_at - sent < 1.0, f"took {frame.received_at - sent:.2f}s"
        assert frame.fields["id"] == str(warning.event_id)
        assert frame.fields["event"] == "DeadlineApproaching"
        assert parse_event(frame.fields["data"]) == warning
        assert json.loads(frame.fields["data"])["payload"]["alert_id"] == str(warning.event_id)
        assert police.next(timeout=5).fields["id"] == str(warning.event_id)

        escalation = alert_event("LIVE-2", level=3)
        send(producer, topics, escalation)
        # the leaders' first frame is the escalation: the level-1 warning was filtered out,
        # and the alert on the topic before the API started was never sent
        assert leaders.next(timeout=5).fields["id"] == str(escalation.event_id)
        assert everyone.next(timeout=5).fields["id"] == str(escalation.event_id)
        assert police.next(timeout=5).fields["event"] == "Escalated"
        with pytest.raises(queue.Empty):
            others.next(timeout=0.5)
        for listener in listeners:
            assert listener.frames.empty()
    finally:
        for listener in listeners:
            listener.close()


def test_stream_filters_are_validated(api_url: str) -> None:
    legal = auth_headers("legal")
    assert (
        httpx.get(f"{api_url}/alerts/stream", params={"level": 9}, headers=legal).status_code == 422
    )
    bad = httpx.get(
        f"{api_url}/alerts/stream", params={"event_type": "ComplaintReceived"}, headers=legal
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "event_type"]
    metrics = httpx.get(f"{api_url}/metrics", headers=legal).text
    assert "casestream_alert_stream_clients" in metrics
    wait_for(
        lambda: (
            "casestream_alert_stream_clients 0.0"
            in httpx.get(f"{api_url}/metrics", headers=legal).text
        )
    )
