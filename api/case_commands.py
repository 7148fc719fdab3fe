"""Commands on cases: the catalogue (`GET /commands`), registering a case with its opening command
(`POST /cases`) and any other command on a case (`POST /cases/{case_id}/commands/{name}`).

Every command declared in `domain.command_catalogue` is served here; each is decided in the
domain on the case as the read models hold it and written with one writer per case
(`command_writes.carry_out`; README, "Commands and one writer per case").
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Body
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from casestream.domain.catalog import CaseKind
from casestream.domain.command_catalogue import COMMANDS
from casestream.domain.commands import Command
from casestream.domain.envelope import field_errors
from casestream.domain.rectifications import manual_rectification_id

from .auth import PrincipalDep, not_found
from .command_writes import Carried, CommandTarget, applied_within, carry_out, read_standing
from .deps import Services, ServicesDep
from .problems import unprocessable
from .responses import KAFKA_UNAVAILABLE, NOT_FOUND, Responses
from .schemas import CommandApplied, CommandCatalogue, CommandOut, Conflict, NewCase, Refusal

catalogue_router = APIRouter(prefix="/commands", tags=["commands"])
router = APIRouter(prefix="/cases", tags=["commands"])

EXPECTED_VERSION = "expected_version"  # the one body field that is not the command's

COMMAND_ANSWERS: Responses = {
    202: {
        "description": "the events are on Kafka but not yet in the read models "
        "(CASESTREAM_COMMAND_WAIT_SECONDS): wait with `consistency_token`; without one, Kafka "
        "did not confirm them and the worker publishes them from the outbox",
        "model": CommandApplied,
    },
    403: {"description": "the caller's role may not give this command", "model": Refusal},
    **NOT_FOUND,
    409: {
        "description": "the case as it stands does not allow the command, `expected_version` "
        "is stale, another command was carried out on the same version first, or an earlier "
        "one is not projected yet (`Retry-After`): the reason and the case's version",
        "model": Conflict,
    },
    **KAFKA_UNAVAILABLE,
}


def _body_schema(model: type[Command]) -> dict[str, Any]:
    schema = model.model_json_schema()
    if not model.opens_case:
        properties = schema.setdefault("properties", {})
        properties[EXPECTED_VERSION] = {
            "type": "integer",
            "minimum": 0,
            "title": "Expected Version",
            "description": "the case's version the command was decided on (stale: 409)",
        }
    return schema


@catalogue_router.get("", response_model=CommandCatalogue)
def list_commands(principal: PrincipalDep) -> CommandCatalogue:
    """Every command of every case kind, with the JSON Schema of its body: a client builds its
    forms from it (a registration's fields go in `fields` of POST /cases)."""
    return CommandCatalogue(
        items=[
            CommandOut(
                name=handler.model.name,
                case_kind=kind,
                roles=sorted(handler.model.roles),
                label_zh=handler.model.label_zh,
                label_en=handler.model.label_en,
                opens_case=handler.model.opens_case,
                body_schema=_body_schema(handler.model),
            )
            for (kind, _), handler in sorted(COMMANDS.items())
        ]
    )


def _model(kind: CaseKind, name: str, what: str) -> type[Command]:
    handler = COMMANDS.get((kind, name))
    if handler is None:
        raise not_found(what)
    model: type[Command] = handler.model
    return model


def _parsed(model: type[Command], fields: dict[str, Any], where: str = "") -> Command:
    """The command from the body's fields; 422 naming each field at fault."""
    try:
        return model.model_validate(fields)
    except pydantic.ValidationError as exc:
        prefix = f"{where}." if where else ""
        raise unprocessable(
            "body", [(f"{prefix}{field}".rstrip("."), msg) for field, msg in field_errors(exc)]
        ) from exc


async def _answer(services: Services, carried: Carried) -> JSONResponse:
    """200 once the events are in the read models (read-your-writes), else 202."""
    applied = await applied_within(services, carried)
    token = carried.token
    body = CommandApplied(
        applied=applied,
        case_id=carried.case_id,
        version=carried.version,
        event_ids=carried.event_ids,
        consistency_token=None if token is None else token.encode(),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if applied else 202)


def _new_case_id(kind: CaseKind) -> str:
    if kind is CaseKind.rectification:
        return manual_rectification_id(uuid.uuid4().hex)
    raise unprocessable("body", [("case_id", f"a {kind.value} is registered with its case_id")])


@router.post(
    "",
    status_code=201,
    response_model=CommandApplied,
    responses={**COMMAND_ANSWERS, 201: {"description": "registered and in the read models"}},
)
async def register_case(
    body: NewCase, services: ServicesDep, principal: PrincipalDep
) -> JSONResponse:
    """Register a new case with its opening command (`opens_case` in GET /commands): `fields`
    are the command's body. Without `case_id` a rectification gets `RECT-M-…`; every other
    kind is registered under the id its source gave it."""
    what = f"command {body.command!r} opening a {body.case_kind.value}"
    model = _model(body.case_kind, body.command, what)
    if not model.opens_case:
        raise not_found(what)
    command = _parsed(model, body.fields, "fields")
    case_id = body.case_id or _new_case_id(body.case_kind)
    target = CommandTarget(case_id, f"case {case_id!r}", fields_at="fields")
    response = await _answer(services, await carry_out(services, principal, target, command))
    if response.status_code == 200:
        response.status_code = 201
    return response


@router.post(
    "/{case_id}/commands/{name}",
    response_model=CommandApplied,
    responses=COMMAND_ANSWERS,
)
async def give_command(
    case_id: str,
    name: str,
    services: ServicesDep,
    principal: PrincipalDep,
    body: Annotated[
        dict[str, Any],
        Body(
            description="The command's fields (its `body_schema` in GET /commands), and "
            "optionally `expected_version`: the case's version the command was decided on.",
            examples=[{"progress": "已完成两期培训", "percent": 60, "expected_version": 4}],
        ),
    ],
) -> JSONResponse:
    """Give the command `name` on the case: 200 once its events are in the read models."""
    what = f"case {case_id[:120]!r}"
    standing = await run_in_threadpool(read_standing, services, case_id)
    kind = standing.kind
    if kind is None:
        raise not_found(what)
    model = _model(kind, name, f"command {name[:64]!r} on a {kind.value}")
    fields = dict(body)
    expected = fields.pop(EXPECTED_VERSION, None)
    if expected is not None and (
        isinstance(expected, bool) or not isinstance(expected, int) or expected < 0
    ):
        raise unprocessable("body", [(EXPECTED_VERSION, "a case version: an integer ≥ 0")])
    if model.opens_case:  # given once, with POST /cases
        raise not_found(f"command {name[:64]!r} on a registered {kind.value}")
    command = _parsed(model, fields)
    target = CommandTarget(case_id, what, expected)
    carried = await carry_out(services, principal, target, command, standing)
    return await _answer(services, carried)
