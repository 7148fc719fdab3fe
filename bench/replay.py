"""`casestream replay` throughput: rebuilding the read models from offset 0, no faust on the path.

One run, on this machine:

1. a broker and PostgreSQL (started locally unless --kafka / --postgres are given), topics under
   a fresh prefix (3 partitions each);
2. --events simulated events (default 60,000; `--events 1000000` for the province-size run)
   produced with aiokafka record batches built per partition (acks=all, no wait per event)
   while a second process simulates and encodes the next chunk of 10,000 cases (the first four
   chunks are simulated, later ones are copies of them with new case and event ids), with a
   progress bar;
3. `python -m casestream.cli replay --database-url URL --schema S` as a subprocess into a fresh
   schema (or, with --database sqlite, a fresh SQLite file), its progress followed through the
   checkpoints table (SUM(next_offset)) with a progress bar and its rate; timed from the start
   of the process to its exit, and from its first checkpoint to the last (start-up excluded);
4. clean-up: the schema or file, the topics, and the services it started.

    .venv/bin/python bench/replay.py [--events 1000000] [--database postgresql|sqlite]
        [--kafka HOST:PORT] [--postgres URL] [--json PATH] [--keep]

With --json the steady rate is written as a row whose baseline is the peer library's projection
(bench/projection.py), target >= 8x; bench/suite.py fills in the peer's figure from the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from bench_rows import Row, write_rows
from peer import PEER_LABEL
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from casestream.local import kafka_for, postgres_for
from casestream.producers.simulation import simulate
from casestream.producers.topics import TopicLayout, Topics, create_topics
from casestream.read_models.database import create_engine

ROOT = Path(__file__).resolve().parents[1]
TIMEZONE = "Asia/Shanghai"
PEER_TARGET = 8.0  # replay must be at least this many times the peer library's projection
CASES_PER_CHUNK = 10_000  # about 52,000 events
SIMULATED_CHUNKS = 4  # distinct chunks; later ones are copies with new case and event ids
PEER_FIGURE = f"peer: {PEER_LABEL} projection, PostgreSQL"  # a row of bench/projection.py
PARTITIONS = 3  # of each topic, as `casestream up` makes them on one broker

console = Console(width=None if sys.stdout.isatty() else 150)


class RateColumn(ProgressColumn):
    """The task's current rate in events per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("—" if speed is None else f"{speed:,.0f} events/s", style="bold cyan")


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


# --- producing -----------------------------------------------------------------------------


Message = tuple[str, bytes, bytes]  # topic, key, value


_simulated: dict[int, list[tuple[str, bytes, bytes, bytes]]] = {}  # per process


def encoded_chunk(index: int, seed: int, prefix: str, now: str) -> list[Message]:
    """The events of one chunk of cases, encoded as EventProducer sends them.

    The first SIMULATED_CHUNKS chunks are simulated; a later chunk is a copy of one of them
    with new case ids (prefix R<index>-) and new event ids, so a million events cost the
    simulator's time for SIMULATED_CHUNKS chunks only."""
    template = index % SIMULATED_CHUNKS
    if template not in _simulated:
        topics = Topics(prefix=prefix)
        events = simulate(
            random.Random(seed * 1_000_003 + template),
            CASES_PER_CHUNK,
            datetime.fromisoformat(now),
            prefix=f"R{template:04d}",
        )
        _simulated[template] = [
            (
                topics.for_kind(event.case_kind),
                event.case_id.encode(),
                str(event.event_id).encode(),
                event.to_json_bytes(),
            )
            for event in events
        ]
    if index == template:
        return [(topic, key, value) for topic, key, _, value in _simulated[template]]
    old, new = f"R{template:04d}-".encode(), f"R{index:04d}-".encode()
    copied: list[Message] = []
    for topic, key, event_id, value in _simulated[template]:
        value = value.replace(old, new).replace(event_id, str(uuid.uuid4()).encode())
        copied.append((topic, key.replace(old, new), value))
    return copied


@dataclass(frozen=True)
class Produced:
    events: int
    seconds: float  # from the start to the last acknowledgement
    waited: float  # of which waiting for the simulator (the first chunk, mostly)
    size: int


def produce(bootstrap: str, topics: Topics, count: int, seed: int) -> Produced:
    """`count` events to the topics, keyed by case, simulated in a second process meanwhile."""
    with ProcessPoolExecutor(max_workers=1) as pool, progress_bar() as progress:
        task = progress.add_task("producing events", total=count)
        return asyncio.run(
            _produce(
                bootstrap, topics, count, seed, pool, lambda n: progress.update(task, completed=n)
            )
        )


