"""A broker away for longer than the producer's timeout, with sends in flight when it went:
once it is back, the producers deliver again, by themselves, on a broker of the test's own.

kafka-python resets an idempotent producer's id when a batch it had already sent expires,
and then never asks for a new one: every later send waited and expired. The API's producer
(5 s timeout) would have answered 503 to every event until it was restarted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from casestream.domain.envelope import Event
from casestream.local import start_kafka, stop_kafka
from casestream.producers.kafka_producer import Delivered, EventProducer
from casestream.producers.topics import Topics
from tests.conftest import fresh_topics
from tests.faults.harness import Feeder, own_kafka, topic_ids, workload
from tests.processes import wait_for

TIMEOUT = 3.0  # the producers' timeout; the broker stays away well beyond it
AWAY = 10.0


@pytest.fixture
def own_broker() -> Iterator[tuple[str, Topics, Path]]:
    """A broker this test may stop, its topics, and where it keeps its data."""
    with own_kafka("outage") as (bootstrap, data_dir):
        yield bootstrap, fresh_topics(bootstrap), data_dir


class NoWait(threading.Thread):
    """Hands one event at a time to `send_nowait`, as the API's commands do, until stopped;
    counts Kafka's answers."""

    def __init__(self, producer: EventProducer, events: list[Event[Any]]) -> None:
        super().__init__(daemon=True)
        self.producer, self.events = producer, events
        self.confirmed: list[str] = []
        self.unconfirmed = 0
        self.stop = threading.Event()

    def run(self) -> None:
        for event in self.events:
            if self.stop.is_set():
                return
            answered = threading.Event()

            def heard(
                delivered: tuple[Delivered, ...] | None, done: threading.Event = answered
            ) -> None:
                if delivered is None:
                    self.unconfirmed += 1
                else:
                    self.confirmed.extend(item.event_id for item in delivered)
                done.set()

            self.producer.send_nowait([event], heard)
            if not answered.wait(TIMEOUT + 2):
                self.producer.unanswered()  # as the API does when no answer comes in time
            time.sleep(0.05)


def test_producers_deliver_again_after_the_broker_was_away_longer_than_their_timeout(
    own_broker: tuple[str, Topics, Path],
) -> None:
    bootstrap, topics, data_dir = own_broker
    events = workload(3000, "OUT")
    sender = Feeder(bootstrap, topics, events[:2000], rate=200, timeout_seconds=TIMEOUT)
    requests = EventProducer(bootstrap, topics, timeout_seconds=TIMEOUT, retry_seconds=0)
    nowait = NoWait(requests, events[2000:])
    try:
        sender.start()
        nowait.start()
        wait_for(lambda: sender.sent >= 200 and len(nowait.confirmed) >= 10, timeout=60)
        stop_kafka(data_dir)  # sends in flight on both producers
        time.sleep(AWAY)
        assert start_kafka(data_dir) == bootstrap
        back = len(nowait.confirmed)
        wait_for(lambda: len(nowait.confirmed) >= back + 20, timeout=60, interval=0.5)
        sender.join(timeout=180)
        nowait.stop.set()
        nowait.join(timeout=30)
        assert not sender.is_alive() and not sender.failures
        assert sender.sent == 2000
        assert nowait.unconfirmed > 0, "the outage was not seen: the test would prove nothing"
        assert sender.renewals >= 1 and requests.renewals >= 1
    finally:
        nowait.stop.set()
        requests.close()
    on_topics: set[str] = set()
    for kind in {event.case_kind for event in events}:
        on_topics |= set(topic_ids(bootstrap, topics.for_kind(kind)))
    assert {str(event.event_id) for event in events[:2000]} <= on_topics, "an event was lost"
    assert set(nowait.confirmed) <= on_topics
