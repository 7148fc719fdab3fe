"""`casestream replay`: rebuild the read models from offset 0 into a fresh database or schema;
with `--into`, beside the live ones until `casestream switch` serves them (`replay drop`
removes read models no longer served)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from casestream.progress import progress_bar
from casestream.settings import Settings

if TYPE_CHECKING:
    from casestream.bootstrap import Parts
    from casestream.read_models.projection import BatchOutcome
    from casestream.read_models.read_model_pointer import ReadModelTarget

err = Console(stderr=True)
out = Console(soft_wrap=True)  # targets (paths, URLs) are copied whole from here

replay_app = typer.Typer(
    help="Rebuild the read models from the topics; `replay --into`, then `switch`, without "
    "downtime.",
    invoke_without_command=True,
)


@replay_app.callback()
def replay_command(
    ctx: typer.Context,
    database_url: Annotated[
        str | None, typer.Option(help="target database (default: a new SQLite file under var/)")
    ] = None,
    schema: Annotated[
        str | None, typer.Option(help="target PostgreSQL schema (default: a new one)")
    ] = None,
    into: Annotated[
        str | None,
        typer.Option(
            help="build read models beside the served ones, caught up with the live topics: a "
            "PostgreSQL schema of the home database, or sqlite:///path/new.db; then `casestream "
            "switch` to serve them"
        ),
    ] = None,
    lag: Annotated[
        int,
        typer.Option(
            min=0,
            help="with --into: caught up once a pass starts this many events or fewer "
            "behind the topics' ends",
        ),
    ] = 1000,
    processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="processes replaying at once, each the partitions of some numbers, as that "
            "many workers would (PostgreSQL; default: the machine's cores, at most the "
            "partitions; SQLite: 1)",
        ),
    ] = None,
) -> None:
    """Rebuild the read models from offset 0 into a fresh database or schema, with a progress bar."""
    if ctx.invoked_subcommand is not None:
        return
    processes = processes or os.cpu_count() or 1
    if into is not None:
        if database_url or schema:
            raise _fail("--into names the target by itself: drop --database-url and --schema")
        _replay_into(into, lag, processes)
        return
    from casestream.bootstrap import bootstrap
    from casestream.stream_processors.replay_processes import ReplayFailed, replay_in_processes

    settings = Settings()
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    url = database_url or settings.database_url
    if url.startswith("postgresql"):
        schema = schema or f"replay_{stamp}"
    elif database_url is None:
        url = f"sqlite:///{settings.var_dir}/replay-{stamp}.db"
    parts = bootstrap(
        settings.model_copy(update={"database_url": url, "database_schema": schema}),
        follow_pointer=False,
    )
    try:
        with progress_bar(err) as progress:
            task = progress.add_task("replaying", total=None)
            outcome = replay_in_processes(
                parts,
                processes,
                on_total=lambda total: progress.update(task, total=total),
                on_progress=lambda n: progress.advance(task, n),
            )
    except ReplayFailed as exc:
        raise _fail(str(exc)) from exc
    finally:
        parts.close()
    where = f"{url} schema {schema}" if schema else url
    out.print(f"replayed {_replayed(outcome)} into {where}")
    out.print("point CASESTREAM_DATABASE_URL (and CASESTREAM_DATABASE_SCHEMA) there to serve it")


def _replayed(outcome: BatchOutcome) -> str:
    """What a replay applied and passed over, for its last line."""
    said = f"{outcome.applied} events ({outcome.duplicates} duplicates skipped"
    if outcome.dead_letters:
        said += (
            f"; {outcome.dead_letters} bad messages passed over, as the live worker dead-lettered"
            " them: `casestream deadletter list` shows them"
        )
    return said + ")"


def _fail(message: str) -> typer.Exit:
    err.print(message, style="red", markup=False)
    return typer.Exit(2)


def _home_and_served(settings: Settings) -> tuple[ReadModelTarget, ReadModelTarget]:
    from casestream.bootstrap import bootstrap

    parts = bootstrap(settings)
    try:
        return parts.pointer.home, parts.serving
    finally:
        parts.close()


def _target(text: str, home: ReadModelTarget) -> ReadModelTarget:
    from casestream.read_models.read_model_pointer import TargetError, parse_target

    try:
        return parse_target(text, home)
    except TargetError as exc:
        raise _fail(str(exc)) from exc


def _parts_on(settings: Settings, target: ReadModelTarget) -> Parts:
    from casestream.bootstrap import bootstrap

    return bootstrap(
        settings.model_copy(update={"database_url": target.url, "database_schema": target.schema}),
        follow_pointer=False,
    )


def _catch_up(parts: Parts, lag: int, description: str, processes: int = 1) -> BatchOutcome:
    """Replay into `parts` until caught up, with the progress bar."""
    from casestream.stream_processors.replay_processes import ReplayFailed, replay_until_caught_up

    with progress_bar(err) as progress:
        task = progress.add_task(description, total=None)

        def counted(events: int) -> None:  # each pass adds what it found to the bar
            progress.update(task, total=progress.tasks[0].completed + events)

        try:
            outcome = replay_until_caught_up(
                parts,
                lag=lag,
                processes=processes,
                on_total=counted,
                on_progress=lambda n: progress.advance(task, n),
            )
        except ReplayFailed as exc:
            raise _fail(str(exc)) from exc
    return outcome


def _replay_into(text: str, lag: int, processes: int) -> None:
    from casestream.read_models.read_model_pointer import same_place

    settings = Settings()
    home, served = _home_and_served(settings)
    target = _target(text, home)
    if same_place(target, served):
        raise _fail(f"{target.describe()} is served now: replay --into other read models")
    parts = _parts_on(settings, target)
    try:
        outcome = _catch_up(parts, lag, f"replaying into {target.describe()}", processes)
    finally:
        parts.close()
    out.print(f"replayed {_replayed(outcome)} into {target.describe()}, caught up (lag ≤ {lag})")
    out.print(f"serve them with: casestream switch {target.describe()}")


def _exists(target: ReadModelTarget, home_url: str) -> bool:
    """Whether `target`'s read models were built (a schema or a file there), without creating."""
    from pathlib import Path

    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    if target.schema is None:
        database = make_url(target.url).database
        return database is not None and Path(database).exists()
    engine = sa.create_engine(home_url)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                sa.text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
                {"s": target.schema},
            ).first()
    finally:
        engine.dispose()
    return found is not None


