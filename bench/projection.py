"""Throughput of the projector, against the raw consume rate and a naive one-commit-per-event loop.

One run measures, on this machine:

1. raw consume: aiokafka, no consumer group, from the beginning to the end offsets of the case
   topics, doing nothing with the messages: the ceiling of any consumer;
2. the real projector: the faust worker (`python -m casestream.cli worker`) as a subprocess,
   projecting every event into a fresh SQLite file, then into a fresh PostgreSQL schema, timed
   from the worker's start until the checkpoints table says it has everything
   (SUM(next_offset) == events), and also from the first checkpoint row (start-up excluded);
3. a naive projector: the same decode, then `ProjectionWriter.apply_batch([one event])`, so one
   transaction per event, consumed with kafka-python, on SQLite and PostgreSQL;

4. the peer: pyeventsourcing's projection (bench/peer_eventsourcing.py, in its own virtual
   environment var/bench-peer-venv made on first use) reading the same topics into a
   one-row-per-case view with a tracking record per event, one commit per event, on the same
   PostgreSQL cluster (its own schema);

then prints events/second and the ratios against the targets (projector >= 20x naive per
database, projector on PostgreSQL >= 4x the peer, projector on PostgreSQL >= 50 % of raw
consume). `--workers 1 2 3` measures the worker with 1, 2 and 3 replicas on PostgreSQL (the
topics have 3 partitions); `--json PATH` writes the figures as rows for bench/suite.py.

    .venv/bin/python bench/projection.py [--events 20000] [--naive-events 2000]
        [--workers 1 2 3] [--peer-events N] [--backends sqlite postgresql]
        [--kafka HOST:PORT] [--postgres URL] [--json PATH]

Without --kafka / --postgres it starts a local broker (var/bench-kafka) and a local PostgreSQL
cluster (var/bench-postgres) and stops them at the end (unless they were already running).
Every run uses its own topic prefix, SQLite files and PostgreSQL schemas, and removes them at
the end (--keep keeps them, with the worker logs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from bench_rows import Row, write_rows
from peer import PEER_LABEL, run_peer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from casestream.domain.envelope import Event
from casestream.local import kafka_for, postgres_for
from casestream.policy import clock_policy
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.simulation import simulate
from casestream.producers.topics import TopicLayout, Topics, create_topics
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.settings import Settings
from casestream.stream_processors.projector import RawMessage, decode

ROOT = Path(__file__).resolve().parents[1]
TIMEZONE = "Asia/Shanghai"
NAIVE_TARGET = 20.0  # the projector must be at least this many times the naive loop
RAW_TARGET = 0.5  # the projector on PostgreSQL must reach this share of the raw consume rate
PEER_TARGET = 4.0  # the projector on PostgreSQL must be at least this many times the peer

# wide enough for the tables when the output goes to a file or a pipe
console = Console(width=None if sys.stdout.isatty() else 150)


# --- results -------------------------------------------------------------------------------


@dataclass
class Result:
    what: str
    database: str
    events: int
    seconds: float
    steady_events: int = 0  # events projected after the first checkpoint appeared
    steady_seconds: float | None = None  # from the first checkpoint to the last
    startup_seconds: float | None = None  # from the start to the first checkpoint
    note: str = ""
    ok: bool = True

    @property
    def rate(self) -> float | None:
        return self.events / self.seconds if self.ok and self.seconds > 0 else None

    @property
    def steady_rate(self) -> float | None:
        if not self.ok or not self.steady_seconds or self.steady_seconds <= 0:
            return None
        return self.steady_events / self.steady_seconds


@dataclass
class Results:
    rows: list[Result] = field(default_factory=list)

    def add(self, result: Result) -> Result:
        self.rows.append(result)
        rate = f"{result.rate:,.0f} events/s" if result.rate else "failed"
        console.print(
            f"[bold]{result.what}[/bold] {result.database}: {result.events:,} events in "
            f"{result.seconds:.2f} s = {rate}"
            + (
                f" ({result.steady_rate:,.0f} events/s after start-up)"
                if result.steady_rate
                else ""
            )
        )
        return result

    def find(self, what: str, database: str) -> Result | None:
        for row in self.rows:
            if row.what.startswith(what) and row.database == database:
                return row
        return None


def _fmt_rate(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:,.0f}"


def _fmt_seconds(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f}"


def print_results(results: Results, args: argparse.Namespace) -> None:
    table = Table(
        title=f"casestream projection throughput ({os.cpu_count()} cores)",
        caption="events/s = events / seconds; steady = after the first checkpoint (start-up excluded)",
    )
    table.add_column("measurement")
    table.add_column("database")
    table.add_column("events", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("events/s", justify="right", style="bold")
    table.add_column("start-up s", justify="right")
    table.add_column("steady events/s", justify="right")
    table.add_column("note")
    for row in results.rows:
        table.add_row(
            row.what,
            row.database,
            f"{row.events:,}",
            _fmt_seconds(row.seconds),
            _fmt_rate(row.rate) if row.ok else "[red]failed[/red]",
            _fmt_seconds(row.startup_seconds),
            _fmt_rate(row.steady_rate),
            row.note,
        )
    console.print(table)

    ratios = Table(title="ratios against the targets")
    ratios.add_column("ratio")
    ratios.add_column("incl. start-up", justify="right")
    ratios.add_column("steady", justify="right")
    ratios.add_column("target", justify="right")
    ratios.add_column("verdict (incl. start-up / steady)")

    def verdict(value: float | None, target: float) -> str:
        if value is None:
            return "[yellow]n/a[/yellow]"
        return "[green]met[/green]" if value >= target else "[red]missed[/red]"

    for database in ("SQLite", "PostgreSQL"):
        projector = results.find("projector (", database)
        naive = results.find("naive (1 commit/event)", database)
        if projector is None or naive is None or naive.rate is None:
            continue
        total = projector.rate / naive.rate if projector.rate else None
        steady = projector.steady_rate / naive.rate if projector.steady_rate else None
        ratios.add_row(
            f"projector / naive, {database}",
            "—" if total is None else f"{total:.1f}×",
            "—" if steady is None else f"{steady:.1f}×",
            f"≥ {NAIVE_TARGET:.0f}×",
            f"{verdict(total, NAIVE_TARGET)} / {verdict(steady, NAIVE_TARGET)}",
        )
    peer = results.find(PEER_LABEL, "PostgreSQL")
    for projector in results.rows:
        if not projector.what.startswith("projector (") or projector.database != "PostgreSQL":
            continue
        if peer is None or not peer.steady_rate:
            break
        total = projector.rate / peer.steady_rate if projector.rate else None
        steady = projector.steady_rate / peer.steady_rate if projector.steady_rate else None
        ratios.add_row(
            f"{projector.what} / peer, PostgreSQL",
            "—" if total is None else f"{total:.1f}×",
            "—" if steady is None else f"{steady:.1f}×",
            f"≥ {PEER_TARGET:.0f}×",
            f"{verdict(total, PEER_TARGET)} / {verdict(steady, PEER_TARGET)}",
        )
    projector = results.find("projector (", "PostgreSQL")
    raw = results.find("raw consume (aiokafka)", "—")
    if projector is not None and raw is not None and raw.rate:
        total = projector.rate / raw.rate if projector.rate else None
        steady = projector.steady_rate / raw.rate if projector.steady_rate else None
        ratios.add_row(
            "projector (PostgreSQL) / raw consume",
            "—" if total is None else f"{total:.1%}",
            "—" if steady is None else f"{steady:.1%}",
            f"≥ {RAW_TARGET:.0%}",
            f"{verdict(total, RAW_TARGET)} / {verdict(steady, RAW_TARGET)}",
        )
    if ratios.row_count:
        console.print(ratios)
    console.print(
        f"projector: {args.events:,} events, batch size "
        f"{args.batch_size or 'default (CASESTREAM_PROJECTOR_BATCH_SIZE unset)'}; "
        f"naive: {args.naive_events:,} events; events/s are per second, so they compare."
    )


def figure_rows(results: Results) -> list[Row]:
    """The figures as rows for bench/suite.py: steady rates (start-up excluded) throughout."""
    rows: list[Row] = []

    def steady(row: Result | None) -> float | None:
        if row is None:
            return None
        return row.steady_rate or row.rate

    raw = results.find("raw consume (aiokafka)", "—")
    if raw is not None and raw.rate:
        rows.append(Row("raw consume (aiokafka, no group)", raw.rate, "events/s"))
    peer = results.find(PEER_LABEL, "PostgreSQL")
    peer_figure = f"peer: {PEER_LABEL} projection, PostgreSQL"
    peer_rate = steady(peer)
    if peer_rate:
        rows.append(Row(peer_figure, peer_rate, "events/s"))
    for database in ("PostgreSQL", "SQLite"):
        naive = results.find("naive (1 commit/event)", database)
        naive_figure = f"naive loop (1 commit/event), {database}"
        if naive is not None and naive.rate:
            rows.append(Row(naive_figure, naive.rate, "events/s"))
        for row in results.rows:
            rate = steady(row)
            if not row.what.startswith("projector (") or row.database != database or not rate:
                continue
            replicas = row.what.removeprefix("projector (").rstrip(")").replace("faust ", "")
            figure = (
                f"live projection, {replicas.replace('worker', '1 worker', replicas == 'worker')}"
            )
            figure += f" (faust), {database}"
            if database == "PostgreSQL" and peer_rate:
                rows.append(
                    Row(figure, rate, "events/s", peer_figure, peer_rate, f"≥ {PEER_TARGET:g}×")
                )
            if naive is not None and naive.rate:
                rows.append(
                    Row(figure, rate, "events/s", naive_figure, naive.rate, f"≥ {NAIVE_TARGET:g}×")
                )
    return rows


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


# --- local services ------------------------------------------------------------------------


def kafka_broker(bootstrap: str | None) -> contextlib.AbstractContextManager[str]:
    return kafka_for(bootstrap, ROOT / "var" / "bench-kafka", console.print)


def postgres_server(url: str | None) -> contextlib.AbstractContextManager[str]:
    return postgres_for(url, ROOT / "var" / "bench-postgres", console.print)


@dataclass(frozen=True)
class Database:
    label: str
    url: str
    schema: str | None

    def env(self) -> dict[str, str]:
        found = {"CASESTREAM_DATABASE_URL": self.url}
        if self.schema:
            found["CASESTREAM_DATABASE_SCHEMA"] = self.schema
        return found


class Databases:
    """Fresh read-model databases (SQLite files, PostgreSQL schemas), removed at the end."""

    def __init__(self, work_dir: Path, postgres_url: str, keep: bool) -> None:
        self._work_dir = work_dir
        self._postgres_url = postgres_url
        self._keep = keep
        self._schemas: list[str] = []

    def fresh(self, backend: str, name: str) -> Database:
        if backend == "sqlite":
            return Database("SQLite", f"sqlite:///{self._work_dir / f'{name}.db'}", None)
        schema = f"bench_{uuid.uuid4().hex[:10]}_{name}"
        self._schemas.append(schema)
        return Database("PostgreSQL", self._postgres_url, schema)

    def drop(self) -> None:
        if self._keep or not self._schemas:
            return
        engine = sa.create_engine(self._postgres_url)
        try:
            with engine.begin() as conn:
                for schema in self._schemas:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        except sa.exc.SQLAlchemyError as exc:
            console.print(f"[yellow]could not drop the bench schemas: {exc}[/yellow]")
        finally:
            engine.dispose()


# --- events --------------------------------------------------------------------------------


def make_events(count: int, seed: int) -> list[Event[Any]]:
    """The first `count` events (in time order) of enough simulated cases."""
    now = datetime.now(ZoneInfo(TIMEZONE))
    cases = max(1, count // 4)
    while True:
        events = simulate(random.Random(seed), cases, now, prefix="BENCH")
        if len(events) >= count:
            return events[:count]
        cases = int(cases * max(1.2, count / max(1, len(events)) * 1.1)) + 1


def produce(bootstrap: str, topics: Topics, events: list[Event[Any]]) -> Result:
    with progress_bar() as progress:
        task = progress.add_task("producing events", total=len(events))
        started = time.perf_counter()
        with EventProducer(bootstrap, topics) as producer:
            for start in range(0, len(events), 1000):
                producer.send_many(
                    events[start : start + 1000], on_sent=lambda n: progress.advance(task, n)
                )
        elapsed = time.perf_counter() - started
    return Result("produce (kafka-python, acks=all)", "—", len(events), elapsed, note="info")


# --- 1. raw consume ------------------------------------------------------------------------


Layout = list[tuple[str, int, int, int]]  # topic, partition, beginning offset, end offset


def partition_layout(bootstrap: str, topics: Topics) -> Layout:
    """Every partition of the case topics with its beginning and end offsets (kafka-python)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="casestream-bench-meta")
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics.case_topics
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        beginnings = consumer.beginning_offsets(partitions)
        ends = consumer.end_offsets(partitions)
        return [(tp.topic, tp.partition, beginnings[tp], ends[tp]) for tp in partitions]
    finally:
        consumer.close()


