"""The durable log of outgoing alert webhooks: one row per (alert, webhook) and its attempts.

Rows are inserted once (a redelivered alert changes nothing), claimed with a lease so that
two notifiers, or one restarted mid-attempt, never post the same delivery at the same time,
and finished as delivered, retried later or failed. A channel with a rate limit (a 企业微信 or
钉钉 robot) is claimed only as far as its sends of the last minute allow, counted from this
table, so the limit holds across every worker sharing the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from casestream.domain.pacing import RATE_WINDOW, sends_allowed

from .schema import webhook_deliveries as deliveries
from .sql import chunks

STATUSES = ("pending", "delivered", "failed")


@dataclass(frozen=True)
class NewDelivery:
    alert_id: str
    webhook_id: str
    event_type: str
    case_id: str
    clock_id: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class DueDelivery:
    """A pending delivery claimed for one attempt."""

    alert_id: str
    webhook_id: str
    event_type: str
    body: str
    attempts: int  # attempts made before this one
    created_at: datetime


@dataclass(frozen=True)
class DeliveryFilter:
    alert_id: str | None = None
    webhook_id: str | None = None
    status: str | None = None  # pending / delivered / failed


class DeliveryStore:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def record(self, new: Sequence[NewDelivery]) -> list[NewDelivery]:
        """Insert the deliveries not recorded yet (one statement); those inserted."""
        if not new:
            return []
        rows = [
            {
                **asdict(delivery),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": delivery.created_at,
            }
            for delivery in new
        ]
        by_key = {(delivery.alert_id, delivery.webhook_id): delivery for delivery in new}
        inserted: list[NewDelivery] = []
        with self._engine.begin() as conn:
            statement = _insert_or_ignore(conn).returning(
                deliveries.c.alert_id, deliveries.c.webhook_id
            )
            for part in chunks(rows, 200):
                for row in conn.execute(statement, list(part)):
                    inserted.append(by_key[(row.alert_id, row.webhook_id)])
        return inserted

    def webhooks_alerted_on(self, clock_ids: Sequence[str]) -> dict[str, set[str]]:
        """For each clock, the webhooks that have a delivery of one of its alerts."""
        found: dict[str, set[str]] = {}
        with self._engine.connect() as conn:
            for part in chunks(sorted(set(clock_ids))):
                rows = conn.execute(
                    sa.select(deliveries.c.clock_id, deliveries.c.webhook_id)
                    .where(deliveries.c.clock_id.in_(part))
                    .distinct()
                )
                for row in rows:
                    found.setdefault(row.clock_id, set()).add(row.webhook_id)
        return found

    def claim_due(
        self,
        wanted: Mapping[str, int],
        now: datetime,
        lease_until: datetime,
        max_per_minute: Mapping[str, int] | None = None,
    ) -> list[DueDelivery]:
        """Up to `wanted[webhook]` pending deliveries per webhook due at `now`, oldest due first,
        and for a webhook in `max_per_minute` no more than its sends of the last minute allow.

        A claimed row's next attempt moves to `lease_until`, so nobody else takes it while it is
        being posted; if this process dies mid-attempt the row is due again after the lease. Its
        `last_attempt_at` becomes `now`: a send started, which the rate limit counts.
        Rows are locked as selected (SKIP LOCKED on PostgreSQL), so concurrent notifiers never
        claim the same row; a rate-limited webhook is locked for the transaction first, so two
        notifiers never both spend the same free sends.
        """
        limits = max_per_minute or {}
        claimed: list[DueDelivery] = []
        with self._engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                # take the database's write lock first (no row changes), so what is selected
                # below is still due when it is updated; PostgreSQL locks the rows it selects
                conn.execute(deliveries.update().where(sa.false()).values(attempts=0))
            for webhook_id, count in sorted(wanted.items()):
                if count > 0 and webhook_id in limits:
                    count = min(
                        count, self._sends_allowed(conn, webhook_id, limits[webhook_id], now)
                    )
                if count <= 0:
                    continue
                due = sa.and_(
                    deliveries.c.webhook_id == webhook_id,
                    deliveries.c.status == "pending",
                    deliveries.c.next_attempt_at <= now,
                )
                candidates = (
                    sa.select(deliveries.c.alert_id)
                    .where(due)
                    .order_by(deliveries.c.next_attempt_at, deliveries.c.alert_id)
                    .limit(count)
                )
                if conn.dialect.name == "postgresql":
                    candidates = candidates.with_for_update(skip_locked=True)
                # selected first, then updated: as a subquery of the UPDATE, PostgreSQL may run
                # the LIMIT … SKIP LOCKED select more than once and claim more than `count`
                alert_ids = list(conn.execute(candidates).scalars())
                if not alert_ids:
                    continue
                taken = conn.execute(
                    deliveries.update()
                    .where(due, deliveries.c.alert_id.in_(alert_ids))
                    .values(next_attempt_at=lease_until, last_attempt_at=now)
                    .returning(
                        deliveries.c.alert_id,
                        deliveries.c.event_type,
                        deliveries.c.body,
                        deliveries.c.attempts,
                        deliveries.c.created_at,
                    )
                )
                claimed.extend(
                    DueDelivery(
                        row.alert_id,
                        webhook_id,
                        row.event_type,
                        row.body,
                        row.attempts,
                        row.created_at,
                    )
                    for row in taken
                )
        claimed.sort(key=lambda delivery: (delivery.created_at, delivery.alert_id))
        return claimed

    @staticmethod
    def _sends_allowed(
        conn: sa.Connection, webhook_id: str, max_per_minute: int, now: datetime
    ) -> int:
        """How many sends `webhook_id` may start now, counted from the rows attempted within
        the last minute, under a lock held until the claim commits."""
        if conn.dialect.name == "postgresql":  # SQLite: the claim holds the write lock
            key = f"casestream.webhook_deliveries.pacing:{webhook_id}"
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(key))))
        since = now - RATE_WINDOW
        sent_at = conn.execute(
            sa.select(deliveries.c.last_attempt_at).where(
                deliveries.c.webhook_id == webhook_id,
                deliveries.c.status.in_(STATUSES),
                # a row attempted since `since` has its next attempt no earlier (claimed: the
                # lease; finished: that instant or a later retry): this bound uses the index
                deliveries.c.next_attempt_at > since,
                deliveries.c.last_attempt_at > since,
            )
        ).scalars()
        return sends_allowed(max_per_minute, (at for at in sent_at if at is not None), now)

    def finish(
        self,
        delivery: DueDelivery,
        *,
        at: datetime,
        status: str,
        status_code: int | None,
        error: str | None,
        next_attempt_at: datetime,
        counts: bool = True,
    ) -> None:
        """Record one attempt's outcome: delivered, pending again (retry) or failed. `counts`
        False: a rate-limit refusal, waited out without using one of the delivery's attempts."""
        with self._engine.begin() as conn:
            conn.execute(
                deliveries.update()
                .where(
                    deliveries.c.alert_id == delivery.alert_id,
                    deliveries.c.webhook_id == delivery.webhook_id,
                    deliveries.c.status == "pending",
                )
                .values(
                    status=status,
                    attempts=delivery.attempts + (1 if counts else 0),
                    last_attempt_at=at,
                    last_status_code=status_code,
                    last_error=error,
                    next_attempt_at=next_attempt_at,
                    delivered_at=at if status == "delivered" else None,
                )
            )

    def find(self, where: DeliveryFilter, *, limit: int) -> list[sa.Row[Any]]:
        """Deliveries newest first, without their bodies."""
        columns = [column for column in deliveries.c if column.name != "body"]
        query = (
            sa.select(*columns)
            .order_by(
                deliveries.c.created_at.desc(),
                deliveries.c.alert_id,
                deliveries.c.webhook_id,
            )
            .limit(limit)
        )
        if where.alert_id:
            query = query.where(deliveries.c.alert_id == where.alert_id)
        if where.webhook_id:
            query = query.where(deliveries.c.webhook_id == where.webhook_id)
        if where.status:
            query = query.where(deliveries.c.status == where.status)
        with self._engine.connect() as conn:
            return list(conn.execute(query))


def _insert_or_ignore(conn: sa.Connection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(deliveries).on_conflict_do_nothing()
