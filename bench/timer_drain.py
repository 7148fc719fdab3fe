"""The midnight cohort drain of the deadline-timer bench on its own: N open clocks seeded into
PostgreSQL (as bench/timers.py step 2), then their first alert instant's cohort (a sixth of
them) worked off by the escalation scanner and the projector's write path (step 7's drain),
without the live runs. Target: the cohort drained, alerts recorded, in <= DRAIN_TARGET s.

    .venv/bin/python bench/timer_drain.py [--clocks 1000000] [--drain-budget 300]
        [--postgres URL] [--json PATH] [--repeat 1]

Without --postgres it starts a local PostgreSQL cluster (var/bench-postgres) and stops it at
the end (unless it was already running). With --repeat N the cohort is seeded and drained N
times, each in a fresh schema.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from timer_config import RULES_TOML, TIMEZONE
from timer_passes import Drain, drain
from timer_report import print_drains, print_seeding
from timer_seed import seed
from timer_services import drop_schemas, postgres_server

from casestream.policy import clock_policy
from casestream.read_models.database import create_engine, migrate
from casestream.settings import Settings

DRAIN_TARGET = 10.0  # seconds for a 163,000-clock midnight cohort, scanner and projection


def drain_rows(drains: Sequence[Drain]) -> list[dict[str, Any]]:
    """The drains as rows of the bench suite's JSON table."""
    return [
        {
            "figure": f"midnight cohort drain: {item.due - item.left:,} of {item.due:,} due "
            f"clocks of {item.open_clocks:,} open (scan {item.scan_seconds:.1f} s + "
            f"record {item.record_seconds:.1f} s, {item.passes} passes)",
            "value": round(item.seconds, 2),
            "unit": "s",
            "baseline": None,
            "baseline_value": None,
            "target": f"<= {DRAIN_TARGET:g} s",
            "met": item.left == 0 and item.seconds <= DRAIN_TARGET,
        }
        for item in drains
    ]


def write_json(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The midnight cohort drain at N open clocks.")
    parser.add_argument("--clocks", type=int, default=1_000_000, help="open clocks seeded")
    parser.add_argument("--drain-budget", type=float, default=300.0, help="seconds per drain")
    parser.add_argument("--postgres", metavar="URL", help="use this PostgreSQL")
    parser.add_argument("--seed", type=int, default=11, help="seed of the generated clocks")
    parser.add_argument("--repeat", type=int, default=1, help="seed and drain this many times")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, _: sys.exit(128 + signum))
    os.environ.pop("CASESTREAM_PG_FAST", None)  # PostgreSQL as in production
    run_id = uuid.uuid4().hex[:8]
    rules_file = Path(tempfile.mkdtemp(prefix="casestream-bench-drain-")) / "rules.toml"
    rules_file.write_text(RULES_TOML, encoding="utf-8")
    policy = clock_policy(Settings(rules_file=rules_file, timezone=TIMEZONE))
    drains: list[Drain] = []
    with postgres_server(args.postgres) as pg_url:
        for number in range(args.repeat):
            schema = f"bench_drain_{run_id}_{number}"
            try:
                engine = create_engine(pg_url, schema)
                migrate(engine)
                seeded = seed(
                    engine, policy, args.clocks, f"DRAIN-{run_id}", datetime.now(UTC), args.seed
                )
                print_seeding([seeded])
                drains.append(drain(engine, policy, seeded, args.drain_budget))
                print_drains(drains, [])
                engine.dispose()
            finally:
                drop_schemas(pg_url, [schema])
    if args.json:
        write_json(args.json, drain_rows(drains))
    return 0


if __name__ == "__main__":
    sys.exit(main())