async def _raw_consume(bootstrap: str, layout: Layout) -> tuple[int, int, float]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="casestream-bench-raw",
    )
    await consumer.start()  # connecting is not timed; fetching starts with assign()
    try:
        started = time.perf_counter()
        partitions = [TopicPartition(topic, partition) for topic, partition, _, _ in layout]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        remaining = {
            TopicPartition(topic, partition): end
            for topic, partition, beginning, end in layout
            if end > beginning
        }
        count = size = 0
        while remaining:
            polled = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for tp, records in polled.items():
                end = remaining.get(tp)
                if end is None:
                    continue
                for record in records:
                    if record.offset < end:
                        count += 1
                        size += len(record.value or b"")
                if await consumer.position(tp) >= end:
                    del remaining[tp]
                    consumer.pause(tp)
        return count, size, time.perf_counter() - started
    finally:
        await consumer.stop()


def raw_consume(bootstrap: str, topics: Topics) -> Result:
    layout = partition_layout(bootstrap, topics)
    with console.status("raw consume with aiokafka …"):
        count, size, elapsed = asyncio.run(_raw_consume(bootstrap, layout))
    return Result(
        "raw consume (aiokafka)",
        "—",
        count,
        elapsed,
        note=f"the ceiling; {size / count if count else 0:,.0f} bytes/event",
    )


