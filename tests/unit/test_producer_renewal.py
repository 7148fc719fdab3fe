"""When `EventProducer` replaces its Kafka producer: after a send Kafka took and did not answer
in time, but not when the broker is away before a send is even taken (no metadata), where a
new producer would be just as blind and making one a second only costs threads."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pytest
from kafka.errors import KafkaTimeoutError

from casestream.producers.kafka_producer import EventProducer, SendFailed
from casestream.producers.topics import Topics
from tests.events import complaint_lifecycle


class Unanswered:
    """A send Kafka took and never answers."""

    is_done = False

    def get(self, timeout: float | None = None) -> Any:
        time.sleep(min(timeout or 0.0, 0.01))
        raise KafkaTimeoutError(f"Timeout after waiting for {timeout} secs.")

    def add_errback(self, *args: Any) -> None:
        """It never fails: it never completes."""


class Producer:
    """Stands in for kafka-python's producer: the broker never answers."""

    config: ClassVar[dict[str, Any]] = {"api_version": (3, 9)}

    def __init__(self, *, metadata: bool) -> None:
        self.metadata = metadata

    def send(self, topic: str, **message: Any) -> Unanswered:
        if not self.metadata:  # what kafka-python does after max_block_ms without metadata
            raise KafkaTimeoutError("Failed to update metadata after 0.05 secs.")
        return Unanswered()

    def flush(self, timeout: float | None = None) -> None:
        pass

    def close(self, timeout: float | None = None) -> None:
        pass


def renewals_after_a_failed_send(monkeypatch: pytest.MonkeyPatch, *, metadata: bool) -> int:
    """Send three events to a broker that never answers; how often the producer was renewed
    until `send_many` gave up (naming all three)."""
    monkeypatch.setattr(
        EventProducer, "_connect", staticmethod(lambda *args: Producer(metadata=metadata))
    )
    producer = EventProducer("localhost:1", Topics(), timeout_seconds=0.05, retry_seconds=0.5)
    with pytest.raises(SendFailed) as failed:
        producer.send_many(complaint_lifecycle(f"C-RENEW-{metadata}")[:3])
    assert len(failed.value.event_ids) == 3
    return producer.renewals


def test_a_send_taken_and_never_answered_renews_the_producer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # one renewal a round after the first: each round waited the answer out
    assert renewals_after_a_failed_send(monkeypatch, metadata=True) >= 1


def test_a_broker_away_before_any_send_is_taken_leaves_the_producer_as_it_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert renewals_after_a_failed_send(monkeypatch, metadata=False) == 0
