"""The API load bench's output: latencies per route, and the figures (p99 per phase beside its
target) that --json writes for the bench suite."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from command_load import NO_ANSWER
from read_load import Shot
from rich.table import Table
from timer_report import console, percentile

READ_TARGET = 0.050  # p99 of GET /cases/{id} and of the filtered lists
E2E_TARGET = 0.300  # p99 of POST /events → visible in GET /cases/{id}
# before this bench: GET /cases/{id} at 500/s over 100,000 cases, api --workers 2, p99 107 ms;
# GET /cases?limit=50 in one process: p99 65 ms at 100/s, timeouts at 300/s
BASELINES: Mapping[str, tuple[str, float | None]] = {
    "reads": ("p99 before (100,000 cases, 500/s, api --workers 2)", 107.0),
    "lists": ("before: p99 65 ms at 100/s in one process; timeouts at 300/s", None),
    "e2e": ("not measured before", None),
}
PHASE_NAMES = {
    "reads": "GET /cases/{id}",
    "lists": "GET /cases filtered lists and deep cursor pages",
    "e2e": "POST /events → visible in GET /cases/{id}",
}
TARGETS = {"reads": READ_TARGET, "lists": READ_TARGET, "e2e": E2E_TARGET}


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.1f}"


def _ok(shot: Shot) -> bool:
    return 200 <= shot.status < 300


def _row(table: Table, route: str, shots: Sequence[Shot]) -> None:
    ok = [shot.latency for shot in shots if _ok(shot)]
    unanswered = sum(shot.status == NO_ANSWER for shot in shots)
    errors = len(shots) - len(ok) - unanswered
    statuses = sorted({shot.status for shot in shots if not _ok(shot) and shot.status > 0})
    table.add_row(
        route,
        f"{len(shots):,}",
        _ms(percentile(ok, 50)),
        _ms(percentile(ok, 95)),
        _ms(percentile(ok, 99)),
        _ms(max(ok, default=None)),
        f"{errors}" + (f" ({', '.join(map(str, statuses))})" if statuses else ""),
        str(unanswered),
        _ms(max((shot.send_lag for shot in shots), default=None)),
    )


def print_shots(rate: float, shots: Sequence[Shot]) -> None:
    table = Table(
        title=f"{rate:g} requests/s, open loop; latency from each request's due instant, ms",
        title_justify="left",
    )
    table.add_column("route", justify="left")
    for column in ("sent", "p50", "p95", "p99", "max", "errors", "no answer", "max send lag"):
        table.add_column(column, justify="right")
    routes = sorted({shot.route for shot in shots})
    if len(routes) > 1:
        _row(table, "all", shots)
    for route in routes:
        _row(table, route, [shot for shot in shots if shot.route == route])
    console.print(table)


@dataclass(frozen=True)
class Figure:
    """One figure of the bench suite's table: a p99 beside its target and its baseline."""

    figure: str
    value: float | None  # ms
    baseline: str
    baseline_value: float | None
    target: float  # ms
    errors: int

    @property
    def met(self) -> bool:
        return self.value is not None and self.value <= self.target and self.errors == 0

    def row(self) -> dict[str, object]:
        return {
            "figure": self.figure,
            "value": None if self.value is None else round(self.value, 1),
            "unit": "ms",
            "baseline": self.baseline,
            "baseline_value": self.baseline_value,
            "target": f"<= {self.target:g} ms",
            "met": self.met,
        }

    def line(self) -> str:
        value = "—" if self.value is None else f"{self.value:,.1f} ms"
        verdict = "met" if self.met else "missed"
        return (
            f"{self.figure}: {value} (target <= {self.target:g} ms, {self.errors} errors) "
            f"{verdict}; baseline: {self.baseline}"
            + ("" if self.baseline_value is None else f" = {self.baseline_value:g} ms")
        )


def figures_of(
    results: Mapping[str, tuple[float, Sequence[Shot]]], cases: int, api_workers: int
) -> list[Figure]:
    found: list[Figure] = []
    for phase, (rate, shots) in results.items():
        ok = [shot.latency for shot in shots if _ok(shot)]
        p99 = percentile(ok, 99)
        baseline, baseline_value = BASELINES[phase]
        found.append(
            Figure(
                figure=f"{PHASE_NAMES[phase]} p99 at {rate:g}/s, {cases:,} cases, "
                f"api --workers {api_workers}",
                value=None if p99 is None else p99 * 1000,
                baseline=baseline,
                baseline_value=baseline_value,
                target=TARGETS[phase] * 1000,
                errors=len(shots) - len(ok),
            )
        )
    return found
