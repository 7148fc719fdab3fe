"""An overdue complaint from the outside: posted through the API with a back-dated acceptance,
it breaches at once; the breach reaches the alert stream, the department's webhook (signed),
its 企业微信 group robot and its mailbox (a local SMTP server), and the overdue list; resolving
the complaint clears it everywhere."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from casestream.producers.topics import Topics
from tests.auth import auth_env, auth_headers
from tests.conftest import Database
from tests.integration.test_notification_channels import OK
from tests.integration.webhook_receiver import Receiver, webhook_receiver
from tests.mail_server import SMTP_LOGIN, Mailbox, local_smtp_server
from tests.processes import Process, free_port, service_env, wait_for, wait_until_answers
from tests.sse import Frame, Listener

pytestmark = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning"  # the local server, on purpose
)
SECRET = "e2e-webhook-secret-0123456789"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    with local_smtp_server() as found:
        yield found


def _frames_until(listener: Listener, event_type: str, timeout: float = 30) -> list[Frame]:
    frames: list[Frame] = []
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while not frames or frames[-1].fields["event"] != event_type:
        remaining = (deadline - datetime.now(UTC)).total_seconds()
        assert remaining > 0, (
            f"no {event_type} on the stream; got {[f.fields['event'] for f in frames]}"
        )
        frames.append(listener.next(remaining))
    return frames


def test_an_overdue_complaint_alerts_the_stream_the_webhook_and_the_overdue_list_until_resolved(
    kafka_bootstrap: str,
    topics: Topics,
    tmp_path: Path,
    receiver: Receiver,
    smtp_server: tuple[Mailbox, int],
) -> None:
    mailbox = smtp_server[0]
    password = tmp_path / "smtp-password"
    password.write_text(SMTP_LOGIN[1])
    receiver.answers = {"robot": [OK]}
    breaches = 'departments = ["交警大队"]\nevent_types = ["DeadlineBreached"]\n'
    hooks = tmp_path / "webhooks.toml"
    hooks.write_text(
        f'[[webhook]]\nid = "jiaojing"\nurl = "{receiver.url("jiaojing")}"\nsecret = "{SECRET}"\n'
        'departments = ["交警大队"]\nevent_types = ["DeadlineBreached", "AlertCleared"]\n'
        f'[[webhook]]\nid = "jiaojing-robot"\ntype = "wecom"\nkey = "e2e-robot-key"\n'
        f'url = "{receiver.url("robot")}"\n{breaches}'
        f'[[webhook]]\nid = "jiaojing-mail"\ntype = "email"\nhost = "127.0.0.1"\n'
        f'port = {smtp_server[1]}\nsecurity = "plain"\nusername = "{SMTP_LOGIN[0]}"\n'
        f'password_file = "{password}"\nsender = "casestream@example.gov.cn"\n'
        f'to = ["jiaojing@example.gov.cn"]\n{breaches}'
    )
    database = Database(f"sqlite:///{tmp_path / 'overdue.db'}", None)
    port = free_port()
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_API_PORT=str(port),
        CASESTREAM_WEBHOOKS_FILE=str(hooks),
        CASESTREAM_SCANNER_INTERVAL_SECONDS="0.2",
        CASESTREAM_CONSISTENCY_WAIT_SECONDS="30",
        **auth_env(),
    )
    worker = Process(["worker"], env, tmp_path / "worker.log")
    server = Process(["api"], env, tmp_path / "api.log")
    system = auth_headers("system")  # posts the events and reads every department
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, headers=system)
    listener: Listener | None = None
    try:
        wait_until_answers(api.base_url)
        # the department head of 交警大队 is alerted to its own department's cases
        listener = Listener(
            f"http://127.0.0.1:{port}", {}, auth_headers("department_head", "交警大队")
        )
        assert listener.connected.wait(10)

        accepted_at = datetime.now(UTC) - timedelta(days=30)
        for body in (
            {
                "event_type": "ComplaintReceived",
                "case_id": "OD-1",
                "case_kind": "complaint",
                "occurred_at": (accepted_at - timedelta(hours=2)).isoformat(),
                "payload": {"channel": "online", "subject": "违停处罚"},
            },
            {
                "event_type": "ComplaintAccepted",
                "case_id": "OD-1",
                "case_kind": "complaint",
                "occurred_at": accepted_at.isoformat(),
                "payload": {"department": "交警大队"},
            },
        ):
            assert api.post("/events", json=body).status_code == 202

        frames = _frames_until(listener, "DeadlineBreached")
        breach = json.loads(frames[-1].fields["data"])
        assert (breach["case_id"], breach["payload"]["rule"]) == ("OD-1", "complaint.handling")
        assert frames[-1].fields["id"] == breach["payload"]["alert_id"]

        posted = wait_for(lambda: receiver.on("jiaojing"), timeout=30)[0]
        signature = "sha256=" + hmac.new(SECRET.encode(), posted.body, hashlib.sha256).hexdigest()
        assert posted.headers["X-Casestream-Signature"] == signature
        assert json.loads(posted.body)["event_type"] == "DeadlineBreached"

        robot = wait_for(lambda: receiver.on("robot"), timeout=30)[0]
        assert robot.query == "key=e2e-robot-key"
        assert json.loads(robot.body)["markdown"]["content"].startswith("### 【已超期】投诉 OD-1")
        mail = wait_for(mailbox.messages, timeout=30)[0]
        assert mail["Subject"] == "【已超期】投诉 OD-1" and mail["To"] == "jiaojing@example.gov.cn"
        assert "部门：交警大队" in mail.get_content()

        overdue = wait_for(lambda: api.get("/cases/overdue").json()["items"], timeout=30)
        assert [item["case_id"] for item in overdue] == ["OD-1"]

        def open_alert_types() -> set[str]:
            params = {"status": "open", "rule": "complaint.handling"}
            items = api.get("/alerts", params=params).json()["items"]
            assert {(a["case_id"], a["rule"]) for a in items} <= {("OD-1", "complaint.handling")}
            return {a["event_type"] for a in items}

        wait_for(
            lambda: open_alert_types() >= {"DeadlineApproaching", "DeadlineBreached", "Escalated"},
            timeout=30,
        )

        resolved = api.post(
            "/events",
            json={
                "event_type": "ComplaintResolved",
                "case_id": "OD-1",
                "case_kind": "complaint",
                "payload": {"outcome": "substantiated"},
            },
        )
        assert resolved.status_code == 202
        _frames_until(listener, "AlertCleared")
        wait_for(
            lambda: [
                r
                for r in receiver.on("jiaojing")
                if json.loads(r.body)["event_type"] == "AlertCleared"
            ],
            timeout=30,
        )
        wait_for(
            lambda: (
                not api.get(
                    "/alerts", params={"status": "open", "rule": "complaint.handling"}
                ).json()["items"]
            ),
            timeout=30,
        )
        assert api.get("/cases/overdue").json()["items"] == []
        clocks = api.get("/cases/OD-1/clocks").json()
        assert {c["rule"]: c["status"] for c in clocks}[
            "complaint.handling"
        ] == "breached"  # stopped late
        assert len(receiver.on("jiaojing")) == 2  # one breach, one clearing: nothing twice
        assert len(receiver.on("robot")) == 1 and len(mailbox.messages()) == 1
    finally:
        if listener is not None:
            listener.close()
        api.close()
        server.stop()
        worker.stop()
