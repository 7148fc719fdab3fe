"""The deadline-timer bench's output: the console, progress bars, and the tables of the
seeding, the live runs, the scanner passes and the drains."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

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
from timer_config import PASS_REPEATS, PROBE_STEPS, SCANNER_BATCH, TARGET_P99, ZONE

if TYPE_CHECKING:  # the results' types only: their modules print through this one
    from timer_live import LiveRun
    from timer_passes import Drain, PassCost
    from timer_seed import SeedReport


# wide enough for the tables when the output goes to a file or a pipe
console = Console(width=None if sys.stdout.isatty() else 160)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.1f}"


def _s(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.3f}"


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of `values`, None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def print_seeding(reports: Sequence[SeedReport]) -> None:
    table = Table(
        title="seeded open clocks (PostgreSQL COPY, one transaction, then VACUUM ANALYZE)"
    )
    for name, justify in (
        ("schema", "left"),
        ("rows", "right"),
        ("COPY s", "right"),
        ("rows/s", "right"),
        ("VACUUM ANALYZE s", "right"),
        ("table+indexes", "right"),
        ("provisional", "right"),
        ("first next alert (local)", "left"),
        ("clocks at it", "right"),
        ("largest cohort", "right"),
        ("rows checked vs domain", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for report in reports:
        table.add_row(
            report.label,
            f"{report.rows:,}",
            f"{report.copy_seconds:.1f}",
            f"{report.rows / report.copy_seconds:,.0f}",
            f"{report.vacuum_seconds:.1f}",
            f"{report.table_bytes / 2**20:,.0f} MiB",
            f"{report.provisional:,}",
            report.first_alert.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S"),
            f"{report.first_cohort:,}",
            f"{report.largest_cohort:,}",
            f"{report.checked:,}",
        )
    console.print(table)


def print_live(runs: Sequence[LiveRun], clocks_open: int) -> None:
    table = Table(
        title=f"due instant → alert on GET /alerts/stream, {clocks_open:,} open clocks in PostgreSQL",
        caption="delay = SSE arrival (time.time()) − payload.scheduled_at; wait = the alert's "
        "occurred_at (scanner pass) − scheduled_at; delivery = arrival − occurred_at "
        "(Kafka, API feed, SSE). Nearest-rank percentiles.",
    )
    for name in (
        "scanner every",
        "breaches",
        "p50 s",
        "p90 s",
        "p99 s",
        "max s",
        f"p99 ≤ {TARGET_P99:g} s",
        "wait p50 / p99",
        "delivery p50 / p99",
        "Escalated p99",
        "missing / dup / wrong",
    ):
        table.add_column(name, justify="left" if name == "scanner every" else "right")
    for run in runs:
        totals = [item[0] for item in run.breached]
        waits = [item[1] for item in run.breached]
        deliveries = [item[2] for item in run.breached]
        p99 = percentile(totals, 99)
        verdict = (
            "[yellow]n/a[/yellow]"
            if p99 is None or run.missing
            else ("[green]met[/green]" if p99 <= TARGET_P99 else "[red]missed[/red]")
        )
        table.add_row(
            f"{run.interval:g} s",
            f"{len(totals)}/{run.alerts}",
            _s(percentile(totals, 50)),
            _s(percentile(totals, 90)),
            _s(p99),
            _s(max(totals) if totals else None),
            verdict,
            f"{_s(percentile(waits, 50))} / {_s(percentile(waits, 99))}",
            f"{_s(percentile(deliveries, 50))} / {_s(percentile(deliveries, 99))}",
            _s(percentile(run.escalated, 99)),
            f"{run.missing} / {run.duplicates} / {run.wrong_instant}",
        )
    console.print(table)

    worker_table = Table(
        title="the live worker's scanner (its /metrics, over the measurement)",
        caption="start-up = from Popen to the first scanner pass (migrate, recount of open "
        "provisional clocks, faust start); margin = the bench clocks were all projected this "
        "long before the first breach instant",
    )
    for name in (
        "scanner every",
        "start-up s",
        "passes",
        "mean pass ms",
        "p99 pass",
        "max due clocks/pass",
        "alerts on seeded clocks",
        "margin s",
        "note",
    ):
        worker_table.add_column(name, justify="left" if name in ("note",) else "right")
    for run in runs:
        stats = run.passes
        worker_table.add_row(
            f"{run.interval:g} s",
            f"{run.startup_seconds:.1f}",
            "—" if stats is None else f"{stats.passes:,}",
            "—" if stats is None else _ms(stats.mean),
            "—" if stats is None else stats.p99_bucket,
            f"{run.max_due:,.0f}",
            f"{run.other_rules:,.0f}",
            "—" if run.projected_margin is None else f"{run.projected_margin:.1f}",
            run.note,
        )
    console.print(worker_table)


def print_drains(drains: Sequence[Drain], intervals: Sequence[float]) -> None:
    table = Table(
        title="the first alert instant's cohort: scanner pass, then the projector records its "
        "alerts, back to back (this process; no Kafka, no wait between passes)",
        caption="the last clock of the cohort is alerted at best `seconds` after its due instant; "
        f"in the worker a pass starts at most once per interval and takes ≤ {SCANNER_BATCH:,} "
        "clocks, so also ≥ passes × interval; if the projector has not recorded a pass's alerts "
        "when the next pass starts, that pass reads the same clocks again and sends nothing",
    )
    for name in (
        "open clocks",
        "instant (local)",
        "due at it",
        "left",
        "passes",
        "alerts",
        "seconds",
        "scan s",
        "record s",
        "clocks/s",
        *(f"≥ passes × {interval:g} s" for interval in intervals),
    ):
        table.add_column(name, justify="left" if name == "instant (local)" else "right")
    for item in drains:
        done = item.due - item.left
        table.add_row(
            f"{item.open_clocks:,}",
            f"{item.at.astimezone(ZONE):%m-%d %H:%M:%S}",
            f"{item.due:,}",
            f"{item.left:,}" + (" (budget)" if item.left else ""),
            f"{item.passes:,}",
            f"{item.alerts:,}",
            f"{item.seconds:,.1f}",
            f"{item.scan_seconds:,.1f}",
            f"{item.record_seconds:,.1f}",
            f"{done / item.seconds:,.0f}" if item.seconds else "—",
            *(f"{item.passes * interval:,.1f} s" for interval in intervals),
        )
    console.print(table)


def print_pass_costs(costs: Sequence[PassCost]) -> None:
    table = Table(
        title=f"escalation scanner cost per pass (this process: EscalationScanner.scan_once, "
        f"batch {SCANNER_BATCH:,}, alerts counted not sent; median of {PASS_REPEATS})",
        caption="due = clocks with next_alert_at ≤ now; read = clocks the pass took (LIMIT batch); "
        "owed = alerts the pass would send; SQL = EXPLAIN (ANALYZE, BUFFERS) of the pass's "
        "query, warm; rows under sort = rows the index range handed up before the LIMIT",
    )
    for name in (
        "open clocks",
        "scenario",
        "due clocks",
        "read",
        "owed alerts",
        "pass ms median / best",
        "SQL ms",
        "rows under sort",
        "buffers",
        "plan (top ← bottom)",
    ):
        table.add_column(
            name, justify="left" if name in ("scenario", "plan (top ← bottom)") else "right"
        )
    for cost in costs:
        table.add_row(
            f"{cost.open_clocks:,}",
            cost.scenario,
            f"{cost.due:,}",
            f"{cost.read:,}",
            f"{cost.owed:,}",
            f"{_ms(cost.seconds)} / {_ms(cost.best)}",
            f"{cost.explained.milliseconds:,.2f}",
            f"{cost.explained.rows_scanned:,}",
            f"{cost.explained.buffers:,}",
            cost.explained.plan,
        )
    console.print(table)
    by_key = {(cost.open_clocks, cost.scenario): cost for cost in costs}
    sizes = sorted({cost.open_clocks for cost in costs})
    if len(sizes) == 2:
        small, big = sizes
        lines = []
        for due in PROBE_STEPS:
            a = by_key.get((small, f"{due:,} overdue"))
            b = by_key.get((big, f"{due:,} overdue"))
            if a and b:
                lines.append(
                    f"{due:,} due: {_ms(b.seconds)} vs {_ms(a.seconds)} "
                    f"(×{b.seconds / a.seconds:.2f})"
                )
        console.print(
            f"same due count, {big / small:,.0f}× the open clocks (pass ms, ×): " + "; ".join(lines)
        )
