"""Notifications to people against real SQLite and PostgreSQL: an e-mail received by a local
SMTP server, 企业微信 and 钉钉 robot posts recorded by a local HTTP receiver, a failing or
hanging channel retried while another delivers, and the daily digest sent once on a working
day. Time is passed in (`now`), never slept through."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from casestream.domain.calendar import package_calendar
from casestream.domain.notifications import Wording
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.digest_queries import DigestQueries
from casestream.read_models.schema import cases, clocks
from casestream.read_models.webhook_deliveries import DeliveryFilter, DeliveryStore
from casestream.stream_processors.digests import DailyDigests
from casestream.stream_processors.notifier import WebhookNotifier
from casestream.stream_processors.webhooks import DeliveryPolicy, WebhookConfig
from tests.conftest import Database
from tests.integration.test_webhook_notifier import T0, Clock, alert
from tests.integration.webhook_receiver import Receiver, webhook_receiver
from tests.mail_server import SMTP_LOGIN, Mailbox, local_smtp_server

pytestmark = pytest.mark.filterwarnings(
    "ignore:Requiring AUTH while not requiring TLS:UserWarning"  # the local server, on purpose
)
WORDING = Wording("Asia/Shanghai", {"complaint.handling": "投诉办理"}, "https://cs.example.gov.cn")
OK = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
WECOM_KEY = "wecom-key-0123"
DING_TOKEN = "ding-token-0123"
DING_SECRET = "SECding-secret-0123"


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    """A mail server on this machine that takes mail only from the notifier's account."""
    with local_smtp_server() as found:
        yield found


@pytest.fixture
def mailbox(smtp_server: tuple[Mailbox, int]) -> Iterator[Mailbox]:
    smtp_server[0].envelopes.clear()
    yield smtp_server[0]
    smtp_server[0].delay = 0.0


@pytest.fixture
def engine(database: Database) -> Iterator[sa.Engine]:
    found = create_engine(database.url, database.schema)
    migrate(found)
    yield found
    found.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


def channels(receiver: Receiver, smtp_port: int, **overrides: dict[str, Any]) -> tuple[Any, ...]:
    entries: dict[str, dict[str, Any]] = {
        "wecom": {
            "type": "wecom",
            "key": WECOM_KEY,
            "url": receiver.url("wecom"),
            "departments": ["治安大队"],
            "digest": True,
        },
        "dingtalk": {
            "type": "dingtalk",
            "access_token": DING_TOKEN,
            "secret": DING_SECRET,
            "url": receiver.url("dingtalk"),
            "departments": ["*"],
            "levels": [2, 3],
        },
        "mail": {
            "type": "email",
            "host": "127.0.0.1",
            "port": smtp_port,
            "security": "plain",
            "username": SMTP_LOGIN[0],
            "password": SMTP_LOGIN[1],
            "sender": "casestream@example.gov.cn",
            "to": ["zhian@example.gov.cn", "leader@example.gov.cn"],
            "departments": ["*"],
            "digest": True,
        },
    }
    return tuple(
        {"id": name, **entry, **overrides.get(name, {})} for name, entry in entries.items()
    )


def notifier_for(engine: sa.Engine, entries: tuple[Any, ...], **policy: Any) -> WebhookNotifier:
    config = WebhookConfig.model_validate(
        {"webhook": list(entries), "delivery": DeliveryPolicy(**policy).model_dump()}
    )
    return WebhookNotifier(
        DeliveryStore(engine), config, CollectorRegistry(), clock=Clock(), wording=WORDING
    )


def rows(engine: sa.Engine, **where: Any) -> list[sa.Row[Any]]:
    return DeliveryStore(engine).find(DeliveryFilter(**where), limit=100)


async def tick(notifier: WebhookNotifier, at: datetime) -> int:
    started = await notifier.deliver_due(at)
    await notifier.wait_idle()
    return started


