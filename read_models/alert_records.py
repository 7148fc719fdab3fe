"""Recording the alerts of a batch on clocks no case event of the batch touches, set-wise: the
common case (a scanner pass's midnight cohort of warnings) in a few statements per thousand
alerts instead of a round of Python and SQL per clock.

The result is the one ClockWriter would write: each clock knows every alert recorded for it
(`with_emitted`), and its status and next alert instant follow. Clearings, clocks a case event
of the batch touches, clocks stopped by a linked case and alerts whose clock is not stored yet
are left to ClockWriter's own path.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casestream.domain.catalog import AlertCleared
from casestream.domain.clocks import Clock, ClockPolicy, with_emitted
from casestream.domain.envelope import Event

from .schema import alerts, clocks, utc_wall
from .sql import among, chunks, insert_missing

ALERT_COLUMNS = tuple(column.name for column in alerts.columns)


@dataclass
class RecordedAlerts:
    alerts: int = 0  # alert events recorded here
    clocks: dict[str, Clock] = field(default_factory=dict)  # clocks these alerts reached, as stored
    rest: list[Event[Any]] = field(default_factory=list)  # for ClockWriter's own path


def emitted_alerts(conn: sa.Connection, clock_ids: Iterable[str]) -> dict[str, set[str]]:
    """The ids of the alerts recorded for each of these clocks (clocks with none left out)."""
    emitted: dict[str, set[str]] = {}
    for part in chunks(sorted(clock_ids)):
        raised = conn.execute(
            sa.select(alerts.c.clock_id, alerts.c.alert_id).where(
                among(conn, alerts.c.clock_id, part)
            )
        )
        for clock_id, alert_id in raised:
            emitted.setdefault(clock_id, set()).add(alert_id)
    return emitted


class AlertRecorder:
    def __init__(self, policy: ClockPolicy) -> None:
        self._policy = policy

    def record(
        self, conn: sa.Connection, alert_events: Sequence[Event[Any]], busy: set[str]
    ) -> RecordedAlerts:
        """Record the alerts of `alert_events` on stored, plain clocks not in `busy` (clock ids
        a case event of the batch touches) and merge them into those clocks; the others are
        returned in `rest`, in their order."""
        held = busy | {e.payload.clock_id for e in alert_events if _clearing(e)}
        wanted = sorted({e.payload.clock_id for e in alert_events} - held)
        stored = self._plain_clocks(conn, wanted)
        outcome = RecordedAlerts()
        mine = [e for e in alert_events if e.payload.clock_id in stored]
        outcome.rest = [e for e in alert_events if e.payload.clock_id not in stored]
        if not mine:
            return outcome
        # every alert recorded for these clocks: those stored before this batch (read before
        # the batch's own go in, so the read never wades through rows this transaction just
        # wrote and the planner has no statistics for) and the batch's
        emitted = emitted_alerts(conn, stored)
        for event in mine:
            emitted.setdefault(event.payload.clock_id, set()).add(str(event.event_id))
        _insert_alerts(conn, [_alert_row(event) for event in mine])
        outcome.alerts = len(mine)
        changed: list[Clock] = []
        for clock_id, clock in stored.items():
            merged = outcome.clocks[clock_id] = with_emitted(clock, emitted.get(clock_id, ()))
            if merged is not clock:
                changed.append(merged)
        self._update_clocks(conn, changed)
        return outcome

    @staticmethod
    def _plain_clocks(conn: sa.Connection, clock_ids: Sequence[str]) -> dict[str, Clock]:
        """The stored clocks of these ids that no other case stops (no linked case)."""
        found: dict[str, Clock] = {}
        for part in chunks(clock_ids):
            rows = conn.execute(
                sa.select(clocks.c.clock_id, sa.cast(clocks.c.detail, sa.Text)).where(
                    among(conn, clocks.c.clock_id, part), clocks.c.linked_case_id.is_(None)
                )
            )
            for clock_id, detail in rows:
                found[clock_id] = Clock.model_validate_json(detail)
        return found

    def _update_clocks(self, conn: sa.Connection, changed: Sequence[Clock]) -> None:
        """Write the alert-derived fields of these clocks: status, next alert, detail."""
        if not changed:
            return
        values = [
            (
                clock.clock_id,
                self._policy.status(clock).value,
                self._policy.next_alert_at(clock),
                clock.model_dump_json(),
            )
            for clock in changed
        ]
        if conn.dialect.name != "postgresql":
            conn.execute(
                clocks.update()
                .where(clocks.c.clock_id == sa.bindparam("b_clock_id"))
                .values(
                    status=sa.bindparam("b_status"),
                    next_alert_at=sa.bindparam("b_next_alert_at"),
                    detail=sa.bindparam("b_detail", type_=clocks.c.detail.type),
                ),
                [
                    {
                        "b_clock_id": clock_id,
                        "b_status": status,
                        "b_next_alert_at": next_at,
                        "b_detail": clock.model_dump(mode="json"),
                    }
                    for (clock_id, status, next_at, _), clock in zip(values, changed, strict=True)
                ],
            )
            return
        # one statement per chunk: the rows travel as one JSON document PostgreSQL takes apart
        # (no statement, binding or escaping per row; each detail is already JSON text)
        update = sa.text(
            "UPDATE clocks SET status = v.status, next_alert_at = v.next_alert_at, "
            "detail = v.detail FROM json_to_recordset(CAST(:rows AS JSON)) "
            "AS v(clock_id TEXT, status TEXT, next_alert_at TIMESTAMP, detail JSON) "
            "WHERE clocks.clock_id = v.clock_id"
        )
        for part in chunks(values, 5000):
            rows = ",".join(
                f'{{"clock_id":{json.dumps(clock_id)},"status":"{status}",'
                f'"next_alert_at":{json.dumps(_utc_text(next_at))},"detail":{detail}}}'
                for clock_id, status, next_at, detail in part
            )
            conn.execute(update, {"rows": f"[{rows}]"})


def _clearing(event: Event[Any]) -> bool:
    return isinstance(event.payload, AlertCleared)


def _utc_text(instant: datetime | None) -> str | None:
    """As a UTCDateTime column stores it, in text."""
    return None if instant is None else utc_wall(instant).isoformat()


def _alert_row(event: Event[Any]) -> dict[str, Any]:
    """The `alerts` row of an open alert (a warning, a breach or an escalation)."""
    payload = event.payload
    return {
        "alert_id": str(event.event_id),
        "clock_id": payload.clock_id,
        "case_id": event.case_id,
        "case_kind": event.case_kind.value,
        "rule_id": payload.rule,
        "event_type": event.event_type,
        "level": payload.level,
        "notify": payload.notify,
        "due_at": payload.due_at,
        "scheduled_at": payload.scheduled_at,
        "raised_at": event.occurred_at,
        "department": payload.department,
        "enterprise": payload.enterprise,
        "status": "open",
        "cleared_at": None,
    }


_ALERT_TYPES = {
    "level": "INTEGER",
    "enterprise": "BOOLEAN",
    "due_at": "TIMESTAMP",
    "scheduled_at": "TIMESTAMP",
    "raised_at": "TIMESTAMP",
    "cleared_at": "TIMESTAMP",
}
_INSTANTS = frozenset(name for name, kind in _ALERT_TYPES.items() if kind == "TIMESTAMP")


def _insert_alerts(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert alert rows not stored yet (a redelivered alert changes nothing)."""
    if conn.dialect.name != "postgresql":
        insert_missing(conn, alerts, rows)
        return
    names = ", ".join(ALERT_COLUMNS)
    typed = ", ".join(f"{name} {_ALERT_TYPES.get(name, 'TEXT')}" for name in ALERT_COLUMNS)
    statement = sa.text(
        f"INSERT INTO alerts ({names}) SELECT {names} FROM "
        f"json_to_recordset(CAST(:rows AS JSON)) AS v({typed}) ON CONFLICT DO NOTHING"
    )
    for part in chunks(rows, 5000):
        document = [
            {name: _utc_text(value) if name in _INSTANTS else value for name, value in row.items()}
            for row in part
        ]
        conn.execute(statement, {"rows": json.dumps(document, ensure_ascii=False)})
