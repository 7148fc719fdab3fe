"""The escalation scanner's cost per pass, measured in this process: EXPLAIN ANALYZE of its
query, passes at growing numbers of due clocks, the midnight cohort drained, and the
provisional-clock refresh of a worker start."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from timer_config import PASS_REPEATS, PROBE_STEPS, SCANNER_BATCH, ZONE
from timer_report import console, progress_bar
from timer_seed import Seeder, SeedReport, build_templates, copy_clocks

from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import Event
from casestream.read_models.clock_writer import ClockWriter
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import clocks
from casestream.stream_processors.scanner import EscalationScanner, ScanResult, due_clocks_page


def scanner_statement(now: datetime, limit: int) -> sa.Select[Any]:
    """The statement of the scanner's first page (EscalationScanner._due_clocks)."""
    return due_clocks_page(now, None, limit)


@dataclass(frozen=True)
class Explained:
    milliseconds: float
    plan: str
    rows_scanned: int  # rows the lowest node handed up (index entries whose heap rows were read)
    buffers: int


def explain(engine: sa.Engine, now: datetime, limit: int) -> Explained:
    statement = scanner_statement(now, limit)
    with engine.connect() as conn:
        compiled = statement.compile(dialect=conn.dialect)
        params = {
            key: value.astimezone(UTC).replace(tzinfo=None)
            if isinstance(value, datetime)
            else value
            for key, value in compiled.params.items()
        }
        sql = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + str(compiled)
        conn.exec_driver_sql(sql, params)  # warm the cache like a pass every second does
        document = conn.exec_driver_sql(sql, params).scalar_one()
    root = document[0]
    nodes = []
    node = root["Plan"]
    while True:
        name = node["Node Type"]
        if "Index Name" in node:
            name += f" {node['Index Name']}"
        nodes.append(name)
        children = node.get("Plans") or []
        if not children:
            break
        node = children[0]
    top = root["Plan"]
    return Explained(
        milliseconds=float(root["Execution Time"]),
        plan=" ← ".join(nodes),
        rows_scanned=int(node.get("Actual Rows", 0)),
        buffers=int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0)),
    )


@dataclass(frozen=True)
class PassCost:
    open_clocks: int
    scenario: str
    due: int
    read: int
    owed: int
    seconds: float  # median
    best: float  # fastest
    explained: Explained


class Collect:
    """The scanner's emit: keeps the alert events instead of sending them."""

    def __init__(self) -> None:
        self.events: list[Event[Any]] = []

    async def __call__(self, events: list[Event[Any]]) -> None:
        self.events.extend(events)


def due_count(engine: sa.Engine, now: datetime) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(clocks.c.next_alert_at <= now)
            ).scalar_one()
        )


@dataclass(frozen=True)
class Scenario:
    engine: sa.Engine
    open_clocks: int
    name: str
    now: datetime


def measure_passes(policy: ClockPolicy, scenarios: Sequence[Scenario]) -> list[PassCost]:
    """PASS_REPEATS first passes (a fresh scanner each: every pass emits) of each scenario,
    interleaved so that every scenario sees the same load from the rest of the machine."""
    results: list[list[ScanResult]] = [[] for _ in scenarios]
    owed = [0] * len(scenarios)
    for _ in range(PASS_REPEATS):
        for index, scenario in enumerate(scenarios):
            sink = Collect()
            at = scenario.now
            scanner = EscalationScanner(
                scenario.engine, policy, sink, now=lambda at=at: at, batch_size=SCANNER_BATCH
            )
            results[index].append(asyncio.run(scanner.scan_once()))
            owed[index] = len(sink.events)
    return [
        PassCost(
            open_clocks=scenario.open_clocks,
            scenario=scenario.name,
            due=due_count(scenario.engine, scenario.now),
            read=found[-1].clocks,
            owed=owed[index],
            seconds=statistics.median(result.seconds for result in found),
            best=min(result.seconds for result in found),
            explained=explain(scenario.engine, scenario.now, SCANNER_BATCH),
        )
        for index, (scenario, found) in enumerate(zip(scenarios, results, strict=True))
    ]


WHAT_IF_INDEX = "bench_what_if_next_alert_clock"


