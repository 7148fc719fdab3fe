"""Sending events to Kafka: idempotent, acks=all, keyed by case id so a case stays ordered."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from casestream.domain.envelope import Event

from .topics import Topics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivered:
    """Where Kafka stored an event."""

    event_id: str
    topic: str
    partition: int
    offset: int


class SendFailed(RuntimeError):
    """Kafka did not confirm an event within the time allowed.

    The outcome is unknown: the broker may still store it. Send it again with the same
    `event_id` (the projector applies an event id once), never as a new event."""

    def __init__(self, message: str, event_ids: list[str]) -> None:
        super().__init__(message)
        self.event_ids = event_ids


class EventProducer:
    def __init__(
        self,
        bootstrap: str,
        topics: Topics,
        *,
        timeout_seconds: float = 30.0,
        retry_seconds: float = 120.0,
    ) -> None:
        self._topics = topics
        self._bootstrap = bootstrap
        self._timeout = timeout_seconds
        self._retry_seconds = retry_seconds
        self._lock = threading.Lock()  # requests send from several threads
        self._stale = False  # set when Kafka did not confirm a send: renew before the next
        self.renewals = 0
        try:
            self._producer = self._connect(bootstrap, timeout_seconds)
        except KafkaError as exc:
            raise SendFailed(
                f"no Kafka broker answered at {bootstrap} within {timeout_seconds:g} s: {exc}; "
                "check CASESTREAM_KAFKA_BOOTSTRAP and that the broker runs",
                [],
            ) from exc

    @staticmethod
    def _connect(bootstrap: str, timeout_seconds: float, api_version: Any = None) -> KafkaProducer:
        """A producer; without `api_version` it waits for the broker to learn it."""
        return KafkaProducer(
            bootstrap_servers=bootstrap,
            client_id="casestream-producer",
            acks="all",
            enable_idempotence=True,
            retries=2_147_483_647,
            linger_ms=5,
            max_in_flight_requests_per_connection=5,
            # back at the broker within a second of its return (the default grows to 30 s)
            reconnect_backoff_ms=100,
            reconnect_backoff_max_ms=1000,
            max_block_ms=int(timeout_seconds * 1000),
            delivery_timeout_ms=int(timeout_seconds * 1000),
            request_timeout_ms=max(1000, min(int(timeout_seconds * 1000) - 100, 30_000)),
            bootstrap_timeout_ms=int(timeout_seconds * 1000),
            api_version=api_version,
        )

    @property
    def timeout_seconds(self) -> float:
        """How long Kafka has to confirm an event before its send counts as failed."""
        return self._timeout

    def send_nowait(
        self,
        events: Sequence[Event[Any]],
        on_done: Callable[[tuple[Delivered, ...] | None], None],
    ) -> None:
        """Hand the events to the producer in order without waiting for Kafka: `on_done` is
        called once, on the producer's own thread, with where Kafka stored them, or with None
        when it did not confirm one within the timeout (its outcome is unknown: send it again
        with the same event_id). No retries here: the caller keeps the events to send again."""
        if not events:
            on_done(())
            return
        acks = _Acks(events, on_done)
        for index, event in enumerate(events):
            try:
                future = self._send_one(event)
            except KafkaError as exc:  # no metadata within max_block_ms: broker away
                acks.failed(index, exc)
                return
            future.add_callback(acks.confirmed, index)
            future.add_errback(acks.failed, index)

    def topic_for(self, event: Event[Any]) -> str:
        return self._topics.for_kind(event.case_kind)

    def send(self, event: Event[Any]) -> Delivered:
        """Send one event and wait until Kafka has it on all in-sync replicas."""
        return self.send_many([event])[0]

    def send_many(
        self, events: Iterable[Event[Any]], on_sent: Callable[[int], None] | None = None
    ) -> list[Delivered]:
        """Send events in order and wait for every acknowledgement.

        An event Kafka does not confirm is sent again, the same event, for up to
        `retry_seconds` (a broker restarting); then SendFailed names every event whose outcome
        is unknown."""
        pending = list(events)
        delivered: dict[int, Delivered] = {}
        deadline = time.monotonic() + self._retry_seconds
        attempt = 0
        while True:
            attempt += 1
            failures: list[tuple[int, Exception]] = []
            futures = []
            waited_out = False
            for index, event in enumerate(pending):
                if index in delivered:
                    continue
                try:
                    futures.append((index, self._send_one(event)))
                except KafkaError as exc:  # no metadata within max_block_ms: broker away
                    failures.append((index, exc))
            answer_by = time.monotonic() + self._timeout  # for all of them, not each
            for index, future in futures:
                try:
                    metadata = future.get(timeout=max(0.001, answer_by - time.monotonic()))
                except KafkaError as exc:
                    failures.append((index, exc))
                    # failed: its errback marked the producer; not answered in time: mark it
                    waited_out = waited_out or not future.is_done
                    continue
                event = pending[index]
                delivered[index] = Delivered(
                    str(event.event_id), metadata.topic, metadata.partition, metadata.offset
                )
                if on_sent is not None:
                    on_sent(1)
            if not failures:
                return [delivered[index] for index in range(len(pending))]
            if waited_out:  # not when only handing over failed (no metadata: broker away)
                self.unanswered()
            if time.monotonic() >= deadline:
                unknown = sorted(failures)
                ids = [str(pending[index].event_id) for index, _ in unknown]
                first = pending[unknown[0][0]]
                raise SendFailed(
                    f"Kafka did not confirm {len(ids)} event(s), e.g. {first.event_id} "
                    f"({first.event_type}): {unknown[0][1]}; the outcome is unknown: send them "
                    "again with the same event_id once the broker is reachable (check it, and "
                    "that the topics exist: `casestream topics create`)",
                    ids,
                )
            log.warning(
                "Kafka did not confirm %d event(s) (attempt %d: %s); sending them again",
                len(failures),
                attempt,
                failures[0][1],
            )
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))

    def _send_one(self, event: Event[Any]) -> Any:
        return self._send(
            self.topic_for(event), key=event.case_id.encode(), value=event.to_json_bytes()
        )

    def _send(self, topic: str, **message: Any) -> Any:
        """Hand one message to the producer; a send Kafka then fails marks it for renewal."""
        producer = self._current()
        future = producer.send(topic, **message)
        future.add_errback(self._unconfirmed, producer)
        return future

    def unanswered(self) -> None:
        """Kafka did not answer a send in time: the next send goes through a new producer."""
        self._stale = True

    def _unconfirmed(self, producer: KafkaProducer, exc: BaseException) -> None:
        """A send of `producer` failed (on its network thread): the next send renews it.

        kafka-python resets an idempotent producer's id when a batch it has already sent
        expires (a broker away longer than the timeout), and then never asks for a new one:
        every later send would wait and expire. A new producer asks afresh."""
        if producer is self._producer:
            self._stale = True

    def _current(self) -> KafkaProducer:
        """The producer to send with: a new one when a send of the last failed. The new one
        knows the broker's version already, so it is made without waiting for the broker."""
        with self._lock:
            if self._stale:
                version = self._producer.config["api_version"]
                fresh = self._connect(self._bootstrap, self._timeout, version)
                old, self._producer, self._stale = self._producer, fresh, False
                self.renewals += 1
                log.warning("Kafka producer renewed after an unconfirmed send")
                # whatever the old one still holds fails at once (its senders send it again)
                threading.Thread(target=_discard, args=(old,), daemon=True).start()
            return self._producer

    def send_raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> Delivered:
        """Send bytes as they are (tests of the dead-letter path, and replays of dead letters)
        and wait for the acknowledgement; raises SendFailed."""
        try:
            metadata = self._send(topic, key=key, value=value, headers=list(headers) or None).get(
                timeout=self._timeout
            )
        except KafkaError as exc:
            raise SendFailed(
                f"Kafka did not confirm a message to {topic}: {exc}; check that the broker is "
                "reachable and the topics exist (`casestream topics create`)",
                [],
            ) from exc
        return Delivered("", metadata.topic, metadata.partition, metadata.offset)

    def close(self) -> None:
        """Wait up to the timeout for what Kafka has not confirmed yet, then stop."""
        with self._lock:
            producer = self._producer
        try:
            producer.flush(timeout=self._timeout)
        except KafkaError as exc:
            log.warning("closing with sends Kafka did not confirm (%s)", exc)
        _discard(producer)

    def __enter__(self) -> EventProducer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _discard(producer: KafkaProducer) -> None:
    """Stop a producer now; what it still holds fails. kafka-python's close() waits for
    those first and raises when they are not done in time, before it stops its network thread,
    so that thread is stopped first."""
    sender = getattr(producer, "_sender", None)
    if sender is not None and sender.is_alive():
        sender.force_close()
        sender.join(5.0)
    try:
        producer.close(timeout=0)
    except KafkaError as exc:  # a send it held was still open: nothing left to wait for
        log.debug("producer closed with sends unanswered: %s", exc)


class _Acks:
    """Kafka's answers to one `send_nowait`, reported once all are in (or at the first failure)."""

    def __init__(
        self,
        events: Sequence[Event[Any]],
        on_done: Callable[[tuple[Delivered, ...] | None], None],
    ) -> None:
        self._events = list(events)
        self._delivered: dict[int, Delivered] = {}
        self._on_done = on_done
        self._reported = False
        self._lock = threading.Lock()

    def confirmed(self, index: int, metadata: Any) -> None:
        event = self._events[index]
        with self._lock:
            self._delivered[index] = Delivered(
                str(event.event_id), metadata.topic, metadata.partition, metadata.offset
            )
            done = len(self._delivered) == len(self._events) and not self._reported
            self._reported = self._reported or done
        if done:
            self._on_done(tuple(self._delivered[i] for i in range(len(self._events))))

    def failed(self, index: int, exc: BaseException) -> None:
        with self._lock:
            first = not self._reported
            self._reported = True
        if first:
            log.warning("Kafka did not confirm %s: %s", self._events[index].event_id, exc)
            self._on_done(None)
