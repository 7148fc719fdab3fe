"""The bench suite: every benchmark in one run, then one table of every figure beside its
baseline measured in the same run, the target and whether it is met.

    .venv/bin/python bench/suite.py [--quick] [--only NAME ...] [--skip NAME ...]
        [--kafka HOST:PORT] [--postgres URL] [--json PATH]

(`make bench`, or `make bench BENCH_ARGS=--quick` for a run of a few minutes.) One broker and
one PostgreSQL cluster (var/bench-kafka, var/bench-postgres, started here unless given) serve
every script. Each script runs as a subprocess with its own output, and writes its figures as
rows to a JSON file (bench/bench_rows.py); a row whose baseline is another script's figure
(replay against the peer library's projection) gets that figure's value here.

To add a benchmark: give its script `--json PATH` (bench_rows.write_rows) and add one line to
SCRIPTS below.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench_rows import Row, read_rows, write_rows
from rich.console import Console
from rich.table import Table

from casestream.local import kafka_for, postgres_for

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"

console = Console(width=None if sys.stdout.isatty() else 170)


@dataclass(frozen=True)
class Script:
    name: str
    path: str  # under bench/
    full: tuple[str, ...]  # arguments of a full run (sized like the targets)
    quick: tuple[str, ...]  # arguments of a short run (--quick)
    kafka: bool = True  # takes --kafka
    postgres: bool = True  # takes --postgres


# fmt: off
SCRIPTS: tuple[Script, ...] = (
    Script("projection", "projection.py",
           ("--events", "60000", "--naive-events", "2000", "--workers", "1", "2", "3",
            "--backends", "postgresql"),
           ("--events", "6000", "--naive-events", "300", "--workers", "1", "2", "3",
            "--backends", "postgresql")),
    Script("replay", "replay.py", ("--events", "1000000"), ("--events", "20000")),
    Script("figures", "figures.py", ("--cases", "1000000"), ("--cases", "20000", "--repeat", "1"),
           kafka=False),
    Script("timers", "timers.py", (),
           ("--clocks", "20000", "--alerts", "30", "--spread", "10", "--scanner-interval", "1",
            "--drain-budget", "60")),
    Script("commands", "commands.py", (), ("--rate", "20", "--duration", "10", "--warmup", "2")),
    Script("drain", "timer_drain.py", (), ("--clocks", "20000", "--drain-budget", "60"),
           kafka=False),
    Script("stats", "stats.py", ("--cases", "1000000"), ("--cases", "20000", "--repeat", "3"),
           kafka=False),
    Script("api", "api_load.py", ("--cases", "1000000"),
           ("--cases", "20000", "--duration", "10", "--warmup", "2")),
)
# fmt: on


@dataclass
class Ran:
    script: Script
    seconds: float
    code: int
    rows: list[Row]


def run_script(
    script: Script, quick: bool, bootstrap: str, pg_url: str, out_dir: Path, extra: list[str]
) -> Ran:
    json_path = out_dir / f"{script.name}.json"
    command = [sys.executable, str(BENCH / script.path), *(script.quick if quick else script.full)]
    if script.kafka:
        command += ["--kafka", bootstrap]
    if script.postgres:
        command += ["--postgres", pg_url]
    command += ["--json", str(json_path), *extra]
    console.rule(f"[bold]{script.name}")
    console.print(shlex.join(command), markup=False, highlight=False)
    started = time.perf_counter()
    code = subprocess.run(command, cwd=ROOT).returncode
    seconds = time.perf_counter() - started
    rows = read_rows(json_path) if json_path.exists() else []
    if code != 0 or not rows:
        console.print(f"[red]{script.name} exited with {code} and {len(rows)} figures[/red]")
    return Ran(script, seconds, code, rows)


def resolve(runs: list[Ran]) -> list[tuple[str, Row]]:
    """Every row with its script's name; baselines named by figure get that figure's value."""
    values: dict[str, float] = {}
    for ran in runs:
        for row in ran.rows:
            if row.baseline is None:
                values.setdefault(row.figure, row.value)
    resolved: list[tuple[str, Row]] = []
    for ran in runs:
        for row in ran.rows:
            if row.baseline is not None and row.baseline_value is None:
                found = values.get(row.baseline)
                if found is not None:
                    row = dataclasses.replace(row, baseline_value=found, met=None).judged()
            resolved.append((ran.script.name, row))
    return resolved


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    return f"{text} {unit}".rstrip()


def print_table(rows: list[tuple[str, Row]], runs: list[Ran], title: str) -> None:
    table = Table(title=title, title_justify="left", show_lines=False)
    table.add_column("bench")
    table.add_column("figure")
    table.add_column("value", justify="right", style="bold")
    table.add_column("baseline (same run)")
    table.add_column("baseline value", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("target", justify="right")
    table.add_column("verdict")
    units = {row.figure: row.unit for _, row in rows}
    previous = ""
    for name, row in rows:
        ratio = f"{row.value / row.baseline_value:.1f}×" if row.baseline_value else "—"
        verdict = {True: "[green]met", False: "[red]not met", None: "—"}[row.met]
        if row.target and row.met is None:
            verdict = "[yellow]n/a (no baseline)" if row.baseline else "[yellow]n/a"
        target = row.target or "—"
        if target != "—" and not target.rstrip().endswith(("×", f" {row.unit}")):
            target = f"{target} {row.unit}"  # a bound without its unit (some rows carry it)
        table.add_row(
            name if name != previous else "",
            row.figure,
            _number(row.value, row.unit),
            row.baseline or "—",
            _number(row.baseline_value, units.get(row.baseline or "", "")),
            ratio,
            target,
            verdict,
        )
        previous = name
    for ran in runs:
        if ran.code != 0 or not ran.rows:
            table.add_row(ran.script.name, f"[red]exited with {ran.code}", "", "", "", "", "", "")
    console.print(table)
    met = sum(row.met is True for _, row in rows)
    judged = sum(row.met is not None for _, row in rows)
    console.print(f"targets met: {met} of {judged}")
    for ran in runs:
        console.print(f"  {ran.script.name}: {ran.seconds:,.0f} s, exit {ran.code}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    names = [script.name for script in SCRIPTS]
    parser = argparse.ArgumentParser(description="Every benchmark, then one table.")
    parser.add_argument("--quick", action="store_true", help="short runs (a few minutes)")
    parser.add_argument("--only", nargs="+", choices=names, help="run only these scripts")
    parser.add_argument("--skip", nargs="+", choices=names, default=[], help="skip these")
    parser.add_argument("--kafka", metavar="BOOTSTRAP", help="use this broker (default: local)")
    parser.add_argument("--postgres", metavar="URL", help="use this PostgreSQL (default: local)")
    parser.add_argument("--json", metavar="PATH", help="write every row (resolved) here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    chosen = [
        script
        for script in SCRIPTS
        if (args.only is None or script.name in args.only) and script.name not in args.skip
    ]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = ROOT / "var" / f"bench-suite-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    runs: list[Ran] = []
    with (
        kafka_for(args.kafka, ROOT / "var" / "bench-kafka", console.print) as bootstrap,
        postgres_for(args.postgres, ROOT / "var" / "bench-postgres", console.print) as pg_url,
    ):
        for script in chosen:
            runs.append(run_script(script, args.quick, bootstrap, pg_url, out_dir, []))
    load_after = os.getloadavg()
    rows = resolve(runs)
    console.rule("[bold]bench suite")
    title = (
        f"casestream bench suite{' (--quick)' if args.quick else ''}, {stamp}: "
        f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"load average {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end"
    )
    print_table(rows, runs, title)
    console.print(f"rows of each script in {out_dir}")
    if args.json:
        write_rows(args.json, [row for _, row in rows])
    return 0 if all(ran.code == 0 and ran.rows for ran in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
