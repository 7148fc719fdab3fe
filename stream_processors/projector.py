"""The projector: decodes consumed messages, dead-letters the bad ones, writes the rest in batches."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pydantic
import sqlalchemy.exc

from casestream.domain.envelope import UndecodableEvent, field_errors, parse_event
from casestream.read_models.projection import BatchOutcome, ConsumedEvent, ProjectionWriter

from .metrics import ProjectorMetrics

log = logging.getLogger(__name__)


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached now (worth waiting for), rather than
    that it refused what was written."""
    return isinstance(exc, sqlalchemy.exc.OperationalError) or (
        isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated
    )


@dataclass(frozen=True)
class RawMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    replay_of: str | None = None  # the dead letter this message replays, from its headers


@dataclass(frozen=True)
class DeadLetter:
    message: RawMessage
    reason: str  # short, bounded: the metric label
    detail: str


SendDeadLetter = Callable[[DeadLetter], Awaitable[None]]


@dataclass
class ProjectorStatus:
    """What the projector is doing, for heartbeats and readiness."""

    state: str = "running"  # running / retrying (database unavailable) / crashed
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    detail: str = ""
    # the last batch committed, or the last time this worker found itself caught up: with
    # events waiting and this old, the projector is stalled
    progressed_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def caught_up(self) -> None:
        self.progressed_at = datetime.now(UTC)

    def set(self, state: str, detail: str = "") -> None:
        if state != self.state:
            self.state, self.since = state, datetime.now(UTC)
        self.detail = detail


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
        self.status = ProjectorStatus()

    async def handle(self, messages: Sequence[RawMessage]) -> BatchOutcome:
        """Project one batch; returns only once it is committed (retries while the database is
        down). A message the writer cannot project goes to the dead letters (`unprojectable`)
        and every other message of the batch is projected."""
        consumed: list[ConsumedEvent] = []
        for message in messages:
            decoded = decode(message, self._timezone)
            if isinstance(decoded, DeadLetter):
                await self._dead_letter(decoded)
                consumed.append(
                    ConsumedEvent(message.topic, message.partition, message.offset, None)
                )
            else:
                consumed.append(decoded)
        started = time.perf_counter()
        by_position = {(m.topic, m.partition, m.offset): m for m in messages}
        outcome = await self._isolating(consumed, by_position)
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

    async def _dead_letter(self, letter: DeadLetter) -> None:
        message = letter.message
        await self._send_dead_letter(letter)
        self._metrics.deadletters.labels(message.topic, letter.reason).inc()
        log.warning(
            "dead-lettered %s[%d]@%d: %s (%s)",
            message.topic,
            message.partition,
            message.offset,
            letter.reason,
            letter.detail[:500],
        )

    async def _isolating(
        self,
        consumed: Sequence[ConsumedEvent],
        messages: dict[tuple[str, int, int], RawMessage],
    ) -> BatchOutcome:
        """Write `consumed`; when the batch fails for a reason other than the database being
        away, split it in halves (in order) until the message at fault is found, dead-letter that
        one and write the rest."""
        try:
            return await self._write(consumed)
        except Exception as exc:
            events = [item for item in consumed if item.event is not None]
            if not events:
                raise  # nothing to blame but the read models themselves: the worker stops
            if len(events) > 1:
                middle = len(consumed) // 2
                first = await self._isolating(consumed[:middle], messages)
                return first.merged(await self._isolating(consumed[middle:], messages))
            culprit = events[0]
            without = [
                item if item is not culprit else replace(item, event=None) for item in consumed
            ]
            # would the database take the batch without it? If not, the fault is not the
            # message's: nothing is dead-lettered and the error stops the projector
            await self._write(without, commit=False)
            await self._dead_letter(
                DeadLetter(
                    messages[(culprit.topic, culprit.partition, culprit.offset)],
                    "unprojectable",
                    f"{type(exc).__name__}: {exc}",
                )
            )
            return await self._write(without)

    async def _write(
        self, consumed: Sequence[ConsumedEvent], *, commit: bool = True
    ) -> BatchOutcome:
        """One transaction (rolled back unless `commit`); retried for as long as the database
        is unavailable."""
        failures = 0
        while True:
            try:
                outcome = await asyncio.to_thread(
                    functools.partial(self._writer.apply_batch, consumed, commit=commit)
                )
            except sqlalchemy.exc.DBAPIError as exc:
                if not database_unavailable(exc):
                    raise
                failures += 1
                self._metrics.database_retries.inc()
                self.status.set("retrying", f"read-model database unavailable: {exc}"[:500])
                if failures == 1 or failures % 30 == 0:  # not a line per attempt
                    log.error(
                        "read-model database unavailable (attempt %d), retrying every %.1fs: %s",
                        failures,
                        self._retry_seconds,
                        str(exc).splitlines()[0][:300],
                    )
                await asyncio.sleep(self._retry_seconds)
            else:
                self.status.set("running")
                if commit:
                    self.status.progressed_at = datetime.now(UTC)
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
