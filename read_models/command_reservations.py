"""One writer per case: a command's reservation of the case version it was decided on, committed
with its events' outbox rows (see `schema.command_reservations` and README, "Commands and one
writer per case")."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from casestream.domain.envelope import Event

from .outbox import outbox_row
from .schema import cases, command_reservations, outbox

RELAY_GRACE = timedelta(seconds=10)
"""How long the worker's relay leaves a command's events to the API that sends them: longer
than the API's producer waits for Kafka (5 s), so only an event the API could not send (it
stopped, or Kafka did not confirm) is sent by the relay, once."""

_LOOKUP_CHUNK = 500  # case ids per statement: well under SQLite's bound parameter limit

# namespace of the event ids of a command's events: (case, version decided on, index) names one
COMMAND_EVENT_NAMESPACE = uuid.UUID("2d6b0b7e-6f0c-4b8e-9f55-8c1e3a7d4f21")


def command_event_id(case_id: str, version: int, index: int) -> uuid.UUID:
    """The id of the `index`-th event of the command decided on `version` of `case_id`: the
    same on every send, so the API's send and the outbox relay's are one event."""
    return uuid.uuid5(COMMAND_EVENT_NAMESPACE, f"{case_id}\x1f{version}\x1f{index}")


class VersionTaken(Exception):
    """Another command was decided on the same version of the case first."""

    def __init__(self, case_id: str, version: int) -> None:
        super().__init__(f"a command on version {version} of {case_id} was carried out first")
        self.case_id = case_id
        self.version = version


@dataclass(frozen=True)
class Reservation:
    case_id: str
    version: int  # the case's version the command was decided on
    command: str
    actor: str
    reserved_at: datetime

    def next_version(self, events: Sequence[Event[Any]]) -> int:
        return self.version + len(events)


class CommandReservations:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def reserve(self, reservation: Reservation, events: Sequence[Event[Any]]) -> None:
        """Record the reservation and the events to publish in one transaction; raises
        VersionTaken when the version was reserved already (the primary key decides, never a
        check-then-insert)."""
        row = {
            "case_id": reservation.case_id,
            "version": reservation.version,
            "next_version": reservation.next_version(events),
            "command": reservation.command,
            "actor": reservation.actor,
            "event_ids": [str(event.event_id) for event in events],
            "reserved_at": reservation.reserved_at,
        }
        try:
            with self._engine.begin() as conn:
                conn.execute(command_reservations.insert(), [row])
                publish_after = reservation.reserved_at + RELAY_GRACE
                conn.execute(
                    outbox.insert(),
                    [{**outbox_row(event), "publish_after": publish_after} for event in events],
                )
        except sa.exc.IntegrityError as exc:
            raise VersionTaken(reservation.case_id, reservation.version) from exc

    def standing(self, case_id: str) -> tuple[int, tuple[str, dict[str, Any]] | None]:
        """(the version the case has once every command reserved on it is applied (0: none),
        its (kind, stored state) in the read models or None), read in that order on one
        connection: the reservations are never older than the state."""
        with self._engine.connect() as conn:
            reserved = conn.execute(
                sa.select(sa.func.max(command_reservations.c.next_version)).where(
                    command_reservations.c.case_id == case_id
                )
            ).scalar()
            row = conn.execute(
                sa.select(cases.c.case_kind, cases.c.state).where(cases.c.case_id == case_id)
            ).first()
        return int(reserved or 0), None if row is None else (row.case_kind, row.state)

    def projected_versions(self, case_ids: Collection[str]) -> dict[str, int]:
        """The versions of these cases in the read models (a case not there yet is absent)."""
        wanted = list(case_ids)
        found: dict[str, int] = {}
        with self._engine.connect() as conn:
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                rows = conn.execute(
                    sa.select(cases.c.case_id, cases.c.version).where(cases.c.case_id.in_(chunk))
                )
                found.update((row.case_id, int(row.version)) for row in rows)
        return found
