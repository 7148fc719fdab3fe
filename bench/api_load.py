"""The API under load at province scale: GET /cases/{id} at 500 requests/s and filtered lists at
300 requests/s over 1,000,000 cases, and an event's POST → visible in GET /cases/{id} at 100
events/s, against `casestream api --workers 2`. Targets: p99 <= 50 ms (reads), <= 300 ms (end
to end).

One run, on this machine:

1. PostgreSQL (a local cluster unless --postgres is given; as in production: the
   CASESTREAM_PG_FAST switch is never set), a fresh schema, migrated; --cases cases seeded in
   SQL from simulated ones (api_seed.py: received over two years, 30 departments), VACUUM
   ANALYZE;
2. for the end-to-end phase only, a broker (local unless --kafka) and the worker
   (`python -m casestream.cli worker`); then the API (`python -m casestream.cli api --workers
   N`), each in its own process and directory, until it answers;
3. in this process, the load generator (aiohttp, open loop: request i is due at start + i /
   rate, its latency counts from that due instant), --warmup seconds not counted, then
   --duration seconds measured for each phase:
   - reads: GET /cases/{id} of sampled cases (as a leader, or as the case's department head);
   - lists: GET /cases filtered by kind, status, department, enterprise, a week of received
     dates, and pages deep into a list (walks that start at a cursor tens of thousands of rows
     in and follow each page's next_cursor);
   - e2e: POST /events (a new complaint, as a system) then GET /cases/{id}?consistency_token=…;
4. the table of p50/p95/p99/max and errors per route; --json PATH writes the figures;
5. clean-up: processes, schema, topics, and the services it started.

    .venv/bin/python bench/api_load.py [--cases 1000000] [--duration 30] [--warmup 5]
        [--phases reads lists e2e] [--get-rate 500] [--list-rate 300] [--event-rate 100]
        [--api-workers 2] [--postgres URL] [--kafka HOST:PORT] [--json PATH] [--keep]

A quick run (a few minutes): --cases 100000 --duration 20.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import random
import secrets
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import sqlalchemy as sa
from api_load_report import Figure, figures_of, print_shots
from api_seed import Seeded, seed
from bench_runs import INTERRUPTED, run_in_work_dir
from read_load import CaseLists, CaseReads, Pick, PostedEvents, Shot, Walk, open_loop
from timer_report import console, progress_bar
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
from casestream.read_models.queries import encode_cursor

PHASES = ("reads", "lists", "e2e")
WALK_STARTS = 60  # deep starting points of the list walks


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases seeded")
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    parser.add_argument("--get-rate", type=float, default=500.0, help="GET /cases/{id} per s")
    parser.add_argument("--list-rate", type=float, default=300.0, help="GET /cases lists per s")
    parser.add_argument("--event-rate", type=float, default=100.0, help="events posted per s")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds measured per phase")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds sent first, not counted")
    parser.add_argument("--api-workers", type=int, default=2, help="API worker processes")
    parser.add_argument("--seed", type=int, default=7, help="seed of the requests' order")
    parser.add_argument("--postgres", metavar="URL", help="use this PostgreSQL (default: local)")
    parser.add_argument("--kafka", metavar="BOOTSTRAP", help="use this broker (default: local)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the figures here")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds the services may take to start"
    )
    parser.add_argument("--keep", action="store_true", help="keep the schema, topics and logs")
    args = parser.parse_args(argv)
    if args.cases < 100 or args.duration <= 0 or args.warmup < 0 or args.api_workers < 1:
        parser.error("--cases >= 100, --duration > 0, --warmup >= 0, --api-workers >= 1")
    return args


class Tokens:
    """Bearer tokens signed with the API's secret: a leader's, a system's, and each
    department head's (made on first use)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._heads: dict[str, dict[str, str]] = {}
        self.leader = self._headers(Principal("bench.leader", Role.leader))
        self.system = self._headers(Principal("bench.system", Role.system))

    def _headers(self, principal: Principal) -> dict[str, str]:
        token = issue_token(self._secret, principal, now=datetime.now(UTC), ttl=timedelta(hours=6))
        return {"Authorization": f"Bearer {token}"}

    def head(self, department: str) -> dict[str, str]:
        found = self._heads.get(department)
        if found is None:
            principal = Principal(
                f"bench.head.{len(self._heads)}", Role.department_head, department
            )
            found = self._heads[department] = self._headers(principal)
        return found


