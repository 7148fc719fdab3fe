"""The command bench's output: the settings of a run and the table of latencies per rate."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from command_load import NO_ANSWER, Answer, Phase
from rich.table import Table
from timer_report import console, percentile

from casestream.settings import Settings

TARGET_P99 = 0.5  # seconds from a command's POST to its 200 answer


def print_settings(
    args: argparse.Namespace, database: str, bootstrap: str, command_wait: float
) -> None:
    batch = (
        f"{args.projector_batch_seconds:g}"
        if args.projector_batch_seconds is not None
        else f"{Settings.model_fields['projector_batch_seconds'].default:g} (default)"
    )
    console.print(
        f"settings: rates {', '.join(f'{rate:g}' for rate in args.rate)} commands/s, "
        f"{args.duration:g} s measured after {args.warmup:g} s warm-up each; "
        f"{args.active} cases waiting for their next command; "
        f"{args.complaint_share:.0%} complaints, the rest rectifications; seed {args.seed}; "
        f"API workers {args.api_workers}; CASESTREAM_COMMAND_WAIT_SECONDS={command_wait:g}; "
        f"CASESTREAM_PROJECTOR_BATCH_SECONDS={batch}; "
        f"{os.cpu_count()} cores"
    )
    console.print(f"database: {database}; Kafka {bootstrap}")


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.1f}"


def _row(table: Table, rate: str, what: str, answers: Sequence[Answer]) -> None:
    ok = [answer.latency for answer in answers if answer.status in (200, 201)]
    counts = {
        "ok": len(ok),
        "202": sum(answer.status == 202 for answer in answers),
        "409": sum(answer.status == 409 for answer in answers),
    }
    unanswered = sum(answer.status == NO_ANSWER for answer in answers)
    other = len(answers) - sum(counts.values()) - unanswered
    p99 = percentile(ok, 99)
    verdict = "—" if p99 is None else ("[green]met" if p99 <= TARGET_P99 else "[red]missed")
    lag = max((answer.send_lag for answer in answers), default=None)
    table.add_row(
        rate,
        what,
        f"{len(answers):,}",
        _ms(percentile(ok, 50)),
        _ms(percentile(ok, 90)),
        _ms(p99),
        _ms(max(ok, default=None)),
        str(counts["ok"]),
        str(counts["202"]),
        str(counts["409"]),
        str(other),
        str(unanswered),
        _ms(lag),
        verdict,
    )


def print_phases(phases: Sequence[Phase]) -> None:
    table = Table(
        title=(
            "POST of a command → its 200 answer (events in the read models), open loop; "
            f"latency from each request's due instant, ms; target p99 ≤ {TARGET_P99 * 1000:.0f} ms"
        ),
        title_justify="left",
    )
    for column in ("rate/s", "requests", "sent", "p50", "p90", "p99", "max"):
        table.add_column(column, justify="right" if column != "requests" else "left")
    for column in ("200/201", "202", "409", "other", "no answer", "max send lag", "p99 target"):
        table.add_column(column, justify="right")
    for phase in phases:
        rate = f"{phase.rate:g}"
        _row(table, rate, "all", phase.answers)
        commands = [answer for answer in phase.answers if not answer.opens]
        _row(table, "", "commands on a case", commands)
        opening = [answer for answer in phase.answers if answer.opens]
        _row(table, "", "registrations (201)", opening)
    console.print(table)
    console.print(
        "p50 … max are of the 200/201 answers; 'no answer': none yet when the wait after the "
        "last request ended (the percentiles are then lower bounds); 'max send lag': how late "
        "the load generator itself sent a request after its due instant"
    )
    for phase in phases:
        console.print(
            f"{phase.rate:g}/s: {phase.cases_opened} cases registered, "
            f"{phase.cases_finished} carried through their whole script"
        )