def pass_costs(
    targets: Sequence[tuple[sa.Engine, SeedReport]],
    policy: ClockPolicy,
    run_id: str,
    seed_value: int,
) -> list[PassCost]:
    """Scanner passes at the first (midnight) alert instant of the seeded clocks, then at
    0..10,000 due clocks (overdue clocks added for the measurement, removed after), each
    scenario on every target schema in turn.

    On the first target also a what-if: the first instant with an index on
    (next_alert_at, clock_id), the pass's ORDER BY, created in the bench schema for the
    measurement and dropped after.
    """
    costs: list[PassCost] = []
    first = min(seeded.first_alert for _, seeded in targets) + timedelta(seconds=1)
    cohort = f"first alert instant, {first.astimezone(ZONE):%m-%d %H:%M:%S}"
    with console.status("scanner passes at the seeded clocks' first alert instant …"):
        costs.extend(
            measure_passes(
                policy,
                [Scenario(engine, seeded.rows, cohort, first) for engine, seeded in targets],
            )
        )
    engine, seeded = targets[0]
    with console.status("what-if: CREATE INDEX … ON clocks (next_alert_at, clock_id) …"):
        with engine.begin() as conn:
            conn.execute(
                sa.text(f"CREATE INDEX {WHAT_IF_INDEX} ON clocks (next_alert_at, clock_id)")
            )
            conn.execute(sa.text("ANALYZE clocks"))
        try:
            name = f"{cohort} [what-if: + index (next_alert_at, clock_id)]"
            costs.extend(measure_passes(policy, [Scenario(engine, seeded.rows, name, first)]))
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text(f"DROP INDEX {WHAT_IF_INDEX}"))
    now = datetime.now(UTC)
    templates, weights = build_templates(policy, now, overdue=True)
    seeders = [
        Seeder(policy, now, f"PROBE-{run_id}", overdue=True, rng=random.Random(seed_value + 1))
        for _ in targets
    ]
    added: list[str] = []
    try:
        for due in PROBE_STEPS:
            more = due - len(added)
            if more > 0:
                for (engine, _), seeder in zip(targets, seeders, strict=True):
                    copy_clocks(engine, seeder, templates, weights, len(added), more, None)
                added.extend(
                    f"PROBE-{run_id}-{number:07d}"
                    for number in range(len(added), len(added) + more)
                )
            with console.status(f"scanner passes with {due:,} overdue clocks …"):
                costs.extend(
                    measure_passes(
                        policy,
                        [
                            Scenario(engine, seeded.rows, f"{due:,} overdue", now)
                            for engine, seeded in targets
                        ],
                    )
                )
    finally:
        for engine, _ in targets:
            with engine.begin() as conn:
                for start in range(0, len(added), 1000):
                    conn.execute(
                        clocks.delete().where(clocks.c.case_id.in_(added[start : start + 1000]))
                    )
    return costs


@dataclass(frozen=True)
class Drain:
    open_clocks: int
    at: datetime
    due: int
    left: int
    passes: int
    alerts: int
    seconds: float
    scan_seconds: float
    record_seconds: float


def drain(engine: sa.Engine, policy: ClockPolicy, seeded: SeedReport, budget: float) -> Drain:
    """The first alert instant's cohort worked off by the scanner and the projector's own write
    path back to back (EscalationScanner.scan_once, then ProjectionWriter.apply_batch of the
    pass's alerts, as the worker does once they are back from alerts.events), in this process:
    no Kafka, no wait between passes. Stops after `budget` seconds."""
    at = seeded.first_alert + timedelta(seconds=1)
    writer = ProjectionWriter(engine, policy, projection="bench-drain")
    sink = Collect()
    scanner = EscalationScanner(engine, policy, sink, now=lambda: at, batch_size=SCANNER_BATCH)
    due = left = due_count(engine, at)
    passes = alerts = offset = 0
    scan_seconds = record_seconds = 0.0
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task(f"draining {due:,} due clocks ({seeded.label})", total=due)
        while left and time.perf_counter() - started < budget:
            sink.events.clear()
            result = asyncio.run(scanner.scan_once())
            scan_seconds += result.seconds
            passes += 1
            alerts += len(sink.events)
            began = time.perf_counter()
            writer.apply_batch(
                [
                    ConsumedEvent("bench.drain.alerts", 0, offset + number, event)
                    for number, event in enumerate(sink.events)
                ]
            )
            offset += len(sink.events)
            record_seconds += time.perf_counter() - began
            left = due_count(engine, at)
            progress.update(task, completed=due - left)
    return Drain(
        open_clocks=seeded.rows,
        at=at,
        due=due,
        left=left,
        passes=passes,
        alerts=alerts,
        seconds=time.perf_counter() - started,
        scan_seconds=scan_seconds,
        record_seconds=record_seconds,
    )


def measure_refresh(engine: sa.Engine, policy: ClockPolicy) -> tuple[int, float]:
    """ClockWriter.refresh_provisional (run by every worker at start), rolled back: (rows, s)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT count(*) FROM clocks WHERE provisional AND stopped_at IS NULL")
        ).scalar_one()
        started = time.perf_counter()
        ClockWriter(policy).refresh_provisional(conn)
        seconds = time.perf_counter() - started
        conn.rollback()
    return int(rows), seconds