def walk_starts(engine: sa.Engine, seeded: Seeded, rng: random.Random) -> list[Walk]:
    """Cursors deep into lists (as GET /cases would return at that row): the whole list, one
    kind's, one department's."""
    starts: list[Walk] = []
    shapes: list[tuple[dict[str, str], str, dict[str, Any], int]] = [({}, "", {}, seeded.cases)]
    for kind in seeded.kinds:
        share = seeded.cases // max(1, len(seeded.kinds))
        shapes.append(({"case_kind": kind}, "WHERE case_kind = :v", {"v": kind}, share))
    for department in seeded.departments[:10]:
        share = seeded.cases // max(1, len(seeded.departments))
        shapes.append(
            ({"department": department}, "WHERE department = :v", {"v": department}, share)
        )
    with engine.connect() as conn:
        for number in range(WALK_STARTS):
            params, where, bound, size = shapes[number % len(shapes)]
            depth = rng.randrange(max(1, size // 20), max(2, size // 2))
            row = conn.execute(
                sa.text(
                    f"SELECT received_at, case_id FROM cases {where} "
                    "ORDER BY received_at DESC, case_id DESC OFFSET :depth LIMIT 1"
                ),
                {**bound, "depth": depth},
            ).first()
            if row is not None:
                cursor = encode_cursor(row[0].replace(tzinfo=UTC), row[1])
                starts.append(Walk(params, cursor))
    return starts


@contextmanager
def read_models(args: argparse.Namespace, run_id: str) -> Iterator[tuple[str, str, Seeded]]:
    """(URL, schema, what was seeded) of a fresh, seeded read-model schema; dropped afterwards
    unless --keep."""
    with postgres_server(args.postgres) as url:
        schema = f"bench_api_{run_id}"
        engine = create_engine(url, schema)
        try:
            migrate(engine)
            with console.status(f"seeding {args.cases:,} cases …"):
                started = time.perf_counter()
                seeded = seed(engine, schema, args.cases)
            console.print(
                f"seeded {seeded.cases:,} cases and {seeded.clocks:,} clocks in "
                f"{time.perf_counter() - started:.1f} s (with VACUUM ANALYZE)"
            )
            yield url, schema, seeded
        finally:
            engine.dispose()
            if not args.keep:
                drop_schemas(url, [schema])


def _answers(port: int, services: list[Service]) -> bool:
    for service in services:
        if not service.running():
            raise RuntimeError(f"the {service.name} exited:\n{service.tail()}")
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


async def settle(client: aiohttp.ClientSession, seconds: float = 120.0) -> None:
    """Wait (bounded) until the API answers /healthz within 50 ms three times in a row: a
    phase starts on a server done with the previous one (after an overload, uvicorn still
    works through requests whose clients have gone)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    quick = 0
    with console.status("waiting for the API to be idle …"):
        while quick < 3 and loop.time() < deadline:
            started = loop.time()
            try:
                async with client.get("/healthz") as response:
                    await response.read()
                quick = quick + 1 if loop.time() - started < 0.05 else 0
            except (aiohttp.ClientError, TimeoutError):
                quick = 0
            await asyncio.sleep(0.5)


async def _phase(
    name: str, rate: float, pick: Pick, args: argparse.Namespace, drain: float
) -> list[Shot]:
    if args.warmup > 0:
        with console.status(f"{name} at {rate:g}/s: warming up {args.warmup:g} s …"):
            await open_loop(rate, args.warmup, pick, drain_timeout=drain)
    total = max(1, round(rate * args.duration))
    with progress_bar() as progress:
        task = progress.add_task(f"{name} at {rate:g}/s", total=total)
        return await open_loop(
            rate,
            args.duration,
            pick,
            drain_timeout=drain,
            on_answer=functools.partial(progress.advance, task),
        )


async def measure(
    args: argparse.Namespace, base_url: str, tokens: Tokens, seeded: Seeded, starts: list[Walk]
) -> dict[str, tuple[float, list[Shot]]]:
    rng = random.Random(args.seed)
    connector = aiohttp.TCPConnector(limit=2000)
    timeout = aiohttp.ClientTimeout(total=30)
    results: dict[str, tuple[float, list[Shot]]] = {}
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as client:
        if "reads" in args.phases:
            await settle(client)
            reads = CaseReads(client, seeded.case_ids, tokens.leader, tokens.head, rng)
            shots = await _phase("GET /cases/{id}", args.get_rate, reads.pick, args, 30)
            results["reads"] = (args.get_rate, shots)
            print_shots(args.get_rate, shots)
        if "lists" in args.phases:
            await settle(client)
            lists = CaseLists(
                client,
                tokens.leader,
                rng,
                seeded.kinds,
                seeded.statuses,
                seeded.departments,
                seeded.enterprise_names,
                seeded.received,
                starts,
            )
            shots = await _phase("GET /cases lists", args.list_rate, lists.pick, args, 30)
            results["lists"] = (args.list_rate, shots)
            print_shots(args.list_rate, shots)
            console.print(
                f"deep pages: {lists.walked:,} pages walked by following next_cursor, "
                f"{lists.ended} walks reached the end of their list"
            )
        if "e2e" in args.phases:
            await settle(client)
            run_id = uuid.uuid4().hex[:8]
            posted = PostedEvents(client, tokens.system, run_id, rng, seeded.departments)
            shots = await _phase("POST /events → visible", args.event_rate, posted.pick, args, 30)
            results["e2e"] = (args.event_rate, shots)
            print_shots(args.event_rate, shots)
    return results


def run(args: argparse.Namespace, run_id: str, work_dir: Path) -> list[Figure]:
    if os.environ.pop("CASESTREAM_PG_FAST", None):
        console.print("[yellow]ignoring CASESTREAM_PG_FAST: PostgreSQL runs as in production")
    secret = secrets.token_urlsafe(48)
    with ExitStack() as stack:
        url, schema, seeded = stack.enter_context(read_models(args, run_id))
        engine = create_engine(url, schema)
        try:
            starts = walk_starts(engine, seeded, random.Random(args.seed))
        finally:
            engine.dispose()
        topics = Topics(prefix=f"benchapi{run_id}.")
        services: list[Service] = []
        if "e2e" in args.phases:
            bootstrap = stack.enter_context(kafka_broker(args.kafka))
            create_topics(bootstrap, topics, TopicLayout.single_broker())
            if not args.keep:
                stack.callback(delete_topics, bootstrap, topics)
            env = service_env(bootstrap, topics, url, schema, CASESTREAM_AUTH_SECRET=secret)
            worker = Service(
                "worker", ["worker", "--metrics-port", str(free_port())], env, work_dir / "worker"
            )
            services.append(worker)
            stack.callback(worker.stop)
        else:
            env = service_env("", topics, url, schema, CASESTREAM_AUTH_SECRET=secret)
            env.pop("CASESTREAM_KAFKA_BOOTSTRAP")
        port = free_port()
        api = Service(
            "api",
            ["api", "--port", str(port), "--workers", str(args.api_workers)],
            env,
            work_dir / "api",
        )
        services.append(api)
        stack.callback(api.stop)
        with console.status("API starting …"):
            wait_until("/healthz", lambda: _answers(port, services), args.timeout, 0.25)
        if "e2e" in args.phases:
            with console.status("worker starting …"):
                wait_until(
                    "/readyz",
                    lambda: (
                        httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
                    ),
                    args.timeout,
                    0.5,
                )
        results = asyncio.run(
            measure(args, f"http://127.0.0.1:{port}", Tokens(secret), seeded, starts)
        )
    return figures_of(results, seeded.cases, args.api_workers)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    figures = run_in_work_dir(
        console, "api", argv, args.keep, lambda run_id, work_dir: run(args, run_id, work_dir)
    )
    if figures is None:
        return INTERRUPTED
    console.rule("figures")
    for figure in figures:
        console.print(figure.line(), markup=False)
    if args.json:
        args.json.write_text(
            json.dumps([figure.row() for figure in figures], ensure_ascii=False, indent=1)
        )
        console.print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
