"""Deadline timers at scale: with 1,000,000 open clocks in PostgreSQL, the delay from a clock's
due instant to its alert on GET /alerts/stream (p50 / p99), and the escalation scanner's cost
per pass. Targets: p99 <= 1 s, and the scanner's work grows with the clocks that are due, not
with all open clocks.

One run, on this machine:

1. a broker and PostgreSQL (started locally unless --kafka / --postgres are given; PostgreSQL
   as in production: CASESTREAM_PG_FAST is never set), topics under a fresh prefix, a fresh
   schema, migrated;
2. N open clocks (--clocks, default 1,000,000) written straight into `clocks` with COPY: rules,
   case kinds, departments and start days as a bureau would have them, due in the next 1-60
   days, next alert hours to days ahead (none falls due during the run), `detail` the exact
   JSON the projector writes (`Clock.model_dump(mode="json")`; alerts whose instant has passed
   are in `emitted`, as after a live scanner); then VACUUM ANALYZE;
3. a deployment rule file (CASESTREAM_RULES_FILE) adding `bench.minute`: a one-minute clock
   on every complaint accepted at the window, breached one second after its due instant;
4. the worker (`python -m casestream.cli worker --metrics-port P`) and the API
   (`python -m casestream.cli api --port P`), each in its own directory;
5. an SSE client on /alerts/stream?rule=bench.minute, noting the wall-clock arrival of frames;
6. M complaints (--alerts, default 300) whose breach instants fall over the next --spread
   seconds (default 40); delay = arrival - payload.scheduled_at, split into the scanner's wait
   (alert occurred_at - scheduled_at) and delivery (arrival - occurred_at); once per
   --scanner-interval (default: 1 s, then 0.25 s), restarting the worker; the worker's
   Prometheus metrics give the live pass cost;
7. with the worker stopped, the scanner's own code in this process
   (`EscalationScanner.scan_once`, alerts kept, not sent) and EXPLAIN ANALYZE of its query,
   at the seeded clocks' first alert instant (a local midnight: a sixth of all open clocks),
   with a what-if index on (next_alert_at, clock_id) in the bench schema, and at 0 / 10 / 100 /
   1,000 / 10,000 genuinely due clocks (overdue clocks added for the measurement), on N open
   clocks and on a 10,000-clock schema, pass by pass in turn; then that midnight cohort worked
   off by scanner passes and the projector's write path (`ProjectionWriter.apply_batch` of each
   pass's alerts) back to back, for at most --drain-budget seconds per schema;
8. clean-up: processes, schemas, topics, and the services it started.

Where the API checks bearer tokens, the bench gives it a random CASESTREAM_AUTH_SECRET and its
SSE client a supervisor token signed with it (`casestream.credentials.issue_token`).

Run (about 4 minutes with the defaults on 2 cores: seeding, two live runs, the drain):

    .venv/bin/python bench/timers.py [--clocks 1000000] [--alerts 300] [--spread 40]
        [--scanner-interval 1 0.25] [--drain-budget 300] [--kafka HOST:PORT] [--postgres URL]
        [--keep] [--json PATH]

Without --kafka / --postgres it starts a local broker (var/bench-kafka) and a local PostgreSQL
cluster (var/bench-postgres) and stops them at the end (unless they were already running).
--keep keeps the schemas, topics and the logs of the worker and the API. Every wait is
bounded (--timeout, --grace, --drain-budget), so a run always ends by itself.

This file holds the command line and the order of a run; each step lives in its own module
beside it: timer_config (what is seeded and measured against), timer_services (broker,
PostgreSQL, processes), timer_seed (step 2), timer_live (steps 4-6), timer_passes (step 7) and
timer_report (what is printed). bench/timer_drain.py runs steps 2 and 7's drain alone.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from bench_rows import Row, write_rows
from bench_runs import INTERRUPTED, run_in_work_dir
from timer_config import BENCH_RULE, RULES_TOML, SMALL_CLOCKS, TIMEZONE
from timer_live import AlertListener, LiveRun, live_run
from timer_passes import Drain, PassCost, drain, measure_refresh, pass_costs
from timer_report import (
    console,
    percentile,
    print_drains,
    print_live,
    print_pass_costs,
    print_seeding,
)
from timer_seed import SeedReport, seed
from timer_services import (
    Service,
    delete_topics,
    drop_schemas,
    free_port,
    kafka_broker,
    postgres_server,
    service_env,
    wait_until,
)

from casestream.domain.rules import load_rulebook
from casestream.policy import clock_policy
from casestream.producers.topics import TopicLayout, Topics, create_topics
from casestream.read_models.database import create_engine, migrate
from casestream.settings import Settings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Due instant → alert on /alerts/stream, and scanner cost, at 1M open clocks."
    )
    parser.add_argument(
        "--clocks", type=int, default=1_000_000, help="open clocks seeded into PostgreSQL"
    )
    parser.add_argument("--alerts", type=int, default=300, help="breaches measured per interval")
    parser.add_argument(
        "--spread", type=float, default=40.0, help="seconds over which the breaches fall due"
    )
    parser.add_argument(
        "--lead",
        type=float,
        default=8.0,
        help="seconds from producing the complaints to the first breach instant",
    )
    parser.add_argument(
        "--scanner-interval",
        type=float,
        nargs="+",
        default=[1.0, 0.25],
        metavar="SECONDS",
        help="CASESTREAM_SCANNER_INTERVAL_SECONDS of the worker; one live run per value",
    )
    parser.add_argument(
        "--kafka", metavar="BOOTSTRAP", help="use this broker (default: a local one)"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="use this PostgreSQL (default: a local cluster)"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds a worker start or wait may take"
    )
    parser.add_argument(
        "--grace", type=float, default=30.0, help="seconds to wait for breaches after the last"
    )
    parser.add_argument(
        "--drain-budget",
        type=float,
        default=300.0,
        help="seconds the midnight-cohort drain may run per schema (0: skip it)",
    )
    parser.add_argument("--seed", type=int, default=11, help="seed of the generated clocks")
    parser.add_argument("--json", metavar="PATH", help="write the figures as rows here")
    parser.add_argument(
        "--keep", action="store_true", help="keep the schemas, topics and the process logs"
    )
    args = parser.parse_args(argv)
    if args.clocks < 1 or args.alerts < 1 or args.spread <= 0 or args.lead < 1:
        parser.error("--clocks and --alerts must be positive, --spread > 0, --lead >= 1")
    if any(value <= 0 for value in args.scanner_interval):
        parser.error("--scanner-interval values must be positive")
    return args


def _api_up(api: Service, port: int) -> bool:
    if not api.running():
        raise RuntimeError(f"the API exited:\n{api.tail()}")
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def api_credentials() -> tuple[dict[str, str], dict[str, str]]:
    """(environment of the API, headers of its clients).

    Where the API checks bearer tokens (casestream.credentials), a random
    CASESTREAM_AUTH_SECRET for this run and a token signed with it by the product's own
    `issue_token`, for a supervisor (督察: sees every department's alerts).
    """
    try:
        from casestream.credentials import Principal, Role, issue_token
    except ImportError:  # an API without access control
        return {}, {}
    secret = secrets.token_urlsafe(48)
    token = issue_token(
        secret,
        Principal("bench.timers", Role.supervisor),
        now=datetime.now(UTC),
        ttl=timedelta(hours=12),
    )
    return {"CASESTREAM_AUTH_SECRET": secret}, {"Authorization": f"Bearer {token}"}


def timer_rows(live: list[LiveRun], drains: list[Drain], clocks: int) -> list[Row]:
    """p99 of due instant → alert, per scanner interval; the midnight cohort's drain."""
    rows: list[Row] = []
    for run in live:
        p99 = percentile([total for total, _, _ in run.breached], 99)
        if p99 is not None:
            figure = f"due → alert p99, scanner every {run.interval:g} s, {clocks:,} open clocks"
            rows.append(Row(figure, p99 * 1000, "ms", target="≤ 1000"))
    for found in drains:
        figure = f"escalation drain of {found.due:,} due clocks ({found.open_clocks:,} open)"
        met = None if found.left == 0 else False  # not drained within the budget
        rows.append(Row(figure, found.seconds, "s", target="≤ 10", met=met))
    return rows


def run(args: argparse.Namespace, run_id: str, work_dir: Path) -> None:
    rules_file = work_dir / "rules.toml"
    rules_file.write_text(RULES_TOML, encoding="utf-8")
    load_rulebook(rules_file).get(BENCH_RULE)  # the file validates, as the worker will load it
    policy = clock_policy(Settings(rules_file=rules_file, timezone=TIMEZONE))
    if os.environ.pop("CASESTREAM_PG_FAST", None):
        console.print("[yellow]ignoring CASESTREAM_PG_FAST: PostgreSQL runs as in production")
    seeds: list[SeedReport] = []
    live: list[LiveRun] = []
    costs: list[PassCost] = []
    drains: list[Drain] = []
    startup: tuple[int, float] | None = None
    schemas: list[str] = []
    topics = Topics(prefix=f"benchtimers{run_id}.")
    with kafka_broker(args.kafka) as bootstrap, postgres_server(args.postgres) as pg_url:
        create_topics(bootstrap, topics, TopicLayout.single_broker())
        try:
            probe = sa.create_engine(pg_url)
            with probe.connect() as conn:
                settings = {
                    name: conn.execute(sa.text(f"SHOW {name}")).scalar_one()
                    for name in ("server_version", "fsync", "synchronous_commit", "shared_buffers")
                }
            probe.dispose()
            console.print(
                f"PostgreSQL {settings['server_version']}: fsync={settings['fsync']}, "
                f"synchronous_commit={settings['synchronous_commit']}, "
                f"shared_buffers={settings['shared_buffers']}; {os.cpu_count()} cores; "
                f"Kafka {bootstrap}"
            )
            big_schema = f"bench_timers_{run_id}"
            schemas.append(big_schema)
            engine = create_engine(pg_url, big_schema)
            migrate(engine)
            seed_now = datetime.now(UTC)
            seeds.append(seed(engine, policy, args.clocks, f"SEED-{run_id}", seed_now, args.seed))
            print_seeding(seeds)

            env = service_env(
                bootstrap,
                topics,
                pg_url,
                big_schema,
                CASESTREAM_RULES_FILE=str(rules_file),
            )
            api_port = free_port()
            api_env, headers = api_credentials()
            api = Service(
                "api", ["api", "--port", str(api_port)], {**env, **api_env}, work_dir / "api"
            )
            listener: AlertListener | None = None
            try:
                with console.status("API starting …"):
                    wait_until(
                        "the API's /healthz", lambda: _api_up(api, api_port), args.timeout, 0.2
                    )
                listener = AlertListener(
                    f"http://127.0.0.1:{api_port}", {"rule": BENCH_RULE}, headers
                )
                if not listener.connected.wait(30):
                    raise RuntimeError(f"SSE client not connected: {listener.error}")
                for number, interval in enumerate(args.scanner_interval):
                    live.append(
                        live_run(
                            interval=interval,
                            args=args,
                            env=env,
                            engine=engine,
                            bootstrap=bootstrap,
                            topics=topics,
                            listener=listener,
                            work_dir=work_dir,
                            tag=f"{run_id}-{number}",
                        )
                    )
                    print_live(live, args.clocks)
            finally:
                if listener is not None:
                    listener.close()
                api.stop()

            with console.status("timing ClockWriter.refresh_provisional (every worker start) …"):
                startup = measure_refresh(engine, policy)

            small_schema = f"bench_timers_{run_id}_small"
            schemas.append(small_schema)
            small = create_engine(pg_url, small_schema)
            migrate(small)
            seeds.append(
                seed(small, policy, SMALL_CLOCKS, f"SMALL-{run_id}", seed_now, args.seed + 7)
            )
            targets = [(engine, seeds[0]), (small, seeds[1])]
            costs.extend(pass_costs(targets, policy, run_id, args.seed))
            print_pass_costs(costs)
            if args.drain_budget > 0:
                for target, seeded in targets:
                    drains.append(drain(target, policy, seeded, args.drain_budget))
                print_drains(drains, args.scanner_interval)
            engine.dispose()
            small.dispose()
        finally:
            console.rule("results")
            if seeds:
                print_seeding(seeds)
            if live:
                print_live(live, args.clocks)
            if startup is not None:
                rows, seconds = startup
                console.print(
                    f"worker start-up: ClockWriter.refresh_provisional reads and recounts every "
                    f"open provisional clock: {rows:,} clocks in {seconds:.1f} s "
                    "(nothing changed; rolled back)"
                )
            if costs:
                print_pass_costs(costs)
            if drains:
                print_drains(drains, args.scanner_interval)
            write_rows(args.json, timer_rows(live, drains, args.clocks))
            if args.keep:
                console.print(
                    f"kept schemas {', '.join(schemas)} and topics with prefix {topics.prefix}"
                )
            else:
                with console.status("dropping schemas and topics …"):
                    drop_schemas(pg_url, schemas)
                    delete_topics(bootstrap, topics)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def body(run_id: str, work_dir: Path) -> int:
        run(args, run_id, work_dir)
        return 0

    done = run_in_work_dir(console, "timers", argv, args.keep, body)
    return INTERRUPTED if done is None else done


if __name__ == "__main__":
    sys.exit(main())
