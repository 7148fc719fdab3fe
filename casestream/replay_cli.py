"""`casestream replay`: rebuild the read models from offset 0 into a fresh database or schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console

from casestream.progress import progress_bar
from casestream.settings import Settings

err = Console(stderr=True)
out = Console()


def replay_command(
    database_url: Annotated[
        str | None, typer.Option(help="target database (default: a new SQLite file under var/)")
    ] = None,
    schema: Annotated[
        str | None, typer.Option(help="target PostgreSQL schema (default: a new one)")
    ] = None,
) -> None:
    """Rebuild the read models from offset 0 into a fresh database or schema, with a progress bar."""
    from casestream.bootstrap import bootstrap
    from casestream.stream_processors.replay import replay

    settings = Settings()
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    url = database_url or settings.database_url
    if url.startswith("postgresql"):
        schema = schema or f"replay_{stamp}"
    elif database_url is None:
        url = f"sqlite:///{settings.var_dir}/replay-{stamp}.db"
    parts = bootstrap(settings.model_copy(update={"database_url": url, "database_schema": schema}))
    try:
        with progress_bar(err) as progress:
            task = progress.add_task("replaying", total=None)
            outcome = replay(
                parts,
                on_total=lambda total: progress.update(task, total=total),
                on_progress=lambda n: progress.advance(task, n),
            )
    finally:
        parts.close()
    where = f"{url} schema {schema}" if schema else url
    out.print(
        f"replayed {outcome.applied} events ({outcome.duplicates} duplicates skipped) into {where}"
    )
    out.print("point CASESTREAM_DATABASE_URL (and CASESTREAM_DATABASE_SCHEMA) there to serve it")
