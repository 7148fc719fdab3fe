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

from casestream.domain import catalog as ev
from casestream.domain.cases import evolve, raw_event_refusal, restore_state
from casestream.domain.catalog import CaseKind, Origin
from casestream.domain.envelope import Event, field_errors, same_fact
from casestream.domain.lifecycle import CaseState
from casestream.policy import date_window
from casestream.producers.intake import validate_record

from .auth import Principal, Role, require_roles
from .consistency import ConsistencyToken
from .deps import Services, ServicesDep
from .evidence import refuse_unuploaded
from .problems import unprocessable
from .responses import KAFKA_UNAVAILABLE
from .schemas import Accepted, Conflict, Refusal
from .writes import conflict, publish

router = APIRouter(prefix="/events", tags=["events"])

EXAMPLE = {
    "event_type": ev.ComplaintReceived.__name__,
    "case_id": "C-2026-000123",
    "case_kind": "complaint",
    "occurred_at": "2026-11-20T09:30:00+08:00",
    "on_behalf_of": "operator-17",
    "payload": {"channel": "hotline_12345", "subject": "窗口办证拖延", "enterprise": False},
}


COMMAND_ROUTES: dict[type[ev.Payload], str] = {
    ev.ReviewTaskOpened: "POST /rectifications (with_review)",
    ev.RectificationOpened: "POST /rectifications",
    ev.ReviewCompleted: "POST /rectifications/{id}/review",
    ev.MeasureAdded: "POST /rectifications/{id}/measures",
    ev.ProgressReported: "POST /rectifications/{id}/progress",
    ev.RectificationCompleted: "POST /rectifications/{id}/completion",
    ev.RectificationVerified: "POST /rectifications/{id}/verification (role supervisor)",
    ev.RectificationRejected: "POST /rectifications/{id}/rejection (role supervisor)",
    ev.RectificationReopened: "POST /rectifications/{id}/reopening (role supervisor or legal)",
    ev.RectificationDeadlineExtended: "POST /rectifications/{id}/deadline-extension (role leader)",
    ev.ResponsiblePersonChanged: "POST /rectifications/{id}/reassignment",
    ev.SupervisionClosed: "POST /cases/{id}/commands/close_supervision (role supervisor)",
    ev.EnforcementReviewOpened: "POST /cases (command open_review, role legal)",
    ev.ReviewOpinionIssued: "POST /cases/{id}/commands/issue_opinion (role legal)",
    ev.EnforcementReviewCompleted: "POST /cases/{id}/commands/complete_review (role legal)",
    ev.EnforcementNoticeIssued: "POST /cases (command issue_notice, role legal)",
    ev.EnforcementDecisionPublished: "POST /cases/{id}/commands/publish",
    ev.EnforcementDecisionPublicationWithdrawn: ("POST /cases/{id}/commands/withdraw_publication"),
}
"""Where each staff decision (Origin.command) is made instead of POST /events."""


def _attributed(body: dict[str, Any], principal: Principal) -> dict[str, Any]:
    """The record with `actor` and `source` from the credential: the audit trail names who
    really called. A system may name the person it acts for (`on_behalf_of`; a differing
    `actor` it sends is taken as that); staff may not speak for someone else."""
    record = dict(body)
    claimed = record.pop("actor", None)
    record.pop("source", None)  # never trusted: the credential says where the event came from
    if claimed is not None and claimed != principal.subject:
        if principal.role is not Role.system:
            raise unprocessable(
                "body",
                [
                    (
                        "actor",
                        f"the actor is the authenticated caller ({principal.subject}); leave it out",
                    )
                ],
            )
        record.setdefault("on_behalf_of", claimed)
    if record.get("on_behalf_of") is not None and principal.role is not Role.system:
        raise unprocessable(
            "body", [("on_behalf_of", "only a system caller acts on behalf of someone")]
        )
    return {**record, "actor": principal.subject, "source": principal.source}


