"""Writing deadline clocks and the alerts raised on them, inside the projector's transaction.

A clock's alert-derived fields (status breached, next alert instant) are computed from the
set of alert ids recorded for it, so the result does not depend on whether a replay reads
the case's events or its alerts first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casestream.domain.cases import restore_state
from casestream.domain.catalog import AlertCleared, CaseKind
from casestream.domain.clocks import AlertStatus, Clock, ClockPolicy, with_emitted
from casestream.domain.envelope import Event
from casestream.domain.lifecycle import CaseState
from casestream.domain.reports import awaits_link, linked_completion, stopped_reports

from .alert_records import AlertRecorder, emitted_alerts
from .schema import alerts, cases, clocks
from .sql import among, chunks, insert_missing, upsert


@dataclass(frozen=True)
class ClocksWritten:
    """What a batch left in the clocks table."""

    alerts: int  # alert events recorded
    clocks: dict[str, Clock]  # every clock the batch touched, as stored now, by clock id


class ClockWriter:
    def __init__(self, policy: ClockPolicy) -> None:
        self._policy = policy
        self._loaded: dict[str, Clock] = {}  # as stored before this batch, to skip unchanged rows
        self._alerts = AlertRecorder(policy)
        # clocks known from the writer's memory of its own commits: every alert recorded for
        # them is already merged in, so only this batch's alerts can change their `emitted`
        self._remembered: set[str] = set()

    def load_for_cases(
        self,
        conn: sa.Connection,
        case_ids: set[str],
        remembered: Mapping[str, tuple[Clock, ...]] | None = None,
    ) -> dict[str, tuple[Clock, ...]]:
        """The clocks of these cases, read unless `remembered` (case id → clocks as this writer
        last committed them) has them; starts a batch (forgets what an earlier, failed one
        read)."""
        self._loaded.clear()
        self._remembered.clear()
        given = remembered or {}
        known = {case_id: given[case_id] for case_id in case_ids if case_id in given}
        for items in known.values():
            for clock in items:
                self._loaded[clock.clock_id] = clock
                self._remembered.add(clock.clock_id)
        found: dict[str, list[Clock]] = {}
        for part in chunks(sorted(case_ids - set(known))):
            rows = conn.execute(
                sa.select(clocks.c.case_id, clocks.c.detail).where(
                    among(conn, clocks.c.case_id, part)
                )
            )
            for row in rows:
                clock = Clock.model_validate(row.detail)
                self._loaded[clock.clock_id] = clock
                found.setdefault(row.case_id, []).append(clock)
        return known | {
            case_id: tuple(sorted(items, key=lambda c: (c.started_at, c.clock_id)))
            for case_id, items in found.items()
        }

    def advance(
        self, case_clocks: tuple[Clock, ...], event: Event[Any], state: CaseState
    ) -> tuple[Clock, ...]:
        return self._policy.advance(case_clocks, event, state)

    def write(
        self,
        conn: sa.Connection,
        case_clocks: Mapping[str, tuple[Clock, ...]],
        alert_events: Sequence[Event[Any] | None],
        completed: Mapping[str, datetime],
    ) -> ClocksWritten:
        """Record alert events, merge them into their clocks, stop clocks linked to cases
        completed (`completed`: case id → completion instant), and upsert every touched clock
        that changed."""
        # alerts on clocks no case event of this batch touches are recorded set-wise first
        recorded = self._alerts.record(
            conn,
            [event for event in alert_events if event is not None],
            busy={clock.clock_id for items in case_clocks.values() for clock in items},
        )
        alert_rows = [_alert_row(event) for event in recorded.rest]
        insert_missing(conn, alerts, alert_rows)
        cleared: dict[str, datetime] = {}  # the first clearing of a clock wins, in every batch
        for row in alert_rows:
            if row["status"] == AlertStatus.cleared:
                cleared.setdefault(row["clock_id"], row["raised_at"])
        for clock_id, cleared_at in cleared.items():
            conn.execute(
                alerts.update()
                .where(alerts.c.clock_id == clock_id, alerts.c.status == AlertStatus.open.value)
                .values(status=AlertStatus.cleared.value, cleared_at=cleared_at)
            )
        touched: dict[str, Clock] = {
            clock.clock_id: clock for items in case_clocks.values() for clock in items
        }
        missing = {alert_row["clock_id"] for alert_row in alert_rows} - set(touched)
        for part in chunks(sorted(missing)):
            stored = conn.execute(
                sa.select(clocks.c.detail).where(among(conn, clocks.c.clock_id, part))
            )
            for detail in stored.scalars():
                clock = Clock.model_validate(detail)
                self._loaded[clock.clock_id] = clock
                touched[clock.clock_id] = clock
        self._stop_linked(conn, touched, completed)
        emitted: dict[str, set[str]] = {}
        for row in alert_rows:
            emitted.setdefault(row["clock_id"], set()).add(row["alert_id"])
        # a remembered clock already holds every alert recorded before this batch
        unknown = set(touched) - (self._remembered - set(emitted))
        for clock_id, ids in emitted_alerts(conn, unknown).items():
            emitted.setdefault(clock_id, set()).update(ids)
        clock_rows: list[dict[str, Any]] = []
        final: dict[str, Clock] = {}
        for clock_id, clock in sorted(touched.items()):
            merged = final[clock_id] = with_emitted(clock, emitted.get(clock_id, ()))
            if merged != self._loaded.get(clock_id):  # unchanged clocks are not written again
                clock_rows.append(self._clock_row(merged))
        self._loaded.clear()
        self._remembered.clear()
        upsert(conn, clocks, clock_rows)
        # the clocks the set-wise path reached are stored too: a memory of them stays true
        return ClocksWritten(recorded.alerts + len(alert_rows), {**recorded.clocks, **final})

    def _stop_linked(
        self, conn: sa.Connection, touched: dict[str, Clock], completed: Mapping[str, datetime]
    ) -> None:
        """Stop report clocks whose linked case has completed, whichever of the two was seen
        first (domain/reports.py decides; this reads the clocks and cases it needs)."""
        rulebook = self._policy.rulebook
        for part in chunks(sorted(completed)):
            query = sa.select(clocks.c.detail).where(
                among(conn, clocks.c.linked_case_id, part), clocks.c.stopped_at.is_(None)
            )
            for row in conn.execute(query):
                clock = touched.get(row.detail["clock_id"]) or Clock.model_validate(row.detail)
                self._loaded.setdefault(clock.clock_id, Clock.model_validate(row.detail))
                touched[clock.clock_id] = clock
        links = {
            clock.linked_case_id
            for clock in touched.values()
            if clock.linked_case_id and awaits_link(clock, rulebook)
        }
        done = dict(completed)
        for part in chunks(sorted(links - set(done))):
            query = sa.select(cases.c.case_id, cases.c.case_kind, cases.c.state).where(
                among(conn, cases.c.case_id, part)
            )
            for row in conn.execute(query):
                completed_at = linked_completion(restore_state(CaseKind(row.case_kind), row.state))
                if completed_at is not None:
                    done[row.case_id] = completed_at
        touched.update(stopped_reports(touched, done, rulebook))

    @property
    def covered_years(self) -> tuple[int, ...]:
        return self._policy.calendar.covered_years

    def refresh_provisional(self, conn: sa.Connection) -> int:
        """Count open provisional clocks again with the calendar in force; how many changed."""
        rows = conn.execute(
            sa.select(clocks.c.detail).where(
                clocks.c.provisional.is_(True), clocks.c.stopped_at.is_(None)
            )
        )
        changed = []
        for row in rows:
            clock = Clock.model_validate(row.detail)
            counted = self._policy.recomputed(clock)
            if counted != clock:
                changed.append(self._clock_row(counted))
        upsert(conn, clocks, changed)
        return len(changed)

    def _clock_row(self, clock: Clock) -> dict[str, Any]:
        return {
            "clock_id": clock.clock_id,
            "case_id": clock.case_id,
            "case_kind": clock.case_kind.value,
            "rule_id": clock.rule_id,
            "status": self._policy.status(clock).value,
            "started_at": clock.started_at,
            "due_date": clock.due_date,
            "due_at": clock.due_at,
            "provisional": clock.provisional,
            "stopped_at": clock.stopped_at,
            "department": clock.department,
            "enterprise": clock.enterprise,
            "next_alert_at": self._policy.next_alert_at(clock),
            "detail": clock.model_dump(mode="json"),
            "linked_case_id": clock.linked_case_id,
        }


def _alert_row(event: Event[Any]) -> dict[str, Any]:
    payload = event.payload
    cleared = isinstance(payload, AlertCleared)
    return {
        "alert_id": str(event.event_id),
        "clock_id": payload.clock_id,
        "case_id": event.case_id,
        "case_kind": event.case_kind.value,
        "rule_id": payload.rule,
        "event_type": event.event_type,
        "level": getattr(payload, "level", 0),
        "notify": payload.notify,
        "due_at": payload.due_at,
        "scheduled_at": payload.scheduled_at,
        "raised_at": event.occurred_at,
        "department": payload.department,
        "enterprise": payload.enterprise,
        "status": (AlertStatus.cleared if cleared else AlertStatus.open).value,
        "cleared_at": event.occurred_at if cleared else None,
    }
