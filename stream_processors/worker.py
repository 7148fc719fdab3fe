"""The faust worker: consumes the case topics and runs the projector on batches of messages."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import faust
from prometheus_client import CollectorRegistry, start_http_server

from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import Event, parse_event
from casestream.metric_labels import DepartmentLabels
from casestream.policy import clock_policy, outcome_settings
from casestream.producers.deadletters import (
    SourcePosition,
    dead_letter_headers,
    replayed_letter_id,
)
from casestream.producers.topics import Topics, end_offsets
from casestream.read_models.database import create_engine, migrate, projection_id
from casestream.read_models.outbox import Outbox
from casestream.read_models.projection import ProjectionWriter
from casestream.read_models.workers import Heartbeat, Heartbeats, Leases
from casestream.settings import Settings

from .batching import PipelinedBatches
from .leases import TimerLease
from .metrics import PipelineMetrics, ProjectorMetrics, ScannerMetrics, WorkerHealthMetrics
from .notifier import WebhookNotifier
from .projector import DeadLetter, Projector, RawMessage
from .resilience import Backoff, RepeatedErrorFilter
from .scanner import EscalationScanner

log = logging.getLogger(__name__)


def build_app(
    settings: Settings,
    registry: CollectorRegistry | None = None,
    health: WorkerHealthMetrics | None = None,
) -> faust.App:
    """A faust app projecting the case topics into the read models named by `settings`."""
    bootstrap = settings.require_kafka()
    topics = Topics(settings.topic_prefix)
    engine = create_engine(settings.database_url, settings.database_schema)
    migrate(engine)
    policy = clock_policy(settings)
    writer = ProjectionWriter(engine, policy, outcome_settings(settings))
    refreshed = writer.refresh_provisional_clocks()
    if refreshed:
        log.warning("recounted %d provisional clocks with the calendar in force", refreshed)
    registry = registry or CollectorRegistry()
    departments = DepartmentLabels.from_settings(settings)
    metrics = ProjectorMetrics(registry, departments)
    health = health or WorkerHealthMetrics(registry)
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"[:100]
    scanner_metrics = ScannerMetrics(registry, departments)
    pipeline_metrics = PipelineMetrics(registry)

    (settings.var_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = faust.App(
        # a fresh read-model database gets a consumer group of its own, so it starts at offset 0
        f"{settings.topic_prefix}casestream-projector-{projection_id(engine)}",
        broker=[f"kafka://{server}" for server in bootstrap.split(",")],
        store="memory://",
        datadir=str(settings.var_dir / "faust" / "{conf.name}"),  # not the current directory
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=False,
        producer_acks=-1,
        broker_commit_interval=1.0,
        # a worker killed without leaving the group gets its partitions back in ~10 s, not 60 s
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        stream_buffer_maxsize=max(4096, settings.projector_batch_size * 2),
    )
    # the projector also reads the alerts it raised, to move each clock's next alert on
    case_topic = app.topic(*topics.case_topics, topics.alerts, key_type=bytes, value_type=bytes)
    alerts_topic = app.topic(topics.alerts, key_type=bytes, value_type=bytes)
    rectification_topic = app.topic(
        topics.for_kind(CaseKind.rectification), key_type=bytes, value_type=bytes
    )
    deadletter_topic = app.topic(topics.deadletter, key_type=bytes, value_type=bytes)

    async def send_dead_letter(letter: DeadLetter) -> None:
        message = letter.message
        headers = dead_letter_headers(
            letter.reason,
            letter.detail,
            SourcePosition(message.topic, message.partition, message.offset),
            message.replay_of,
        )
        delivery = await deadletter_topic.send(
            key=message.key, value=message.value or b"", headers=headers
        )
        await delivery  # the dead letter is stored before the offset moves past it

    projector = Projector(writer, send_dead_letter, metrics, settings.timezone)
    health.projector_up.set_function(lambda: float(projector.status.state == "running"))

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]  # faust types *args receivers
    async def resume_from_checkpoints(sender: Any, assigned: set[Any], **_: Any) -> None:
        stored = await asyncio.to_thread(writer.stored_offsets)
        for tp in assigned:
            offset = stored.get((tp.topic, tp.partition))
            if offset is not None:
                await app.consumer.seek(tp, offset)
            projector.positions[(tp.topic, tp.partition)] = offset or 0
        log.info("resumed %d partitions from read-model checkpoints", len(assigned))

    def raw_message(event: faust.types.EventT[bytes]) -> RawMessage:
        message = event.message
        return RawMessage(
            message.topic,
            message.partition,
            message.offset,
            message.key,
            message.value,
            replayed_letter_id(message.headers),
        )

    async def write(batch: Sequence[faust.types.EventT[bytes]]) -> None:
        await projector.handle([raw_message(event) for event in batch])

    async def crash(exc: BaseException) -> None:
        """Not a bad message (those are dead-lettered) nor the database away (retried): the read
        models refuse every write. Say so, then stop the worker with a non-zero exit so that its
        supervisor restarts it from the checkpoints."""
        if projector.status.state == "crashed":
            return
        projector.status.set("crashed", f"{type(exc).__name__}: {exc}"[:500])
        log.critical("projector crashed, stopping the worker: %r", exc)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(heartbeat)
        await app.crash(exc)

    crashing: set[asyncio.Future[None]] = set()

    def crash_when_failed(task: asyncio.Future[Any]) -> None:
        failure = None if task.cancelled() else task.exception()
        if failure is not None:
            crashing.add(asyncio.ensure_future(crash(failure)))

    @app.agent(case_topic)
    async def project(stream: faust.StreamT[bytes]) -> None:
        stream.enable_acks = False  # acked by the pipeline once the batch has committed
        batches = PipelinedBatches(
            write, stream.ack, settings.projector_batch_size, settings.projector_batch_seconds
        )
        helpers = [
            asyncio.ensure_future(batches.run_writer()),
            asyncio.ensure_future(batches.run_timer()),
            asyncio.ensure_future(beat_while_projecting()),
        ]
        for helper in helpers:  # a failed writer stops the worker even while no message comes
            helper.add_done_callback(crash_when_failed)
        try:
            async for event in stream.events():
                await batches.add(event)
        except Exception as exc:
            await crash(exc)
            raise
        finally:
            for helper in helpers:
                helper.cancel()

    async def emit_alerts(events: list[Event[Any]]) -> None:
        deliveries = [
            await alerts_topic.send(key=event.case_id.encode(), value=event.to_json_bytes())
            for event in events
        ]
        await asyncio.gather(*deliveries)  # all stored before the pass ends
        for event in events:
            scanner_metrics.emitted(event)

    scanner = EscalationScanner(
        engine,
        policy,
        emit_alerts,
        now=lambda: datetime.now(UTC),
        batch_size=settings.scanner_batch_size,
    )

    leases = Leases(engine)
    lease_ttl = timedelta(seconds=settings.timer_lease_seconds)

    def projected(topic: str) -> Callable[[], bool]:
        def holds_all() -> bool:  # what the previous holder sent is in the read models
            ends = end_offsets(bootstrap, (topic,))
            stored = writer.stored_offsets()
            return all(stored.get(key, 0) >= end for key, end in ends.items())

        return holds_all

    scanner_lease = TimerLease(
        "scanner", leases, worker_id, lease_ttl, projected(topics.alerts), health.lease_held
    )
    outbox_lease = TimerLease(
        "outbox",
        leases,
        worker_id,
        lease_ttl,
        projected(topics.for_kind(CaseKind.rectification)),
        health.lease_held,
    )

    scanning = Backoff("scanner", health)

    async def scan_once() -> None:
        if not await asyncio.to_thread(scanner_lease.ready):
            return
        result = await scanner.scan_once()
        scanner_metrics.pass_seconds.observe(result.seconds)
        scanner_metrics.due_clocks.set(result.clocks)

    async def scan_deadlines() -> None:
        await scanning.run(scan_once)

    if settings.scanner_enabled:
        app.timer(interval=settings.scanner_interval_seconds)(scan_deadlines)

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def forget_revoked(sender: Any, revoked: set[Any], **_: Any) -> None:
        for tp in revoked:  # measured again once assigned and resumed here
            projector.positions.pop((tp.topic, tp.partition), None)

    @app.timer(interval=settings.worker_metrics_interval_seconds)
    async def measure_lag() -> None:
        """Lag of each assigned partition (end offset − committed position) and projection age;
        a partition is measured once it has resumed from its checkpoint here."""
        await measuring.run(measure_lag_once)

    measuring = Backoff("lag", health)

    async def measure_lag_once() -> None:
        resumed = [
            tp
            for tp in app.consumer.assignment()
            if (tp.topic, tp.partition) in projector.positions
        ]
        # a rebalance or the broker away: the gauges keep their values until the next success
        ends = await app.consumer.highwaters(*resumed) if resumed else {}
        measured = {(tp.topic, tp.partition): end for tp, end in ends.items()}
        pipeline_metrics.measure(measured, projector.positions, projector.newest, now=time.time())
        if all(projector.positions.get(key, 0) >= end for key, end in measured.items()):
            projector.status.caught_up()  # not behind: nothing to commit is no stall

    pending = Outbox(engine)

    relaying = Backoff("outbox", health)

    async def relay_once() -> None:
        if not await asyncio.to_thread(outbox_lease.ready):
            return
        rows = await asyncio.to_thread(pending.unpublished)
        if not rows:
            return
        deliveries = [
            await rectification_topic.send(key=case_id.encode(), value=body.encode())
            for _, case_id, body in rows
        ]
        await asyncio.gather(*deliveries)
        await asyncio.to_thread(pending.mark_published, [event_id for event_id, _, _ in rows])

    @app.timer(interval=settings.outbox_interval_seconds)
    async def publish_outbox() -> None:
        """Publish derived events (review, rectification) committed with their cause."""
        await relaying.run(relay_once)

    heartbeats = Heartbeats(engine)

    def heartbeat() -> None:
        status = projector.status
        heartbeats.beat(
            Heartbeat(
                worker_id,
                datetime.now(UTC),
                status.state,
                status.since,
                status.detail,
                status.progressed_at,
            )
        )

    beating = Backoff("heartbeat", health, ceiling=5.0)

    async def beat_while_projecting() -> None:
        """Say that this worker's projector runs (GET /readyz reads it): a task of the agent,
        so the beats stop when the projector does."""
        while True:
            await beating.run(lambda: asyncio.to_thread(heartbeat))
            await asyncio.sleep(settings.heartbeat_seconds)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def leave(sender: Any, **_: Any) -> None:
        def forget() -> None:
            if projector.status.state != "crashed":  # a crash stays visible until it expires
                heartbeats.forget(worker_id)
            scanner_lease.release()
            outbox_lease.release()

        with contextlib.suppress(Exception):  # the database may be the reason we stop
            await asyncio.to_thread(forget)

    notifier = WebhookNotifier.from_settings(settings, engine, registry)
    if notifier.webhooks:
        recording = Backoff("notifier", health)

        @app.agent(alerts_topic)
        async def notify(stream: faust.StreamT[bytes]) -> None:
            async for batch in stream.take_events(500, within=0.05):  # type: ignore[attr-defined]
                alerts = [
                    parse_event(event.value, settings.timezone) for event in batch if event.value
                ]
                # recorded durably before the batch is acked: retried until the database takes it
                while True:
                    await recording.run(functools.partial(notifier.on_alerts, alerts))
                    if not recording.failures:
                        break
                    await asyncio.sleep(1.0)

        delivering = Backoff("webhooks", health)

        @app.timer(interval=settings.webhook_interval_seconds)
        async def deliver_webhooks() -> None:
            # deliveries are durable rows with leases: a worker stopping mid-attempt leaves them
            # to be retried, so nothing needs closing at shutdown
            await delivering.run(lambda: notifier.deliver_due(datetime.now(UTC)))

    return app


class _Worker(faust.Worker):
    """faust's worker, with repeated Kafka client errors rate-limited in its log."""

    def __init__(self, app: faust.App, log_filter: logging.Filter, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._log_filter = log_filter

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        for handler in logger.handlers:
            handler.addFilter(self._log_filter)


def run_worker(settings: Settings, metrics_port: int | None = None) -> None:
    """Run the worker until SIGTERM/SIGINT (blocking)."""
    registry = CollectorRegistry()
    if metrics_port:
        start_http_server(metrics_port, addr="127.0.0.1", registry=registry)
    health = WorkerHealthMetrics(registry)
    app = build_app(settings, registry, health)
    # the projector allocates many short-lived objects per event: keep start-up objects out of
    # the collector's way and collect young objects less often (full collections were ~15 % of time)
    gc.freeze()
    gc.set_threshold(20_000, 10, 100)
    worker = _Worker(app, RepeatedErrorFilter(health), loglevel="WARNING", quiet=True)
    worker.execute_from_commandline()
