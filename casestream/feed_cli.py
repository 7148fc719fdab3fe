"""`casestream produce`, `import` and `simulate`: facts from outside onto the topics, from files
or simulated, each validated as the API validates it."""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from casestream.progress import progress_bar
from casestream.settings import Settings

if TYPE_CHECKING:  # the Kafka client is imported by the commands that use it
    from casestream.producers.kafka_producer import EventProducer

err = Console(stderr=True)
out = Console()


def _producer(settings: Settings) -> EventProducer:
    from casestream.producers.kafka_producer import EventProducer
    from casestream.producers.topics import Topics

    return EventProducer(settings.require_kafka(), Topics(settings.topic_prefix))


@contextmanager
def _unconfirmed_sends(how_to_retry: str) -> Iterator[None]:
    """Exit 3 naming the events whose outcome is unknown when Kafka stops confirming."""
    from casestream.producers.kafka_producer import SendFailed

    try:
        yield
    except SendFailed as exc:
        err.print(str(exc), style="red", markup=False)
        if exc.event_ids:  # none when no broker answered at all: nothing was sent
            err.print(
                f"{len(exc.event_ids)} event(s) of unknown outcome, e.g. {exc.event_ids[0]}; "
                f"{how_to_retry}",
                markup=False,
            )
        raise typer.Exit(3) from exc


def _send_file(path: Path, reader: str) -> None:
    from casestream.policy import date_window
    from casestream.producers import files

    if not path.exists():
        err.print(f"[red]no file {path}[/red]")
        raise typer.Exit(2)
    settings = Settings()
    read = files.read_csv if reader == "csv" else files.read_jsonl
    problems: list[files.Problem] = []
    sent = 0
    with (
        _unconfirmed_sends("re-run the same command: each line is sent with the same event id"),
        _producer(settings) as producer,
        progress_bar(err) as progress,
    ):
        task = progress.add_task(f"sending {path.name}", total=files.count_records(path))
        batch: list[Any] = []
        records = read(
            path, now=datetime.now(UTC), timezone=settings.timezone, window=date_window(settings)
        )
        for _, record in records:
            if isinstance(record, list):
                problems.extend(record)
                progress.advance(task)
                continue
            batch.append(record)
            if len(batch) >= 1000:
                sent += len(producer.send_many(batch, on_sent=lambda n: progress.advance(task, n)))
                batch = []
        sent += len(producer.send_many(batch, on_sent=lambda n: progress.advance(task, n)))
    for problem in problems:
        print(f"{path}:{problem}", file=sys.stderr)
    invalid_lines = len({problem.line for problem in problems})
    out.print(f"sent {sent} events; {invalid_lines} invalid records not sent")
    if problems:
        raise typer.Exit(1)


def produce(file: Path) -> None:
    """Validate every record of a JSONL file and send the valid ones; invalid ones are listed."""
    _send_file(file, "jsonl")


def import_csv(
    file: Path,
    mapping: Annotated[
        str | None,
        typer.Option(
            help="read FILE as a work-order export (.xlsx or .csv) through this mapping: "
            "`12345` (the packaged 12345 export) or a mapping TOML file (docs/import.md)"
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(help="with --mapping: the CSV's encoding (default: UTF-8, else GB18030)"),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="with --mapping: report what would be sent, send nothing"),
    ] = False,
) -> None:
    """Validate every row of a CSV file (envelope columns + payload columns) and send the valid
    ones; with --mapping, the rows of a work-order export (工单导出) as the events they stand for."""
    if mapping is not None:
        _import_work_orders(file, mapping, encoding=encoding, dry_run=dry_run)
        return
    if encoding is not None or dry_run:
        err.print("--encoding and --dry-run read a work-order export: add --mapping", style="red")
        raise typer.Exit(2)
    _send_file(file, "csv")