# --- 2. the real projector: the faust worker -------------------------------------------------


def _checkpoint_sum(engine: sa.Engine) -> int | None:
    """SUM(next_offset) of the checkpoints; None while there is no checkpoints table yet."""
    try:
        with engine.connect() as conn:
            value = conn.execute(
                sa.text(
                    "SELECT SUM(next_offset) FROM checkpoints WHERE topic NOT LIKE '%alerts.events'"
                )
            ).scalar()
    except sa.exc.DBAPIError:
        return None
    return int(value or 0)


def run_worker(
    bootstrap: str,
    topics: Topics,
    database: Database,
    expected: int,
    work_dir: Path,
    batch_size: int | None,
    timeout: float,
    workers: int = 1,
) -> Result:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASESTREAM_")}
    env.update(
        CASESTREAM_KAFKA_BOOTSTRAP=bootstrap,
        CASESTREAM_TOPIC_PREFIX=topics.prefix,
        CASESTREAM_TIMEZONE=TIMEZONE,
        CASESTREAM_SCANNER_ENABLED="false",  # projection only: no alerts join the count
        **database.env(),
    )
    if batch_size:
        env["CASESTREAM_PROJECTOR_BATCH_SIZE"] = str(batch_size)
    label = "projector (faust worker)" if workers == 1 else f"projector ({workers} faust workers)"
    run_dir = work_dir / f"worker-{database.label.lower()}"
    run_dir.mkdir(parents=True, exist_ok=True)  # faust keeps its data dir in the cwd
    log_path = run_dir / "worker.log"
    # the poller's engine (for PostgreSQL it creates the schema, which the worker would too)
    engine = create_engine(database.url, database.schema)
    with log_path.open("wb") as log, progress_bar() as progress:
        task = progress.add_task(f"faust worker → {database.label}", total=expected)
        started = time.perf_counter()
        # N replicas share the partitions of one consumer group (the read model names the group)
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "casestream.cli", "worker"],
                env=env,
                cwd=run_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            for _ in range(workers)
        ]
        first_at: float | None = None
        first_sum = 0
        done = 0
        failure = ""
        try:
            while True:
                now = time.perf_counter()
                done = _checkpoint_sum(engine) or 0
                if done and first_at is None:
                    first_at, first_sum = now, done
                progress.update(task, completed=done)
                if done >= expected:
                    break
                exited = [worker for worker in processes if worker.poll() is not None]
                if exited:
                    failure = f"a worker exited with {exited[0].returncode}; see {log_path}"
                    break
                if now - started > timeout:
                    failure = f"timed out after {timeout:.0f} s at {done:,} events; see {log_path}"
                    break
                time.sleep(0.05)
            finished = time.perf_counter()
        finally:
            for worker in processes:
                stop_process(worker)
            engine.dispose()
    if failure:
        console.print(f"[red]{failure}[/red]")
        console.print(log_path.read_text(errors="replace")[-3000:])
        return Result(label, database.label, done, 0.0, note=failure, ok=False)
    return Result(
        label,
        database.label,
        done,
        finished - started,
        steady_events=done - first_sum,
        steady_seconds=None if first_at is None else finished - first_at,
        startup_seconds=None if first_at is None else first_at - started,
        note="subprocess; from Popen to SUM(next_offset) = events",
    )


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


