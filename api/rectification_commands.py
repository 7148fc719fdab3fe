"""The rectification commands (整改跟踪督办) at their own paths: aliases of
`POST /cases` and `POST /cases/{id}/commands/{name}` with the same decision and the same one
writer per case (`command_writes.carry_out`), answering as these routes always have: 202 with the
`event_id` and consistency token of the (last) event, 409 with the reason as text.

A command the rectification's current state does not allow (e.g. verifying one that is not
completed) answers 409 with the reason; one the caller's role may not give answers 403; a
rectification outside the caller's department answers 404.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel

from casestream.domain import rectification_commands as rc
from casestream.domain.commands import Command
from casestream.domain.rectifications import manual_rectification_id

from .auth import Principal, require_roles
from .command_writes import Carried, CommandTarget, carry_out
from .deps import Services, ServicesDep
from .evidence import uploaded_files
from .responses import COMMAND_REFUSED, KAFKA_UNAVAILABLE, NOT_FOUND
from .schemas import Accepted, Complete

router = APIRouter(prefix="/rectifications", tags=["rectifications"])


@dataclass(frozen=True)
class RectificationRoute:
    """One command on an existing rectification at its own path."""

    path: str  # under /rectifications/{rectification_id}
    summary: str
    command: type[Command]  # the domain's command: its name, roles and decision
    body: type[BaseModel] | None = None  # the route's own body, where it is not the command's

    @property
    def body_model(self) -> type[BaseModel]:
        return self.body or self.command


ROUTES = (
    RectificationRoute("/review", "Complete Review", rc.CompleteReview),
    RectificationRoute("/measures", "Add Measure", rc.AddMeasure),
    RectificationRoute("/progress", "Report Progress", rc.ReportProgress),
    RectificationRoute("/completion", "Complete", rc.Complete, Complete),
    RectificationRoute("/verification", "Verify", rc.Verify),
    RectificationRoute("/rejection", "Reject", rc.Reject),
    RectificationRoute("/reopening", "Reopen", rc.Reopen),
    RectificationRoute("/deadline-extension", "Extend Deadline", rc.ExtendDeadline),
    RectificationRoute("/reassignment", "Reassign", rc.Reassign),
)
"""Each becomes POST /rectifications/{rectification_id}{path}."""

COMMAND_RESPONSES = {**NOT_FOUND, **COMMAND_REFUSED, **KAFKA_UNAVAILABLE}


def _accepted(carried: Carried) -> Accepted:
    """202 of the last event, as these routes answered before commands; 503 when Kafka did not
    confirm it (the outbox keeps it: it is not to be sent again)."""
    token = carried.token
    if token is None or carried.delivered is None:
        raise HTTPException(
            503,
            {
                "reason": "Kafka did not confirm the event in time; it is kept and the worker "
                "publishes it",
                "event_id": carried.event_ids[-1],
                "retry": "do not send it again: read the rectification until it shows",
            },
            headers={"Retry-After": "5"},
        )
    last = carried.delivered[-1]
    return Accepted(
        event_id=last.event_id,
        consistency_token=token.encode(),
        topic=last.topic,
        partition=last.partition,
        offset=last.offset,
    )


async def _carried(
    services: Services, principal: Principal, target: CommandTarget, command: Command
) -> Accepted:
    try:
        carried = await carry_out(services, principal, target, command)
    except HTTPException as exc:  # these routes name the refusal in words, with its version
        if exc.status_code == 409 and isinstance(exc.detail, dict):
            detail = f"{exc.detail['reason']} (as of version {exc.detail['current_version']})"
            raise HTTPException(409, detail, headers=exc.headers) from exc
        raise
    return _accepted(carried)


async def _command(body: BaseModel, services: Services, principal: Principal) -> Command:
    """The domain's command of a route's body: a completion's files, cited by digest, described
    as they were uploaded (422 naming `files.<i>` of one not completely uploaded)."""
    if isinstance(body, Complete):
        files = await uploaded_files(services, principal, body.files)
        return rc.Complete(evidence=body.evidence, summary=body.summary, files=files)
    assert isinstance(body, Command)
    return body


def _endpoint(route: RectificationRoute) -> Callable[..., Awaitable[Accepted]]:
    """The route function of `route`'s command."""

    async def endpoint(
        rectification_id: str, body: BaseModel, services: Services, principal: Principal
    ) -> Accepted:
        target = CommandTarget(rectification_id, f"rectification {rectification_id[:120]!r}")
        command = await _command(body, services, principal)
        return await _carried(services, principal, target, command)

    def parameter(name: str, annotation: Any) -> inspect.Parameter:
        return inspect.Parameter(
            name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=annotation
        )

    # FastAPI reads the parameters from the signature: this command's body model and roles
    # (a function object has no declared __signature__, hence the ignore)
    endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            parameter("rectification_id", str),
            parameter("body", route.body_model),
            parameter("services", ServicesDep),
            parameter(
                "principal",
                Annotated[Principal, Depends(require_roles(*sorted(route.command.roles)))],
            ),
        ],
        return_annotation=Accepted,
    )
    endpoint.__name__ = endpoint.__qualname__ = route.command.name
    return endpoint


@router.post("", status_code=202, response_model=Accepted, responses=KAFKA_UNAVAILABLE)
async def open_rectification(
    body: rc.OpenRectification,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require_roles(*sorted(rc.OpenRectification.roles)))],
) -> Accepted:
    case_id = manual_rectification_id(uuid.uuid4().hex)
    return await _carried(services, principal, CommandTarget(case_id, f"case {case_id}"), body)


for _route in ROUTES:
    router.add_api_route(
        "/{rectification_id}" + _route.path,
        _endpoint(_route),
        methods=["POST"],
        name=_route.command.name,
        summary=_route.summary,
        status_code=202,
        response_model=Accepted,
        responses=COMMAND_RESPONSES,
    )
