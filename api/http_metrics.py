"""Prometheus metrics of the API processes: the latency of every request, and the registry
GET /metrics serves, which adds up the worker processes of `casestream api --workers N`."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"
"""The `route` of a request no route matched: any URL a client makes up counts here."""

OTHER_METHOD = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""HTTP methods kept as label values; a made-up method is `other` (servers accept any token)."""

REQUEST_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# prometheus_client's own variable: read once, when prometheus_client is imported, to decide
# whether metric values live in memory or in per-process files; so it is not a Settings field
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"


@dataclass
class RequestMetrics:
    request_seconds: Histogram

    @classmethod
    def on(cls, registry: CollectorRegistry) -> RequestMetrics:
        return cls(
            Histogram(
                "casestream_api_request_seconds",
                "Time to answer an API request, by route template, method and status "
                "(server-sent event streams: until the stream starts)",
                ["route", "method", "status"],
                buckets=REQUEST_SECONDS_BUCKETS,
                registry=registry,
            )
        )

    def observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")  # set by the router on the scope when a route matched
        method = scope["method"] if scope["method"] in METHODS else OTHER_METHOD
        self.request_seconds.labels(getattr(route, "path", UNMATCHED), method, str(status)).observe(
            seconds
        )


def _is_event_stream(start: Message) -> bool:
    return any(
        name.lower() == b"content-type" and value.startswith(b"text/event-stream")
        for name, value in start.get("headers", [])
    )


class RequestTiming:
    """Pure ASGI middleware timing each HTTP request from its arrival to its last body chunk.

    A server-sent event stream (`text/event-stream`, GET /alerts/stream) is timed to its
    response start instead: it stays open for hours and would swamp the histogram. A request
    whose handler raises before answering is counted as the 500 the server then sends. Pure
    ASGI rather than BaseHTTPMiddleware, which would buffer streaming responses.
    """

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        observed = False

        def observe() -> None:
            nonlocal observed
            if not observed:
                observed = True
                self.metrics.observe(scope, status, time.perf_counter() - started)

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if _is_event_stream(message):
                    observe()
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                observe()  # before the last chunk goes out: a client seeing the end sees the count
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            observe()  # the handler raised, or ended without a complete response


class ApiRegistry(CollectorRegistry):
    """The metrics of one API process, and what GET /metrics serves of them (`for_scrape`).

    Two kinds of collectors are registered here. Metric objects (Counter, Gauge, Histogram
    created with `registry=`) count what this process does. Custom collectors, any other
    object with a `collect()` (e.g. figures read from the database at scrape time), are
    remembered as they are registered, with `register` as usual.

    In one process this registry is served as it is. With several worker processes
    (`casestream api --workers N`, which sets PROMETHEUS_MULTIPROC_DIR before they start),
    prometheus_client keeps each process's metric values in files of that directory, and a
    scrape, answered by any one worker, serves a fresh registry: a MultiProcessCollector,
    which adds up (gauges: per their `multiprocess_mode`) the files of all workers, dead ones
    included, plus the custom collectors of this process, which read shared state and so give
    the same answer in every worker.
    """

    def __init__(self) -> None:
        super().__init__()
        self._custom: list[Collector] = []

    def register(self, collector: Collector) -> None:
        super().register(collector)
        if not isinstance(collector, MetricWrapperBase):
            self._custom.append(collector)

    def for_scrape(self) -> CollectorRegistry:
        """The registry GET /metrics serves now."""
        directory = os.environ.get(MULTIPROCESS_DIRECTORY)
        if not directory:
            return self
        served = CollectorRegistry()
        MultiProcessCollector(served, path=directory)  # type: ignore[no-untyped-call]
        for collector in self._custom:
            served.register(collector)
        return served


def share_metrics_between_workers(directory: Path) -> None:
    """Make the API worker processes started after this call keep their metric values in
    files under `directory` (emptied first: a previous run's counts are not this run's).

    Call it in the parent before uvicorn spawns its workers: each worker is a fresh
    interpreter that inherits the environment and imports prometheus_client anew.
    """
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[MULTIPROCESS_DIRECTORY] = str(directory.resolve())