# --- 3. the naive projector: one transaction per event ---------------------------------------


def run_naive(bootstrap: str, topics: Topics, database: Database, limit: int) -> Result:
    from kafka import KafkaConsumer, TopicPartition

    engine = create_engine(database.url, database.schema)
    migrate(engine)
    writer = ProjectionWriter(engine, clock_policy(Settings()))
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id="casestream-bench-naive",
    )
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics.case_topics
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        done = 0
        with progress_bar() as progress:
            task = progress.add_task(f"naive → {database.label}", total=limit)
            started = time.perf_counter()
            idle_since = time.monotonic()
            while done < limit:
                polled = consumer.poll(timeout_ms=1000, max_records=500)
                if not polled and time.monotonic() - idle_since > 30:
                    raise RuntimeError(f"naive consumer got nothing for 30 s after {done} events")
                for records in polled.values():
                    for record in records:
                        if done >= limit:
                            break
                        message = RawMessage(
                            record.topic, record.partition, record.offset, record.key, record.value
                        )
                        decoded = decode(message, TIMEZONE)
                        item = (
                            decoded
                            if isinstance(decoded, ConsumedEvent)
                            else ConsumedEvent(record.topic, record.partition, record.offset, None)
                        )
                        writer.apply_batch([item])
                        done += 1
                        progress.advance(task)
                    idle_since = time.monotonic()
            elapsed = time.perf_counter() - started
    finally:
        consumer.close()
        engine.dispose()
    return Result(
        "naive (1 commit/event)",
        database.label,
        done,
        elapsed,
        note=r"kafka-python + decode + apply_batch(\[event])",
    )


