"""督察 from the outside: a poor 回访 posted raw by the 12345 platform (role system) reaches the
supervisors as one SupervisionRequested alert on GET /alerts, the live stream and their
webhook, even when the follow-up is delivered twice; a handler of another department does not
see it; the supervisor's close_supervision clears it everywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from casestream.domain.envelope import parse_event
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from tests.auth import auth_env, auth_headers
from tests.conftest import Database
from tests.integration.webhook_receiver import Receiver, webhook_receiver
from tests.processes import Process, free_port, service_env, wait_for, wait_until_answers
from tests.sse import Frame, Listener

CASE = "SUP-E2E-1"
DEPARTMENT = "治安大队"
SUPERVISION = {"rule": "complaint.supervision"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


def _frame(listener: Listener, event_type: str, timeout: float = 60) -> Frame:
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while True:
        remaining = (deadline - datetime.now(UTC)).total_seconds()
        assert remaining > 0, f"no {event_type} on the stream"
        frame = listener.next(remaining)
        if frame.fields["event"] == event_type:
            return frame


def _posted(receiver: Receiver, event_type: str) -> list[dict[str, Any]]:
    bodies = [json.loads(item.body) for item in receiver.on("ducha")]
    return [body for body in bodies if body["event_type"] == event_type]


def test_a_poor_follow_up_from_12345_alerts_the_supervisors_until_they_close_it(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path, receiver: Receiver
) -> None:
    hooks = tmp_path / "webhooks.toml"
    hooks.write_text(
        f'[[webhook]]\nid = "ducha"\nurl = "{receiver.url("ducha")}"\n'
        'secret = "supervision-webhook-secret"\ndepartments = ["*"]\nlevels = [3]\n'
        'event_types = ["SupervisionRequested", "AlertCleared"]\n'
    )
    database = Database(f"sqlite:///{tmp_path / 'supervision.db'}", None)
    port = free_port()
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_API_PORT=str(port),
        CASESTREAM_WEBHOOKS_FILE=str(hooks),
        CASESTREAM_SCANNER_ENABLED="false",  # only the supervision's alerts on the topic
        CASESTREAM_CONSISTENCY_WAIT_SECONDS="30",
        **auth_env(),
    )
    worker = Process(["worker"], env, tmp_path / "worker.log")
    server = Process(["api"], env, tmp_path / "api.log")
    base = f"http://127.0.0.1:{port}"
    platform = httpx.Client(base_url=base, timeout=40, headers=auth_headers("system"))
    supervisor = httpx.Client(base_url=base, timeout=40, headers=auth_headers("supervisor"))
    other_handler = httpx.Client(
        base_url=base, timeout=40, headers=auth_headers("handler", "交警大队")
    )
    own_handler = httpx.Client(
        base_url=base, timeout=40, headers=auth_headers("handler", DEPARTMENT)
    )
    listener: Listener | None = None
    try:
        wait_until_answers(base, "/readyz", timeout=90, interval=0.3)
        listener = Listener(base, SUPERVISION, auth_headers("supervisor"))
        assert listener.connected.wait(10)

        start = datetime.now(UTC) - timedelta(days=10)
        steps = [
            ("ComplaintReceived", {"channel": "hotline_12345", "subject": "出警慢"}),
            ("ComplaintAccepted", {"department": DEPARTMENT}),
            ("ComplaintResolved", {"outcome": "explained"}),
            ("ComplaintFollowUpVisited", {"satisfaction": 1, "comment": "不满意"}),
        ]
        follow_up: dict[str, Any] = {}
        for day, (event_type, payload) in enumerate(steps):
            body = {
                "event_type": event_type,
                "case_id": CASE,
                "case_kind": "complaint",
                "occurred_at": (start + timedelta(days=day)).isoformat(),
                "payload": payload,
            }
            answer = platform.post("/events", json=body)
            assert answer.status_code == 202, answer.text
            token = answer.json()["consistency_token"]
            seen = platform.get(f"/cases/{CASE}", params={"consistency_token": token})
            assert seen.status_code == 200, seen.text
            follow_up = {**body, "event_id": answer.json()["event_id"]}
        # the 12345 platform's follow-up delivered a second time, straight onto the topic
        last = platform.get(f"/cases/{CASE}/events").json()[-1]
        assert last["event_id"] == follow_up["event_id"]
        with EventProducer(kafka_bootstrap, topics) as producer:
            producer.send_many([parse_event(last["event"])])

        requested = json.loads(_frame(listener, "SupervisionRequested").fields["data"])
        assert requested["case_id"] == CASE
        assert requested["payload"]["notify"] == "supervisor"
        assert "satisfaction" not in json.dumps(requested["payload"])

        def supervision_alerts(client: httpx.Client, **params: str) -> list[dict[str, Any]]:
            answer = client.get("/alerts", params={**SUPERVISION, **params})
            assert answer.status_code == 200, answer.text
            items: list[dict[str, Any]] = answer.json()["items"]
            return items

        (alert,) = wait_for(lambda: supervision_alerts(supervisor, status="open"), timeout=60)
        assert (alert["case_id"], alert["event_type"], alert["notify"], alert["level"]) == (
            CASE,
            "SupervisionRequested",
            "supervisor",
            3,
        )
        assert alert["department"] == DEPARTMENT
        # department scope as for every alert: the complaint's own department sees it
        assert [a["alert_id"] for a in supervision_alerts(own_handler)] == [alert["alert_id"]]
        assert supervision_alerts(other_handler) == []
        (posted,) = wait_for(lambda: _posted(receiver, "SupervisionRequested"), timeout=60)
        assert posted["payload"]["alert_id"] == alert["alert_id"]

        closed = supervisor.post(
            f"/cases/{CASE}/commands/close_supervision", json={"conclusion": "已约谈承办人"}
        )
        assert closed.status_code in (200, 202), closed.text

        cleared = json.loads(_frame(listener, "AlertCleared").fields["data"])
        assert cleared["payload"]["clock_id"] == alert["clock_id"]
        wait_for(lambda: not supervision_alerts(supervisor, status="open"), timeout=60)
        history = supervision_alerts(supervisor)
        assert sorted((a["event_type"], a["status"]) for a in history) == [
            ("AlertCleared", "cleared"),
            ("SupervisionRequested", "cleared"),
        ]
        wait_for(lambda: _posted(receiver, "AlertCleared"), timeout=60)
        # one alert and one clearing, however often the follow-up came
        assert len(_posted(receiver, "SupervisionRequested")) == 1
    finally:
        if listener is not None:
            listener.close()
        for client in (platform, supervisor, other_handler, own_handler):
            client.close()
        server.stop()
        worker.stop()
