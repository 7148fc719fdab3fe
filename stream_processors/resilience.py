"""Surviving outages: a periodic task that fails (database or broker away) backs off and tries
again, counted in a metric and logged at most once per `log_every` seconds, never crashing the
worker. The projector's own retries are in `projector.py`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import sqlalchemy.exc

from .metrics import WorkerHealthMetrics

log = logging.getLogger(__name__)


def cause_of(exc: BaseException) -> str:
    """A bounded label for what failed: `database`, `broker` or `other`."""
    if isinstance(exc, sqlalchemy.exc.DBAPIError):
        return "database"
    module = type(exc).__module__
    if module.startswith(("aiokafka", "kafka")) or isinstance(
        exc, ConnectionError | TimeoutError | asyncio.TimeoutError
    ):
        return "broker"
    return "other"


class Backoff:
    """Runs one periodic task so that its failures pause it (1 s, 2 s, … up to `ceiling`)
    instead of stopping the worker."""

    def __init__(
        self,
        task: str,
        metrics: WorkerHealthMetrics,
        *,
        initial: float = 1.0,
        ceiling: float = 30.0,
        log_every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._task = task
        self._metrics = metrics
        self._initial = initial
        self._ceiling = ceiling
        self._log_every = log_every
        self._clock = clock
        self.failures = 0
        self._resume_at = 0.0
        self._logged_at: float | None = None
        self._suppressed = 0

    async def run(self, work: Callable[[], Awaitable[object]]) -> None:
        now = self._clock()
        if now < self._resume_at:
            return
        try:
            await work()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(exc, now)
        else:
            if self.failures:
                log.warning("%s recovered after %d failed attempts", self._task, self.failures)
            self.failures = 0
            self._resume_at = 0.0
            self._logged_at = None

    def _failed(self, exc: Exception, now: float) -> None:
        cause = cause_of(exc)
        self._metrics.task_errors.labels(self._task, cause).inc()
        self.failures += 1
        delay = min(self._ceiling, self._initial * 2 ** min(self.failures - 1, 16))
        self._resume_at = now + delay
        if self._logged_at is not None and now - self._logged_at < self._log_every:
            self._suppressed += 1
            return
        more = f" ({self._suppressed} similar errors not logged)" if self._suppressed else ""
        log.error(
            "%s failed (%s, attempt %d), retrying in %.0fs: %s: %s%s",
            self._task,
            cause,
            self.failures,
            delay,
            type(exc).__name__,
            str(exc).splitlines()[0][:300] if str(exc) else "",
            more,
        )
        self._logged_at = now
        self._suppressed = 0


CLIENT_LOGGERS = ("aiokafka", "kafka", "faust.transport", "mode")


class RepeatedErrorFilter(logging.Filter):
    """Lets a repeated warning or error of the Kafka client (the same message template from the
    same logger: "Unable connect to node …" many times a second while the broker is away)
    through once per `every` seconds, with the number left out; counts each in
    `casestream_worker_connection_errors_total`."""

    def __init__(
        self,
        metrics: WorkerHealthMetrics,
        *,
        every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._metrics = metrics
        self._every = every
        self._clock = clock
        self._last: dict[
            tuple[str, str], tuple[float, int]
        ] = {}  # (logger, template) → (at, left out)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not record.name.startswith(CLIENT_LOGGERS):
            return True
        component = record.name.split(".")[0]
        self._metrics.connection_errors.labels(component).inc()
        key = (record.name, str(record.msg))
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last[0] < self._every:
            self._last[key] = (last[0], last[1] + 1)
            return False
        if last is not None and last[1]:
            record.msg = (
                f"{record.msg} (and {last[1]} more like it in the last {now - last[0]:.0f} s)"
            )
        if len(self._last) > 10_000:  # bounded: templates, not values, are the keys
            self._last.clear()
        self._last[key] = (now, 0)
        return True
