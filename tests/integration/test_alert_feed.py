"""The API's live alert feed: positioned at the end of the real alerts topic, fanned out to
clients each with a bounded queue, heartbeats while idle."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry

from casestream.api.alert_feed import AlertFeed, AlertMatch
from casestream.api.alerts import sse_frames
from casestream.domain.envelope import Event, parse_event
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import TopicLayout, Topics, create_topics


def alert(level: int = 1, department: str = "治安大队") -> Event[Any]:
    alert_id = str(uuid.uuid4())
    return parse_event(
        {
            "event_id": alert_id,
            "event_type": "DeadlineApproaching",
            "case_id": "F-1",
            "case_kind": "complaint",
            "occurred_at": "2026-03-20T09:00:00+08:00",
            "recorded_at": "2026-03-20T09:00:00+08:00",
            "source": "casestream",
            "actor": "scanner",
            "payload": {
                "alert_id": alert_id,
                "clock_id": "F-1/complaint.handling/0",
                "rule": "complaint.handling",
                "due_at": "2026-03-23T23:59:59+08:00",
                "scheduled_at": "2026-03-20T09:00:00+08:00",
                "department": department,
                "level": level,
            },
        }
    )


def offline_feed(registry: CollectorRegistry, queue_size: int = 1000) -> AlertFeed:
    """A feed that is never started: alerts are handed to it by `publish`."""
    return AlertFeed(
        "127.0.0.1:1",
        "alerts.events",
        registry,
        timezone="Asia/Shanghai",
        queue_size=queue_size,
    )


async def test_a_slow_client_loses_its_oldest_alerts_and_never_holds_up_the_others() -> None:
    registry = CollectorRegistry()
    feed = offline_feed(registry, queue_size=2)
    events = [alert() for _ in range(3)]
    with feed.subscribe(AlertMatch()) as slow, feed.subscribe(AlertMatch(level=1)) as other:
        for event in events:
            feed.publish(event)
        assert [slow.queue.get_nowait().alert_id for _ in range(2)] == [
            str(events[1].event_id),
            str(events[2].event_id),
        ]
        assert slow.dropped == 1 and other.dropped == 1
    with feed.subscribe(AlertMatch(level=3)) as leaders:
        feed.publish(events[0])
        assert leaders.queue.empty()
    assert registry.get_sample_value("casestream_alert_stream_dropped_total") == 2


async def test_an_alert_sent_twice_reaches_each_client_once() -> None:
    """Two scanners (or one restarted) may put the same alert on the topic twice: the browser
    sees it once."""
    feed = offline_feed(CollectorRegistry())
    first, second = alert(), alert()
    with feed.subscribe(AlertMatch()) as client:
        for event in (first, first, second, first):
            feed.publish(event)
        received = []
        while not client.queue.empty():
            received.append(client.queue.get_nowait().alert_id)
    assert received == [str(first.event_id), str(second.event_id)]


async def test_the_stream_sends_frames_and_heartbeats_and_unsubscribes_when_closed() -> None:
    registry = CollectorRegistry()
    feed = offline_feed(registry)
    frames = sse_frames(feed, AlertMatch(department="治安大队"), heartbeat=0.05)
    assert (await anext(frames)).startswith("retry: 3000\n: connected")
    assert await anext(frames) == ": heartbeat\n\n"
    event = alert()
    feed.publish(alert(department="交警大队"))
    feed.publish(event)
    frame = await anext(frames)
    head, data = frame.split("\ndata: ")
    assert head == f"id: {event.event_id}\nevent: DeadlineApproaching"
    assert parse_event(data.rstrip("\n")) == event and frame.endswith("\n\n")
    assert registry.get_sample_value("casestream_alert_stream_clients") == 1
    await frames.aclose()
    assert registry.get_sample_value("casestream_alert_stream_clients") == 0


async def test_the_api_starts_without_the_topic_and_the_feed_catches_up_when_it_exists(
    kafka_bootstrap: str,
) -> None:
    topics = Topics(prefix=f"f{uuid.uuid4().hex[:10]}.")
    feed = AlertFeed(kafka_bootstrap, topics.alerts, CollectorRegistry(), timezone="Asia/Shanghai")
    started = time.monotonic()
    await feed.start()
    try:
        assert time.monotonic() - started < 5 and not feed.ready
        await asyncio.to_thread(create_topics, kafka_bootstrap, topics, TopicLayout.single_broker())
        deadline = time.monotonic() + 20
        while not feed.ready and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert feed.ready
    finally:
        await feed.stop()


async def test_the_feed_starts_at_the_end_of_the_topic(
    kafka_bootstrap: str, topics: Topics
) -> None:
    producer = await asyncio.to_thread(EventProducer, kafka_bootstrap, topics)
    old = alert()
    await asyncio.to_thread(producer.send_raw, topics.alerts, b"F-1", old.to_json_bytes())
    feed = AlertFeed(kafka_bootstrap, topics.alerts, CollectorRegistry(), timezone="Asia/Shanghai")
    await feed.start()
    try:
        assert feed.ready
        with feed.subscribe(AlertMatch()) as client:
            new = alert()
            sent = time.monotonic()
            await asyncio.to_thread(producer.send_raw, topics.alerts, b"F-1", new.to_json_bytes())
            received = await asyncio.wait_for(client.queue.get(), 5)
            assert received.alert_id == str(new.event_id)  # not the one from before the start
            assert time.monotonic() - sent < 1.0
            await asyncio.sleep(0.3)
            assert client.queue.empty()
    finally:
        await feed.stop()
        await asyncio.to_thread(producer.close)
