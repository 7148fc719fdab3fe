"""`casestream topics …`: the Kafka topics casestream reads and writes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from casestream.settings import Settings

topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@topics_app.command("create")
def topics_create(
    partitions: Annotated[
        int | None, typer.Option(min=1, help="default: CASESTREAM_TOPIC_PARTITIONS (3)")
    ] = None,
    replication: Annotated[
        int | None, typer.Option(min=1, help="default: CASESTREAM_TOPIC_REPLICATION (3)")
    ] = None,
    min_insync: Annotated[
        int | None, typer.Option(min=1, help="default: CASESTREAM_TOPIC_MIN_INSYNC (2)")
    ] = None,
) -> None:
    """Create the case, alert and dead-letter topics (infinite retention) that are missing,
    with the configured partitions, replication and min.insync.replicas; name the existing
    ones laid out smaller than that (they are left as they are)."""
    from casestream.producers.topics import TopicLayout, TopicLayoutError, Topics, create_topics

    settings = Settings()
    try:
        layout = TopicLayout(
            partitions=partitions or settings.topic_partitions,
            replication=replication or settings.topic_replication,
            min_insync=min_insync or settings.topic_min_insync,
        )
        done = create_topics(settings.require_kafka(), Topics(settings.topic_prefix), layout)
    except TopicLayoutError as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from exc
    out.print(
        f"created ({layout.partitions} partitions, replication {layout.replication}, "
        f"min.insync.replicas {layout.min_insync}): {', '.join(done.created)}"
        if done.created
        else "all topics exist"
    )
    for short in done.short:
        err.print(f"{short.describe()}; left as it is.", style="yellow", markup=False)
    if done.short:
        err.print(
            "casestream never adds partitions itself: a case's events must stay on one "
            "partition, in order, and more partitions move cases to others. To lay a topic out "
            "anew, create topics under a new CASESTREAM_TOPIC_PREFIX, copy the events over in "
            "order, and replay the read models from them.",
            style="yellow",
            markup=False,
        )
