"""The notifier against real SQLite and PostgreSQL and a local HTTP receiver.

Time is injected: each test moves its own clock, so backoff instants are exact.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
import uuid
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from casestream.api.app import create_app
from casestream.domain.envelope import Event, parse_event
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.webhook_deliveries import DeliveryFilter, DeliveryStore
from casestream.settings import Settings
from casestream.stream_processors.notifier import WebhookNotifier
from casestream.stream_processors.webhooks import DeliveryPolicy, Webhook, WebhookConfig
from tests.auth import TEST_SECRET, auth_headers
from tests.conftest import Database
from tests.integration.webhook_receiver import Receiver, webhook_receiver

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

T0 = datetime.fromisoformat("2026-03-20T09:00:00+08:00")
SECRET = "s3cret-for-tests-0123456789"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def alert(
    event_type: str = "DeadlineApproaching",
    *,
    level: int = 1,
    department: str | None = "治安大队",
    clock_id: str = "C-1/complaint.handling/0",
    alert_id: str | None = None,
) -> Event[Any]:
    alert_id = alert_id or str(uuid.uuid4())
    payload: dict[str, Any] = {
        "alert_id": alert_id,
        "clock_id": clock_id,
        "rule": "complaint.handling",
        "due_at": "2026-03-23T23:59:59+08:00",
        "scheduled_at": T0.isoformat(),
        "department": department,
        "enterprise": False,
    }
    if event_type != "AlertCleared":
        payload["level"] = level
    return parse_event(
        {
            "event_id": alert_id,
            "event_type": event_type,
            "case_id": clock_id.split("/")[0],
            "case_kind": "complaint",
            "occurred_at": T0.isoformat(),
            "recorded_at": T0.isoformat(),
            "source": "casestream",
            "actor": "scanner",
            "payload": payload,
        }
    )


def webhook(receiver: Receiver, name: str, **fields: Any) -> Webhook:
    return Webhook.model_validate(
        {
            "id": name,
            "url": receiver.url(name),
            "secret": SECRET,
            "departments": ["治安大队"],
            **fields,
        }
    )


@pytest.fixture
def store(database: Database) -> Iterator[DeliveryStore]:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    yield DeliveryStore(engine)
    engine.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


def notifier_for(
    store: DeliveryStore, hooks: list[Webhook], clock: Clock, **policy: Any
) -> tuple[WebhookNotifier, CollectorRegistry]:
    registry = CollectorRegistry()
    config = WebhookConfig(webhook=tuple(hooks), delivery=DeliveryPolicy(**policy))
    return WebhookNotifier(store, config, registry, clock=clock), registry


def deliveries(store: DeliveryStore, **where: Any) -> list[sa.Row[Any]]:
    return store.find(DeliveryFilter(**where), limit=100)


async def test_an_alert_is_posted_signed_to_the_matching_webhooks_once_even_when_redelivered(
    store: DeliveryStore, receiver: Receiver
) -> None:
    hooks = [
        webhook(receiver, "zhian"),
        webhook(receiver, "leaders", departments=["*"], levels=[3]),
        webhook(receiver, "jiaojing", departments=["交警大队"]),
    ]
    notifier, registry = notifier_for(store, hooks, Clock())
    event = alert(level=1)
    await notifier.on_alert(event)
    await notifier.on_alert(event)  # Kafka redelivers
    assert await notifier.on_alerts([event, event]) == 0
    assert [(row.webhook_id, row.status) for row in deliveries(store)] == [("zhian", "pending")]

    assert await notifier.deliver_due(T0) == 1
    await notifier.wait_idle()
    assert await notifier.deliver_due(T0 + timedelta(hours=1)) == 0
    await notifier.on_alert(event)  # redelivered after it was delivered: still nothing new
    assert await notifier.deliver_due(T0 + timedelta(hours=2)) == 0
    await notifier.aclose()

    (received,) = receiver.received
    assert received.path == "/zhian"
    expected = "sha256=" + hmac.new(SECRET.encode(), received.body, hashlib.sha256).hexdigest()
    assert received.headers["X-Casestream-Signature"] == expected
    assert received.headers["X-Casestream-Delivery"] == str(event.event_id)
    assert received.headers["X-Casestream-Event"] == "DeadlineApproaching"
    assert received.headers["Content-Type"] == "application/json"
    assert parse_event(received.body) == event
    (row,) = deliveries(store)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, 200)
    assert row.delivered_at == T0
    sample = registry.get_sample_value
    assert (
        sample("casestream_webhook_deliveries_total", {"webhook": "zhian", "outcome": "delivered"})
        == 1
    )
    assert sample("casestream_webhook_deliveries_recorded_total", {"webhook": "zhian"}) == 1


async def test_a_failing_webhook_backs_off_while_another_is_delivered_on_time(
    store: DeliveryStore, receiver: Receiver
) -> None:
    receiver.statuses["broken"] = [500, 500, 200]
    clock = Clock()
    notifier, registry = notifier_for(
        store,
        [webhook(receiver, "ok", departments=["*"]), webhook(receiver, "broken")],
        clock,
        first_retry_seconds=1,
        max_attempts=5,
    )
    first = alert()
    await notifier.on_alert(first)

    async def tick(at: timedelta) -> int:
        started = await notifier.deliver_due(T0 + at)
        await notifier.wait_idle()
        return started

    assert await tick(timedelta(0)) == 2
    (ok,) = deliveries(store, webhook_id="ok")
    assert (ok.status, ok.delivered_at) == ("delivered", T0)
    (broken,) = deliveries(store, webhook_id="broken")
    assert (broken.status, broken.attempts, broken.last_status_code) == ("pending", 1, 500)
    assert broken.next_attempt_at == T0 + timedelta(seconds=1)
    assert "HTTP 500" in broken.last_error

    # a second alert reaches the healthy webhook at once, whatever the broken one does
    clock.now = T0 + timedelta(milliseconds=500)
    second = alert(clock_id="C-2/complaint.handling/0", department="交警大队")  # ok only
    await notifier.on_alert(second)
    assert await tick(timedelta(milliseconds=500)) == 1  # the broken one is not due yet
    assert [row.status for row in deliveries(store, webhook_id="ok")] == ["delivered"] * 2

    # the first alert to the broken webhook: retried 1 s, then 2 s, then 4 s after each failure
    assert await tick(timedelta(seconds=1)) == 1
    row = deliveries(store, webhook_id="broken", alert_id=first.payload.alert_id)[0]
    assert (row.attempts, row.next_attempt_at) == (2, T0 + timedelta(seconds=3))
    assert await tick(timedelta(seconds=2.9)) == 0
    assert await tick(timedelta(seconds=3)) == 1
    row = deliveries(store, webhook_id="broken", alert_id=first.payload.alert_id)[0]
    assert (row.attempts, row.status, row.next_attempt_at) == (
        3,
        "delivered",
        T0 + timedelta(seconds=3),
    )
    await notifier.aclose()

    sample = registry.get_sample_value
    assert (
        sample("casestream_webhook_deliveries_total", {"webhook": "ok", "outcome": "delivered"})
        == 2
    )
    assert (
        sample("casestream_webhook_deliveries_total", {"webhook": "broken", "outcome": "retry"})
        == 2
    )
    assert [item.headers["X-Casestream-Delivery"] for item in receiver.on("ok")] == [
        first.payload.alert_id,
        second.payload.alert_id,
    ]


async def test_a_webhook_that_keeps_failing_is_given_up_after_max_attempts(
    store: DeliveryStore, receiver: Receiver
) -> None:
    receiver.statuses["down"] = [502]
    notifier, registry = notifier_for(
        store, [webhook(receiver, "down")], Clock(), first_retry_seconds=1, max_attempts=3
    )
    await notifier.on_alert(alert())
    for seconds in (0, 1, 3, 7, 15):
        await notifier.deliver_due(T0 + timedelta(seconds=seconds))
        await notifier.wait_idle()
    await notifier.aclose()
    (row,) = deliveries(store)
    assert (row.status, row.attempts, row.last_status_code) == ("failed", 3, 502)
    assert len(receiver.on("down")) == 3
    sample = registry.get_sample_value
    assert (
        sample("casestream_webhook_deliveries_total", {"webhook": "down", "outcome": "failed"}) == 1
    )


async def test_a_hanging_webhook_never_delays_the_others(
    store: DeliveryStore, receiver: Receiver
) -> None:
    receiver.delays["slow"] = 3.0
    notifier, _ = notifier_for(
        store,
        [webhook(receiver, "slow"), webhook(receiver, "fast")],
        Clock(),
        timeout_seconds=1,
    )
    await notifier.on_alert(alert())
    started = time.monotonic()
    assert await notifier.deliver_due(T0) == 2
    assert time.monotonic() - started < 0.5  # the call does not wait for the POSTs

    deadline = time.monotonic() + 0.8
    while not receiver.on("fast") and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert receiver.on("fast"), "the fast webhook waited for the hanging one"
    assert await notifier.deliver_due(T0 + timedelta(milliseconds=100)) == 0  # slow still in flight
    await notifier.wait_idle()
    await notifier.aclose()
    slow = deliveries(store, webhook_id="slow")[0]
    assert (slow.status, slow.attempts, slow.last_error) == ("pending", 1, "no answer within 1 s")
    assert deliveries(store, webhook_id="fast")[0].status == "delivered"


async def test_two_notifiers_on_one_database_post_each_delivery_once(
    store: DeliveryStore, receiver: Receiver
) -> None:
    hooks = [webhook(receiver, "zhian"), webhook(receiver, "leaders", departments=["*"])]
    first, _ = notifier_for(store, hooks, Clock(), max_in_flight_per_webhook=20)
    second, _ = notifier_for(store, hooks, Clock(), max_in_flight_per_webhook=20)
    events = [alert() for _ in range(12)]
    # both replicas see the alerts (e.g. during a rebalance) and claim at the same instant
    await asyncio.gather(first.on_alerts(events), second.on_alerts(events))
    started = await asyncio.gather(first.deliver_due(T0), second.deliver_due(T0))
    await asyncio.gather(first.wait_idle(), second.wait_idle())
    await asyncio.gather(first.aclose(), second.aclose())
    assert sum(started) == 24
    keys = [(item.path, item.headers["X-Casestream-Delivery"]) for item in receiver.received]
    assert len(keys) == len(set(keys)) == 24
    assert {row.status for row in deliveries(store)} == {"delivered"}


async def test_a_clearing_goes_only_to_the_webhooks_that_were_told_of_the_clock(
    store: DeliveryStore, receiver: Receiver
) -> None:
    hooks = [
        webhook(receiver, "zhian"),
        webhook(receiver, "leaders", departments=["*"], levels=[3]),
    ]
    notifier, _ = notifier_for(store, hooks, Clock())
    warning = alert(level=1)
    cleared = alert("AlertCleared")
    other_clock_cleared = alert("AlertCleared", clock_id="C-9/complaint.handling/0")
    assert await notifier.on_alerts([warning, cleared, other_clock_cleared]) == 2
    assert sorted((row.webhook_id, row.event_type) for row in deliveries(store)) == [
        ("zhian", "AlertCleared"),
        ("zhian", "DeadlineApproaching"),
    ]
    await notifier.aclose()


async def test_no_webhooks_configured_records_nothing(store: DeliveryStore) -> None:
    notifier, _ = notifier_for(store, [], Clock())
    await notifier.on_alert(alert())
    assert await notifier.deliver_due(T0) == 0
    assert deliveries(store) == []
    await notifier.aclose()


async def test_the_api_lists_deliveries_by_alert_webhook_and_status(
    database: Database, store: DeliveryStore, receiver: Receiver
) -> None:
    receiver.statuses["broken"] = [500]
    notifier, _ = notifier_for(
        store, [webhook(receiver, "ok"), webhook(receiver, "broken")], Clock()
    )
    event = alert()
    await notifier.on_alert(event)
    await notifier.deliver_due(T0)
    await notifier.aclose()
    settings = Settings(
        database_url=database.url,
        database_schema=database.schema,
        kafka_bootstrap=None,
        auth_secret=TEST_SECRET,
    )
    with TestClient(create_app(settings), headers=auth_headers("supervisor")) as api:
        listed = api.get("/webhooks/deliveries", params={"alert_id": event.payload.alert_id})
        assert sorted(item["webhook_id"] for item in listed.json()) == ["broken", "ok"]
        (failed,) = api.get("/webhooks/deliveries", params={"status": "pending"}).json()
        assert failed["webhook_id"] == "broken" and failed["last_status_code"] == 500
        assert failed["attempts"] == 1 and failed["next_attempt_at"] is not None
        (done,) = api.get("/webhooks/deliveries", params={"webhook": "ok"}).json()
        assert done["status"] == "delivered" and done["next_attempt_at"] is None
        assert "body" not in done
        assert api.get("/webhooks/deliveries", params={"status": "lost"}).status_code == 422
