"""Reading and marking the transactional outbox (see `schema.outbox`): the events derived by the
projector and those of the commands the API carries out, published by the worker's relay (a
derived alert, such as a supervision's, goes to alerts.events, every other event to its case
kind's topic)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from casestream.domain.catalog import PAYLOAD_TYPES, CaseKind
from casestream.domain.envelope import Event

from .schema import alerts, case_events, outbox


@dataclass(frozen=True)
class PendingEvent:
    """An event committed to the outbox and not yet on Kafka."""

    event_id: str
    case_id: str  # the Kafka key
    case_kind: CaseKind  # its topic
    body: str  # the event as JSON
    alert: bool = False  # an alert: published on alerts.events, not on its case kind's topic


def outbox_row(event: Event[Any]) -> dict[str, Any]:
    """The outbox row of an event already validated (built by `domain.envelope.new_event`)."""
    return {
        "event_id": str(event.event_id),
        "case_id": event.case_id,
        "case_kind": event.case_kind.value,
        "occurred_at": event.occurred_at,
        "body": event.model_dump_json(),
        "published": False,
    }


class Outbox:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def unpublished(self, limit: int = 500, now: datetime | None = None) -> list[PendingEvent]:
        """Events not yet on Kafka, oldest first, but for a command's events whose API may
        still be sending them (`publish_after` later than `now`). One already projected (into
        the history, or an alert into `alerts`) was published (by a worker or an API stopped
        before it could mark it): marked, not sent."""
        now = now or datetime.now(UTC)
        with self._engine.begin() as conn:
            for projected in (
                sa.select(case_events.c.event_id),
                sa.select(alerts.c.alert_id),
            ):
                conn.execute(
                    outbox.update()
                    .where(outbox.c.published.is_(False), outbox.c.event_id.in_(projected))
                    .values(published=True)
                )
            rows = conn.execute(
                sa.select(outbox.c.event_id, outbox.c.case_id, outbox.c.case_kind, outbox.c.body)
                .where(
                    outbox.c.published.is_(False),
                    sa.or_(outbox.c.publish_after.is_(None), outbox.c.publish_after <= now),
                )
                .order_by(outbox.c.occurred_at, outbox.c.event_id)
                .limit(limit)
            )
            return [
                PendingEvent(
                    row.event_id,
                    row.case_id,
                    CaseKind(row.case_kind),
                    row.body,
                    _is_alert(row.body),
                )
                for row in rows
            ]

    def mark_published(self, event_ids: list[str]) -> None:
        if event_ids:
            with self._engine.begin() as conn:
                conn.execute(
                    outbox.update().where(outbox.c.event_id.in_(event_ids)).values(published=True)
                )


def _is_alert(body: str) -> bool:
    """Whether an outbox row holds an alert (a derived payload type, recorded in `alerts`)."""
    payload_type = PAYLOAD_TYPES.get(str(json.loads(body).get("event_type")))
    return payload_type is not None and bool(payload_type.derived)
