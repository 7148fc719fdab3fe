"""Rebuilding read models from offset 0 of every case topic, up to the offsets at the start."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from casestream.bootstrap import Parts
from casestream.read_models.projection import BatchOutcome, ProjectionWriter

from .metrics import ProjectorMetrics
from .projector import DeadLetter, Projector, RawMessage


def replay(
    parts: Parts,
    *,
    batch_size: int = 2000,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    metrics: ProjectorMetrics | None = None,
) -> BatchOutcome:
    """Project every message now in the case topics into the (fresh) read models of `parts`,
    from their checkpoints (`metrics`: those of an earlier pass on the same registry).

    Bad messages were dead-lettered by the live worker already: a replay counts them in the
    metrics and moves the checkpoint past them, without sending them again.
    """
    topics = parts.topics
    writer = ProjectionWriter(parts.engine, parts.policy, parts.outcomes)
    metrics = metrics or ProjectorMetrics(parts.registry, parts.departments)
    consumer = KafkaConsumer(
        bootstrap_servers=parts.settings.require_kafka(),
        enable_auto_commit=False,
        group_id=None,
        client_id="casestream-replay",
    )
    total = BatchOutcome()
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in (*topics.case_topics, topics.alerts)
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        stored = writer.stored_offsets()
        beginnings: dict[Any, int] = consumer.beginning_offsets(partitions)
        ends: dict[Any, int] = consumer.end_offsets(partitions)
        remaining = {}
        for tp in partitions:
            start = max(beginnings[tp], stored.get((tp.topic, tp.partition), 0))
            if start < ends[tp]:
                consumer.seek(tp, start)
                remaining[tp] = ends[tp]
        if on_total:
            on_total(
                sum(
                    ends[tp] - max(beginnings[tp], stored.get((tp.topic, tp.partition), 0))
                    for tp in remaining
                )
            )

        async def dead_letter(letter: DeadLetter) -> None:
            return None

        projector = Projector(writer, dead_letter, metrics, parts.settings.timezone)
        consumer.pause(*[tp for tp in partitions if tp not in remaining])
        while remaining:
            polled = consumer.poll(timeout_ms=1000, max_records=batch_size)
            messages: list[RawMessage] = []
            for tp, records in polled.items():
                end = remaining.get(tp)
                if end is None:
                    continue
                for record in records:
                    if record.offset < end:
                        messages.append(
                            RawMessage(
                                record.topic,
                                record.partition,
                                record.offset,
                                record.key,
                                record.value,
                            )
                        )
                if consumer.position(tp) >= end:
                    del remaining[tp]
                    consumer.pause(tp)
            if messages:
                outcome = asyncio.run(projector.handle(messages))
                total.applied += outcome.applied
                total.duplicates += outcome.duplicates
                total.anomalies += outcome.anomalies
                if on_progress:
                    on_progress(len(messages))
    finally:
        consumer.close()
    return total


CATCH_UP_LAG = 1000
"""A replay has caught up once a pass starts this close to the end of the topics (events):
the worker, restarted on the new read models by the switch, projects the rest from their
checkpoints within its next batch, so waiting for an exact 0 while events arrive gains nothing."""


def replay_until_caught_up(
    parts: Parts,
    *,
    lag: int = CATCH_UP_LAG,
    max_passes: int = 100,
    batch_size: int = 2000,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BatchOutcome:
    """Replay to the end offsets of the moment, then again to those of the end of that pass,
    until a pass finds at most `lag` events to project (or after `max_passes`); `on_total`
    is told each pass's events as they are counted."""
    total = BatchOutcome()
    found: list[int] = []  # the events each pass found to project
    metrics = ProjectorMetrics(parts.registry, parts.departments)

    def counted(events: int) -> None:
        found.append(events)
        if on_total:
            on_total(events)

    for _ in range(max_passes):
        total = total.merged(
            replay(
                parts,
                batch_size=batch_size,
                on_total=counted,
                on_progress=on_progress,
                metrics=metrics,
            )
        )
        if not found or found[-1] <= lag:
            break
    return total
