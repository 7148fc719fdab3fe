"""Rebuilding read models from offset 0 of every case topic, up to the offsets at the start."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
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
    partition_numbers: Collection[int] | None = None,
) -> BatchOutcome:
    """Project every message now in the case topics into the (fresh) read models of `parts`,
    from their checkpoints (`metrics`: those of an earlier pass on the same registry;
    `partition_numbers`: only the partitions of these numbers, on every topic).

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
            if partition_numbers is None or partition in partition_numbers
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
            total.dead_letters += 1  # the live worker sent it to the dead letters already

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