async def test_a_breached_clock_is_mailed_and_posted_to_the_robots_in_their_formats(
    engine: sa.Engine, receiver: Receiver, mailbox: Mailbox, smtp_server: tuple[Mailbox, int]
) -> None:
    receiver.answers = {"wecom": [OK], "dingtalk": [OK]}
    notifier = notifier_for(engine, channels(receiver, smtp_server[1]))
    breach = alert("DeadlineBreached", level=2)
    assert await notifier.on_alerts([breach, breach]) == 3
    assert await tick(notifier, T0) == 3
    await notifier.aclose()
    assert {row.status for row in rows(engine)} == {"delivered"}

    (mail,) = mailbox.messages()
    assert mail["Subject"] == "【已超期】投诉 C-1"
    assert mail["To"] == "zhian@example.gov.cn, leader@example.gov.cn"
    text = mail.get_content()
    assert "事项：投诉办理" in text and "级别：二级（部门负责人）" in text
    assert "到期时间：2026-03-23 23:59（周一）" in text and "部门：治安大队" in text
    assert "查看案件：https://cs.example.gov.cn/console/cases/C-1" in text
    assert sorted(mailbox.envelopes[0].rcpt_tos) == [
        "leader@example.gov.cn",
        "zhian@example.gov.cn",
    ]

    (wecom,) = receiver.on("wecom")
    assert urllib.parse.parse_qs(wecom.query) == {"key": [WECOM_KEY]}
    body = json.loads(wecom.body)
    assert set(body) == {"msgtype", "markdown"} and body["msgtype"] == "markdown"
    assert set(body["markdown"]) == {"content"}
    assert body["markdown"]["content"].startswith("### 【已超期】投诉 C-1")

    (ding,) = receiver.on("dingtalk")
    query = urllib.parse.parse_qs(ding.query)
    assert set(query) == {"access_token", "timestamp", "sign"}
    assert query["access_token"] == [DING_TOKEN]
    timestamp = query["timestamp"][0]
    expected = base64.b64encode(
        hmac.new(
            DING_SECRET.encode(), f"{timestamp}\n{DING_SECRET}".encode(), hashlib.sha256
        ).digest()
    ).decode()
    assert query["sign"] == [expected]
    assert abs(int(timestamp) - time.time() * 1000) < 60_000
    body = json.loads(ding.body)
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
    assert body["markdown"]["title"] == "【已超期】投诉 C-1"
    assert "到期时间：2026-03-23 23:59（周一）" in body["markdown"]["text"]


async def test_a_failing_robot_is_retried_and_a_hanging_one_waits_while_e_mail_is_delivered(
    engine: sa.Engine, receiver: Receiver, mailbox: Mailbox, smtp_server: tuple[Mailbox, int]
) -> None:
    refused = json.dumps({"errcode": 93000, "errmsg": "invalid webhook url"}).encode()
    receiver.answers = {"wecom": [refused, OK], "dingtalk": [OK]}
    receiver.delays["dingtalk"] = 3.0
    notifier = notifier_for(
        engine, channels(receiver, smtp_server[1]), timeout_seconds=1, first_retry_seconds=1
    )
    await notifier.on_alert(alert("DeadlineBreached", level=2))
    assert await notifier.deliver_due(T0) == 3  # returns at once: each attempt is a task
    while not mailbox.envelopes and not rows(engine, webhook_id="dingtalk")[0].attempts:
        await asyncio.sleep(0.02)
    assert mailbox.envelopes, "the e-mail waited for the hanging robot"
    assert rows(engine, webhook_id="dingtalk")[0].attempts == 0  # still hanging meanwhile
    await notifier.wait_idle()

    (wecom,) = rows(engine, webhook_id="wecom")
    assert (wecom.status, wecom.attempts, wecom.last_status_code) == ("pending", 1, 200)
    assert wecom.last_error == "errcode 93000: invalid webhook url"
    assert wecom.next_attempt_at == T0 + timedelta(seconds=1)
    (ding,) = rows(engine, webhook_id="dingtalk")
    assert (ding.status, ding.last_error) == ("pending", "no answer within 1 s")
    assert DING_TOKEN not in ding.last_error and DING_SECRET not in ding.last_error
    assert rows(engine, webhook_id="mail")[0].status == "delivered"

    receiver.delays["dingtalk"] = 0.0
    assert await tick(notifier, T0 + timedelta(seconds=1)) == 2  # both retried after 1 s
    assert rows(engine, webhook_id="wecom")[0].status == "delivered"
    assert rows(engine, webhook_id="dingtalk")[0].status == "delivered"
    await notifier.aclose()
    assert len(mailbox.envelopes) == 1


# --- the daily digest ------------------------------------------------------------------------

FRIDAY = datetime.fromisoformat("2026-03-20T08:30:00+08:00")


