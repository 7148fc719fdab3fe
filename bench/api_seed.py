"""The API load bench's read models: N cases on PostgreSQL, made fast in SQL from a few real ones.

`figures.seed` projects 20 simulated cases of every kind with the real writer and copies them in
SQL; here the copies are spread as a province's cases are: received over two years (one every
`SPREAD_SECONDS` per copy, so a page boundary is rarely a tie), over 30 departments, with 500
enterprises per seeded enterprise name. Then the figure counters built and the calendar's years
recorded, and the alerts owed before the run taken as sent (a database in service has all three:
the services start, and the worker's scanner idles, as they would in production), VACUUM
ANALYZE (autovacuum's work on a live table), and a sample of ids and of list keys for the load to
ask for.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from figures import DEPARTMENTS, SEEDS
from timer_config import TIMEZONE

from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.outcomes import OutcomeSettings
from casestream.domain.rules import load_rulebook
from casestream.producers.simulation import simulate
from casestream.read_models.figure_counts import FigureCounter
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter

SPREAD_SECONDS = 1260  # between two copies of a seed case: 50,000 copies span about two years
ENTERPRISES = 500  # enterprise names per seeded name
SAMPLE = 20_000  # case ids the GET load picks from


@dataclass(frozen=True)
class Seeded:
    cases: int
    clocks: int
    case_ids: list[tuple[str, str | None]]  # (case id, department) sampled at random
    statuses: list[tuple[str, str]]  # (case kind, status) present
    kinds: list[str]
    departments: list[str]
    enterprise_names: list[str]
    received: tuple[datetime, datetime]  # the earliest and latest received_at


def _columns(conn: sa.Connection, schema: str, table: str) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            sa.text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position"
            ),
            {"schema": schema, "table": table},
        )
    ]


def _copied(table: str, column: str) -> str:
    if column in ("case_id", "clock_id"):
        return f"t.{column} || '-' || g"
    if column == "department":
        return f"'部门' || (g % {DEPARTMENTS})"
    if table == "cases" and column in ("received_at", "last_occurred_at"):
        return f"t.{column} - make_interval(secs => g * {SPREAD_SECONDS})"
    if table == "cases" and column == "enterprise_name":
        return f"t.enterprise_name || '-' || (g % {ENTERPRISES})"
    return f"t.{column}"


def seed(engine: sa.Engine, schema: str, cases: int) -> Seeded:
    """`cases` cases (and their clocks) in the migrated, empty `schema`."""
    policy = ClockPolicy(load_rulebook(), load_calendar(), TIMEZONE)
    writer = ProjectionWriter(engine, policy, OutcomeSettings(fallback_department="法制大队"))
    events = simulate(random.Random(7), SEEDS, datetime.now(UTC) - timedelta(days=40), "SEED")
    writer.apply_batch(
        [ConsumedEvent("seed.events", 0, offset, event) for offset, event in enumerate(events)]
    )
    with engine.connect() as conn:
        seeded = int(conn.execute(sa.text("SELECT count(*) FROM cases")).scalar_one())
    copies = max(1, cases // seeded)
    with engine.begin() as conn:
        for table in ("cases", "clocks"):
            columns = _columns(conn, schema, table)
            conn.execute(
                sa.text(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"SELECT {', '.join(_copied(table, column) for column in columns)} "
                    f"FROM {table} t, generate_series(1, {copies}) g"
                )
            )
    # as a database in service has them: the figure counters built once (at the migration of
    # an upgrade) and the calendar's years recorded, so the services start as they would in
    # production instead of spending their first minutes counting a million copied cases
    with engine.begin() as conn:
        FigureCounter(policy.rulebook, policy.timezone).ensure(conn)
        # and the alerts owed before the run taken as sent by its scanner: the copied clocks'
        # overdue cohort would otherwise keep the worker draining it through the measurement
        conn.execute(
            sa.text(
                "UPDATE clocks SET next_alert_at = NULL "
                "WHERE next_alert_at < (now() AT TIME ZONE 'UTC') + interval '1 hour'"
            )
        )
    writer.refresh_provisional_clocks()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("cases", "clocks", "anomalies", "disputes", "case_figures", "figure_counts"):
            conn.execute(sa.text(f"VACUUM ANALYZE {table}"))
    return _sample(engine)


def _sample(engine: sa.Engine) -> Seeded:
    with engine.connect() as conn:
        counted = conn.execute(
            sa.text("SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM clocks)")
        ).one()
        ids = conn.execute(
            sa.text(
                "SELECT case_id, department FROM cases TABLESAMPLE SYSTEM (5) "
                f"ORDER BY random() LIMIT {SAMPLE}"
            )
        ).all()
        statuses = conn.execute(
            sa.text("SELECT DISTINCT case_kind, status FROM cases ORDER BY 1, 2")
        ).all()
        names = conn.execute(
            sa.text(
                "SELECT DISTINCT enterprise_name FROM cases TABLESAMPLE SYSTEM (5) "
                "WHERE enterprise_name IS NOT NULL LIMIT 2000"
            )
        ).scalars()
        received = conn.execute(sa.text("SELECT min(received_at), max(received_at) FROM cases"))
        earliest, latest = received.one()
        departments = conn.execute(
            sa.text("SELECT DISTINCT department FROM cases WHERE department IS NOT NULL")
        ).scalars()
        return Seeded(
            cases=int(counted[0]),
            clocks=int(counted[1]),
            case_ids=[(row[0], row[1]) for row in ids],
            statuses=[(row[0], row[1]) for row in statuses],
            kinds=sorted({row[0] for row in statuses}),
            departments=sorted(departments),
            enterprise_names=sorted(names),
            received=(earliest.replace(tzinfo=UTC), latest.replace(tzinfo=UTC)),
        )