async def _produce(
    bootstrap: str,
    topics: Topics,
    count: int,
    seed: int,
    pool: ProcessPoolExecutor,
    on_progress: Callable[[int], object],
) -> Produced:
    """aiokafka record batches built per partition (the key's partition, as every Kafka
    producer picks it: murmur2 of the key), sent without waiting for each other."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.partitioner import DefaultPartitioner

    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="casestream-bench-replay",
        acks="all",
        max_batch_size=1 << 20,
        max_request_size=4 << 20,
    )
    await producer.start()
    partitioner = DefaultPartitioner()
    now = datetime.now(ZoneInfo(TIMEZONE)).isoformat()
    sent = size = 0
    next_chunk = 0
    waited = 0.0
    ahead: deque[asyncio.Future[list[Message]]] = deque()
    try:
        layout = {
            topic: sorted(await producer.partitions_for(topic)) for topic in topics.case_topics
        }
        started = time.perf_counter()
        while sent < count:
            while len(ahead) < 2:  # the simulator stays one chunk ahead, memory stays bounded
                future = pool.submit(encoded_chunk, next_chunk, seed, topics.prefix, now)
                ahead.append(asyncio.wrap_future(future))
                next_chunk += 1
            began = time.perf_counter()
            messages = (await ahead.popleft())[: count - sent]
            waited += time.perf_counter() - began
            batches: dict[tuple[str, int], Any] = {}
            acks: list[asyncio.Future[Any]] = []
            for index, (topic, key, value) in enumerate(messages, 1):
                if index % 5000 == 0:
                    on_progress(sent + index)
                partitions = layout[topic]
                partition = partitioner(key, partitions, partitions)
                batch = batches.get((topic, partition))
                if batch is None:
                    batch = batches[topic, partition] = producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None) is None:  # full
                    acks.append(await producer.send_batch(batch, topic, partition=partition))
                    batch = batches[topic, partition] = producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None)
                size += len(value)
            for (topic, partition), batch in batches.items():
                acks.append(await producer.send_batch(batch, topic, partition=partition))
            await asyncio.gather(*acks)
            sent += len(messages)
            on_progress(sent)
        elapsed = time.perf_counter() - started
    finally:
        for pending in ahead:
            pending.cancel()
        await producer.stop()
    return Produced(sent, elapsed, waited, size)


# --- replaying -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Replayed:
    events: int
    seconds: float  # from the process's start to its exit
    steady_seconds: float | None  # from the first checkpoint to the last
    steady_events: int
    stopped: str = ""  # why it stopped before the end (--timeout, Ctrl-C): a partial figure


def _checkpoint_sum(engine: sa.Engine) -> int | None:
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


def replay(
    bootstrap: str,
    topics: Topics,
    url: str,
    schema: str | None,
    expected: int,
    run_dir: Path,
    timeout: float,
    processes: int | None,
) -> Replayed:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASESTREAM_")}
    env.update(
        CASESTREAM_KAFKA_BOOTSTRAP=bootstrap,
        CASESTREAM_TOPIC_PREFIX=topics.prefix,
        CASESTREAM_TIMEZONE=TIMEZONE,
        CASESTREAM_DATABASE_URL=url,
    )
    command = [sys.executable, "-m", "casestream.cli", "replay", "--database-url", url]
    if processes:
        command += ["--processes", str(processes)]
    if schema:
        command += ["--schema", schema]
    run_dir.mkdir(parents=True, exist_ok=True)
    log_path = run_dir / "replay.log"
    engine = create_engine(url, schema)  # the poller's; replay migrates the schema itself
    first_at: float | None = None
    first_sum = done = 0
    stopped = ""
    try:
        with log_path.open("wb") as log, progress_bar() as progress:
            task = progress.add_task("casestream replay", total=expected)
            started = time.perf_counter()
            process = subprocess.Popen(
                command, env=env, cwd=run_dir, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                while process.poll() is None:
                    found = _checkpoint_sum(engine)
                    now = time.perf_counter()
                    if found:
                        if first_at is None:
                            first_at, first_sum = now, found
                        done = found
                        progress.update(task, completed=done)
                    if now - started > timeout:
                        stopped = f"stopped at --timeout {timeout:.0f} s"
                        break
                    time.sleep(0.2)
            except KeyboardInterrupt:
                stopped = "stopped by Ctrl-C"
            finally:
                finished = time.perf_counter()
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=30)
            done = _checkpoint_sum(engine) or 0
            progress.update(task, completed=done)
    finally:
        engine.dispose()
    if stopped:
        console.print(f"[yellow]{stopped} at {done:,} of {expected:,} events: a partial rate")
    elif process.returncode != 0 or done < expected:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(
            f"replay exited with {process.returncode} at {done:,} of {expected:,} events:\n{tail}"
        )
    # the last checkpoint lands just before the process exits: its exit ends the steady span
    steady = None if first_at is None else finished - first_at
    return Replayed(done, finished - started, steady, done - first_sum, stopped)


# --- main ----------------------------------------------------------------------------------


def print_results(produced: Produced, replayed: Replayed, database: str) -> None:
    table = Table(title=f"casestream replay throughput ({os.cpu_count()} cores)")
    for column in ("measurement", "events", "seconds", "events/s", "note"):
        table.add_column(column, justify="right" if column in ("events", "seconds") else "left")
    table.add_row(
        "produce (aiokafka record batches, acks=all)",
        f"{produced.events:,}",
        f"{produced.seconds:.1f}",
        f"{produced.events / produced.seconds:,.0f}",
        f"{produced.size / max(1, produced.events):,.0f} bytes/event; simulation overlapped",
    )
    table.add_row(
        "produce, not waiting for the simulator",
        f"{produced.events:,}",
        f"{produced.seconds - produced.waited:.1f}",
        f"{produced.events / max(1e-9, produced.seconds - produced.waited):,.0f}",
        f"{produced.waited:.1f} s waiting for simulated chunks",
    )
    table.add_row(
        f"casestream replay → {database}",
        f"{replayed.events:,}",
        f"{replayed.seconds:.1f}",
        f"{replayed.events / replayed.seconds:,.0f}",
        replayed.stopped or "process start to exit",
    )
    if replayed.steady_seconds:
        table.add_row(
            f"casestream replay → {database}, steady",
            f"{replayed.steady_events:,}",
            f"{replayed.steady_seconds:.1f}",
            f"{replayed.steady_events / replayed.steady_seconds:,.0f}",
            "first checkpoint to exit (start-up excluded)",
        )
    console.print(table)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="casestream replay throughput.")
    parser.add_argument("--events", type=int, default=60_000, help="events to replay")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--kafka", metavar="BOOTSTRAP", help="use this broker (default: local)")
    parser.add_argument("--postgres", metavar="URL", help="use this PostgreSQL (default: local)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated cases")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds the replay may take")
    parser.add_argument(
        "--processes",
        type=int,
        help="`casestream replay --processes N` (default: its own, the machine's cores)",
    )
    parser.add_argument("--json", metavar="PATH", help="write the figures as rows here")
    parser.add_argument("--keep", action="store_true", help="keep the schema, file and topics")
    args = parser.parse_args(argv)
    if args.events < 1:
        parser.error("--events must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_id = uuid.uuid4().hex[:8]
    work_dir = ROOT / "var" / f"bench-replay-{run_id}"
    topics = Topics(prefix=f"benchreplay{run_id}.")
    schema = f"bench_{run_id}_replay" if args.database == "postgresql" else None
    label = "PostgreSQL" if schema else "SQLite"
    with (
        kafka_for(args.kafka, ROOT / "var" / "bench-kafka", console.print) as bootstrap,
        postgres_for(args.postgres, ROOT / "var" / "bench-postgres", console.print) as pg_url,
    ):
        url = pg_url if schema else f"sqlite:///{work_dir / 'replay.db'}"
        create_topics(bootstrap, topics, TopicLayout.single_broker(PARTITIONS))
        try:
            produced = produce(bootstrap, topics, args.events, args.seed)
            replayed = replay(
                bootstrap,
                topics,
                url,
                schema,
                produced.events,
                work_dir,
                args.timeout,
                args.processes,
            )
        finally:
            if not args.keep:
                _drop(bootstrap, topics, pg_url, schema)
                shutil.rmtree(work_dir, ignore_errors=True)
    print_results(produced, replayed, label)
    rate = replayed.steady_events / replayed.steady_seconds if replayed.steady_seconds else None
    sending = produced.events / max(1e-9, produced.seconds - produced.waited)
    rows = [
        Row("produce, simulation included", produced.events / produced.seconds, "events/s"),
        Row("produce (aiokafka record batches), sending only", sending, "events/s"),
    ]
    split = min(args.processes or os.cpu_count() or 1, PARTITIONS) if schema else 1
    processes = f"{split} process{'es' if split > 1 else ''}"
    figure = f"casestream replay (no faust, {processes}), {label}, {replayed.events:,} events"
    if replayed.stopped:
        figure += f" of {produced.events:,} ({replayed.stopped})"
    value = rate or replayed.events / replayed.seconds
    rows.append(Row(figure, value, "events/s", PEER_FIGURE, None, f"≥ {PEER_TARGET:g}×"))
    write_rows(args.json, rows)
    return 0


def _drop(bootstrap: str, topics: Topics, pg_url: str, schema: str | None) -> None:
    from kafka.admin import KafkaAdminClient

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="casestream-bench")
        try:
            admin.delete_topics(list(topics.all))
        finally:
            admin.close()
    except Exception as exc:
        console.print(f"[yellow]could not delete the bench topics: {exc}[/yellow]")
    if schema:
        engine = create_engine(pg_url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
