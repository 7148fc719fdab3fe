"""Reading the dead-letter topic of a deployment: every dead letter now in it, or one by id."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from .deadletters import (
    BrokerUnavailable,
    DeadLetterId,
    MissingTopic,
    StoredDeadLetter,
    UnknownDeadLetter,
    stored_dead_letter,
)
from .topics import Topics


def _stored(record: Any) -> StoredDeadLetter:
    return stored_dead_letter(
        DeadLetterId(record.partition, record.offset),
        getattr(record, "timestamp", None),
        record.headers or (),
        record.key,
        record.value,
    )


class DeadLetterTopic:
    """The dead-letter topic of one deployment, read from its beginning without a consumer
    group (no offsets committed, nothing changed for the worker), up to its end at the start."""

    def __init__(
        self,
        bootstrap: str,
        topics: Topics,
        *,
        bootstrap_seconds: float = 10.0,
        stall_seconds: float = 30.0,
    ) -> None:
        self.name = topics.deadletter
        self._bootstrap = bootstrap
        self._stall_seconds = stall_seconds
        try:
            self._consumer = KafkaConsumer(
                bootstrap_servers=bootstrap,
                client_id="casestream-deadletters",
                group_id=None,
                enable_auto_commit=False,
                bootstrap_timeout_ms=int(bootstrap_seconds * 1000),
            )
        except KafkaError as exc:
            raise BrokerUnavailable(bootstrap) from exc

    def _partitions(self) -> list[TopicPartition]:
        try:
            found = self._consumer.partitions_for_topic(self.name)
        except KafkaError as exc:
            raise BrokerUnavailable(self._bootstrap, exc) from exc
        if not found:
            raise MissingTopic(self.name)
        return [TopicPartition(self.name, partition) for partition in sorted(found)]

    def _records(
        self,
        starts: Mapping[TopicPartition, int],
        ends: Mapping[TopicPartition, int],
        on_progress: Callable[[int], None] | None,
    ) -> Iterator[Any]:
        """Every record from `starts` up to (not including) `ends`, partition by partition in
        offset order."""
        consumer = self._consumer
        consumer.assign(list(starts))
        pending = {tp for tp in starts if starts[tp] < ends[tp]}
        for tp in pending:
            consumer.seek(tp, starts[tp])
        consumer.pause(*[tp for tp in starts if tp not in pending])
        last_progress = time.monotonic()
        while pending:
            try:
                polled = consumer.poll(timeout_ms=500, max_records=1000)
            except KafkaError as exc:
                raise BrokerUnavailable(self._bootstrap, exc) from exc
            if not polled and time.monotonic() - last_progress > self._stall_seconds:
                raise BrokerUnavailable(
                    self._bootstrap, f"{self.name} sent nothing for {self._stall_seconds:.0f} s"
                )
            for tp, records in polled.items():
                if tp not in pending:
                    continue
                read = 0
                for record in records:
                    if record.offset >= ends[tp]:
                        break
                    read += 1
                    yield record
                if read:
                    last_progress = time.monotonic()
                    if on_progress is not None:
                        on_progress(read)
                if consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
                    consumer.pause(tp)

    def read(
        self,
        *,
        on_total: Callable[[int], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> Iterator[StoredDeadLetter]:
        """Every dead letter in the topic now, partition by partition, oldest first."""
        partitions = self._partitions()
        try:
            starts: dict[TopicPartition, int] = self._consumer.beginning_offsets(partitions)
            ends: dict[TopicPartition, int] = self._consumer.end_offsets(partitions)
        except KafkaError as exc:
            raise BrokerUnavailable(self._bootstrap, exc) from exc
        if on_total is not None:
            on_total(sum(ends[tp] - starts[tp] for tp in partitions))
        for record in self._records(starts, ends, on_progress):
            yield _stored(record)

    def get(self, letter_id: DeadLetterId) -> StoredDeadLetter:
        """The dead letter `letter_id`; raises UnknownDeadLetter naming how to list them."""
        tp = TopicPartition(self.name, letter_id.partition)
        if tp not in self._partitions():
            raise UnknownDeadLetter(letter_id, self.name)
        try:
            first = self._consumer.beginning_offsets([tp])[tp]
            end = self._consumer.end_offsets([tp])[tp]
        except KafkaError as exc:
            raise BrokerUnavailable(self._bootstrap, exc) from exc
        if not first <= letter_id.offset < end:
            raise UnknownDeadLetter(letter_id, self.name)
        for record in self._records({tp: letter_id.offset}, {tp: end}, None):
            if record.offset == letter_id.offset:
                return _stored(record)
            break
        raise UnknownDeadLetter(letter_id, self.name)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._consumer.close()

    def __enter__(self) -> DeadLetterTopic:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