@router.post(
    "",
    status_code=202,
    response_model=Accepted,
    responses={
        403: {
            "description": "the caller's role may not post events, or this event type is a "
            "staff decision made only through its command endpoint",
            "model": Refusal,
        },
        409: {
            "description": "the case as it stands does not allow this event, or the "
            "event_id / source_record_id already stands for another event",
            "model": Conflict,
        },
        **KAFKA_UNAVAILABLE,
    },
)
async def post_event(
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require_roles(Role.system, Role.legal))],
    body: Annotated[
        dict[str, Any],
        Body(
            description=(
                "One event: the envelope of docs/events.md with `event_type`, `case_id`, `case_kind` and "
                "`payload`. `event_id`, `recorded_at` and `occurred_at` default to a new id and now; "
                "give `source_record_id` (or your own `event_id`) to make resending the same record "
                "idempotent. `actor` and `source` come from the credential (a system names the "
                "person it acts for in `on_behalf_of`). Only facts from outside may be posted; "
                "staff decisions go through their command endpoints. "
                "JSON Schemas of every event type: `casestream schema export DIR`."
            ),
            examples=[EXAMPLE],
        ),
    ],
) -> Accepted:
    now = datetime.now(UTC)
    try:
        event = validate_record(
            _attributed(body, principal),
            now=now,
            timezone=services.settings.timezone,
            window=date_window(services.settings),
        )
    except pydantic.ValidationError as exc:
        services.metrics.events_rejected.inc()
        raise unprocessable("body", field_errors(exc)) from exc
    origin = type(event.payload).origin
    if origin is Origin.casestream:
        services.metrics.events_rejected.inc()
        raise unprocessable(
            "body",
            [("event_type", f"{event.event_type} is derived by casestream and cannot be posted")],
        )
    if origin is Origin.command:
        raise HTTPException(
            403,
            f"{event.event_type} is a staff decision inside the bureau: it is made through "
            f"{COMMAND_ROUTES.get(type(event.payload), 'POST /cases/{id}/commands/{name} (see GET /commands)')}, not posted raw",
        )
    try:
        await refuse_unuploaded(services, principal, event.payload)
    except RequestValidationError:
        services.metrics.events_rejected.inc()
        raise
    earlier = await _already_recorded(services, event, explicit_instant="occurred_at" in body)
    if earlier is not None:
        return earlier
    state = await _refuse_if_not_allowed(services, event)
    accepted = await publish(services, event)
    token = ConsistencyToken.decode(accepted.consistency_token)
    services.recent_writes.remember(event.case_id, token, evolve(state, event))
    return accepted


async def _already_recorded(
    services: Services, event: Event[Any], *, explicit_instant: bool
) -> Accepted | None:
    """The answer for an event id already in the history: the first answer again for the same
    fact (a retry), 409 for another fact under the same id."""
    stored = await run_in_threadpool(services.queries.stored_event, str(event.event_id))
    if stored is None:
        return None
    same = same_fact(stored.body, event) and (
        not explicit_instant
        or stored.body.get("occurred_at") == event.model_dump(mode="json")["occurred_at"]
    )
    if not same:
        raise HTTPException(
            409,
            {
                "reason": f"event_id {event.event_id} already stands for another event "
                f"({stored.body.get('event_type')} on {stored.case_id}); send a new event_id "
                "or source_record_id",
                "current_version": stored.version,
            },
        )
    token = ConsistencyToken(stored.topic, stored.partition, stored.offset)
    return Accepted(
        event_id=str(event.event_id),
        consistency_token=token.encode(),
        topic=stored.topic,
        partition=stored.partition,
        offset=stored.offset,
    )


def _current_state(services: Services, case_id: str) -> CaseState | None:
    """The case as it stands: the read model's, or the state this process's own latest write
    made while the read models do not hold that write yet."""
    found = services.queries.case_state(case_id)
    state = None if found is None else restore_state(CaseKind(found[0]), found[1])
    recent = services.recent_writes.last(case_id)
    if recent is not None:
        token, after = recent
        if not services.queries.offset_visible(token.topic, token.partition, token.offset) and (
            state is None or after.version > state.version
        ):
            return after
    return state


async def _refuse_if_not_allowed(services: Services, event: Event[Any]) -> CaseState | None:
    """409 when the case as it stands does not allow `event` (its kind's transition table);
    else the state decided on."""
    state = await run_in_threadpool(_current_state, services, event.case_id)
    refusal = raw_event_refusal(state, event)
    if refusal:
        raise conflict(refusal, state.version if state else 0)
    return state
