"""A replay split over processes by partition number, as live workers split the topics.

One Python process projects at most one core's worth of events: a replay of a province's
topics on PostgreSQL leaves the machine's other cores idle. Here each process replays every
topic's partitions of some numbers (the partitions of one number hold the same cases on every
topic, as a key always lands on the same partition number when the topics have as many
partitions), in its own transactions, exactly as that many live workers would; the parent
shows one progress bar and adds their outcomes.

SQLite (one writer at a time) and topics of unequal partition counts (a case's events and its
alerts could then fall to two processes) replay in one process.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queues
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kafka import KafkaConsumer

from casestream.bootstrap import Parts, bootstrap
from casestream.read_models.projection import BatchOutcome
from casestream.settings import Settings

from .metrics import ProjectorMetrics
from .replay import replay

WAIT = 0.5  # seconds between looks at the processes while none reports


class ReplayFailed(RuntimeError):
    """A process of a split replay failed: the read models are incomplete (replay again into a
    fresh database or schema)."""


def topic_partitions(parts: Parts) -> dict[str, int]:
    """How many partitions each replayed topic has (0: the topic does not exist)."""
    topics = parts.topics
    consumer = KafkaConsumer(
        bootstrap_servers=parts.settings.require_kafka(), client_id="casestream-replay-plan"
    )
    try:
        return {
            topic: len(consumer.partitions_for_topic(topic) or ())
            for topic in (*topics.case_topics, topics.alerts)
        }
    finally:
        consumer.close()


def partition_groups(counts: Mapping[str, int], processes: int) -> list[tuple[int, ...]] | None:
    """The partition numbers each process replays, or None for one process replaying all:
    one process asked for, one partition, or topics of unequal partition counts."""
    found = {count for count in counts.values() if count > 0}
    if processes <= 1 or len(found) != 1:
        return None
    (partitions,) = found
    if partitions <= 1:
        return None
    used = min(processes, partitions)
    return [tuple(range(first, partitions, used)) for first in range(used)]


def replay_in_processes(
    parts: Parts,
    processes: int,
    *,
    batch_size: int = 2000,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    metrics: ProjectorMetrics | None = None,
) -> BatchOutcome:
    """Replay into the read models of `parts` (migrated) in up to `processes` processes;
    `on_total` is told once the events to replay, `on_progress` each batch projected
    (`metrics`: those of an earlier pass in this process, when it replays in this process).
    Raises ReplayFailed when a process fails."""
    groups = None
    if parts.engine.dialect.name == "postgresql":
        groups = partition_groups(topic_partitions(parts), processes)
    if groups is None:
        return replay(
            parts,
            batch_size=batch_size,
            on_total=on_total,
            on_progress=on_progress,
            metrics=metrics,
        )
    return _run_split(parts.settings, groups, batch_size, on_total, on_progress)


def _run_split(
    settings: Settings,
    groups: Sequence[tuple[int, ...]],
    batch_size: int,
    on_total: Callable[[int], None] | None,
    on_progress: Callable[[int], None] | None,
) -> BatchOutcome:
    context = multiprocessing.get_context("spawn")  # no forked engine, consumer or thread
    restore: Any = None
    if threading.current_thread() is threading.main_thread():
        # `kill` ends the replay as Ctrl-C does: through the `finally` that stops the processes
        restore = signal.signal(signal.SIGTERM, _exit_on_signal)
    reports: Any = context.Queue()
    children = [
        context.Process(
            target=_replay_part,
            args=(settings, index, group, batch_size, reports),
            name=f"casestream-replay-{index}",
            daemon=True,
        )
        for index, group in enumerate(groups)
    ]
    totals: dict[int, int] = {}
    early = 0  # events projected before every process had counted its own
    finished: dict[int, BatchOutcome] = {}
    try:
        for child in children:
            child.start()
        while len(finished) < len(children):
            try:
                kind, index, *values = reports.get(timeout=WAIT)
            except queues.Empty:
                for index, child in enumerate(children):
                    if index not in finished and child.exitcode not in (None, 0):
                        raise ReplayFailed(
                            f"the replay process of partitions {list(groups[index])} exited "
                            f"with code {child.exitcode}; replay again into a fresh database "
                            "or schema"
                        ) from None
                continue
            if kind == "total":  # told once every process has counted its events
                totals[index] = values[0]
                if len(totals) == len(children):
                    if on_total:
                        on_total(sum(totals.values()))
                    if on_progress and early:
                        on_progress(early)
            elif kind == "progress":
                if len(totals) < len(children):
                    early += values[0]  # progress is told after the total
                elif on_progress:
                    on_progress(values[0])
            elif kind == "done":
                applied, duplicates, anomalies, dead_letters = values
                finished[index] = BatchOutcome(
                    applied=applied,
                    duplicates=duplicates,
                    anomalies=anomalies,
                    dead_letters=dead_letters,
                )
            else:  # "failed"
                raise ReplayFailed(
                    f"the replay of partitions {list(groups[index])} failed: {values[0]}; "
                    "replay again into a fresh database or schema"
                )
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()
            child.join(timeout=30)
        reports.close()
        if restore is not None:
            signal.signal(signal.SIGTERM, restore)
    total = BatchOutcome()
    for outcome in finished.values():
        total = total.merged(outcome)
    return total


def _exit_on_signal(signum: int, _: object) -> None:
    raise SystemExit(128 + signum)


def _replay_part(
    settings: Settings, index: int, partitions: tuple[int, ...], batch_size: int, reports: Any
) -> None:
    """One process of a split replay: the partitions of these numbers on every topic."""
    threading.Thread(target=_end_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        parts = bootstrap(settings, follow_pointer=False)
        try:
            outcome = replay(
                parts,
                batch_size=batch_size,
                partition_numbers=frozenset(partitions),
                on_total=lambda total: reports.put(("total", index, total)),
                on_progress=lambda events: reports.put(("progress", index, events)),
            )
        finally:
            parts.close()
    except Exception as exc:
        reports.put(("failed", index, f"{type(exc).__name__}: {str(exc)[:500]}"))
        raise SystemExit(1) from exc
    reports.put(
        (
            "done",
            index,
            outcome.applied,
            outcome.duplicates,
            outcome.anomalies,
            outcome.dead_letters,
        )
    )


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
    processes: int = 1,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BatchOutcome:
    """Replay to the end offsets of the moment, then again to those of the end of that pass,
    until a pass finds at most `lag` events to project (or after `max_passes`); `on_total`
    is told each pass's events as they are counted; each pass in up to `processes`
    processes."""
    total = BatchOutcome()
    found: list[int] = []  # the events each pass found to project
    metrics = ProjectorMetrics(parts.registry, parts.departments)

    def counted(events: int) -> None:
        found.append(events)
        if on_total:
            on_total(events)

    for _ in range(max_passes):
        total = total.merged(
            replay_in_processes(
                parts,
                processes,
                batch_size=batch_size,
                on_total=counted,
                on_progress=on_progress,
                metrics=metrics,
            )
        )
        if not found or found[-1] <= lag:
            break
    return total


def _end_with_parent(parent: int) -> None:
    """End this process once its parent is gone (killed before it could stop its children):
    no orphan goes on writing into read models nobody waits for."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)
