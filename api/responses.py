"""The answers besides success that routes declare in the OpenAPI document, so that
`/openapi.json` lists every status each route answers, with the shape of its body."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from pydantic import BaseModel

from .schemas import Refusal, Unsent, ValidationProblems


def json_answer(body: BaseModel) -> Response:
    """`body` as JSON, written by pydantic in one step: the route's `response_model` still
    documents it, and FastAPI neither validates it again nor encodes it a second time."""
    return Response(body.model_dump_json(), media_type="application/json")


Responses = dict[int | str, dict[str, Any]]

AUTH_RESPONSES: Responses = {
    401: {
        "description": "no credential, or an invalid or expired one (`WWW-Authenticate: Bearer`)",
        "model": Refusal,
    },
    403: {"description": "the caller's role may not do this", "model": Refusal},
    413: {"description": "the body is larger than CASESTREAM_MAX_BODY_BYTES", "model": Refusal},
    422: {
        "description": "a parameter or body field at fault, named in `detail[].loc` (an "
        "unknown query parameter too, and a body that is not JSON)",
        "model": ValidationProblems,
    },
    503: {
        "description": "the database does not answer at the moment (`Retry-After`); retry shortly",
        "model": Refusal,
    },
}
"""What every router but health's may answer (app.py adds them to each route)."""

NOT_FOUND: Responses = {
    404: {
        "description": "no such item, or one outside the caller's department (the same answer)",
        "model": Refusal,
    }
}

NOT_VISIBLE_YET: Responses = {
    503: {
        "description": "the write named by `consistency_token` or `min_version` is not projected "
        "yet (`Retry-After`); retry shortly",
        "model": Refusal,
    }
}

KAFKA_UNAVAILABLE: Responses = {
    503: {
        "description": "Kafka did not confirm the event in time (its outcome is unknown: send "
        "it again with the same event_id), or this API has no Kafka (CASESTREAM_KAFKA_BOOTSTRAP "
        "unset: nothing was sent)",
        "model": Unsent,
    }
}

COMMAND_REFUSED: Responses = {
    409: {
        "description": "the rectification as it stands does not allow this command (the reason "
        "and its version are named)",
        "model": Refusal,
    }
}