# --- 4. the peer library: pyeventsourcing, one commit per event -----------------------------


def run_peer_projection(
    bootstrap: str, topics: Topics, postgres_url: str, schema: str, limit: int, work_dir: Path
) -> Result:
    label = f"{PEER_LABEL} (1 commit/event)"
    try:
        with progress_bar() as progress:
            task = progress.add_task(f"{PEER_LABEL} → PostgreSQL", total=limit)
            run = run_peer(
                bootstrap,
                topics.case_topics,
                postgres_url,
                schema,
                limit,
                work_dir / "peer.log",
                on_progress=lambda done: progress.update(task, completed=done),
            )
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        console.print(f"[red]{exc}[/red]")
        return Result(label, "PostgreSQL", 0, 0.0, note=str(exc).splitlines()[0], ok=False)
    return Result(
        label,
        "PostgreSQL",
        run.events,
        run.seconds,
        steady_events=run.events,
        steady_seconds=run.steady_seconds,
        startup_seconds=run.seconds - run.steady_seconds,
        note="own venv; kafka-python + json decode + view upsert + tracking",
    )


# --- main ----------------------------------------------------------------------------------


def delete_topics(bootstrap: str, topics: Topics) -> None:
    from kafka.admin import KafkaAdminClient

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="casestream-bench")
        try:
            admin.delete_topics(list(topics.all))
        finally:
            admin.close()
    except Exception as exc:
        console.print(f"[yellow]could not delete the bench topics: {exc}[/yellow]")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Projector throughput vs raw consume and a naive one-commit-per-event loop."
    )
    parser.add_argument("--events", type=int, default=20_000, help="events for the projector")
    parser.add_argument(
        "--naive-events", type=int, default=2_000, help="events for the (slow) naive loop"
    )
    parser.add_argument(
        "--kafka", metavar="BOOTSTRAP", help="use this broker (default: a local one)"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="use this PostgreSQL (default: a local cluster)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="CASESTREAM_PROJECTOR_BATCH_SIZE for the worker (default: the project's default)",
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated cases")
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="worker processes sharing the partitions (replicas); several counts are each "
        "measured on PostgreSQL (SQLite runs the first)",
    )
    parser.add_argument(
        "--peer-events",
        type=int,
        default=None,
        help="events for the peer library's projection (default: --events; 0 skips it)",
    )
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=["sqlite", "postgresql"],
        default=["sqlite", "postgresql"],
        help="read-model databases to measure (the peer runs on PostgreSQL only)",
    )
    parser.add_argument("--json", metavar="PATH", help="write the figures as rows here")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds one worker run may take"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the SQLite files, schemas, topics and logs"
    )
    args = parser.parse_args(argv)
    if args.events < 1 or args.naive_events < 1:
        parser.error("--events and --naive-events must be positive")
    if args.naive_events > args.events:
        parser.error("--naive-events cannot exceed --events (the naive loop reads the same topics)")
    if args.peer_events is None:
        args.peer_events = args.events
    if not 0 <= args.peer_events <= args.events:
        parser.error("--peer-events must be between 0 and --events")
    return args


