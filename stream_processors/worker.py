"""The worker: the faust app (`app`), its topics (`topics`), agents (`agents`) and timers
(`timers`) assembled on the parts of one deployment, and run until stopped."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import sys
import threading
import uuid
from typing import Any

import faust
from prometheus_client import CollectorRegistry, start_http_server

from casestream.bootstrap import Parts, bootstrap
from casestream.domain.words import rule_titles
from casestream.read_models.digest_queries import DigestQueries
from casestream.read_models.projection import ProjectionWriter
from casestream.read_models.read_model_pointer import same_place
from casestream.read_models.workers import Heartbeats
from casestream.settings import Settings

from .agents import add_notifier, add_projector
from .app import faust_app
from .digests import DailyDigests
from .metrics import PipelineMetrics, ProjectorMetrics, WorkerHealthMetrics
from .notifier import WebhookNotifier
from .resilience import RepeatedErrorFilter
from .timers import add_digest_timer, add_lag_timer, add_leased_timers, add_webhook_timer
from .topics import declare_topics

log = logging.getLogger(__name__)


def build_app(
    parts: Parts,
    health: WorkerHealthMetrics | None = None,
    switched: threading.Event | None = None,
) -> faust.App:
    """A faust app projecting the case topics into the read models of `parts`; it stops
    (setting `switched`) once `casestream switch` points at other read models."""
    settings = parts.settings
    writer = ProjectionWriter(parts.engine, parts.policy, parts.outcomes)
    refreshed = writer.refresh_provisional_clocks()
    if refreshed:
        log.warning("recounted %d provisional clocks with the calendar in force", refreshed)
    health = health or WorkerHealthMetrics(parts.registry)
    switched = switched or threading.Event()
    worker_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"[:100]

    app = faust_app(parts)
    topics = declare_topics(app, parts.topics)
    projector = add_projector(
        app,
        topics,
        writer,
        ProjectorMetrics(parts.registry, parts.departments),
        health,
        Heartbeats(parts.home_engine),  # GET /readyz hears them across switches
        worker_id,
        settings,
        switched,
    )
    add_leased_timers(app, topics, parts, writer, health, worker_id)
    add_lag_timer(
        app,
        projector,
        PipelineMetrics(parts.registry),
        health,
        settings.worker_metrics_interval_seconds,
    )
    notifier = WebhookNotifier.from_settings(
        settings, parts.home_engine, parts.registry, rule_titles(parts.policy.rulebook)
    )
    if notifier.webhooks:
        add_notifier(app, topics, notifier, health, settings)
        add_webhook_timer(app, notifier, health, settings.webhook_interval_seconds)
    digests = DailyDigests(DigestQueries(parts.engine), notifier, parts.policy.calendar)
    if digests.enabled:
        add_digest_timer(app, digests, health)
    add_pointer_watch(app, parts, switched)
    return app


def add_pointer_watch(app: faust.App, parts: Parts, switched: threading.Event) -> None:
    """Stop the worker, gracefully (its last batch commits into the read models it started
    on), as soon as the read-model pointer names others: `run_worker` then starts again on
    them, resuming from their own checkpoints (those the replay stored with their rows)."""
    serving, pointer = parts.serving, parts.pointer

    async def watch_pointer() -> None:
        try:
            target = await asyncio.to_thread(pointer.active)
        except Exception:  # the home database away: the projector's own retries say so
            log.warning("could not read the read-model pointer", exc_info=True)
            return
        if not same_place(target, serving) and not switched.is_set():
            log.warning("read models switched to %s: restarting on them", target.describe())
            switched.set()
            os.kill(os.getpid(), signal.SIGTERM)  # faust's graceful stop

    app.timer(interval=parts.settings.read_model_poll_seconds)(watch_pointer)


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
    switched = threading.Event()
    app = build_app(bootstrap(settings, registry=registry), health, switched)
    # the projector allocates many short-lived objects per event: keep start-up objects out of
    # the collector's way and collect young objects less often (full collections were ~15 % of time)
    gc.freeze()
    gc.set_threshold(20_000, 10, 100)
    worker = _Worker(app, RepeatedErrorFilter(health), loglevel="WARNING", quiet=True)
    try:
        worker.execute_from_commandline()
    finally:
        if switched.is_set():  # the same process (pid), started afresh on the new read models
            sys.stdout.flush()
            sys.stderr.flush()
            os.execv(sys.executable, sys.orig_argv)
