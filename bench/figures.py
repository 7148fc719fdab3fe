"""The API's read-model figures at scale: what one refresh of the business gauges
(read_models/business_metrics.py, served on /metrics) costs on PostgreSQL with N cases.

One run:

1. PostgreSQL (started locally unless --postgres is given), a fresh schema, migrated;
2. 20 seed cases of every kind from the simulator (`casestream simulate`'s mix, started 40
   days ago) projected by the real writer (`ProjectionWriter.apply_batch`), then copied in SQL
   to --cases rows (default 1,000,000) with their clocks, over 30 departments; VACUUM ANALYZE;
3. the clocks past due marked breached, as the scanner leaves them, and the figure counters
   and tallies built from the cases (`FigureCounter.ensure`, what an upgraded database does once);
4. each of the collector's queries timed on its own, then the whole refresh
   (`ReadModelCollector.collect()`, cache off) --repeat times (median and max printed): counted
   from the cases (the tallies not built: the baseline), then from the tallies;
5. the schema dropped, and the cluster stopped if this run started it.

    .venv/bin/python bench/figures.py [--cases 1000000] [--postgres URL] [--repeat 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from bench_rows import Row, write_rows

from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy, ClockStatus
from casestream.domain.outcomes import OutcomeSettings
from casestream.domain.rules import load_rulebook
from casestream.local import postgres_for
from casestream.metric_labels import DepartmentLabels
from casestream.producers.simulation import simulate
from casestream.read_models import business_metrics as figures
from casestream.read_models import business_queries
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.figure_counts import FigureCounter
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import clocks

ROOT = Path(__file__).resolve().parents[1]
SEEDS = 20
DEPARTMENTS = 30
ZONE = "Asia/Shanghai"
rulebook = load_rulebook()


def seed(engine: sa.Engine, schema: str, cases: int) -> tuple[int, int]:
    writer = ProjectionWriter(
        engine,
        ClockPolicy(load_rulebook(), load_calendar()),
        OutcomeSettings(fallback_department="法制大队"),
    )
    events = simulate(random.Random(7), SEEDS, datetime.now(UTC) - timedelta(days=40), "SEED")
    writer.apply_batch(
        [ConsumedEvent("seed.events", 0, offset, event) for offset, event in enumerate(events)]
    )
    copies = max(1, cases // SEEDS)
    with engine.begin() as conn:
        for table, key in (("cases", "case_id"), ("clocks", "clock_id")):
            columns = [
                row[0]
                for row in conn.execute(
                    sa.text(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_schema = :schema AND table_name = :table "
                        "ORDER BY ordinal_position"
                    ),
                    {"schema": schema, "table": table},
                )
            ]

            def copied(column: str, key: str = key) -> str:
                if column in (key, "case_id"):
                    return f"t.{column} || '-' || g"
                if column == "department":
                    return f"'部门' || (g % {DEPARTMENTS})"
                return f"t.{column}"

            listed = ", ".join(columns)
            chosen = ", ".join(copied(column) for column in columns)
            conn.execute(
                sa.text(
                    f"INSERT INTO {table} ({listed}) SELECT {chosen} "
                    f"FROM {table} t, generate_series(1, {copies}) g"
                )
            )
        counted = conn.execute(
            sa.text("SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM clocks)")
        ).one()
    # what autovacuum does to a live table: statistics, and the visibility map that lets a
    # query answer from an index alone
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("cases", "clocks"):
            conn.execute(sa.text(f"VACUUM ANALYZE {table}"))
    return int(counted[0]), int(counted[1])


def time_queries(engine: sa.Engine, now: datetime, *, tallied: bool) -> None:
    queries = {
        "open / received today": business_queries.open_and_received_today(
            now, ZoneInfo(ZONE), tallied=tallied
        ),
        "overdue cases": business_queries.overdue_cases(now, tallied=tallied),
        "open clocks": business_queries.open_clocks(now, tallied=tallied),
        "due soon": business_queries.clocks_due_soon(now, timedelta(days=3)),
        "rectifications": business_queries.rectifications_by_status(tallied=tallied),
        "enforcement": business_queries.enforcement_by_status(tallied=tallied),
        "rectifications overdue": business_queries.overdue_rectifications(now, rulebook),
        "disputes decided": business_queries.disputes_decided(tallied=tallied),
        "satisfaction": business_queries.satisfaction_scores(tallied=tallied),
    }
    with engine.connect() as conn:
        for name, query in queries.items():
            started = time.perf_counter()
            found = list(conn.execute(query))
            took = time.perf_counter() - started
            print(f"  {name:24s} {took * 1000:8.1f} ms  ({len(found)} rows)")


def vacuum(engine: sa.Engine, *tables: str) -> None:
    """What autovacuum does to a live table: statistics, and the visibility map."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(sa.text(f"VACUUM ANALYZE {table}"))


def time_refresh(engine: sa.Engine, repeat: int) -> float:
    """The median seconds of one whole refresh (the collector's, cache off): from the tallies
    once they are built, else counted from the cases."""
    collector = figures.ReadModelCollector(
        engine,
        rulebook=rulebook,
        now=lambda: datetime.now(UTC),
        timezone=ZONE,
        departments=DepartmentLabels(None),
        cache_seconds=0,
    )
    took = []
    for _ in range(repeat):
        started = time.perf_counter()
        families = list(collector.collect())
        took.append(time.perf_counter() - started)
    print(
        f"  one refresh ({len(families)} families): median {statistics.median(took) * 1000:.0f}"
        f" ms, max {max(took) * 1000:.0f} ms over {repeat}"
    )
    return statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="SQLAlchemy URL (default: a local cluster)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", metavar="PATH", help="write the figures as rows here")
    args = parser.parse_args()
    schema = f"bench_figures_{uuid.uuid4().hex[:8]}"
    with postgres_for(args.postgres, ROOT / "var" / "bench-postgres") as url:
        engine = create_engine(url, schema)
        try:
            migrate(engine)
            started = time.perf_counter()
            n_cases, n_clocks = seed(engine, schema, args.cases)
            print(
                f"seeded {n_cases:,} cases and {n_clocks:,} clocks "
                f"in {time.perf_counter() - started:.1f} s"
            )
            now = datetime.now(UTC)
            with engine.begin() as conn:
                marked = conn.execute(
                    clocks.update()
                    .where(clocks.c.status == ClockStatus.running.value, clocks.c.due_at < now)
                    .values(status=ClockStatus.breached.value)
                ).rowcount
            print(f"{marked:,} clocks past due marked breached (as the scanner leaves them)")
            vacuum(engine, "clocks")
            medians: dict[bool, float] = {}
            for tallied, label in ((False, "counted from the cases"), (True, "from the tallies")):
                if tallied:
                    with engine.begin() as conn:
                        started = time.perf_counter()
                        counted = FigureCounter(rulebook, ZONE).ensure(conn)
                    took = time.perf_counter() - started
                    print(f"counters and tallies built from {counted:,} cases in {took:.1f} s")
                    vacuum(engine, "case_figures", "case_tallies")
                print(f"each query {label}:")
                time_queries(engine, now, tallied=tallied)
                medians[tallied] = time_refresh(engine, args.repeat)
            figure = f"figures refresh (/metrics), {args.cases:,} cases, median"
            row = Row(
                figure,
                medians[True] * 1000,
                "ms",
                baseline="counted from the cases",
                baseline_value=medians[False] * 1000,
                target="≤ 200",
            )
            write_rows(args.json, [row])
        finally:
            engine.dispose()
            with sa.create_engine(url).begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
