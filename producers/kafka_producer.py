"""Sending events to Kafka: idempotent, acks=all, keyed by case id so a case stays ordered."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from casestream.domain.envelope import Event

from .topics import Topics


@dataclass(frozen=True)
class Delivered:
    """Where Kafka stored an event."""

    event_id: str
    topic: str
    partition: int
    offset: int


class SendFailed(RuntimeError):
    """Kafka did not confirm an event; nothing may be assumed stored."""


class EventProducer:
    def __init__(self, bootstrap: str, topics: Topics, *, timeout_seconds: float = 30.0) -> None:
        self._topics = topics
        self._timeout = timeout_seconds
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id="casestream-producer",
            acks="all",
            enable_idempotence=True,
            retries=2_147_483_647,
            linger_ms=5,
            max_in_flight_requests_per_connection=5,
        )

    def topic_for(self, event: Event[Any]) -> str:
        return self._topics.for_kind(event.case_kind)

    def send(self, event: Event[Any]) -> Delivered:
        """Send one event and wait until Kafka has it on all in-sync replicas."""
        return self.send_many([event])[0]

    def send_many(
        self, events: Iterable[Event[Any]], on_sent: Callable[[int], None] | None = None
    ) -> list[Delivered]:
        """Send events in order and wait for every acknowledgement; raises SendFailed."""
        pending = [
            (
                event,
                self._producer.send(
                    self.topic_for(event), key=event.case_id.encode(), value=event.to_json_bytes()
                ),
            )
            for event in events
        ]
        delivered: list[Delivered] = []
        for event, future in pending:
            try:
                metadata = future.get(timeout=self._timeout)
            except KafkaError as exc:
                raise SendFailed(
                    f"Kafka did not confirm event {event.event_id} ({event.event_type}): {exc}; "
                    "check that the broker is reachable and the topics exist (`casestream topics create`)"
                ) from exc
            delivered.append(
                Delivered(str(event.event_id), metadata.topic, metadata.partition, metadata.offset)
            )
            if on_sent is not None:
                on_sent(1)
        return delivered

    def send_raw(self, topic: str, key: bytes | None, value: bytes) -> Delivered:
        """Send bytes as they are (tests of the dead-letter path, and replays of dead letters)."""
        metadata = self._producer.send(topic, key=key, value=value).get(timeout=self._timeout)
        return Delivered("", metadata.topic, metadata.partition, metadata.offset)

    def close(self) -> None:
        self._producer.flush(timeout=self._timeout)
        self._producer.close(timeout=self._timeout)

    def __enter__(self) -> EventProducer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
