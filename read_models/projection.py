"""Folding a batch of consumed events into the read models, in one transaction with the offsets.

Exactly-once in effect: offsets below a partition's checkpoint are skipped, an event id
already in the history is skipped (redelivery, or the same event sent twice), and the
checkpoint moves in the same transaction as the rows it covers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from casestream.domain.cases import evolve, kind_mismatch, restore_state
from casestream.domain.catalog import CaseKind, cited_files
from casestream.domain.clocks import ClockPolicy
from casestream.domain.disputes import DisputeLink, joins_dispute
from casestream.domain.envelope import Event, same_fact
from casestream.domain.lifecycle import CaseState
from casestream.domain.outcomes import OutcomeSettings, case_outcome_class, consequences
from casestream.domain.reports import linked_completion

from .case_cache import CaseCache
from .clock_writer import ClockWriter
from .evidence_files import case_file_rows
from .figure_counts import FigureCounter
from .outbox import outbox_row
from .schema import (
    anomalies,
    case_events,
    case_files,
    cases,
    checkpoints,
    clocks,
    disputes,
    outbox,
    projection_meta,
)
from .sql import among, chunks, insert_missing, insert_rows, upsert

REMEMBERED_CASES = 50_000  # cases whose state and clocks a writer keeps between its batches
COLLISION_SEQ = (
    -1
)  # anomaly row of an event id reused for another fact (lifecycle ones count up from 0)


@dataclass(frozen=True)
class ConsumedEvent:
    """A message taken from a topic partition; `event` is None for one sent to the dead letters."""

    topic: str
    partition: int
    offset: int
    event: Event[Any] | None


@dataclass
class BatchOutcome:
    applied: int = 0
    duplicates: int = 0
    skipped_offsets: int = 0
    anomalies: int = 0
    alerts: int = 0
    dead_letters: int = 0  # messages that could not be projected (a replay passes over them)
    by_kind: dict[str, int] = field(default_factory=dict)
    changes: list[CaseChange] = field(default_factory=list)  # applied, in order

    def merged(self, later: BatchOutcome) -> BatchOutcome:
        """This outcome followed by `later`'s (a batch written in parts)."""
        kinds = dict(self.by_kind)
        for kind, count in later.by_kind.items():
            kinds[kind] = kinds.get(kind, 0) + count
        return BatchOutcome(
            applied=self.applied + later.applied,
            duplicates=self.duplicates + later.duplicates,
            skipped_offsets=self.skipped_offsets + later.skipped_offsets,
            anomalies=self.anomalies + later.anomalies,
            alerts=self.alerts + later.alerts,
            dead_letters=self.dead_letters + later.dead_letters,
            by_kind=kinds,
            changes=[*self.changes, *later.changes],
        )


@dataclass(frozen=True)
class CaseChange:
    """One applied event with its case before and after (for the business counters)."""

    event: Event[Any]
    before: CaseState | None
    after: CaseState


