"""Commands under load: the time from a command's POST to its answer (200 once its events are in
the read models; 201 for a registration), p50 / p90 / p99 / max, at a fixed rate of commands per
second, with the count of 200/201, 202 (not projected within the wait), 409 and other answers.
Target: p99 <= 500 ms.

One run, on this machine:

1. a broker (started locally unless --kafka is given), topics under a fresh prefix; PostgreSQL
   (a local cluster unless --postgres is given; a fresh schema, as in production: the
   CASESTREAM_PG_FAST switch is never set) or, with --database sqlite, a fresh SQLite file;
2. the worker (`python -m casestream.cli worker`) and the API (`python -m casestream.cli api
   --workers N`), each in its own process and directory, until /readyz answers 200;
3. in this process, the load generator (aiohttp + asyncio, open loop: request i is due at
   i / rate s whatever the answers do, and its latency counts from that due instant): new
   complaints (登记 → 受理 → 交办 → 答复 → 办结 → 回访) and rectifications (开启 → measures and
   progress reports → 整改完成), each case's commands given one after the other, --active cases
   at a time waiting for their next command, spread over six departments, each as its
   department head (a bearer token signed with a random CASESTREAM_AUTH_SECRET);
4. for each --rate: --warmup seconds not counted, then --duration seconds measured;
5. clean-up: processes, schema or file, topics, and the services it started.

Run (about 3 minutes with the defaults):

    .venv/bin/python bench/commands.py [--rate 20 100] [--duration 45] [--warmup 5]
        [--database postgresql|sqlite] [--api-workers 1] [--active 40]
        [--complaint-share 0.5] [--projector-batch-seconds S] [--seed 7] [--kafka HOST:PORT] [--postgres URL] [--keep]

Every wait is bounded (--timeout; each request's answer within the API's command wait + 10 s),
so a run always ends by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import secrets
import sqlite3
import sys
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import sqlalchemy as sa
from bench_rows import Row, write_rows
from bench_runs import INTERRUPTED, run_in_work_dir
from command_load import DEPARTMENTS, NO_ANSWER, CaseSource, Phase, drive
from command_report import print_phases, print_settings
from timer_report import console, percentile, progress_bar
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

from casestream.credentials import Principal, issue_token
from casestream.domain.commands import Role
from casestream.producers.topics import TopicLayout, Topics, create_topics
from casestream.read_models.database import create_engine, migrate
from casestream.settings import Settings

COMMAND_WAIT: float = Settings.model_fields["command_wait_seconds"].default


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="POST of a command → its 200 answer (read your writes), p50/p99, open loop."
    )
    parser.add_argument(
        "--rate", type=float, nargs="+", default=[20.0, 100.0], help="commands per second"
    )
    parser.add_argument("--duration", type=float, default=45.0, help="seconds measured per rate")
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="seconds sent before each rate, not counted"
    )
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--api-workers", type=int, default=1, help="API worker processes")
    parser.add_argument(
        "--active", type=int, default=40, help="cases waiting for their next command at a time"
    )
    parser.add_argument(
        "--complaint-share", type=float, default=0.5, help="share of new cases that are complaints"
    )
    parser.add_argument(
        "--projector-batch-seconds",
        type=float,
        help="CASESTREAM_PROJECTOR_BATCH_SECONDS of the worker (default: the product's, "
        f"{Settings.model_fields['projector_batch_seconds'].default:g})",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the cases and their order")
    parser.add_argument("--kafka", metavar="BOOTSTRAP", help="use this broker (default: local)")
    parser.add_argument("--postgres", metavar="URL", help="use this PostgreSQL (default: local)")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds the services may take to start"
    )
    parser.add_argument("--keep", action="store_true", help="keep the schema, topics and logs")
    parser.add_argument("--json", metavar="PATH", help="write the figures as rows here")
    args = parser.parse_args(argv)
    if any(rate <= 0 for rate in args.rate) or args.duration <= 0 or args.warmup < 0:
        parser.error("--rate and --duration must be positive, --warmup >= 0")
    if args.api_workers < 1 or args.active < 1 or not 0 <= args.complaint_share <= 1:
        parser.error("--api-workers and --active must be >= 1, --complaint-share in 0..1")
    return args


def department_heads(secret: str) -> dict[str, dict[str, str]]:
    """Headers of each department's head (科所队长), signed with the API's secret."""
    now = datetime.now(UTC)
    return {
        department: {
            "Authorization": "Bearer "
            + issue_token(
                secret,
                Principal(f"bench.head.{number}", Role.department_head, department),
                now=now,
                ttl=timedelta(hours=6),
            )
        }
        for number, department in enumerate(DEPARTMENTS)
    }


@contextmanager
def database(args: argparse.Namespace, run_id: str, work_dir: Path) -> Iterator[tuple[str, str]]:
    """(URL, schema) of a fresh, migrated read-model database; dropped afterwards unless --keep."""
    if args.database == "sqlite":
        url = f"sqlite:///{work_dir / 'commands.db'}"
        engine = create_engine(url, None)
        migrate(engine)
        engine.dispose()
        yield url, ""
        return
    with postgres_server(args.postgres) as pg_url:
        schema = f"bench_commands_{run_id}"
        engine = create_engine(pg_url, schema)
        migrate(engine)
        engine.dispose()
        try:
            yield pg_url, schema
        finally:
            if not args.keep:
                drop_schemas(pg_url, [schema])


def describe_database(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version} (a file on this machine's disk)"
    probe = sa.create_engine(url)
    try:
        with probe.connect() as conn:
            shown = {
                name: conn.execute(sa.text(f"SHOW {name}")).scalar_one()
                for name in ("server_version", "fsync", "synchronous_commit", "shared_buffers")
            }
    finally:
        probe.dispose()
    return (
        f"PostgreSQL {shown['server_version']} (fsync={shown['fsync']}, "
        f"synchronous_commit={shown['synchronous_commit']}, "
        f"shared_buffers={shown['shared_buffers']})"
    )


def _ready(api: Service, worker: Service, port: int) -> bool:
    for service in (api, worker):
        if not service.running():
            raise RuntimeError(f"the {service.name} exited:\n{service.tail()}")
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def bounded(phase: Coroutine[Any, Any, None], seconds: float) -> None:
    """Run one phase, never much longer than its schedule and the wait for its last answers
    (a generator starved of CPU would otherwise keep the run going)."""
    limit = seconds + 2 * (COMMAND_WAIT + 10) + 30
    try:
        await asyncio.wait_for(phase, limit)
    except TimeoutError:
        console.print(f"[yellow]phase stopped after {limit:.0f} s; its answers so far are kept")


async def measure(
    args: argparse.Namespace, base_url: str, heads: dict[str, dict[str, str]], run_id: str
) -> list[Phase]:
    rng = random.Random(args.seed)
    source = CaseSource(run_id, args.complaint_share, rng)
    # aiohttp, not httpx: at 100 requests a second with hundreds in flight httpx's connection
    # pool costs the generator more CPU than the API spends answering, and it falls behind
    connector = aiohttp.TCPConnector(limit=1000)
    timeout = aiohttp.ClientTimeout(total=COMMAND_WAIT + 10)
    phases: list[Phase] = []
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as client:
        for rate in args.rate:
            if args.warmup > 0:
                warm = Phase(rate, args.warmup)
                with console.status(f"{rate:g} commands/s: warming up {args.warmup:g} s …"):
                    await bounded(
                        drive(
                            client,
                            heads.__getitem__,
                            source,
                            rng,
                            warm,
                            active=args.active,
                            drain_timeout=COMMAND_WAIT + 10,
                            record=False,
                        ),
                        args.warmup,
                    )
            phase = Phase(rate, args.duration)
            total = max(1, round(rate * args.duration))
            with progress_bar() as progress:
                task = progress.add_task(f"{rate:g} commands/s: answers", total=total)
                await bounded(
                    drive(
                        client,
                        heads.__getitem__,
                        source,
                        rng,
                        phase,
                        active=args.active,
                        drain_timeout=COMMAND_WAIT + 10,
                        on_answer=functools.partial(progress.advance, task),
                    ),
                    args.duration,
                )
            phases.append(phase)
            print_phases(phases)
    return phases


def run(args: argparse.Namespace, run_id: str, work_dir: Path) -> list[Phase]:
    if os.environ.pop("CASESTREAM_PG_FAST", None):
        console.print("[yellow]ignoring CASESTREAM_PG_FAST: PostgreSQL runs as in production")
    topics = Topics(prefix=f"benchcmd{run_id}.")
    secret = secrets.token_urlsafe(48)
    with kafka_broker(args.kafka) as bootstrap, database(args, run_id, work_dir) as (url, schema):
        create_topics(bootstrap, topics, TopicLayout.single_broker())
        try:
            print_settings(args, describe_database(url), bootstrap, COMMAND_WAIT)
            env = service_env(bootstrap, topics, url, schema, CASESTREAM_AUTH_SECRET=secret)
            if not schema:
                env.pop("CASESTREAM_DATABASE_SCHEMA")
            if args.projector_batch_seconds is not None:
                env["CASESTREAM_PROJECTOR_BATCH_SECONDS"] = str(args.projector_batch_seconds)
            port = free_port()
            worker = Service(
                "worker", ["worker", "--metrics-port", str(free_port())], env, work_dir / "worker"
            )
            api = Service(
                "api",
                ["api", "--port", str(port), "--workers", str(args.api_workers)],
                env,
                work_dir / "api",
            )
            try:
                with console.status("worker and API starting …"):
                    wait_until("/readyz", lambda: _ready(api, worker, port), args.timeout, 0.25)
                heads = department_heads(secret)
                return asyncio.run(measure(args, f"http://127.0.0.1:{port}", heads, run_id))
            finally:
                api.stop()
                worker.stop()
        finally:
            if not args.keep:
                with console.status("deleting the topics …"):
                    delete_topics(bootstrap, topics)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    phases = run_in_work_dir(
        console, "commands", argv, args.keep, lambda run_id, work_dir: run(args, run_id, work_dir)
    )
    if phases is None:
        return INTERRUPTED
    console.rule("results")
    print_phases(phases)
    write_rows(args.json, command_rows(phases))
    return 0


def command_rows(phases: list[Phase]) -> list[Row]:
    """p99 of POST → 200/201 per rate; not met when a request had no answer by the end."""
    rows: list[Row] = []
    for phase in phases:
        p99 = percentile([a.latency for a in phase.answers if a.status in (200, 201)], 99)
        if p99 is not None:
            unanswered = any(answer.status == NO_ANSWER for answer in phase.answers)
            figure = f"command POST → 200 p99 at {phase.rate:g}/s"
            rows.append(
                Row(figure, p99 * 1000, "ms", target="≤ 500", met=False if unanswered else None)
            )
    return rows


if __name__ == "__main__":
    sys.exit(main())
