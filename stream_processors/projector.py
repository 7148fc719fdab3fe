"""The projector: decodes consumed messages, dead-letters the bad ones, writes the rest in batches."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import pydantic
import sqlalchemy.exc

from casestream.domain.envelope import UndecodableEvent, field_errors, parse_event
from casestream.read_models.projection import BatchOutcome, ConsumedEvent, ProjectionWriter

from .metrics import ProjectorMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class DeadLetter:
    message: RawMessage
    reason: str  # short, bounded: the metric label
    detail: str


SendDeadLetter = Callable[[DeadLetter], Awaitable[None]]


def decode(message: RawMessage, timezone: str) -> ConsumedEvent | DeadLetter:
    """The event in a message, or why it goes to the dead letters."""
    if message.value is None:
        return DeadLetter(message, "empty", "message has no value")
    try:
        event = parse_event(message.value, timezone=timezone)
    except UndecodableEvent as exc:
        return DeadLetter(message, "undecodable", str(exc))
    except pydantic.ValidationError as exc:
        problems = field_errors(exc)
        reason = (
            "unknown_event_type"
            if any(field == "event_type" for field, _ in problems)
            else "invalid"
        )
        detail = "; ".join(f"{field}: {message}" for field, message in problems)
        return DeadLetter(message, reason, detail)
    if message.key is not None and message.key.decode(errors="replace") != event.case_id:
        return DeadLetter(
            message, "wrong_key", f"key {message.key!r} is not the case id {event.case_id!r}"
        )
    return ConsumedEvent(message.topic, message.partition, message.offset, event)


class Projector:
    def __init__(
        self,
        writer: ProjectionWriter,
        send_dead_letter: SendDeadLetter,
        metrics: ProjectorMetrics,
        timezone: str,
        retry_seconds: float = 1.0,
    ) -> None:
        self._writer = writer
        self._send_dead_letter = send_dead_letter
        self._metrics = metrics
        self._timezone = timezone
        self._retry_seconds = retry_seconds
        # what this process has committed, for its lag and age gauges
        self.positions: dict[tuple[str, int], int] = {}  # next offset per (topic, partition)
        self.newest: dict[tuple[str, int], float] = {}  # recorded_at (epoch s) of the newest event

    async def handle(self, messages: Sequence[RawMessage]) -> BatchOutcome:
        """Project one batch; returns only once it is committed (retries while the database is down)."""
        consumed: list[ConsumedEvent] = []
        for message in messages:
            decoded = decode(message, self._timezone)
            if isinstance(decoded, DeadLetter):
                await self._send_dead_letter(decoded)
                self._metrics.deadletters.labels(message.topic, decoded.reason).inc()
                log.warning(
                    "dead-lettered %s[%d]@%d: %s (%s)",
                    message.topic,
                    message.partition,
                    message.offset,
                    decoded.reason,
                    decoded.detail,
                )
                consumed.append(
                    ConsumedEvent(message.topic, message.partition, message.offset, None)
                )
            else:
                consumed.append(decoded)
        started = time.perf_counter()
        while True:
            try:
                outcome = await asyncio.to_thread(self._writer.apply_batch, consumed)
                break
            except sqlalchemy.exc.OperationalError as exc:
                log.error(
                    "read-model database unavailable, retrying in %.1fs: %s",
                    self._retry_seconds,
                    exc,
                )
                await asyncio.sleep(self._retry_seconds)
        self._committed(consumed)
        self._metrics.flow.observe(outcome.changes)
        self._metrics.batch_seconds.observe(time.perf_counter() - started)
        self._metrics.batch_size.observe(len(messages))
        for kind, count in outcome.by_kind.items():
            self._metrics.events.labels(kind, "applied").inc(count)
        if outcome.duplicates:
            self._metrics.events.labels("any", "duplicate").inc(outcome.duplicates)
        if outcome.skipped_offsets:
            self._metrics.events.labels("any", "skipped").inc(outcome.skipped_offsets)
        if outcome.anomalies:
            self._metrics.anomalies.inc(outcome.anomalies)
        return outcome

    def _committed(self, consumed: Sequence[ConsumedEvent]) -> None:
        for item in consumed:
            key = (item.topic, item.partition)
            if item.offset >= self.positions.get(key, 0):
                self.positions[key] = item.offset + 1
            if item.event is not None:
                recorded = item.event.recorded_at.timestamp()
                if recorded > self.newest.get(key, recorded - 1):
                    self.newest[key] = recorded
