"""The commands of a rectification's users (整改跟踪督办), each turned into an event on Kafka
(never a direct write): opening one by hand, and the steps of `COMMANDS`, one table from which
their routes are made.

A command the rectification's current state does not allow (e.g. verifying one that is not
completed) answers 409 with the reason; one the caller's role may not give answers 403; a
rectification outside the caller's department answers 404.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import pydantic
import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool

from casestream.domain import catalog as ev
from casestream.domain.envelope import field_errors, new_event
from casestream.domain.rectifications import (
    RectificationState,
    command_refusal,
    manual_rectification_id,
    manual_review_task,
)
from casestream.policy import date_window
from casestream.producers.intake import refuse_implausible
from casestream.read_models.rectification_queries import RectificationQueries

from .auth import Principal, Role, not_found, require_roles, visible_department
from .deps import ReadModelEngineDep, Services, ServicesDep
from .evidence import uploaded_files
from .problems import unprocessable
from .responses import COMMAND_REFUSED, KAFKA_UNAVAILABLE, NOT_FOUND
from .schemas import (
    Accepted,
    AddMeasure,
    CommandBody,
    Complete,
    CompleteReview,
    OpenRectification,
    Reason,
    ReportProgress,
    Verify,
)
from .writes import publish

router = APIRouter(prefix="/rectifications", tags=["rectifications"])

# who may move a rectification on (besides the supervisors' own verify / reject)
WORKERS = (
    Role.handler,
    Role.department_head,
    Role.legal,
    Role.supervisor,
    Role.leader,
    Role.system,
)
OPENERS = (Role.department_head, Role.legal, Role.supervisor, Role.leader, Role.system)
SUPERVISORS = (Role.supervisor,)
REOPENERS = (Role.supervisor, Role.legal)


@dataclass(frozen=True)
class RectificationCommand:
    """One command on an existing rectification: its route and the event it becomes.

    The event's payload is the body's fields, plus the caller's subject in `signed_by` (the
    reporter of progress, the supervisor of a check) when the event records who gave it."""

    name: str  # of the route: its operation id and the name in the OpenAPI document
    path: str  # under /rectifications/{rectification_id}
    summary: str
    body: type[CommandBody]
    event: type[ev.Payload]
    roles: tuple[Role, ...]
    signed_by: str | None = None

    def payload(
        self, body: CommandBody, principal: Principal, files: list[ev.EvidenceFile] | None = None
    ) -> ev.Payload:
        """The event's payload (with the uploaded `files` its body cites by digest); raises
        pydantic.ValidationError naming the field at fault."""
        fields = body.model_dump(exclude_none=True)
        if files is not None:
            fields["files"] = files
        if self.signed_by is not None:
            fields[self.signed_by] = principal.subject
        return self.event.model_validate(fields)


COMMANDS = (
    RectificationCommand(
        "complete_review", "/review", "Complete Review", CompleteReview, ev.ReviewCompleted, WORKERS
    ),
    RectificationCommand(
        "add_measure", "/measures", "Add Measure", AddMeasure, ev.MeasureAdded, WORKERS
    ),
    RectificationCommand(
        "report_progress",
        "/progress",
        "Report Progress",
        ReportProgress,
        ev.ProgressReported,
        WORKERS,
        signed_by="reported_by",
    ),
    RectificationCommand(
        "complete", "/completion", "Complete", Complete, ev.RectificationCompleted, WORKERS
    ),
    RectificationCommand(
        "verify",
        "/verification",
        "Verify",
        Verify,
        ev.RectificationVerified,
        SUPERVISORS,
        signed_by="supervisor",
    ),
    RectificationCommand(
        "reject",
        "/rejection",
        "Reject",
        Reason,
        ev.RectificationRejected,
        SUPERVISORS,
        signed_by="supervisor",
    ),
    RectificationCommand(
        "reopen", "/reopening", "Reopen", Reason, ev.RectificationReopened, REOPENERS
    ),
)
"""Every command on an existing rectification; each becomes POST
/rectifications/{rectification_id}{path}."""

COMMAND_RESPONSES = {**NOT_FOUND, **COMMAND_REFUSED, **KAFKA_UNAVAILABLE}


async def _send(
    services: Services, principal: Principal, case_id: str, payload: Callable[[], ev.Payload]
) -> Accepted:
    """Build the payload and its event, refuse an implausible date, and publish."""
    now = datetime.now(UTC)
    try:
        event = new_event(
            payload(),
            case_id=case_id,
            case_kind=ev.CaseKind.rectification,
            occurred_at=now,
            source=principal.source,
            actor=principal.subject,
        )
        refuse_implausible(event, now=now, window=date_window(services.settings))
    except pydantic.ValidationError as exc:  # the payload's fields are the body's
        problems = field_errors(exc)
        raise unprocessable(
            "body", [(field.removeprefix("payload."), msg) for field, msg in problems]
        ) from exc
    return await publish(services, event)


def _current(
    queries: RectificationQueries, rectification_id: str, principal: Principal, now: datetime
) -> RectificationState:
    found = queries.get(rectification_id, visible_department(principal), now=now)
    if found is None:
        raise not_found(f"rectification {rectification_id!r}")
    return RectificationState.model_validate(found.case.state)


def _endpoint(command: RectificationCommand) -> Callable[..., Awaitable[Accepted]]:
    """The route function of `command`: 404 unless visible, 409 unless its state allows it."""

    async def endpoint(
        rectification_id: str,
        body: CommandBody,
        engine: sa.Engine,
        services: Services,
        principal: Principal,
    ) -> Accepted:
        queries = RectificationQueries(engine, services.rulebook)
        state = await run_in_threadpool(
            _current, queries, rectification_id, principal, services.now()
        )
        refusal = command_refusal(state, command.event)
        if refusal:
            raise HTTPException(409, f"{refusal} (as of version {state.version})")
        digests = getattr(body, "files", None)  # 422 for a file not completely uploaded
        files = None if digests is None else await uploaded_files(services, principal, digests)
        return await _send(
            services, principal, rectification_id, lambda: command.payload(body, principal, files)
        )

    def parameter(name: str, annotation: Any) -> inspect.Parameter:
        return inspect.Parameter(
            name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=annotation
        )

    # FastAPI reads the parameters from the signature: this command's body model and roles
    # (a function object has no declared __signature__, hence the ignore)
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            parameter("rectification_id", str),
            parameter("body", command.body),
            parameter("engine", ReadModelEngineDep),
            parameter("services", ServicesDep),
            parameter("principal", Annotated[Principal, Depends(require_roles(*command.roles))]),
        ],
        return_annotation=Accepted,
    )
    endpoint.__name__ = endpoint.__qualname__ = command.name
    return endpoint


@router.post("", status_code=202, response_model=Accepted, responses=KAFKA_UNAVAILABLE)
async def open_rectification(
    body: OpenRectification,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require_roles(*OPENERS))],
) -> Accepted:
    scope = visible_department(principal)
    if scope is not None and body.department != scope:
        raise HTTPException(403, f"a {principal.role.value} opens rectifications of {scope} only")
    case_id = manual_rectification_id(uuid.uuid4().hex)

    def opened() -> ev.RectificationOpened:
        return ev.RectificationOpened.model_validate(
            body.model_dump(exclude={"with_review"}, exclude_none=True)
        )

    if body.with_review:
        await _send(services, principal, case_id, lambda: manual_review_task(case_id, opened()))
    return await _send(services, principal, case_id, opened)


for _command in COMMANDS:
    router.add_api_route(
        "/{rectification_id}" + _command.path,
        _endpoint(_command),
        methods=["POST"],
        name=_command.name,
        summary=_command.summary,
        status_code=202,
        response_model=Accepted,
        responses=COMMAND_RESPONSES,
    )