def switch_command(
    target_name: Annotated[
        str,
        typer.Argument(
            metavar="TARGET",
            help="the read models to serve: a schema (PostgreSQL), sqlite:///path.db, or home",
        ),
    ],
    catch_up: Annotated[
        bool,
        typer.Option(help="replay what the target misses of the topics before switching"),
    ] = True,
    settle_seconds: Annotated[
        float | None,
        typer.Option(
            help="how long every API and worker takes to follow the pointer (default: three "
            "times CASESTREAM_READ_MODEL_POLL_SECONDS, plus 1)"
        ),
    ] = None,
) -> None:
    """Serve other read models (built by `replay --into`): the API and the worker follow in
    one step, within CASESTREAM_READ_MODEL_POLL_SECONDS; the old ones stay until dropped."""
    from casestream.bootstrap import bootstrap
    from casestream.read_models.read_model_pointer import copy_operational_rows, same_place
    from casestream.stream_processors.replay_processes import CATCH_UP_LAG

    settings = Settings()
    home, served = _home_and_served(settings)
    target = _target(target_name, home)
    if same_place(target, served):
        out.print(f"{target.describe()} is served already")
        return
    if not same_place(target, home) and not _exists(target, home.url):
        raise _fail(f"{target.describe()} holds no read models: `casestream replay --into` first")
    parts = _parts_on(settings, target)
    old = bootstrap(settings)
    try:
        if catch_up:
            _catch_up(parts, CATCH_UP_LAG, f"catching up {target.describe()}")
        with old.engine.connect() as source, parts.engine.begin() as into:
            copied = copy_operational_rows(source, into)
        old.pointer.point_at(target)
        # requests and batches that started on the old read models before every process
        # followed the pointer: copy what they wrote there of the rows a switch carries
        time.sleep(
            settings.read_model_poll_seconds * 3 + 1 if settle_seconds is None else settle_seconds
        )
        with old.engine.connect() as source, parts.engine.begin() as into:
            copied += copy_operational_rows(source, into)
    finally:
        parts.close()
        old.close()
    out.print(
        f"serving {target.describe()} (was {served.describe()}; {copied} outbox rows, "
        "reservations and uploads carried over)"
    )
    out.print(f"the old read models stay until: casestream replay drop {served.describe()}")


@replay_app.command("drop")
def drop_command(
    target_name: Annotated[
        str, typer.Argument(metavar="TARGET", help="a schema, sqlite:///path.db, or home")
    ],
) -> None:
    """Remove read models no longer served (a schema, a SQLite file; the home's read-model rows,
    keeping its staff accounts, sessions and webhook deliveries). Refuses the served ones."""
    from casestream.read_models.database import drop_read_models
    from casestream.read_models.read_model_pointer import drop_refusal

    settings = Settings()
    home, served = _home_and_served(settings)
    target = _target(target_name, home)
    refusal = drop_refusal(target, active=served)
    if refusal is not None:
        raise _fail(refusal)
    drop_read_models(target, home)
    out.print(f"dropped the read models of {target.describe()}")
