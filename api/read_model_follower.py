"""The API follows the read-model pointer (`casestream switch`): it re-reads the one pointer row
every CASESTREAM_READ_MODEL_POLL_SECONDS and, when it names other read models, opens them and
swaps the services built on them in one assignment. Requests already running finish on the old
engine, which is closed a grace period later; no request fails for a switch."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import sqlalchemy as sa
from prometheus_client.registry import Collector

from casestream.read_models.alert_queries import AlertQueries
from casestream.read_models.clock_queries import ClockQueries
from casestream.read_models.database import migrate, target_engine
from casestream.read_models.queries import CaseQueries
from casestream.read_models.read_model_pointer import (
    ReadModelPointer,
    ReadModelTarget,
    same_place,
)

from .deps import Services

log = logging.getLogger(__name__)

RETIRE_SECONDS = 60.0
"""How long an engine no longer served stays open for the requests that started on it."""


class _AppState(Protocol):
    services: Services


class FollowingCollector:
    """A collector of figures read from whichever read models are served (registered once;
    `follow` hands it the collector of the new ones)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def follow(self, inner: Any) -> None:
        self._inner = inner

    def describe(self) -> Iterable[Any]:
        describe = getattr(self._inner, "describe", None)
        return describe() if describe is not None else []

    def collect(self) -> Iterable[Any]:
        collected: Iterable[Any] = self._inner.collect()
        return collected


class ReadModelFollower:
    """Keeps `state.services` on the read models the pointer names."""

    def __init__(
        self,
        state: _AppState,
        pointer: ReadModelPointer,
        serving: ReadModelTarget,
        figures: FollowingCollector,
        figures_on: Callable[[sa.Engine], Collector],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._state = state
        self._pointer = pointer
        self.serving = serving
        self._figures = figures
        self._figures_on = figures_on
        self._monotonic = monotonic
        self._retiring: list[tuple[float, sa.Engine]] = []
        self._opened: list[sa.Engine] = []

    def follow_once(self) -> bool:
        """Read the pointer; swap to the read models it names if they are others (True)."""
        self._close_retired()
        target = self._pointer.active()
        if same_place(target, self.serving):
            return False
        engine = target_engine(target)
        migrate(engine)
        services = self._state.services
        self._state.services = dataclasses.replace(
            services,
            queries=CaseQueries(engine),
            alerts=AlertQueries(engine),
            clocks=ClockQueries(engine),
            recent_writes=services.recent_writes,
        )
        self._figures.follow(self._figures_on(engine))
        self._retiring.append((self._monotonic() + RETIRE_SECONDS, services.queries.engine))
        self._opened.append(engine)
        log.warning("serving the read models of %s", target.describe())
        self.serving = target
        return True

    def _close_retired(self) -> None:
        now = self._monotonic()
        due = [engine for at, engine in self._retiring if at <= now]
        self._retiring = [(at, engine) for at, engine in self._retiring if at > now]
        for engine in due:
            if engine in self._opened:  # the engine of the parts is closed with them
                self._opened.remove(engine)
                engine.dispose()

    async def run(self, interval: float) -> None:
        """Follow the pointer until cancelled; a failed look is logged and tried again."""
        while True:
            try:
                await asyncio.to_thread(self.follow_once)
            except Exception:
                log.exception("could not read the read-model pointer; trying again")
            await asyncio.sleep(interval)

    def close(self) -> None:
        for engine in self._opened:
            with contextlib.suppress(Exception):
                engine.dispose()
        self._opened.clear()
        self._retiring.clear()
