"""`casestream deadletter …`: see the messages the worker set aside, and put them back once
the cause is fixed (a corrected event, a fixed read model, a newer release)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from casestream.progress import progress_bar
from casestream.settings import Settings

if TYPE_CHECKING:  # the Kafka client is imported by the commands that use it
    from casestream.producers.deadletters import (
        DeadLetterId,
        DeadLetterSummary,
        Selection,
        StoredDeadLetter,
    )
    from casestream.producers.topics import Topics

deadletter_app = typer.Typer(
    help="Dead letters: messages the worker could not project.", no_args_is_help=True
)
err = Console(stderr=True, soft_wrap=True)  # messages name commands: keep them whole
out = Console()


@deadletter_app.callback()
def deadletter() -> None:
    """Dead letters (the `deadletter` topic): list them, replay them onto their source topics."""


def _fail(message: str, code: int = 1) -> NoReturn:
    err.print(message, style="red", markup=False)
    raise typer.Exit(code)


def _kafka(settings: Settings) -> str:
    try:
        return settings.require_kafka()
    except RuntimeError as exc:
        _fail(str(exc))


def _progress() -> Progress:
    return progress_bar(err, transient=True)


def _read_all(bootstrap: str, topics: Topics) -> list[StoredDeadLetter]:
    """Every dead letter now in the topic, with a progress bar (the topic is never trimmed)."""
    from casestream.producers.deadletter_topic import DeadLetterTopic

    with DeadLetterTopic(bootstrap, topics) as topic, _progress() as progress:
        task = progress.add_task(f"reading {topic.name}", total=None)
        return list(
            topic.read(
                on_total=lambda total: progress.update(task, total=total),
                on_progress=lambda n: progress.advance(task, n),
            )
        )


def _count(letters: int) -> str:
    return f"{letters} dead letter{'' if letters == 1 else 's'}"


def _line(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(summaries: list[DeadLetterSummary], topics: Topics, timezone: str) -> Table:
    """Two lines per dead letter: which it is and why, then when and where it came from; its
    detail and value cut to the width left (`--json` has them longer)."""
    zone = ZoneInfo(timezone)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=True)
    table.add_column("id / dead-lettered", no_wrap=True)
    table.add_column("reason / source", overflow="fold")
    table.add_column("key", overflow="fold", max_width=16)
    table.add_column("detail / value", no_wrap=True, overflow="ellipsis", ratio=1)
    for summary in summaries:
        when = summary.dead_lettered_at
        source = summary.source
        replays = f" ↻ {summary.replay_of}" if summary.replay_of else ""
        table.add_row(
            Text(summary.id, style="bold")
            + Text(replays, style="dim")
            + Text("\n" + (when.astimezone(zone).strftime("%Y-%m-%d %H:%M") if when else "")),
            Text(summary.reason, style="red")
            + Text(
                f"\n{source.topic.removeprefix(topics.prefix)}[{source.partition}]@{source.offset}"
            ),
            Text(summary.key if summary.key is not None else "(none)"),
            Text(_line(summary.detail))
            + Text(f"\n{summary.value_size} B: {_line(summary.value_preview)}", style="dim"),
        )
    return table


@deadletter_app.command("list")
def deadletter_list(
    reason: Annotated[
        str | None,
        typer.Option(
            help="only this reason: undecodable, unknown_event_type, invalid, wrong_key, empty, "
            "unprojectable"
        ),
    ] = None,
    topic: Annotated[
        str | None,
        typer.Option(help="only dead letters from this source topic, e.g. complaints.events"),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="show only the N most recent (default: all)")
    ] = None,
    json_lines: Annotated[
        bool, typer.Option("--json", help="one JSON object per line instead of a table")
    ] = False,
) -> None:
    """Show the dead letters, oldest first.

    Each with its id (PARTITION:OFFSET, for `replay --id`), reason, detail, source
    topic/partition/offset, key and the first bytes of its value."""
    from casestream.producers.deadletters import DeadLetterError, Selection, chronological
    from casestream.producers.topics import Topics

    settings = Settings()
    topics = Topics(settings.topic_prefix)
    selection = Selection(reason=reason, source_topic=topic)
    try:
        letters = _read_all(_kafka(settings), topics)
    except DeadLetterError as exc:
        _fail(str(exc))
    chosen = chronological(letter for letter in letters if selection.matches(letter, topics))
    if limit is not None:
        chosen = chosen[-limit:]
    summaries = [letter.summary() for letter in chosen]
    if json_lines:
        for summary in summaries:
            print(json.dumps(summary.to_json(), ensure_ascii=False))
        return
    if not summaries:
        chosen_only = " of that selection" if reason or topic else ""
        out.print(f"no dead letters{chosen_only} in {topics.deadletter}", markup=False)
        return
    out.print(_table(summaries, topics, settings.timezone))
    shown = f" of {len(letters)}" if len(summaries) < len(letters) else ""
    out.print(
        f"{_count(len(summaries))}{shown}; put one back with "
        "`casestream deadletter replay --id ID`",
        markup=False,
    )


def _load_fix(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _fail(f"no file {path}", 2)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _fail(
            f"{path}: not valid JSON ({exc}); the file holds one JSON object, the corrected event"
        )


@deadletter_app.command("replay")
def deadletter_replay(
    letter_id: Annotated[
        str | None,
        typer.Option("--id", help="the dead letter to put back (PARTITION:OFFSET, from `list`)"),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            help="send this corrected event (one JSON object, validated as `casestream produce` "
            "does) instead of the original bytes"
        ),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="every dead letter of --reason (and --topic)")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="with --all: the reason to replay")] = None,
    topic: Annotated[str | None, typer.Option(help="with --all: only this source topic")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask before replaying --all")] = False,
) -> None:
    """Put dead letters back onto their source topics, for the worker to project again.

    One (--id), as it was or as the corrected event of --file, or every one of a reason
    (--all --reason R). Safe to repeat: an event id already applied is skipped, and a message
    still bad is dead-lettered again."""
    if every == (letter_id is not None):
        _fail(
            "give either --id ID (one dead letter) or --all --reason R (every one of a reason)", 2
        )
    if every and reason is None:
        _fail("--all needs --reason R: `casestream deadletter list` shows the reasons", 2)
    if every and file is not None:
        _fail("--file corrects one dead letter: give it with --id ID, not --all", 2)
    if not every and (reason is not None or topic is not None):
        _fail("--reason and --topic choose dead letters for --all; --id names one already", 2)
    from casestream.producers.deadletters import (
        DeadLetterError,
        DeadLetterId,
        FixRefused,
        Selection,
    )
    from casestream.producers.topics import Topics

    try:
        wanted = DeadLetterId.parse(letter_id) if letter_id is not None else None
    except DeadLetterError as exc:
        _fail(str(exc), 2)
    settings = Settings()
    topics = Topics(settings.topic_prefix)
    bootstrap = _kafka(settings)
    try:
        if wanted is not None:
            _replay_one(settings, bootstrap, topics, wanted, file)
        else:
            _replay_all(bootstrap, topics, Selection(reason=reason, source_topic=topic), yes)
    except FixRefused as exc:
        for field, message in exc.problems:
            err.print(f"{file}: {field}: {message}", style="red", markup=False)
        _fail("the fix is refused; nothing was sent")
    except DeadLetterError as exc:
        _fail(str(exc))


def _replay_one(
    settings: Settings, bootstrap: str, topics: Topics, letter_id: DeadLetterId, file: Path | None
) -> None:
    from casestream.policy import date_window
    from casestream.producers.deadletter_replay import Replayer, corrected_event
    from casestream.producers.deadletter_topic import DeadLetterTopic

    fix = _load_fix(file) if file is not None else None
    with DeadLetterTopic(bootstrap, topics) as topic:
        letter = topic.get(letter_id)
    corrected = None
    if file is not None:
        corrected = corrected_event(
            letter,
            fix,
            topics,
            now=datetime.now(UTC),
            timezone=settings.timezone,
            source=f"file:{file.name}",
            window=date_window(settings),
        )
    with Replayer(bootstrap, topics) as replayer:
        delivered = replayer.replay(letter, corrected)
    what = f"event {corrected.event_id} from {file}" if corrected else "original message"
    key = corrected.case_id if corrected else letter.case_id
    out.print(
        f"replayed dead letter {letter.id} ({letter.reason}) as the {what} onto "
        f"{delivered.topic}[{delivered.partition}]@{delivered.offset}, key {key}",
        markup=False,
    )
    out.print(
        "the worker projects it, or dead-letters it again: see `casestream deadletter list`",
        markup=False,
    )


def _replay_all(bootstrap: str, topics: Topics, selection: Selection, yes: bool) -> None:
    from casestream.producers.deadletter_replay import Replayer
    from casestream.producers.deadletters import plan_replay

    plan = plan_replay(_read_all(bootstrap, topics), selection, topics)
    if not plan.letters:
        out.print(f"no dead letters of reason {selection.reason} to replay", markup=False)
        return
    with Replayer(bootstrap, topics) as replayer:
        for letter in plan.letters:
            replayer.check(letter)  # refuse before sending any
        if not yes:
            typer.confirm(
                f"put {_count(len(plan.letters))} of reason {selection.reason} back onto "
                "their source topics?",
                abort=True,
            )
        with _progress() as progress:
            task = progress.add_task("replaying", total=len(plan.letters))
            for letter in plan.letters:
                replayer.replay(letter)
                progress.advance(task)
    out.print(f"replayed {_count(len(plan.letters))} of reason {selection.reason}", markup=False)
    if plan.superseded:
        out.print(
            f"{plan.superseded} left out: replayed before and dead-lettered again, their newer "
            "dead letters replayed instead",
            markup=False,
        )
