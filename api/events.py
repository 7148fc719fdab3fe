"""POST /events: validate an event, put it on Kafka, answer with its id and a consistency token.

Raw events come from other systems (role system) and the legal team (法制, role legal); other
staff act through command endpoints.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Body, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError

from casestream.domain.envelope import Event, field_errors
from casestream.policy import date_window
from casestream.producers.intake import validate_record
from casestream.producers.kafka_producer import SendFailed

from .auth import Principal, Role, require_roles
from .consistency import ConsistencyToken
from .deps import Services, ServicesDep
from .schemas import Accepted

router = APIRouter(tags=["events"])

EXAMPLE = {
    "event_type": "ComplaintReceived",
    "case_id": "C-2026-000123",
    "case_kind": "complaint",
    "occurred_at": "2026-11-20T09:30:00+08:00",
    "source": "hotline_12345",
    "actor": "operator-17",
    "payload": {"channel": "hotline_12345", "subject": "窗口办证拖延", "enterprise": False},
}


def invalid(problems: list[tuple[str, str]], body: Any) -> RequestValidationError:
    """The 422 naming each field at fault (`problems`: dotted field path, message)."""
    return RequestValidationError(
        [
            {
                "loc": ("body", *field.split(".")),
                "msg": message,
                "type": "value_error",
                "input": None,
            }
            for field, message in problems
        ],
        body=body,
    )


@router.post("/events", status_code=202, response_model=Accepted)
async def post_event(
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require_roles(Role.system, Role.legal))],
    body: Annotated[
        dict[str, Any],
        Body(
            description=(
                "One event: the envelope of DESIGN §3 with `event_type`, `case_id`, `case_kind` and "
                "`payload`. `event_id`, `recorded_at` and `occurred_at` default to a new id and now; "
                "give `source_record_id` to make resending the same record idempotent; "
                "`actor` defaults to the caller (the token's subject). "
                "JSON Schemas of every event type: `casestream schema export DIR`."
            ),
            examples=[EXAMPLE],
        ),
    ],
) -> Accepted:
    now = datetime.now(UTC)
    try:
        event = validate_record(
            body,
            now=now,
            timezone=services.settings.timezone,
            source="api",
            actor=principal.subject,
            window=date_window(services.settings),
        )
    except pydantic.ValidationError as exc:
        services.metrics.events_rejected.inc()
        raise invalid(field_errors(exc), body) from exc
    if type(event.payload).derived:
        services.metrics.events_rejected.inc()
        raise invalid(
            [("event_type", f"{event.event_type} is derived by casestream and cannot be posted")],
            body,
        )
    return await publish(services, event)


async def publish(services: Services, event: Event[Any]) -> Accepted:
    """Send one validated event to Kafka; the 202 answer with its id and consistency token."""
    try:
        delivered = await run_in_threadpool(services.producer.send, event)
    except SendFailed as exc:
        raise HTTPException(503, str(exc)) from exc
    services.metrics.events_posted.labels(event.event_type).inc()
    token = ConsistencyToken(delivered.topic, delivered.partition, delivered.offset)
    return Accepted(
        event_id=delivered.event_id,
        consistency_token=token.encode(),
        topic=delivered.topic,
        partition=delivered.partition,
        offset=delivered.offset,
    )
