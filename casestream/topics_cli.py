"""`casestream topics …`: the Kafka topics casestream reads and writes."""

from __future__ import annotations

import typer
from rich.console import Console

from casestream.settings import Settings

topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
out = Console()


@topics_app.command("create")
def topics_create(partitions: int = 3) -> None:
    """Create the case, alert and dead-letter topics (infinite retention) if missing."""
    from casestream.producers.topics import Topics, create_topics

    settings = Settings()
    created = create_topics(
        settings.require_kafka(), Topics(settings.topic_prefix), partitions=partitions
    )
    out.print(f"created: {', '.join(created)}" if created else "all topics exist")
