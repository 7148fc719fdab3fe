"""Topic names (one per case kind, plus alerts and dead letters) and their creation."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from casestream.domain.catalog import CaseKind
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

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
