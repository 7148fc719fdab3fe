"""How the topics are laid out on the cluster: partitions, replication and min.insync.replicas
are settings with production defaults, and a layout that cannot confirm a write is refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from casestream.producers.topics import TopicLayout, TopicLayoutError, TopicShortfall
from casestream.settings import Settings


@pytest.fixture(autouse=True)
def _no_deployment_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PARTITIONS", "REPLICATION", "MIN_INSYNC"):
        monkeypatch.delenv(f"CASESTREAM_TOPIC_{name}", raising=False)


def test_the_production_defaults_keep_three_replicas_and_confirm_on_two() -> None:
    settings = Settings()
    assert (settings.topic_replication, settings.topic_min_insync) == (3, 2)
    assert settings.topic_partitions == 3


def test_the_layout_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASESTREAM_TOPIC_PARTITIONS", "12")
    monkeypatch.setenv("CASESTREAM_TOPIC_REPLICATION", "5")
    monkeypatch.setenv("CASESTREAM_TOPIC_MIN_INSYNC", "3")
    settings = Settings()
    assert (settings.topic_partitions, settings.topic_replication, settings.topic_min_insync) == (
        12,
        5,
        3,
    )


def test_settings_refuse_more_in_sync_replicas_than_replicas_naming_both_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CASESTREAM_TOPIC_REPLICATION", "1")
    with pytest.raises(ValidationError, match=r"CASESTREAM_TOPIC_MIN_INSYNC.*REPLICATION"):
        Settings()


@pytest.mark.parametrize("field", ["partitions", "replication", "min_insync"])
def test_settings_refuse_a_count_below_one(field: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"CASESTREAM_TOPIC_{field.upper()}", "0")
    with pytest.raises(ValidationError, match=f"topic_{field}"):
        Settings()


def test_a_layout_that_could_never_confirm_a_write_is_refused() -> None:
    with pytest.raises(TopicLayoutError, match="CASESTREAM_TOPIC_MIN_INSYNC"):
        TopicLayout(partitions=3, replication=2, min_insync=3)
    with pytest.raises(TopicLayoutError, match="at least 1"):
        TopicLayout(partitions=0, replication=1, min_insync=1)


def test_the_single_broker_layout_keeps_one_replica_and_the_partitions_asked_for() -> None:
    assert TopicLayout.single_broker() == TopicLayout(partitions=3, replication=1, min_insync=1)
    assert TopicLayout.single_broker(partitions=6).partitions == 6


def test_a_topic_with_fewer_partitions_says_how_many_workers_can_share_it() -> None:
    short = TopicShortfall(
        "complaints.events", partitions=3, replication=3, wanted=TopicLayout(12, 3, 2)
    )
    assert short.describe() == (
        "complaints.events has 3 partition(s), fewer than the 12 of CASESTREAM_TOPIC_PARTITIONS: "
        "at most 3 worker replicas share it"
    )


def test_a_topic_with_fewer_replicas_names_the_replication_setting() -> None:
    short = TopicShortfall(
        "alerts.events", partitions=3, replication=1, wanted=TopicLayout(3, 3, 2)
    )
    assert short.describe() == (
        "alerts.events has 1 replica(s), fewer than the 3 of CASESTREAM_TOPIC_REPLICATION"
    )
