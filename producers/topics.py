"""Topic names (one per case kind, the enforcement supervision kinds sharing one, plus alerts and
dead letters) and their creation."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

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
    # 执法监督: the review, the notice and the decision record share one topic
    CaseKind.enforcement_review: "enforcement.events",
    CaseKind.enforcement_notice: "enforcement.events",
    CaseKind.enforcement_decision: "enforcement.events",
}


@dataclass(frozen=True)
class Topics:
    """The topic names of one deployment (a prefix lets several share a cluster)."""

    prefix: str = ""

    def for_kind(self, kind: CaseKind) -> str:
        return self.prefix + _CASE_TOPICS[kind]

    @property
    def case_topics(self) -> tuple[str, ...]:
        return tuple(self.prefix + name for name in dict.fromkeys(_CASE_TOPICS.values()))

    @property
    def alerts(self) -> str:
        return self.prefix + "alerts.events"

    @property
    def deadletter(self) -> str:
        return self.prefix + "deadletter"

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.case_topics, self.alerts, self.deadletter)


class TopicLayoutError(ValueError):
    """A topic layout the cluster cannot hold, or one that makes no sense."""


@dataclass(frozen=True)
class TopicLayout:
    """How each topic is laid out on the cluster: its partitions bound how many worker replicas
    share the projection (one partition feeds one worker at a time); its replication factor and
    `min.insync.replicas` bound what losing brokers may cost (with `acks=all`, an event is
    confirmed once `min_insync` replicas hold it, so a confirmed event survives losing
    `min_insync - 1` brokers, and writes go on while `min_insync` replicas are up). The
    deployment's layout comes from the settings (CASESTREAM_TOPIC_*)."""

    partitions: int
    replication: int
    min_insync: int

    def __post_init__(self) -> None:
        if self.partitions < 1 or self.replication < 1 or self.min_insync < 1:
            raise TopicLayoutError(
                f"partitions ({self.partitions}), replication ({self.replication}) and "
                f"min.insync.replicas ({self.min_insync}) must each be at least 1"
            )
        if self.min_insync > self.replication:
            raise TopicLayoutError(
                f"min.insync.replicas ({self.min_insync}) exceeds the replication factor "
                f"({self.replication}): no write could ever be confirmed; set "
                "CASESTREAM_TOPIC_MIN_INSYNC at most CASESTREAM_TOPIC_REPLICATION"
            )

    @classmethod
    def single_broker(cls, partitions: int = 3) -> TopicLayout:
        """The layout on one local broker (`casestream up` without a cluster, the tests, the
        benches): one replica, so no broker failure is survived."""
        return cls(partitions=partitions, replication=1, min_insync=1)


@dataclass(frozen=True)
class TopicShortfall:
    """An existing topic laid out smaller than configured: creating leaves it as it is."""

    topic: str
    partitions: int
    replication: int
    wanted: TopicLayout

    def describe(self) -> str:
        found = []
        if self.partitions < self.wanted.partitions:
            found.append(
                f"{self.partitions} partition(s), fewer than the {self.wanted.partitions} of "
                f"CASESTREAM_TOPIC_PARTITIONS: at most {self.partitions} worker replicas share it"
            )
        if self.replication < self.wanted.replication:
            found.append(
                f"{self.replication} replica(s), fewer than the {self.wanted.replication} of "
                "CASESTREAM_TOPIC_REPLICATION"
            )
        return f"{self.topic} has {' and '.join(found)}"


@dataclass(frozen=True)
class TopicsCreated:
    """What `create_topics` did: the topics it created, and existing ones laid out smaller."""

    created: tuple[str, ...]
    short: tuple[TopicShortfall, ...]


def create_topics(bootstrap: str, topics: Topics, layout: TopicLayout) -> TopicsCreated:
    """Create every topic that does not exist yet with `layout` (infinite retention,
    `min.insync.replicas` of the layout); existing topics stay as they are, and those with
    fewer partitions or replicas than `layout` are named in the answer. Refuses to create a
    topic with more replicas than the cluster has brokers (TopicLayoutError, naming the
    setting); when every topic exists there is nothing to refuse."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="casestream-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(
                name=name,
                num_partitions=layout.partitions,
                replication_factor=layout.replication,
                topic_configs={
                    "retention.ms": "-1",
                    "retention.bytes": "-1",
                    "min.insync.replicas": str(layout.min_insync),
                },
            )
            for name in topics.all
            if name not in existing
        ]
        if wanted:
            brokers = len(admin.describe_cluster()["brokers"])
            if brokers < layout.replication:
                raise TopicLayoutError(
                    f"the Kafka cluster at {bootstrap} has {brokers} broker(s), fewer than the "
                    f"replication factor {layout.replication} (CASESTREAM_TOPIC_REPLICATION); "
                    "add brokers, or on a single broker set CASESTREAM_TOPIC_REPLICATION=1 and "
                    "CASESTREAM_TOPIC_MIN_INSYNC=1"
                )
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)
        kept = [name for name in topics.all if name in existing]
        return TopicsCreated(
            tuple(topic.name for topic in wanted),
            tuple(_shortfalls(admin.describe_topics(kept), layout) if kept else ()),
        )
    finally:
        admin.close()


def _shortfalls(described: list[dict[str, Any]], layout: TopicLayout) -> list[TopicShortfall]:
    found = []
    for topic in described:
        partitions = topic["partitions"]
        replication = min((len(p["replica_nodes"]) for p in partitions), default=0)
        if len(partitions) < layout.partitions or replication < layout.replication:
            found.append(TopicShortfall(topic["name"], len(partitions), replication, layout))
    return sorted(found, key=lambda shortfall: shortfall.topic)


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
