"""The escalation scanner: finds clocks owing a warning, a breach, an escalation or a clearing,
and emits those alerts to alerts.events.

Each pass reads only clocks whose `next_alert_at` has come (an index range), so its work
grows with the clocks that are due, not with all open clocks. Alert ids (and event ids) are
deterministic, so a pass run twice, by two workers, or again after a crash emits nothing new
in effect; the projector records the alerts and moves each clock's `next_alert_at` on.
Alerts missed while no worker ran are emitted when one comes back, in due order.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casestream.domain.alerts import AlertPayload, alert_fields
from casestream.domain.clocks import Clock, ClockPolicy, DueAlert
from casestream.domain.envelope import EVENT_MODELS, Event
from casestream.read_models.schema import clocks

SCANNER_SOURCE = "casestream.scanner"

Now = Callable[[], datetime]
Emit = Callable[[list[Event[Any]]], Awaitable[None]]  # sends in order, returns once all are stored


@dataclass(frozen=True)
class ScanResult:
    clocks: int
    emitted: int
    seconds: float


class EscalationScanner:
    def __init__(
        self,
        engine: sa.Engine,
        policy: ClockPolicy,
        emit: Emit,
        now: Now,
        batch_size: int = 1000,
        memory: int = 1_000_000,
        max_pages: int = 1_000,
    ) -> None:
        self._engine = engine
        self._policy = policy
        self._emit = emit
        self._now = now
        self._batch_size = batch_size
        # alerts sent but perhaps not yet projected: not sent again by the next pass
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._memory = memory
        self._max_pages = max_pages

    def _due_clocks(self, now: datetime, after: tuple[datetime, str] | None) -> list[sa.Row[Any]]:
        with self._engine.connect() as conn:
            return list(conn.execute(due_clocks_page(now, after, self._batch_size)))

    async def scan_once(self) -> ScanResult:
        """One pass: every clock due at `now`, page by page (a midnight cohort of warnings is
        read through in one pass, not one page per interval while the projector catches up)."""
        started = time.perf_counter()
        now = self._now()
        after: tuple[datetime, str] | None = None
        seen = emitted = 0
        for _ in range(self._max_pages):
            rows = await asyncio.to_thread(self._due_clocks, now, after)
            seen += len(rows)
            due = [Clock.model_validate_json(row.detail) for row in rows]
            owed = sorted(
                ((alert, clock) for clock in due for alert in self._policy.due_alerts(clock, now)),
                key=lambda pair: (pair[0].scheduled_at, pair[1].clock_id, pair[0].level),
            )
            fresh = [(alert, clock) for alert, clock in owed if alert.alert_id not in self._recent]
            if fresh:
                await self._emit([alert_event(clock, alert, now) for alert, clock in fresh])
                for alert, _ in fresh:
                    self._remember(alert.alert_id)
            emitted += len(fresh)
            if len(rows) < self._batch_size:
                break
            after = (rows[-1].next_alert_at, rows[-1].clock_id)
        return ScanResult(seen, emitted, time.perf_counter() - started)

    def _remember(self, alert_id: str) -> None:
        self._recent[alert_id] = None
        while len(self._recent) > self._memory:
            self._recent.popitem(last=False)


def due_clocks_page(
    now: datetime, after: tuple[datetime, str] | None, limit: int
) -> sa.Select[tuple[datetime, str, str]]:
    """A page of the clocks due at `now` in (next_alert_at, clock_id) order, after `after`: a
    range of that index, so a pass reads the due clocks and nothing else (each clock's detail as
    its JSON text, parsed once by the domain model rather than first into a dict)."""
    query = (
        sa.select(
            clocks.c.next_alert_at,
            clocks.c.clock_id,
            sa.cast(clocks.c.detail, sa.Text).label("detail"),
        )
        .where(clocks.c.next_alert_at <= now)
        .order_by(clocks.c.next_alert_at, clocks.c.clock_id)
        .limit(limit)
    )
    if after is None:
        return query
    # a row-value comparison is a range of the index: each page starts where the last ended
    # (an OR over the two columns is only a filter, so every page would read the cohort again
    # from its start)
    return query.where(sa.tuple_(clocks.c.next_alert_at, clocks.c.clock_id) > after)


def alert_event(clock: Clock, alert: DueAlert, now: datetime) -> Event[AlertPayload]:
    """The alert as an event on alerts.events; its event id is the deterministic alert id.

    Built without validating it again (`model_construct`): every field comes from the stored
    clock, whose values were validated when its case's events were read, and from the rule
    book. A midnight cohort builds hundreds of thousands of these in one pass; building them
    validated was two fifths of the pass. tests/unit/test_scanner_events.py proves the event equal to the
    one `new_event` validates from `alert_payload`, field for field."""
    payload_type = alert.payload_type
    payload = payload_type.model_construct(**alert_fields(clock, alert))
    model = EVENT_MODELS[payload_type.__name__]
    return model.model_construct(
        event_id=uuid.UUID(alert.alert_id),
        event_type=payload_type.__name__,
        schema_version=payload_type.schema_version,
        case_id=clock.case_id,
        case_kind=clock.case_kind,
        # the instant is the clock's, not the wall clock's: the same alert sent again (a
        # restarted or second scanner) is the same event, whatever batch it lands in
        occurred_at=alert.scheduled_at,
        recorded_at=now,
        source=SCANNER_SOURCE,
        actor="system",
        on_behalf_of=None,
        correlation_id=clock.start_event_id,
        causation_id=clock.start_event_id,
        payload=payload,
    )
