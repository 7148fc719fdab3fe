"""Creating the topics with the configured layout on a real broker, and every producer of
casestream waiting for all in-sync replicas (acks=all)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

from casestream.bootstrap import bootstrap
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import TopicLayout, TopicLayoutError, Topics, create_topics
from casestream.settings import Settings
from casestream.stream_processors.app import faust_app
from tests.processes import clean_env

ACKS_ALL = -1  # how the Kafka clients spell acks="all" once configured
PRODUCTION = TopicLayout(partitions=3, replication=3, min_insync=2)


def _fresh() -> Topics:
    return Topics(prefix=f"t{uuid.uuid4().hex[:10]}.")


def _topic_setting(bootstrap: str, topic: str, name: str) -> tuple[str, str]:
    """The value of topic config `name` and where it comes from (the topic's own, or a default)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    finally:
        admin.close()
    found = described["topic"][topic][name]
    return found["value"], found["config_source"]


def test_more_replicas_than_brokers_is_refused_naming_the_setting(kafka_bootstrap: str) -> None:
    topics = _fresh()
    with pytest.raises(TopicLayoutError, match=r"1 broker.*CASESTREAM_TOPIC_REPLICATION"):
        create_topics(kafka_bootstrap, topics, PRODUCTION)
    assert not set(topics.all) & set(_topic_names(kafka_bootstrap)), "a topic was half-created"


def test_topics_get_the_layout_and_creating_again_changes_nothing(kafka_bootstrap: str) -> None:
    topics = _fresh()
    first = create_topics(kafka_bootstrap, topics, TopicLayout.single_broker(partitions=2))
    assert set(first.created) == set(topics.all) and not first.short
    for topic in topics.all:
        assert _topic_setting(kafka_bootstrap, topic, "min.insync.replicas") == (
            "1",
            "DYNAMIC_TOPIC_CONFIG",
        )
    again = create_topics(kafka_bootstrap, topics, TopicLayout.single_broker(partitions=2))
    assert again.created == () and again.short == ()


def test_existing_topics_with_fewer_partitions_than_configured_are_named(
    kafka_bootstrap: str,
) -> None:
    topics = _fresh()
    create_topics(kafka_bootstrap, topics, TopicLayout.single_broker(partitions=1))
    wider = TopicLayout.single_broker(partitions=4)
    done = create_topics(kafka_bootstrap, topics, wider)
    assert done.created == ()
    assert sorted(short.topic for short in done.short) == sorted(topics.all)
    assert {(short.partitions, short.replication) for short in done.short} == {(1, 1)}


def test_topics_that_exist_are_kept_on_too_few_brokers_and_their_missing_replicas_named(
    kafka_bootstrap: str,
) -> None:
    topics = _fresh()
    create_topics(kafka_bootstrap, topics, TopicLayout.single_broker())
    done = create_topics(kafka_bootstrap, topics, PRODUCTION)  # 3 replicas wanted, 1 broker
    assert done.created == ()
    assert {(short.partitions, short.replication) for short in done.short} == {(3, 1)}
    assert "CASESTREAM_TOPIC_REPLICATION" in done.short[0].describe()


def test_the_topics_command_uses_the_settings_and_says_what_it_left_alone(
    kafka_bootstrap: str,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."

    def run(**settings: str) -> subprocess.CompletedProcess[str]:
        env = clean_env(
            CASESTREAM_KAFKA_BOOTSTRAP=kafka_bootstrap, CASESTREAM_TOPIC_PREFIX=prefix, **settings
        )
        return subprocess.run(
            [sys.executable, "-m", "casestream.cli", "topics", "create"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    refused = run()  # production defaults against one broker
    assert refused.returncode == 2
    assert "CASESTREAM_TOPIC_REPLICATION" in refused.stderr
    single = {"CASESTREAM_TOPIC_REPLICATION": "1", "CASESTREAM_TOPIC_MIN_INSYNC": "1"}
    created = run(**single)
    assert created.returncode == 0, created.stderr
    assert "3 partitions, replication 1" in created.stdout
    widened = run(CASESTREAM_TOPIC_PARTITIONS="6", **single)
    assert widened.returncode == 0, widened.stderr
    assert "all topics exist" in widened.stdout
    assert f"{prefix}alerts.events has 3 partition(s), fewer than the 6" in widened.stderr


def test_the_event_producer_waits_for_every_in_sync_replica(kafka_bootstrap: str) -> None:
    """The producer of the feeds and the simulator, the API's and the dead-letter replay's."""
    with EventProducer(kafka_bootstrap, _fresh()) as producer:
        config = producer._producer.config
        assert config["acks"] == ACKS_ALL
        assert config["enable_idempotence"] is True


async def test_the_worker_producer_waits_for_every_in_sync_replica(tmp_path: Path) -> None:
    """faust's producer: the outbox relay, the escalation scanner's alerts, the dead letters."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'rm.db'}",
        kafka_bootstrap="127.0.0.1:9",
        var_dir=tmp_path,
    )
    parts = bootstrap(settings)
    try:
        producer = faust_app(parts).producer._new_producer()
        try:
            assert producer._sender._acks == ACKS_ALL
        finally:
            await producer.stop()
    finally:
        parts.close()


def _topic_names(bootstrap: str) -> list[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return list(admin.list_topics())
    finally:
        admin.close()
