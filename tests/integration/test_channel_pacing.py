"""Pacing of rate-limited robots against real SQLite and PostgreSQL and the local HTTP
receiver: a burst to one 企业微信 robot goes out at 20 a minute while a signed webhook takes
it all at once, two workers share the limit, and a robot's "over the limit" answer waits
without using an attempt, up to its grace. The clock is driven, never slept through."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from casestream.read_models.database import create_engine, migrate
from casestream.read_models.webhook_deliveries import DeliveryFilter, DeliveryStore
from casestream.stream_processors.notifier import WebhookNotifier
from casestream.stream_processors.webhooks import DeliveryPolicy, WebhookConfig
from tests.conftest import Database
from tests.integration.test_webhook_notifier import SECRET, T0, Clock, alert
from tests.integration.webhook_receiver import Receiver, webhook_receiver

OK = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
OVER_LIMIT = json.dumps({"errcode": 45009, "errmsg": "api freq out of limit"}).encode()


@pytest.fixture
def store(database: Database) -> Iterator[DeliveryStore]:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    yield DeliveryStore(engine)
    engine.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        found.answers = {"wecom": [OK]}
        yield found


def notifier_for(
    store: DeliveryStore,
    receiver: Receiver,
    registry: CollectorRegistry | None = None,
    **policy: Any,
) -> WebhookNotifier:
    entries = [
        {"id": "wecom", "type": "wecom", "key": "k-0123", "url": receiver.url("wecom")},
        {"id": "hook", "url": receiver.url("hook"), "secret": SECRET},
    ]
    config = WebhookConfig.model_validate(
        {
            "webhook": [{**entry, "departments": ["*"]} for entry in entries],
            "delivery": DeliveryPolicy(**policy).model_dump(),
        }
    )
    return WebhookNotifier(store, config, registry or CollectorRegistry(), clock=Clock())


def rows(store: DeliveryStore, **where: Any) -> list[sa.Row[Any]]:
    return store.find(DeliveryFilter(**where), limit=100)


async def tick(notifier: WebhookNotifier, at: datetime) -> int:
    started = await notifier.deliver_due(at)
    await notifier.wait_idle()
    return started


def burst(count: int) -> list[Any]:
    return [alert("DeadlineBreached", clock_id=f"C-{n}/complaint.handling/0") for n in range(count)]


async def test_thirty_alerts_reach_a_wecom_robot_at_twenty_a_minute_and_a_webhook_at_once(
    store: DeliveryStore, receiver: Receiver
) -> None:
    notifier = notifier_for(store, receiver, max_in_flight_per_webhook=10)
    assert await notifier.on_alerts(burst(30)) == 60
    assert await tick(notifier, T0) == 10 + 10  # max_in_flight_per_webhook each, no more
    for second in range(0, 60, 5):  # the worker's timer, through the first minute
        while await tick(notifier, T0 + timedelta(seconds=second)):
            pass
    assert len(receiver.on("hook")) == 30
    assert {row.delivered_at for row in rows(store, webhook_id="hook")} == {T0}
    assert len(receiver.on("wecom")) == 20
    waiting = rows(store, webhook_id="wecom", status="pending")
    assert len(waiting) == 10 and {row.attempts for row in waiting} == {0}

    assert await tick(notifier, T0 + timedelta(seconds=60)) == 10
    await notifier.aclose()
    robot = rows(store, webhook_id="wecom")
    assert {(row.status, row.attempts) for row in robot} == {("delivered", 1)}
    assert len(receiver.on("wecom")) == 30
    sent = sorted(row.delivered_at for row in robot)
    for start in sent:
        assert sum(1 for other in sent if start <= other < start + timedelta(minutes=1)) <= 20


async def test_two_workers_share_one_robots_limit(store: DeliveryStore, receiver: Receiver) -> None:
    workers = [notifier_for(store, receiver, max_in_flight_per_webhook=15) for _ in range(2)]
    await workers[0].on_alerts(burst(30))
    started = await asyncio.gather(*(worker.deliver_due(T0) for worker in workers))
    assert sum(started) == 20 + 30  # the robot's 20 between them, the webhook's 30
    for worker in workers:
        await worker.wait_idle()
        assert await tick(worker, T0 + timedelta(seconds=30)) == 0
    assert len(receiver.on("wecom")) == 20
    assert await tick(workers[1], T0 + timedelta(seconds=60)) == 10
    for worker in workers:
        await worker.aclose()
    assert {row.status for row in rows(store)} == {"delivered"}


async def test_an_over_limit_answer_holds_the_robot_a_minute_without_using_an_attempt(
    store: DeliveryStore, receiver: Receiver
) -> None:
    receiver.answers = {"wecom": [OVER_LIMIT, OK]}
    registry = CollectorRegistry()
    notifier = notifier_for(store, receiver, registry, max_attempts=1)
    first, second = burst(2)
    await notifier.on_alerts([first])
    assert await tick(notifier, T0) == 2
    (refused,) = rows(store, webhook_id="wecom")
    assert (refused.status, refused.attempts) == ("pending", 0)
    assert refused.last_error == "errcode 45009: api freq out of limit"
    assert refused.next_attempt_at == T0 + timedelta(minutes=1)

    await notifier.on_alerts([second])
    assert await tick(notifier, T0 + timedelta(seconds=10)) == 1  # the webhook only
    assert len(receiver.on("wecom")) == 1
    assert await tick(notifier, T0 + timedelta(seconds=60)) == 2
    await notifier.aclose()
    assert {(row.status, row.attempts) for row in rows(store)} == {("delivered", 1)}
    over_limit = {"webhook": "wecom", "outcome": "over_limit"}
    assert registry.get_sample_value("casestream_webhook_deliveries_total", over_limit) == 1


async def test_a_robot_refusing_for_ever_fails_the_delivery_once_its_grace_is_over(
    store: DeliveryStore, receiver: Receiver
) -> None:
    receiver.answers = {"wecom": [OVER_LIMIT]}
    notifier = notifier_for(store, receiver, max_attempts=2, over_limit_grace_seconds=90)
    await notifier.on_alerts(burst(1))
    minute = timedelta(minutes=1)
    expected = [("pending", 0), ("pending", 0), ("pending", 1), ("failed", 2)]
    for n, (status, attempts) in enumerate(expected):
        assert await tick(notifier, T0 + n * minute) == (2 if n == 0 else 1)
        (row,) = rows(store, webhook_id="wecom")
        assert (row.status, row.attempts) == (status, attempts)
    await notifier.aclose()
    assert len(receiver.on("wecom")) == 4
