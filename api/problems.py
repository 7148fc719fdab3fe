"""The one way the API says 422: each field at fault and why, answered by the validation
handler of `limits.py` (bounded, never echoing the input)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi.exceptions import RequestValidationError


def unprocessable(where: str, problems: Sequence[tuple[str, str]]) -> RequestValidationError:
    """422 naming each (dotted field, message) of `where` (`body` or `query`)."""
    return RequestValidationError(
        [
            {
                "loc": _location(where, field),
                "msg": message,
                "type": "value_error",
            }
            for field, message in problems
        ]
    )


def _location(where: str, field: str) -> tuple[str, ...]:
    if not field:
        return (where,)
    return (where, *field.split(".")) if where == "body" else (where, field)


def query_problem(name: str, message: str) -> RequestValidationError:
    """422 naming one query parameter (`name` empty: the query as a whole)."""
    return unprocessable("query", [(name, message)])