def _import_work_orders(
    file: Path, mapping_spec: str, *, encoding: str | None, dry_run: bool
) -> None:
    from casestream.policy import date_window
    from casestream.producers.work_order_mapping import MappingError, load_mapping
    from casestream.producers.work_order_tables import TableError, TableLimits, read_export
    from casestream.producers.work_orders import ImportTally, locate_columns, map_rows

    if not file.exists():
        err.print(f"[red]no file {file}[/red]")
        raise typer.Exit(2)
    settings = Settings()
    limits = TableLimits()
    try:
        mapping = load_mapping(mapping_spec)
        sheet = read_export(file, encoding=encoding, limits=limits)
        layout = locate_columns(sheet, mapping)
    except (MappingError, TableError) as exc:
        err.print(f"{file}: {exc}", style="red", markup=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    notes = [
        f"read {file.name} as {sheet.encoding}" if sheet.encoding else "",
        f"columns not imported: {', '.join(layout.unmapped)}" if layout.unmapped else "",
        f"columns of the mapping not in the export: {', '.join(layout.missing)}"
        if layout.missing
        else "",
    ]
    for note in filter(None, notes):
        err.print(note, markup=False, soft_wrap=True)
    outcomes = map_rows(
        sheet,
        layout,
        mapping,
        now=datetime.now(UTC),
        timezone=settings.timezone,
        window=date_window(settings),
        max_cell_chars=limits.max_cell_chars,
    )
    tally = ImportTally()
    rows = sum(1 for row in sheet.rows if row.number > layout.header_row)
    again = "re-run the same command: each work order is sent with the same event ids"
    with ExitStack() as sending:
        producer = None
        if not dry_run:
            sending.enter_context(_unconfirmed_sends(again))
            producer = sending.enter_context(_producer(settings))
        progress = sending.enter_context(progress_bar(err, transient=dry_run))
        task = progress.add_task(f"{'reading' if dry_run else 'importing'} {file.name}", total=rows)
        batch: list[Any] = []
        for outcome in outcomes:
            tally.add(outcome)
            if producer is not None:
                batch.extend(outcome.events)
                if len(batch) >= 1000:
                    producer.send_many(batch)
                    batch = []
            progress.advance(task)
        if producer is not None:
            producer.send_many(batch)
    for error in tally.errors:
        print(f"{file}:{error}", file=sys.stderr)
    sent = sum(tally.events_by_type.values())
    by_type = ", ".join(f"{name} {count}" for name, count in sorted(tally.events_by_type.items()))
    verb = "would send" if dry_run else "sent"
    out.print(
        f"{verb} {sent} events of {len(tally.cases)} work orders ({by_type or 'none'}); "
        f"{tally.refused_rows} of {tally.rows} rows not imported",
        markup=False,
        soft_wrap=True,
    )
    if tally.errors:
        raise typer.Exit(1)


def simulate_command(
    cases: Annotated[int, typer.Option(min=1)] = 100,
    rate: Annotated[float, typer.Option(help="events per second; 0 sends as fast as possible")] = 0,
    seed: int | None = None,
    prefix: str = "SIM",
    enforcement_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="share of the cases that are 执法监督 (考评, 执法监督书, 不予处罚)",
        ),
    ] = 0.1,
) -> None:
    """Send realistic lifecycles of every case kind (incl. won and lost reconsiderations and
    lawsuits, and 执法监督: reviews, notices, 不予处罚 decisions and their 公示)."""
    from casestream.producers.simulation import simulate

    settings = Settings()
    seed = random.randrange(2**31) if seed is None else seed
    rng = random.Random(seed)
    now = datetime.now(ZoneInfo(settings.timezone))
    events = simulate(rng, cases, now, prefix=prefix, enforcement_share=enforcement_share)
    again = (
        f"re-run with --seed {seed} --prefix {prefix} --enforcement-share {enforcement_share} "
        "to send the same events (same ids)"
    )
    with (
        _unconfirmed_sends(again),
        _producer(settings) as producer,
        progress_bar(err) as progress,
    ):
        task = progress.add_task(f"simulating {cases} cases", total=len(events))
        step = max(1, int(rate / 10)) if rate > 0 else 1000
        for start in range(0, len(events), step):
            began = time.monotonic()
            producer.send_many(
                events[start : start + step], on_sent=lambda n: progress.advance(task, n)
            )
            if rate > 0:
                time.sleep(max(0.0, step / rate - (time.monotonic() - began)))
    out.print(f"sent {len(events)} events of {cases} cases (seed {seed})")