class ProjectionWriter:
    """Writes batches of events into the read models of one projection."""

    def __init__(
        self,
        engine: sa.Engine,
        clock_policy: ClockPolicy,
        outcome_settings: OutcomeSettings | None = None,
        projection: str = "cases",
        remembered_cases: int = REMEMBERED_CASES,
    ) -> None:
        self._engine = engine
        self._projection = projection
        self._clocks = ClockWriter(clock_policy)
        self._figures = FigureCounter(clock_policy.rulebook, clock_policy.timezone)
        self._outcomes = outcome_settings or OutcomeSettings(timezone=clock_policy.timezone)
        self._cache = CaseCache(remembered_cases)

    def forget_cases(self) -> None:
        """Forget the cases remembered from earlier batches (partitions revoked: another worker
        may write them now); the next batch reads what it needs."""
        self._cache.forget()

    def refresh_provisional_clocks(self) -> int:
        """Recount provisional clocks when the calendar has gained a year since the last start
        (the years known are kept in projection_meta, so an unchanged calendar costs nothing)."""
        years = hashlib.sha1(repr(self._clocks.covered_years).encode()).hexdigest()
        with self._engine.begin() as conn:
            known = conn.execute(
                sa.select(projection_meta.c.value).where(projection_meta.c.key == "calendar_years")
            ).scalar()
            if known == years:
                return 0
            self._cache.forget()
            provisional = conn.execute(
                sa.select(clocks.c.case_id, clocks.c.case_kind).where(
                    clocks.c.provisional.is_(True), clocks.c.stopped_at.is_(None)
                )
            )
            counted = {row.case_id: CaseKind(row.case_kind) for row in provisional}
            recounted = self._clocks.refresh_provisional(conn)
            self._figures.update(conn, counted)
            upsert(conn, projection_meta, [{"key": "calendar_years", "value": years}])
            return recounted

    def stored_offsets(self) -> dict[tuple[str, int], int]:
        """The next offset to read per (topic, partition), as committed with the read models."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    checkpoints.c.topic, checkpoints.c.partition, checkpoints.c.next_offset
                ).where(checkpoints.c.projection == self._projection)
            )
            return {(row.topic, row.partition): row.next_offset for row in rows}

    def apply_batch(self, batch: Sequence[ConsumedEvent], *, commit: bool = True) -> BatchOutcome:
        """Project `batch` and move the checkpoints, in one transaction; with `commit=False`
        the transaction is rolled back (a probe: would the database take this?)."""
        outcome = BatchOutcome()
        if not batch:
            return outcome
        try:
            with self._engine.connect() as conn, conn.begin() as transaction:
                self._apply(conn, batch, outcome)
                if not commit:
                    transaction.rollback()
        except BaseException:
            self._cache.forget()  # whatever the batch staged, and whatever the database kept
            raise
        if commit:
            self._cache.committed()
        else:
            self._cache.forget()
        return outcome

    def _apply(
        self, conn: sa.Connection, batch: Sequence[ConsumedEvent], outcome: BatchOutcome
    ) -> None:
        stored = self._checkpoints(conn)
        self._cache.begin(stored)
        fresh = [
            item for item in batch if item.offset >= stored.get((item.topic, item.partition), 0)
        ]
        outcome.skipped_offsets = len(batch) - len(fresh)
        events = [item for item in fresh if item.event is not None and not _is_alert(item.event)]
        alert_events = [
            item.event for item in fresh if item.event is not None and _is_alert(item.event)
        ]
        known = self._known_event_ids(
            conn, [str(item.event.event_id) for item in events if item.event]
        )
        case_ids = {item.event.case_id for item in events if item.event}
        states = self._cache.states(case_ids)
        states.update(self._load_states(conn, case_ids - set(states)))
        case_clocks = self._clocks.load_for_cases(conn, case_ids, self._cache.clocks(case_ids))
        event_rows: list[dict[str, Any]] = []
        anomaly_rows: list[dict[str, Any]] = []
        dispute_rows: list[dict[str, Any]] = []
        outbox_rows: list[dict[str, Any]] = []
        file_rows: list[dict[str, Any]] = []  # the evidence files each case cites
        touched: dict[str, CaseState] = {}
        repeated: list[Event[Any]] = []  # ids already applied: the same fact, or a collision
        first_seen: dict[str, Event[Any]] = {}  # applied in this batch
        for item in events:
            event = item.event
            assert event is not None
            event_id = str(event.event_id)
            if event_id in known:
                outcome.duplicates += 1
                repeated.append(event)
                continue
            known.add(event_id)
            first_seen[event_id] = event
            before = states.get(event.case_id)
            mismatch = kind_mismatch(before, event)
            if mismatch is not None:  # recorded on the case, never applied to it
                version = before.version if before else 0
                anomaly_rows.append(_anomaly_row(event, seq=0, version=version, reason=mismatch))
                continue
            after = evolve(before, event)
            states[event.case_id] = touched[event.case_id] = after
            case_clocks[event.case_id] = self._clocks.advance(
                case_clocks.get(event.case_id, ()), event, after
            )
            event_rows.append(_event_row(item, event, after.version))
            file_rows.extend(case_file_rows(event.case_id, cited_files(event.payload)))
            outbox_rows.extend(
                outbox_row(derived)
                for derived in consequences(event, before, after, self._outcomes)
            )
            for seq, anomaly in enumerate(
                a for a in after.anomalies if a.event_id == event.event_id
            ):
                anomaly_rows.append(
                    _anomaly_row(event, seq=seq, version=anomaly.version, reason=anomaly.reason)
                )
            link = joins_dispute(before, after, event.occurred_at)
            if link is not None:
                dispute_rows.append(_dispute_row(link))
            outcome.applied += 1
            outcome.changes.append(CaseChange(event, before, after))
            outcome.by_kind[event.case_kind.value] = (
                outcome.by_kind.get(event.case_kind.value, 0) + 1
            )
        anomaly_rows.extend(self._collisions(conn, repeated, first_seen, states))
        outcome.anomalies = len(anomaly_rows)
        insert_rows(conn, case_events, event_rows)
        upsert(conn, cases, [_case_row(state) for state in touched.values()])
        insert_missing(conn, anomalies, anomaly_rows)
        insert_missing(conn, disputes, dispute_rows)
        insert_missing(conn, outbox, outbox_rows)
        insert_missing(conn, case_files, file_rows)
        completions = {case_id: linked_completion(state) for case_id, state in touched.items()}
        completed = {case_id: at for case_id, at in completions.items() if at is not None}
        written = self._clocks.write(
            conn,
            {case_id: case_clocks.get(case_id, ()) for case_id in touched},
            alert_events,
            completed,
        )
        outcome.alerts = written.alerts
        counted = {case_id: state.case_kind for case_id, state in touched.items()}
        for alert in alert_events:
            if alert is not None:
                counted.setdefault(alert.case_id, alert.case_kind)
        for clock in written.clocks.values():  # a report clock stopped by another case's end
            counted.setdefault(clock.case_id, clock.case_kind)
        self._figures.update(conn, counted)
        advanced = self._advanced(batch, stored)
        upsert(conn, checkpoints, advanced)
        self._cache.stage(
            states,
            {case_id: case_clocks.get(case_id, ()) for case_id in states},
            written.clocks.values(),
            stored | {(row["topic"], row["partition"]): row["next_offset"] for row in advanced},
        )

    def _checkpoints(self, conn: sa.Connection) -> dict[tuple[str, int], int]:
        """Every checkpoint of the projection (the writer's memory holds only while they are
        the ones it left)."""
        rows = conn.execute(
            sa.select(
                checkpoints.c.topic, checkpoints.c.partition, checkpoints.c.next_offset
            ).where(checkpoints.c.projection == self._projection)
        )
        return {(row.topic, row.partition): row.next_offset for row in rows}

    def _advanced(
        self, batch: Sequence[ConsumedEvent], stored: dict[tuple[str, int], int]
    ) -> list[dict[str, Any]]:
        next_offsets = dict(stored)
        for item in batch:
            key = (item.topic, item.partition)
            next_offsets[key] = max(next_offsets.get(key, 0), item.offset + 1)
        return [
            {
                "projection": self._projection,
                "topic": topic,
                "partition": partition,
                "next_offset": offset,
            }
            for (topic, partition), offset in sorted(next_offsets.items())
            if offset != stored.get((topic, partition))
        ]

    @staticmethod
    def _collisions(
        conn: sa.Connection,
        repeated: list[Event[Any]],
        first_seen: dict[str, Event[Any]],
        states: dict[str, CaseState],
    ) -> list[dict[str, Any]]:
        """Anomaly rows for events whose id already stands for another fact: not applied, but
        not dropped silently either (recorded on the case that holds the id)."""
        if not repeated:
            return []
        stored: dict[str, dict[str, Any]] = {
            event_id: event.model_dump(mode="json") for event_id, event in first_seen.items()
        }
        wanted = sorted({str(e.event_id) for e in repeated} - set(stored))
        for part in chunks(wanted):
            rows = conn.execute(
                sa.select(case_events.c.event_id, case_events.c.body).where(
                    among(conn, case_events.c.event_id, part)
                )
            )
            stored.update({row.event_id: row.body for row in rows})
        found: list[dict[str, Any]] = []
        for event in repeated:
            first = stored.get(str(event.event_id))
            if first is None or same_fact(first, event):
                continue
            owner = str(first.get("case_id"))  # shown on the case that holds the id
            state = states.get(owner)
            row = _anomaly_row(
                event,
                seq=COLLISION_SEQ,
                version=state.version if state else 0,
                reason=(
                    f"event_id {event.event_id} sent again for another fact "
                    f"({event.event_type} on {event.case_id}); not applied"
                ),
            )
            found.append({**row, "case_id": owner})
        return found

    @staticmethod
    def _known_event_ids(conn: sa.Connection, event_ids: list[str]) -> set[str]:
        known: set[str] = set()
        for part in chunks(sorted(set(event_ids))):
            known.update(
                conn.execute(
                    sa.select(case_events.c.event_id).where(
                        among(conn, case_events.c.event_id, part)
                    )
                ).scalars()
            )
        return known

    @staticmethod
    def _load_states(conn: sa.Connection, case_ids: set[str]) -> dict[str, CaseState]:
        states: dict[str, CaseState] = {}
        for part in chunks(sorted(case_ids)):
            rows = conn.execute(
                sa.select(cases.c.case_id, cases.c.case_kind, cases.c.state).where(
                    among(conn, cases.c.case_id, part)
                )
            )
            for row in rows:
                states[row.case_id] = restore_state(CaseKind(row.case_kind), row.state)
        return states


def _is_alert(event: Event[Any]) -> bool:
    return bool(type(event.payload).derived)


def _event_row(item: ConsumedEvent, event: Event[Any], version: int) -> dict[str, Any]:
    return {
        "event_id": str(event.event_id),
        "case_id": event.case_id,
        "version": version,
        "case_kind": event.case_kind.value,
        "event_type": event.event_type,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "topic": item.topic,
        "partition": item.partition,
        "offset": item.offset,
        "body": event.as_published(),  # the fact as published, at its own schema version
    }


def _dispute_row(link: DisputeLink) -> dict[str, Any]:
    return {
        "decision_ref": link.decision_ref,
        "case_id": link.case_id,
        "case_kind": link.case_kind.value,
        "linked_at": link.linked_at,
    }


def _anomaly_row(event: Event[Any], *, seq: int, version: int, reason: str) -> dict[str, Any]:
    return {
        "event_id": str(event.event_id),
        "seq": seq,
        "case_id": event.case_id,
        "version": version,
        "event_type": event.event_type,
        "reason": reason,
    }


def _case_row(state: CaseState) -> dict[str, Any]:
    received = state.opened_at or state.last_occurred_at
    assert received is not None and state.last_occurred_at is not None
    return {
        "case_id": state.case_id,
        "case_kind": state.case_kind.value,
        "status": state.status,
        "version": state.version,
        "received_at": received,
        "last_occurred_at": state.last_occurred_at,
        "department": state.department,
        "handler": state.handler,
        "enterprise": state.enterprise,
        "enterprise_name": state.enterprise_name,
        "decision_ref": state.decision_ref,
        "subject": state.subject,
        "paused": state.paused,
        "anomaly_count": len(state.anomalies),
        "satisfaction": state.__dict__.get("satisfaction"),  # complaints only (a cheap getattr)
        "outcome": case_outcome_class(state),
        "state": state.model_dump(mode="json"),
    }
