"""The live alert feed of one API process: a Kafka consumer on alerts.events fanned out to clients.

One aiokafka consumer (no consumer group: every API process sees every alert) starts at the
end of the topic when the app starts. Each connected client has its own bounded queue; a
client that reads too slowly loses its oldest alerts and never holds up the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pydantic
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter, Gauge

from casestream.domain.envelope import Event, UndecodableEvent, parse_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertMatch:
    """What a client of GET /alerts/stream asked for (None: any)."""

    level: int | None = None
    department: str | None = None
    rule: str | None = None
    case_kind: str | None = None
    event_type: str | None = None

    def accepts(self, event: Event[Any]) -> bool:
        payload = event.payload
        return (
            (self.level is None or getattr(payload, "level", 0) == self.level)
            and (self.department is None or payload.department == self.department)
            and (self.rule is None or payload.rule == self.rule)
            and (self.case_kind is None or event.case_kind.value == self.case_kind)
            and (self.event_type is None or event.event_type == self.event_type)
        )


@dataclass(frozen=True)
class LiveAlert:
    alert_id: str
    event_type: str
    json: str  # the event, one line of JSON

    def sse_frame(self) -> str:
        return f"id: {self.alert_id}\nevent: {self.event_type}\ndata: {self.json}\n\n"


@dataclass(eq=False)
class Subscription:
    match: AlertMatch
    queue: asyncio.Queue[LiveAlert]
    dropped: int = field(default=0)


class FeedMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.clients = Gauge(
            "casestream_alert_stream_clients",
            "Clients connected to GET /alerts/stream",
            registry=registry,
            multiprocess_mode="livesum",  # several workers: their clients added up
        )
        self.received = Counter(
            "casestream_alert_stream_events_total",
            "Alert events read from alerts.events by this API process",
            registry=registry,
        )
        self.dropped = Counter(
            "casestream_alert_stream_dropped_total",
            "Alerts dropped for slow stream clients (their oldest first)",
            registry=registry,
        )


class AlertFeed:
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        registry: CollectorRegistry,
        *,
        timezone: str,
        queue_size: int = 1000,
        start_timeout_seconds: float = 10.0,
        remember: int = 100_000,
    ) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._timezone = timezone
        self._queue_size = queue_size
        self._start_timeout = start_timeout_seconds
        self._subscriptions: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._attempted = asyncio.Event()
        # next offset per partition once reading: a reconnect resumes there, missing nothing
        self._positions: dict[TopicPartition, int] = {}
        # alert ids already passed on: a copy (a scanner restarted, or handing over its lease)
        # is the same alert and reaches no client twice
        self._sent: OrderedDict[str, None] = OrderedDict()
        self._remember = remember
        self.metrics = FeedMetrics(registry)

    @property
    def ready(self) -> bool:
        """Whether the consumer is positioned on the topic and reading."""
        return self._ready.is_set()

    async def start(self) -> None:
        """Start reading; waits (bounded) until positioned at the end, so no later alert is missed.

        If Kafka or the topic is not there yet, the API starts anyway and the feed keeps trying.
        """
        self._ready = asyncio.Event()
        self._attempted = asyncio.Event()
        self._positions = {}
        self._task = asyncio.create_task(self._run(), name="alert feed")
        waiter = asyncio.ensure_future(self._attempted.wait())
        done, _ = await asyncio.wait(
            {waiter, self._task},
            timeout=self._start_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        waiter.cancel()
        if self._task in done:
            self._task.result()  # the feed died before it was ready: say why
        if not self.ready:
            log.warning(
                "alert feed: not reading %s from %s yet; GET /alerts/stream will stay silent "
                "until it is (check CASESTREAM_KAFKA_BOOTSTRAP and `casestream topics create`)",
                self._topic,
                self._bootstrap,
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @contextlib.contextmanager
    def subscribe(self, match: AlertMatch) -> Iterator[Subscription]:
        subscription = Subscription(match, asyncio.Queue(maxsize=self._queue_size))
        self._subscriptions.add(subscription)
        self.metrics.clients.inc()
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)
            self.metrics.clients.dec()

    def publish(self, event: Event[Any]) -> None:
        """Hand an alert to every matching client without waiting for any of them; an alert id
        already handed on is left out."""
        alert_id = str(event.event_id)
        if alert_id in self._sent:
            return
        self._sent[alert_id] = None
        if len(self._sent) > self._remember:
            self._sent.popitem(last=False)
        alert: LiveAlert | None = None
        for subscription in list(self._subscriptions):
            if not subscription.match.accepts(event):
                continue
            if alert is None:
                alert = LiveAlert(str(event.event_id), event.event_type, event.model_dump_json())
            queue = subscription.queue
            if queue.full():
                queue.get_nowait()  # a slow client loses its oldest alert
                subscription.dropped += 1
                self.metrics.dropped.inc()
            queue.put_nowait(alert)

    async def _run(self) -> None:
        delay = 1.0
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="latest",
                fetch_max_wait_ms=100,  # an idle partition answers within 0.1 s: low latency
                client_id="casestream-api-alerts",
            )
            try:
                await consumer.start()
                await self._position(consumer)
                self._ready.set()
                self._attempted.set()
                delay = 1.0
                await self._consume(consumer)
            except asyncio.CancelledError:
                raise
            except (KafkaError, OSError) as exc:
                log.warning("alert feed: %s; retrying in %.0f s", exc, delay)
            except Exception:
                log.exception("alert feed: consumer failed; retrying in %.0f s", delay)
            finally:
                self._attempted.set()
                with contextlib.suppress(Exception):
                    await consumer.stop()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _position(self, consumer: AIOKafkaConsumer) -> None:
        """Take every partition of the topic: where this feed left off, else at its end."""
        if self._topic not in await consumer.topics():
            raise KafkaError(
                f"topic {self._topic} does not exist; run `casestream topics create` "
                "(or check CASESTREAM_TOPIC_PREFIX)"
            )
        consumer.subscribe([self._topic])  # no group: all partitions, incl. ones added later
        try:
            async with asyncio.timeout(self._start_timeout):
                while not consumer.assignment():
                    await asyncio.sleep(0.02)
        except TimeoutError as exc:
            raise KafkaError(f"no partition of {self._topic} assigned; is the broker up?") from exc
        partitions = list(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        for partition in partitions:
            offset = self._positions.get(partition, ends[partition])
            self._positions[partition] = offset
            consumer.seek(partition, offset)

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=500)
            for partition, records in batches.items():
                for record in records:
                    self._positions[partition] = record.offset + 1
                    self.metrics.received.inc()
                    try:
                        event = parse_event(record.value or b"", self._timezone)
                    except (UndecodableEvent, pydantic.ValidationError) as exc:
                        log.warning(
                            "alert feed: skipped %s[%d]@%d: %s",
                            record.topic,
                            record.partition,
                            record.offset,
                            str(exc).splitlines()[0],
                        )
                        continue
                    self.publish(event)
