"""The topics the worker reads and writes, declared on its faust app (faust's `topics`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import faust

from casestream.domain.catalog import CaseKind
from casestream.producers.topics import Topics


@dataclass(frozen=True)
class WorkerTopics:
    projected: faust.TopicT  # every case topic and the alerts: what the projector reads
    alerts: faust.TopicT  # the escalation scanner writes them, the notifier reads them
    cases: Mapping[CaseKind, faust.TopicT]  # the outbox relay publishes derived events here
    deadletter: faust.TopicT
    names: Topics


def declare_topics(app: faust.App, topics: Topics) -> WorkerTopics:
    """The worker's topics on `app`, raw bytes in and out (decoding is the projector's)."""
    return WorkerTopics(
        # the projector also reads the alerts it raised, to move each clock's next alert on
        projected=app.topic(*topics.case_topics, topics.alerts, key_type=bytes, value_type=bytes),
        alerts=app.topic(topics.alerts, key_type=bytes, value_type=bytes),
        cases={
            kind: app.topic(topics.for_kind(kind), key_type=bytes, value_type=bytes)
            for kind in CaseKind
        },
        deadletter=app.topic(topics.deadletter, key_type=bytes, value_type=bytes),
        names=topics,
    )
