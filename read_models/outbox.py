"""Reading and marking the transactional outbox (see `schema.outbox`)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from casestream.domain.catalog import CaseKind

from .schema import case_events, outbox


@dataclass(frozen=True)
class PendingEvent:
    """A derived event committed with its cause and not yet on Kafka."""

    event_id: str
    case_id: str  # the Kafka key
    case_kind: CaseKind  # its topic
    body: str  # the event as JSON


class Outbox:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def unpublished(self, limit: int = 500) -> list[PendingEvent]:
        """The events not yet on Kafka, oldest first. One already projected was published (by a
        worker stopped before it could mark it): marked, not sent."""
        with self._engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(
                    outbox.c.published.is_(False),
                    outbox.c.event_id.in_(sa.select(case_events.c.event_id)),
                )
                .values(published=True)
            )
            rows = conn.execute(
                sa.select(outbox.c.event_id, outbox.c.case_id, outbox.c.case_kind, outbox.c.body)
                .where(outbox.c.published.is_(False))
                .order_by(outbox.c.occurred_at, outbox.c.event_id)
                .limit(limit)
            )
            return [
                PendingEvent(row.event_id, row.case_id, CaseKind(row.case_kind), row.body)
                for row in rows
            ]

    def mark_published(self, event_ids: list[str]) -> None:
        if event_ids:
            with self._engine.begin() as conn:
                conn.execute(
                    outbox.update().where(outbox.c.event_id.in_(event_ids)).values(published=True)
                )
