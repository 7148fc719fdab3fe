"""The worker's timers (faust's `timers`), each at an interval from the settings and backing off
through an outage: the escalation scanner and the outbox relay (each on the one worker holding
its lease), the lag measurement, webhook delivery and the daily digest."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import faust

from casestream.bootstrap import Parts
from casestream.domain.envelope import Event
from casestream.domain.outcomes import DERIVED_KINDS
from casestream.producers.topics import end_offsets
from casestream.read_models.outbox import Outbox
from casestream.read_models.projection import ProjectionWriter
from casestream.read_models.workers import Leases

from .digests import DailyDigests
from .leases import TimerLease
from .metrics import PipelineMetrics, ScannerMetrics, WorkerHealthMetrics
from .notifier import WebhookNotifier
from .projector import Projector
from .resilience import Backoff
from .scanner import EscalationScanner
from .topics import WorkerTopics


def _projected(
    bootstrap: str, writer: ProjectionWriter, topics: tuple[str, ...]
) -> Callable[[], bool]:
    """Whether the read models hold everything now on `topics`: what a lease's previous holder
    sent there has been read back by the projectors."""

    def holds_all() -> bool:
        ends = end_offsets(bootstrap, topics)
        stored = writer.stored_offsets()
        return all(stored.get(key, 0) >= end for key, end in ends.items())

    return holds_all


def add_leased_timers(
    app: faust.App,
    topics: WorkerTopics,
    parts: Parts,
    writer: ProjectionWriter,
    health: WorkerHealthMetrics,
    worker_id: str,
) -> None:
    """The escalation scanner (unless CASESTREAM_SCANNER_ENABLED is false) and the outbox relay,
    each run by the worker holding its lease; the leases are given up when the worker stops."""
    settings = parts.settings
    bootstrap = settings.require_kafka()
    leases = Leases(parts.engine)
    lease_ttl = timedelta(seconds=settings.timer_lease_seconds)
    scanner_lease = TimerLease(
        "scanner",
        leases,
        worker_id,
        lease_ttl,
        _projected(bootstrap, writer, (topics.names.alerts,)),
        health.lease_held,
    )
    outbox_lease = TimerLease(
        "outbox",
        leases,
        worker_id,
        lease_ttl,
        _projected(
            bootstrap,
            writer,
            (
                *(topics.names.for_kind(kind) for kind in sorted(DERIVED_KINDS)),
                topics.names.alerts,  # derived alerts (a supervision's) go there
            ),
        ),
        health.lease_held,
    )
    scanner_metrics = ScannerMetrics(parts.registry, parts.departments)

    async def emit_alerts(events: list[Event[Any]]) -> None:
        deliveries = [
            await topics.alerts.send(key=event.case_id.encode(), value=event.to_json_bytes())
            for event in events
        ]
        await asyncio.gather(*deliveries)  # all stored before the pass ends
        for event in events:
            scanner_metrics.emitted(event)

    scanner = EscalationScanner(
        parts.engine,
        parts.policy,
        emit_alerts,
        now=lambda: datetime.now(UTC),
        batch_size=settings.scanner_batch_size,
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

    pending = Outbox(parts.engine)
    relaying = Backoff("outbox", health)

    async def relay_once() -> None:
        if not await asyncio.to_thread(outbox_lease.ready):
            return
        rows = await asyncio.to_thread(pending.unpublished)
        if not rows:
            return
        deliveries = [
            await (topics.alerts if row.alert else topics.cases[row.case_kind]).send(
                key=row.case_id.encode(), value=row.body.encode()
            )
            for row in rows
        ]
        await asyncio.gather(*deliveries)
        await asyncio.to_thread(pending.mark_published, [row.event_id for row in rows])

    @app.timer(interval=settings.outbox_interval_seconds)
    async def publish_outbox() -> None:
        """Publish derived events (review, rectification, supervision flag) committed with
        their cause, each to its case kind's topic, and derived alerts (a supervision's) to
        alerts.events."""
        await relaying.run(relay_once)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]  # faust types *args receivers
    async def release_leases(sender: Any, **_: Any) -> None:
        def release() -> None:
            scanner_lease.release()
            outbox_lease.release()

        with contextlib.suppress(Exception):  # the database may be the reason we stop
            await asyncio.to_thread(release)


def add_lag_timer(
    app: faust.App,
    projector: Projector,
    metrics: PipelineMetrics,
    health: WorkerHealthMetrics,
    interval_seconds: float,
) -> None:
    """Measure the lag of each assigned partition (end offset − committed position) and the
    projection's age every `interval_seconds`."""
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
        metrics.measure(measured, projector.positions, projector.newest, now=time.time())
        if all(projector.positions.get(key, 0) >= end for key, end in measured.items()):
            projector.status.caught_up()  # not behind: nothing to commit is no stall

    @app.timer(interval=interval_seconds)
    async def measure_lag() -> None:
        """Lag of each assigned partition (end offset − committed position) and projection age;
        a partition is measured once it has resumed from its checkpoint here."""
        await measuring.run(measure_lag_once)


def add_webhook_timer(
    app: faust.App,
    notifier: WebhookNotifier,
    health: WorkerHealthMetrics,
    interval_seconds: float,
) -> None:
    """Attempt the due webhook deliveries every `interval_seconds`."""
    delivering = Backoff("webhooks", health)

    @app.timer(interval=interval_seconds)
    async def deliver_webhooks() -> None:
        # deliveries are durable rows with leases: a worker stopping mid-attempt leaves them
        # to be retried, so nothing needs closing at shutdown
        await delivering.run(lambda: notifier.deliver_due(datetime.now(UTC)))


DIGEST_CHECK_SECONDS = 30.0  # how soon after its local time a day's digest is recorded


def add_digest_timer(app: faust.App, digests: DailyDigests, health: WorkerHealthMetrics) -> None:
    """Record the day's digests once their local time has passed on a working day; the webhook
    timer sends them. Every worker may run it: a digest's delivery id is the same whoever
    records it, so it is recorded, and sent, once."""
    recording = Backoff("digests", health)

    @app.timer(interval=DIGEST_CHECK_SECONDS)
    async def record_digests() -> None:
        await recording.run(lambda: digests.record_due(datetime.now(UTC)))