def _terminate(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)  # clean up the same way as on Ctrl-C
    run_id = uuid.uuid4().hex[:8]
    work_dir = ROOT / "var" / f"bench-run-{run_id}"
    work_dir.mkdir(parents=True, exist_ok=True)
    results = Results()
    try:
        with kafka_broker(args.kafka) as bootstrap, postgres_server(args.postgres) as pg_url:
            topics = Topics(prefix=f"bench{run_id}.")
            create_topics(bootstrap, topics, TopicLayout.single_broker())
            databases = Databases(work_dir, pg_url, args.keep)
            try:
                with console.status(f"simulating {args.events:,} events …"):
                    events = make_events(args.events, args.seed)
                results.add(produce(bootstrap, topics, events))
                del events
                results.add(raw_consume(bootstrap, topics))
                for backend in args.backends:
                    counts = args.workers if backend == "postgresql" else args.workers[:1]
                    for workers in counts:
                        results.add(
                            run_worker(
                                bootstrap,
                                topics,
                                databases.fresh(backend, f"projector{workers}"),
                                args.events,
                                work_dir,
                                args.batch_size,
                                args.timeout,
                                workers,
                            )
                        )
                if "postgresql" in args.backends and args.peer_events:
                    peer_db = databases.fresh("postgresql", "peer")
                    assert peer_db.schema is not None
                    results.add(
                        run_peer_projection(
                            bootstrap, topics, pg_url, peer_db.schema, args.peer_events, work_dir
                        )
                    )
                for backend in args.backends:
                    results.add(
                        run_naive(
                            bootstrap, topics, databases.fresh(backend, "naive"), args.naive_events
                        )
                    )
            finally:
                databases.drop()
                if not args.keep:
                    delete_topics(bootstrap, topics)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted; cleaned up[/yellow]")
        if results.rows:
            print_results(results, args)
        return 130
    except Exception:
        if results.rows:
            print_results(results, args)  # what was measured before the failure
        raise
    finally:
        if args.keep:
            console.print(f"kept {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    print_results(results, args)
    write_rows(args.json, figure_rows(results))
    return 0 if all(row.ok for row in results.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
