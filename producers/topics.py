"""Topic names (one per case kind, plus alerts and dead letters) and their creation."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from casestream.domain.catalog import CaseKind

_CASE_TOPICS: dict[CaseKind, str] = {
    CaseKind.complaint: "complaints.events",
    CaseKind.enterprise_tip: "enterprise.events",
    CaseKind.reconsideration: "reconsideration.events",
    CaseKind.litigation: "litigation.events",
    CaseKind.rectification: "rectification.events",
}


@dataclass(frozen=True)
class Topics:
    """The topic names of one deployment (a prefix lets several share a cluster)."""

    prefix: str = ""

    def for_kind(self, kind: CaseKind) -> str:
        return self.prefix + _CASE_TOPICS[kind]

    @property
    def case_topics(self) -> tuple[str, ...]:
        return tuple(self.prefix + name for name in _CASE_TOPICS.values())

    @property
    def alerts(self) -> str:
        return self.prefix + "alerts.events"

    @property
    def deadletter(self) -> str:
        return self.prefix + "deadletter"

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.case_topics, self.alerts, self.deadletter)


def create_topics(
    bootstrap: str, topics: Topics, partitions: int = 3, replication: int = 1
) -> list[str]:
    """Create every topic that does not exist yet (infinite retention); the names created."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="casestream-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name=name,
                num_partitions=partitions,
                replication_factor=replication,
                topic_configs={"retention.ms": "-1", "retention.bytes": "-1"},
            )
            for name in topics.all
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)
        return [topic.name for topic in wanted]
    finally:
        admin.close()


def end_offsets(
    bootstrap: str, topic_names: tuple[str, ...], timeout_ms: int = 5000
) -> dict[tuple[str, int], int]:
    """The offset the next message of each partition of `topic_names` will get."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, client_id="casestream-offsets", request_timeout_ms=timeout_ms
    )
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in topic_names
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        found: dict[TopicPartition, int] = consumer.end_offsets(partitions) if partitions else {}
        return {(tp.topic, tp.partition): offset for tp, offset in found.items()}
    finally:
        consumer.close()
