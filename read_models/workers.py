"""Operational state shared by the workers through the read-model database: heartbeats (is a
projector running?) and leases (which worker runs a timer now). See `schema.worker_heartbeats`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from .schema import leases, worker_heartbeats
from .sql import insert_missing, upsert


@dataclass(frozen=True)
class Heartbeat:
    worker_id: str
    beat_at: datetime
    projector: str  # running / retrying / crashed
    since: datetime
    detail: str
    progressed_at: datetime | None = None  # its last batch committed


class Heartbeats:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def beat(self, beat: Heartbeat) -> None:
        with self._engine.begin() as conn:
            upsert(
                conn,
                worker_heartbeats,
                [
                    {
                        "worker_id": beat.worker_id,
                        "beat_at": beat.beat_at,
                        "projector": beat.projector,
                        "since": beat.since,
                        "progressed_at": beat.progressed_at,
                        "detail": beat.detail[:2000],
                    }
                ],
            )

    def fresh(self, now: datetime, within: timedelta) -> list[Heartbeat]:
        """Heartbeats of workers heard from since `now - within`, newest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(worker_heartbeats)
                .where(worker_heartbeats.c.beat_at >= now - within)
                .order_by(worker_heartbeats.c.beat_at.desc())
            )
            return [
                Heartbeat(
                    row.worker_id,
                    row.beat_at,
                    row.projector,
                    row.since,
                    row.detail,
                    row.progressed_at,
                )
                for row in rows
            ]

    def forget(self, worker_id: str) -> None:
        """A worker stopping cleanly says so, rather than leave a heartbeat to expire."""
        with self._engine.begin() as conn:
            conn.execute(
                worker_heartbeats.delete().where(worker_heartbeats.c.worker_id == worker_id)
            )


class Leases:
    """Named leases with an expiry: whoever holds an unexpired one runs the work it names."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def acquire(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take or renew the lease `name` for `holder` until `now + ttl`; False while another
        holder's lease has not expired."""
        with self._engine.begin() as conn:
            renewed = conn.execute(
                leases.update()
                .where(
                    leases.c.name == name,
                    sa.or_(leases.c.holder == holder, leases.c.expires_at < now),
                )
                .values(holder=holder, expires_at=now + ttl)
            ).rowcount
            if renewed:
                return True
            insert_missing(
                conn, leases, [{"name": name, "holder": holder, "expires_at": now + ttl}]
            )
            return bool(
                conn.execute(sa.select(leases.c.holder).where(leases.c.name == name)).scalar_one()
                == holder
            )

    def release(self, name: str, holder: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(leases.delete().where(leases.c.name == name, leases.c.holder == holder))
