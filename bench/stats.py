"""GET /stats at scale: a period's rule-of-law figures from the per-day counters the projector
keeps (read_models/figure_counts.py) against a recount of the cases, on PostgreSQL.

One run:

1. PostgreSQL (started locally unless --postgres is given), a fresh schema, migrated;
2. --cases cases (default 1,000,000) seeded as bench/figures.py seeds them (simulated cases
   projected by the real writer, then copied in SQL over 30 departments), their received
   instants spread over 256 days, the clocks more than an hour past due marked breached as
   the scanner marks them; ANALYZE;
3. the counters built from those cases (`FigureCounter.ensure`: what a database migrated with
   cases in it does once at its next start), timed;
4. the figures of a year, of a month, of one department's year, and every department's year
   (the console's table), each from the counters --repeat times (p50 and max) and by a
   recount once (every department's only up to 200,000 cases); the answers must be equal;
5. the schema dropped, and the cluster stopped if this run started it.

    .venv/bin/python bench/stats.py [--cases 1000000] [--postgres URL] [--repeat 5]
        [--json PATH]

--json writes the figures as rows {"figure", "value", "unit", "baseline", "baseline_value",
"target", "met"} for bench/suite.py.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import seed

from casestream.domain.rules import load_rulebook
from casestream.local import postgres_for
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.figure_counts import FigureCounter
from casestream.read_models.stats import StatsQueries, StatsScope

ROOT = Path(__file__).resolve().parents[1]
ZONE_NAME = "Asia/Shanghai"
ZONE = ZoneInfo(ZONE_NAME)
TARGET_MS = 300.0
RECOUNT_DEPARTMENTS_UP_TO = 200_000
console = Console()


def _timed(call: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    took, answer = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = call()
        took.append((time.perf_counter() - started) * 1000)
    return took, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="SQLAlchemy URL (default: a local cluster)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the figures here for bench/suite.py")
    args = parser.parse_args()
    schema = f"bench_stats_{uuid.uuid4().hex[:8]}"
    rows: list[dict[str, Any]] = []
    with postgres_for(args.postgres, ROOT / "var" / "bench-postgres") as url:
        engine = create_engine(url, schema)
        try:
            migrate(engine)
            started = time.perf_counter()
            with console.status(f"seeding {args.cases:,} cases"):
                n_cases, n_clocks = seed(engine, schema, args.cases)
                with engine.begin() as conn:
                    conn.execute(
                        sa.text(
                            "UPDATE cases SET received_at = received_at "
                            "- make_interval(days => hashtext(case_id) & 255)"
                        )
                    )
                    # (due_at holds UTC without a zone: compared with UTC's wall clock)
                    # the scanner's marks: a clock past due is breached once the scanner has
                    # passed (the bench has no scanner; the live system marks them within its
                    # interval, and reading adds only the few it has not reached yet)
                    conn.execute(
                        sa.text(
                            "UPDATE clocks SET status = 'breached' "
                            "WHERE status = 'running' "
                            "AND due_at < (now() AT TIME ZONE 'UTC') - interval '1 hour'"
                        )
                    )
                    conn.execute(sa.text("ANALYZE cases"))
                    conn.execute(sa.text("ANALYZE clocks"))
            console.print(
                f"seeded {n_cases:,} cases and {n_clocks:,} clocks "
                f"in {time.perf_counter() - started:.1f} s"
            )
            rulebook = load_rulebook()
            started = time.perf_counter()
            with (
                console.status("building the figure counters from the cases"),
                engine.begin() as conn,
            ):
                counted = FigureCounter(rulebook, ZONE_NAME).ensure(conn)
                conn.execute(sa.text("ANALYZE figure_counts"))
            built = time.perf_counter() - started
            console.print(f"counters built from {counted:,} cases in {built:.1f} s")
            now = datetime.now(UTC)
            today = now.astimezone(ZONE).date()
            year = (date(today.year - 1, today.month, 1), today)
            month = (date(today.year, today.month, 1), today)
            stats = StatsQueries(engine, rulebook, ZONE_NAME)
            periods = {
                "a year, bureau": StatsScope.of_days(*year, ZONE, None, now),
                "a month, bureau": StatsScope.of_days(*month, ZONE, None, now),
                "a year, one department": StatsScope.of_days(*year, ZONE, "部门7", now),
            }
            table = Table(title=f"GET /stats figures, {n_cases:,} cases (ms, {args.repeat} runs)")
            for column in ("period", "counters p50", "counters max", "recount p50", "equal"):
                table.add_column(column, justify="right" if column != "period" else "left")

            def measure(
                name: str, counters: Callable[[], Any], recount: Callable[[], Any] | None
            ) -> None:
                fast, fast_answer = _timed(counters, args.repeat)
                if recount is None:  # too slow to wait for
                    table.add_row(
                        name, f"{statistics.median(fast):.1f}", f"{max(fast):.1f}", "—", "—"
                    )
                    rows.append(
                        {
                            "figure": f"GET /stats {name} ({n_cases:,} cases), max",
                            "value": round(max(fast), 1),
                            "unit": "ms",
                            "baseline": None,
                            "baseline_value": None,
                            "target": f"<= {TARGET_MS:.0f} ms",
                            "met": max(fast) <= TARGET_MS,
                        }
                    )
                    return
                slow, slow_answer = _timed(recount, 1)
                p50, worst, base = statistics.median(fast), max(fast), statistics.median(slow)
                table.add_row(
                    name,
                    f"{p50:.1f}",
                    f"{worst:.1f}",
                    f"{base:.1f}",
                    str(fast_answer == slow_answer),
                )
                rows.append(
                    {
                        "figure": f"GET /stats {name} ({n_cases:,} cases), max",
                        "value": round(worst, 1),
                        "unit": "ms",
                        "baseline": "recount of the cases, p50",
                        "baseline_value": round(base, 1),
                        "target": f"<= {TARGET_MS:.0f} ms",
                        "met": worst <= TARGET_MS and fast_answer == slow_answer,
                    }
                )

            for name, scope in periods.items():
                measure(
                    name,
                    lambda scope=scope: stats.figures(scope),
                    lambda scope=scope: stats.recount(scope),
                )
            every = periods["a year, bureau"]
            measure(
                "a year, every department",
                lambda: stats.by_department(every),
                # a recount per department: half an hour at a million cases
                (lambda: StatsQueries(engine, rulebook).by_department(every))
                if n_cases <= RECOUNT_DEPARTMENTS_UP_TO
                else None,
            )
            console.print(table)
            rows.append(
                {
                    "figure": f"figure counters built from {n_cases:,} cases",
                    "value": round(built, 1),
                    "unit": "s",
                    "baseline": None,
                    "baseline_value": None,
                    "target": None,
                    "met": None,
                }
            )
        finally:
            engine.dispose()
            with sa.create_engine(url).begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