def clock(case_id: str, due_at: str, department: str, status: str = "running") -> dict[str, Any]:
    due = datetime.fromisoformat(due_at)
    return {
        "clock_id": f"{case_id}/complaint.handling/0",
        "case_id": case_id,
        "case_kind": "complaint",
        "rule_id": "complaint.handling",
        "status": status,
        "started_at": due - timedelta(days=20),
        "due_date": due.date(),
        "due_at": due,
        "provisional": False,
        "department": department,
        "enterprise": False,
        "next_alert_at": None,
        "detail": {"pauses": [], "extension": 0},
    }


def rectification(case_id: str, status: str, department: str) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "case_kind": "rectification",
        "status": status,
        "version": 3,
        "received_at": FRIDAY - timedelta(days=10),
        "last_occurred_at": FRIDAY - timedelta(days=1),
        "department": department,
        "enterprise": False,
        "paused": False,
        "anomaly_count": 0,
        "state": {"responsible_person": "张三"},
    }


@pytest.fixture
def read_models(engine: sa.Engine) -> sa.Engine:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(clocks),
            [
                clock("C-LATE", "2026-03-18T23:59:59+08:00", "治安大队", "breached"),
                clock("C-SOON", "2026-03-25T23:59:59+08:00", "治安大队"),  # Wed: 3rd working day
                clock("C-LATER", "2026-03-26T23:59:59+08:00", "治安大队"),  # Thu: not yet
                clock("C-MET", "2026-03-19T23:59:59+08:00", "治安大队", "met"),
                clock("C-JJ", "2026-03-23T23:59:59+08:00", "交警大队"),
            ],
        )
        conn.execute(
            sa.insert(cases),
            [
                rectification("R-DONE", "completed", "治安大队"),
                rectification("R-WORK", "in_progress", "治安大队"),
            ],
        )
    return engine


def digests_for(notifier: WebhookNotifier, engine: sa.Engine) -> DailyDigests:
    return DailyDigests(DigestQueries(engine), notifier, package_calendar())


async def test_the_digest_is_sent_once_on_a_working_day_at_its_time_and_not_on_rest_days(
    read_models: sa.Engine, receiver: Receiver, mailbox: Mailbox, smtp_server: tuple[Mailbox, int]
) -> None:
    receiver.answers = {"wecom": [OK]}
    entries = channels(receiver, smtp_server[1])
    notifier = notifier_for(read_models, entries)
    digests = digests_for(notifier, read_models)
    assert await digests.record_due(FRIDAY - timedelta(minutes=1)) == 0
    # 治安大队 to its robot and the bureau's mailbox; 交警大队 to the mailbox only
    assert await digests.record_due(FRIDAY) == 3
    assert await digests.record_due(FRIDAY + timedelta(minutes=1)) == 0
    # a restarted worker and a second one, at once: nothing new
    again = await asyncio.gather(
        digests_for(notifier_for(read_models, entries), read_models).record_due(
            FRIDAY + timedelta(hours=1)
        ),
        digests_for(notifier_for(read_models, entries), read_models).record_due(
            FRIDAY + timedelta(hours=1)
        ),
    )
    assert again == [0, 0]
    assert await tick(notifier, FRIDAY) == 3
    assert await tick(notifier, FRIDAY + timedelta(hours=2)) == 0
    await notifier.aclose()

    (robot,) = receiver.on("wecom")
    content = json.loads(robot.body)["markdown"]["content"]
    assert content.startswith("### 【每日待办】治安大队 2026-03-20（周五）")
    assert "**已超期 1 件**" in content and "C-LATE" in content
    assert "**2026-03-25（周三）前到期 1 件**" in content and "C-SOON" in content
    assert "C-LATER" not in content and "C-MET" not in content and "C-JJ" not in content
    assert "**整改待核验 1 件**" in content and "R-DONE" in content and "R-WORK" not in content
    assert "(https://cs.example.gov.cn/console/cases/C-LATE)" in content
    subjects = sorted(message["Subject"] for message in mailbox.messages())
    assert subjects == [
        "【每日待办】交警大队 2026-03-20（周五）",
        "【每日待办】治安大队 2026-03-20（周五）",
    ]

    later = digests_for(notifier_for(read_models, entries), read_models)
    assert await later.record_due(datetime.fromisoformat("2026-03-21T09:00:00+08:00")) == 0  # Sat
    assert await later.record_due(datetime.fromisoformat("2026-10-01T09:00:00+08:00")) == 0  # 国庆
    assert await later.record_due(datetime.fromisoformat("2026-03-23T00:30:00+00:00")) == 3  # Mon
    assert len({row.alert_id for row in rows(read_models, status="pending")}) == 2
