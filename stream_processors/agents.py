"""The worker's agents (faust's `agents`): the projector on the case topics, with the heartbeat
that says it runs and the crash that stops the worker when the read models refuse every write;
and the notifier recording who must hear of each alert."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import faust

from casestream.domain.envelope import parse_event
from casestream.producers.deadletters import (
    SourcePosition,
    dead_letter_headers,
    replayed_letter_id,
)
from casestream.read_models.projection import ProjectionWriter
from casestream.read_models.workers import Heartbeat, Heartbeats
from casestream.settings import Settings

from .batching import PipelinedBatches
from .metrics import ProjectorMetrics, WorkerHealthMetrics
from .notifier import WebhookNotifier
from .projector import DeadLetter, Projector, RawMessage
from .resilience import Backoff
from .topics import WorkerTopics

log = logging.getLogger(__name__)


def _raw_message(event: faust.types.EventT[bytes]) -> RawMessage:
    message = event.message
    return RawMessage(
        message.topic,
        message.partition,
        message.offset,
        message.key,
        message.value,
        replayed_letter_id(message.headers),
    )


def add_projector(
    app: faust.App,
    topics: WorkerTopics,
    writer: ProjectionWriter,
    metrics: ProjectorMetrics,
    health: WorkerHealthMetrics,
    heartbeats: Heartbeats,
    worker_id: str,
    settings: Settings,
    restarting: threading.Event | None = None,
) -> Projector:
    """Project the case topics into `writer`'s read models in batches, each committed with
    the offsets it covers; the projector, whose positions and status the timers read. A
    worker stopping to start again (`restarting` set) leaves its last heartbeat standing."""

    async def send_dead_letter(letter: DeadLetter) -> None:
        message = letter.message
        headers = dead_letter_headers(
            letter.reason,
            letter.detail,
            SourcePosition(message.topic, message.partition, message.offset),
            message.replay_of,
        )
        delivery = await topics.deadletter.send(
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

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def forget_revoked(sender: Any, revoked: set[Any], **_: Any) -> None:
        for tp in revoked:  # measured again once assigned and resumed here
            projector.positions.pop((tp.topic, tp.partition), None)
        if revoked:  # another worker may write those partitions' cases from now on
            writer.forget_cases()

    async def write(batch: Sequence[faust.types.EventT[bytes]]) -> None:
        await projector.handle([_raw_message(event) for event in batch])

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

    @app.agent(topics.projected)
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

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def leave(sender: Any, **_: Any) -> None:
        def forget() -> None:
            if restarting is not None and restarting.is_set():
                return  # back within seconds: GET /readyz stays ready meanwhile
            if projector.status.state != "crashed":  # a crash stays visible until it expires
                heartbeats.forget(worker_id)

        with contextlib.suppress(Exception):  # the database may be the reason we stop
            await asyncio.to_thread(forget)

    return projector


def add_notifier(
    app: faust.App,
    topics: WorkerTopics,
    notifier: WebhookNotifier,
    health: WorkerHealthMetrics,
    settings: Settings,
) -> None:
    """Record one pending delivery per alert and matching webhook (the webhook timer sends
    them), durably, before the alerts are acked."""
    recording = Backoff("notifier", health)

    @app.agent(topics.alerts)
    async def notify(stream: faust.StreamT[bytes]) -> None:
        async for batch in stream.take_events(500, within=0.05):  # type: ignore[attr-defined]
            alerts = [parse_event(event.value, settings.timezone) for event in batch if event.value]
            # recorded durably before the batch is acked: retried until the database takes it
            while True:
                await recording.run(functools.partial(notifier.on_alerts, alerts))
                if not recording.failures:
                    break
                await asyncio.sleep(1.0)
