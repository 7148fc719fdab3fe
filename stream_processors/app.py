"""The faust app of the worker and its configuration (faust's `app.py`)."""

from __future__ import annotations

import faust

from casestream.bootstrap import Parts
from casestream.read_models.database import projection_id


def faust_app(parts: Parts) -> faust.App:
    """An app on the Kafka cluster of `parts`, named after its read-model database."""
    settings = parts.settings
    (settings.var_dir / "faust").mkdir(parents=True, exist_ok=True)
    return faust.App(
        # a fresh read-model database gets a consumer group of its own, so it starts at offset 0
        f"{settings.topic_prefix}casestream-projector-{projection_id(parts.engine)}",
        broker=[f"kafka://{server}" for server in settings.require_kafka().split(",")],
        store="memory://",
        datadir=str(settings.var_dir / "faust" / "{conf.name}"),  # not the current directory
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        topic_allow_declare=False,
        topic_disable_leader=True,
        web_enabled=False,
        producer_acks=-1,
        broker_commit_interval=1.0,
        # a worker killed without leaving the group gets its partitions back in ~10 s, not 60 s
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        stream_buffer_maxsize=max(4096, settings.projector_batch_size * 2),
    )
