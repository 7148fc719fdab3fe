"""The API's send of a command's events: handed to the producer without a thread waiting, and
Kafka's answer (where each event is, or none) reported once, on a real broker."""

from __future__ import annotations

import threading
import uuid

from casestream.domain.envelope import parse_event
from casestream.producers.kafka_producer import Delivered, EventProducer
from casestream.producers.topics import Topics
from tests.conftest import fresh_topics
from tests.events import raw


class Answers:
    def __init__(self) -> None:
        self.calls: list[tuple[Delivered, ...] | None] = []
        self.came = threading.Event()

    def __call__(self, delivered: tuple[Delivered, ...] | None) -> None:
        self.calls.append(delivered)
        self.came.set()


def test_the_events_land_in_order_and_their_places_are_reported_once(kafka_bootstrap: str) -> None:
    topics = fresh_topics(kafka_bootstrap)
    events = [
        parse_event(
            raw("ComplaintReceived", "NW-1", "complaint", {"channel": "letter", "subject": "扣证"})
        ),
        parse_event(raw("ComplaintAccepted", "NW-1", "complaint", day=1)),
        parse_event(
            raw("ComplaintAssigned", "NW-1", "complaint", {"department": "治安大队"}, day=2)
        ),
    ]
    answers = Answers()
    with EventProducer(kafka_bootstrap, topics, timeout_seconds=10) as producer:
        producer.send_nowait(events, answers)
        assert answers.came.wait(15)
    assert len(answers.calls) == 1
    delivered = answers.calls[0]
    assert delivered is not None
    assert [item.event_id for item in delivered] == [str(event.event_id) for event in events]
    assert {item.topic for item in delivered} == {topics.for_kind(events[0].case_kind)}
    assert len({item.partition for item in delivered}) == 1  # keyed by the case
    offsets = [item.offset for item in delivered]
    assert offsets == sorted(offsets) and len(set(offsets)) == 3


def test_events_kafka_cannot_take_are_reported_as_none_within_the_timeout(
    kafka_bootstrap: str,
) -> None:
    missing = Topics(prefix=f"missing{uuid.uuid4().hex[:8]}.")  # never created; no auto-create
    event = parse_event(
        raw("ComplaintReceived", "NW-2", "complaint", {"channel": "letter", "subject": "扣证"})
    )
    answers = Answers()
    with EventProducer(kafka_bootstrap, missing, timeout_seconds=2) as producer:
        producer.send_nowait([event], answers)
        assert answers.came.wait(10)
    assert answers.calls == [None]
