"""Writing from the API: one validated event onto Kafka (the 202 with its id and consistency
token, or a 503 naming the id to send again) and the 409 of a write the case does not allow.
Commands are carried out in `command_writes`."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool

from casestream.domain.envelope import Event
from casestream.producers.kafka_producer import SendFailed

from .consistency import ConsistencyToken
from .deps import Services
from .schemas import Accepted


def conflict(reason: str, current_version: int) -> HTTPException:
    """409: the case as it stands does not allow this write."""
    return HTTPException(409, {"reason": reason, "current_version": current_version})


async def publish(services: Services, event: Event[Any]) -> Accepted:
    """Send one validated event to Kafka; the 202 answer with its id and consistency token."""
    if not services.settings.kafka_bootstrap:
        raise HTTPException(
            503,
            {
                "reason": "this API has no Kafka to send events to (CASESTREAM_KAFKA_BOOTSTRAP "
                "is unset); nothing was sent",
                "event_id": str(event.event_id),
                "retry": "set CASESTREAM_KAFKA_BOOTSTRAP and restart the API, then send the "
                "same body again",
            },
        )
    try:
        # the producer connects on first use: off the event loop too
        delivered = await run_in_threadpool(lambda: services.producer.send(event))
    except SendFailed as exc:
        raise HTTPException(
            503,
            {
                "reason": "Kafka did not confirm the event in time; its outcome is unknown",
                "event_id": str(event.event_id),
                "retry": "send the same body again with this event_id: it is recorded once",
            },
            headers={"Retry-After": "5"},
        ) from exc
    services.metrics.events_posted.labels(event.event_type).inc()
    token = ConsistencyToken(delivered.topic, delivered.partition, delivered.offset)
    return Accepted(
        event_id=delivered.event_id,
        consistency_token=token.encode(),
        topic=delivered.topic,
        partition=delivered.partition,
        offset=delivered.offset,
    )
