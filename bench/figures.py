"""The API's read-model figures at scale: what one refresh of the business gauges
(read_models/business_metrics.py, served on /metrics) costs on PostgreSQL with N cases.

One run:

1. PostgreSQL (started locally unless --postgres is given), a fresh schema, migrated;
2. 20 seed cases of every kind from the simulator (`casestream simulate`'s mix, started 40
   days ago) projected by the real writer (`ProjectionWriter.apply_batch`), then copied in SQL
   to --cases rows (default 1,000,000) with their clocks, over 30 departments; VACUUM ANALYZE;
3. each of the collector's queries timed on its own, then the whole refresh
   (`ReadModelCollector.collect()`, cache off) --repeat times (median and max printed);
4. the schema dropped, and the cluster stopped if this run started it.

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
from casestream.domain.clocks import ClockPolicy
from casestream.domain.outcomes import OutcomeSettings
from casestream.domain.rules import load_rulebook
from casestream.local import postgres_for
from casestream.metric_labels import DepartmentLabels
from casestream.producers.simulation import simulate
from casestream.read_models import business_metrics as figures
from casestream.read_models import business_queries
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter

ROOT = Path(__file__).resolve().parents[1]
SEEDS = 20
DEPARTMENTS = 30


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
            rulebook = load_rulebook()
            queries = {
                "open / received today": business_queries.case_tallies(
                    now, ZoneInfo("Asia/Shanghai")
                ),
                "overdue cases": business_queries.overdue_cases(now),
                "open clocks": business_queries.open_clocks(now),
                "due soon": business_queries.clocks_due_soon(now, timedelta(days=3)),
                "rectifications": business_queries.rectifications_by_status(),
                "rectifications overdue": business_queries.overdue_rectifications(now, rulebook),
                "disputes decided": business_queries.disputes_decided(),
                "satisfaction": business_queries.satisfaction_scores(),
            }
            with engine.connect() as conn:
                for name, query in queries.items():
                    started = time.perf_counter()
                    rows = list(conn.execute(query))
                    took = time.perf_counter() - started
                    print(f"  {name:24s} {took * 1000:8.1f} ms  ({len(rows)} rows)")
            collector = figures.ReadModelCollector(
                engine,
                rulebook=rulebook,
                now=lambda: datetime.now(UTC),
                timezone="Asia/Shanghai",
                departments=DepartmentLabels(None),
                cache_seconds=0,
            )
            took = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                families = list(collector.collect())
                took.append(time.perf_counter() - started)
            print(
                f"one refresh ({len(families)} families): median {statistics.median(took):.2f} s, "
                f"max {max(took):.2f} s over {args.repeat}"
            )
            figure = f"figures refresh (/metrics), {args.cases:,} cases, median"
            write_rows(
                args.json, [Row(figure, statistics.median(took) * 1000, "ms", target="≤ 200")]
            )
        finally:
            engine.dispose()
            with sa.create_engine(url).begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
