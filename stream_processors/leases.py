"""Timers that run on one worker at a time: the escalation scanner and the outbox relay each run
only on the worker holding their lease (table `leases`), renewed while it runs.

A worker taking a lease over first waits until the read models hold everything on the timer's
topic (what the previous holder sent, read back by the projectors), so a handover sends nothing
twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from prometheus_client import Gauge

from casestream.read_models.workers import Leases


class TimerLease:
    def __init__(
        self,
        name: str,
        leases: Leases,
        holder: str,
        ttl: timedelta,
        settled: Callable[[], bool],
        held_gauge: Gauge,
    ) -> None:
        self.name = name
        self._leases = leases
        self._holder = holder
        self._ttl = ttl
        self._settled_check = settled
        self._gauge = held_gauge.labels(name)
        self._renew_at = 0.0  # monotonic; 0: not held
        self._settled = False

    def ready(self) -> bool:
        """Whether this worker holds the lease (taken or renewed here when due) and the read
        models hold what the timer's topic has; blocking (run it off the event loop)."""
        if time.monotonic() >= self._renew_at:
            if not self._leases.acquire(self.name, self._holder, datetime.now(UTC), self._ttl):
                self._renew_at, self._settled = 0.0, False
                self._gauge.set(0)
                return False
            self._renew_at = time.monotonic() + self._ttl.total_seconds() / 3
            self._gauge.set(1)
        if not self._settled:
            self._settled = self._settled_check()
        return self._settled

    def release(self) -> None:
        if self._renew_at:
            self._leases.release(self.name, self._holder)
            self._renew_at, self._settled = 0.0, False
            self._gauge.set(0)
