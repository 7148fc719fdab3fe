"""Throughput of `ProjectionWriter.apply_batch` alone: no Kafka, no faust, only the writer.

Simulated cases (the simulator the fault runs and bench/projection.py use) are encoded as the
producer would send them, decoded as the projector would (not timed), laid out on topic
partitions by their case id as Kafka's default partitioner would, and written in batches into
a fresh SQLite file and a fresh PostgreSQL schema. Prints events/s per database and, with
`--json PATH`, writes the figures as a JSON list of rows
{"figure", "value", "unit", "baseline", "baseline_value", "target", "met"}.

    .venv/bin/python bench/apply_batch.py [--events 10000] [--batch-size 500]
        [--databases sqlite,postgresql] [--postgres URL] [--json PATH]

Without --postgres it starts the local PostgreSQL cluster in var/bench-postgres (and stops it
at the end unless it was already running). The baseline is the peer library's projection rate
measured on this machine (`--peer-rate`); the target is four times it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from kafka.partitioner.default import murmur2
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from casestream.local import postgres_for
from casestream.policy import clock_policy
from casestream.producers.simulation import simulate
from casestream.producers.topics import Topics
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.settings import Settings
from casestream.stream_processors.projector import RawMessage, decode

ROOT = Path(__file__).resolve().parents[1]
TIMEZONE = "Asia/Shanghai"
PEER_RATE = 2275.0  # pyeventsourcing's projection on this machine, events/s (issue's run)
PEER_FACTOR = 4.0  # the live projection must reach this many times the peer
PARTITIONS = 3  # create_topics' default

console = Console(width=None if sys.stdout.isatty() else 150)


@dataclass(frozen=True)
class Figure:
    database: str
    events: int
    seconds: float
    cpu_seconds: float  # this process only: the writer's own Python work, less noisy

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def consumed_events(count: int, seed: int) -> list[ConsumedEvent]:
    """The first `count` simulated events, as the projector would have decoded them from their
    topic partitions (offsets counted per partition, in the order they were produced)."""
    now = datetime.now(ZoneInfo(TIMEZONE))
    cases = max(1, count // 4)
    while True:
        events = simulate(random.Random(seed), cases, now, prefix="BENCH")
        if len(events) >= count:
            break
        cases = int(cases * max(1.2, count / max(1, len(events)) * 1.1)) + 1
    topics = Topics()
    next_offset: dict[tuple[str, int], int] = {}
    consumed: list[ConsumedEvent] = []
    for event in events[:count]:
        key = event.case_id.encode()
        topic = topics.for_kind(event.case_kind)
        partition = (murmur2(key) & 0x7FFFFFFF) % PARTITIONS
        offset = next_offset.get((topic, partition), 0)
        next_offset[(topic, partition)] = offset + 1
        decoded = decode(RawMessage(topic, partition, offset, key, event.to_json_bytes()), TIMEZONE)
        if not isinstance(decoded, ConsumedEvent):
            raise RuntimeError(f"a simulated event did not decode: {decoded.reason}")
        consumed.append(decoded)
    return consumed


@contextmanager
def fresh_engine(database: str, postgres_url: str | None) -> Iterator[sa.Engine]:
    """A migrated, empty read model: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if database == "sqlite":
        with tempfile.TemporaryDirectory(prefix="casestream-bench-") as folder:
            engine = create_engine(f"sqlite:///{Path(folder) / 'read_models.db'}")
            migrate(engine)
            try:
                yield engine
            finally:
                engine.dispose()
        return
    assert postgres_url is not None
    schema = f"bench_{uuid.uuid4().hex[:10]}_apply"
    engine = create_engine(postgres_url, schema)
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with sa.create_engine(postgres_url).begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def measure(
    database: str, postgres_url: str | None, consumed: list[ConsumedEvent], batch_size: int
) -> Figure:
    with fresh_engine(database, postgres_url) as engine:
        writer = ProjectionWriter(engine, clock_policy(Settings(timezone=TIMEZONE)))
        batches = [
            consumed[start : start + batch_size] for start in range(0, len(consumed), batch_size)
        ]
        progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        with progress:
            task = progress.add_task(f"apply_batch → {database}", total=len(consumed))
            elapsed = cpu = 0.0
            for batch in batches:
                started, cpu_started = time.perf_counter(), time.process_time()
                outcome = writer.apply_batch(batch)
                elapsed += time.perf_counter() - started
                cpu += time.process_time() - cpu_started
                if outcome.applied + outcome.duplicates + outcome.anomalies == 0:
                    raise RuntimeError("a batch applied nothing: the read model was not fresh")
                progress.advance(task, len(batch))
    return Figure(database, len(consumed), elapsed, cpu)


def rows(figures: list[Figure], batch_size: int, peer_rate: float) -> list[dict[str, Any]]:
    target = PEER_FACTOR * peer_rate
    return [
        {
            "figure": f"ProjectionWriter.apply_batch, {figure.database}, "
            f"batches of {batch_size}, no Kafka",
            "value": round(figure.rate, 1),
            "unit": "events/s",
            "baseline": "pyeventsourcing projection, one row per case + tracking record",
            "baseline_value": peer_rate,
            "target": target,
            "met": figure.rate >= target,
        }
        for figure in figures
    ]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated cases")
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument("--postgres", help="SQLAlchemy URL (default: a local cluster)")
    parser.add_argument("--peer-rate", type=float, default=PEER_RATE, help="baseline, events/s")
    parser.add_argument("--json", type=Path, help="write the figures here as a JSON list")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    databases = [name.strip().lower() for name in args.databases.split(",") if name.strip()]
    unknown = set(databases) - {"sqlite", "postgresql"}
    if unknown:
        raise SystemExit(f"unknown database(s) {sorted(unknown)}; use sqlite and/or postgresql")
    with console.status(f"simulating and decoding {args.events:,} events …"):
        consumed = consumed_events(args.events, args.seed)
    figures: list[Figure] = []
    if "sqlite" in databases:
        figures.append(measure("sqlite", None, consumed, args.batch_size))
    if "postgresql" in databases:
        with postgres_for(args.postgres, ROOT / "var" / "bench-postgres", console.print) as url:
            figures.append(measure("postgresql", url, consumed, args.batch_size))
    table = Table(title=f"ProjectionWriter.apply_batch ({len(consumed):,} events)")
    for column in ("database", "batch", "seconds", "events/s", "× peer", "writer CPU s"):
        table.add_column(column, justify="left" if column == "database" else "right")
    for figure in figures:
        table.add_row(
            figure.database,
            f"{args.batch_size:,}",
            f"{figure.seconds:.2f}",
            f"{figure.rate:,.0f}",
            f"{figure.rate / args.peer_rate:.2f}×",
            f"{figure.cpu_seconds:.2f}",
        )
    console.print(table)
    if args.json:
        args.json.write_text(json.dumps(rows(figures, args.batch_size, args.peer_rate), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
