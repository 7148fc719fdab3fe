"""Reading old events as the current model: one upcaster per (event type, old schema version).

Events stay on the topics for good, so an event published at an older `schema_version` of its
type is read through a chain of pure functions, each taking a payload of one version to the
payload of the next, until it has the shape of the catalog's current model. Upcasting touches
only `payload` and `schema_version`; the event id and the rest of the envelope stay as published.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from .catalog import PAYLOAD_TYPES, ReplySubmitted

PayloadJson = dict[str, Any]
"""A payload as JSON (the object under `payload`), at some version of its type."""

Upcaster = Callable[[Mapping[str, Any]], PayloadJson]
"""Takes the payload of one version of a type to the payload of the next version."""


class UnreadableVersion(ValueError):
    """An event at a `schema_version` this version of casestream cannot read."""


def _renamed(payload: Mapping[str, Any], old: str, new: str) -> PayloadJson:
    """`payload` with its field `old` called `new`, in the same place. A payload without `old`
    is left as it is: a sender that leaves `schema_version` out (read as version 1) may already
    use the new name, and its payload then means the same."""
    return {(new if name == old else name): value for name, value in payload.items()}


def reply_submitted_v1_to_v2(payload: Mapping[str, Any]) -> PayloadJson:
    """ReplySubmitted v2 calls the number of evidence items `evidence_count`: v1's
    `evidence_items` read as the items themselves (as `evidence` of RectificationCompleted is)."""
    return _renamed(payload, "evidence_items", "evidence_count")


UPCASTERS: Mapping[tuple[str, int], Upcaster] = MappingProxyType(
    {
        (ReplySubmitted.__name__, 1): reply_submitted_v1_to_v2,
    }
)
"""(event type, version N) → the upcaster from version N's payload to version N + 1's."""


def current_version(event_type: str) -> int:
    """The schema version of `event_type` this code builds and validates (the catalog's)."""
    return PAYLOAD_TYPES[event_type].schema_version


def check_readable(event_type: str, schema_version: int) -> None:
    """Raise UnreadableVersion, naming the version this code reads, unless an event of
    `event_type` published at `schema_version` can be read as the current model."""
    current = current_version(event_type)
    if schema_version > current:
        raise UnreadableVersion(
            f"schema_version {schema_version} of {event_type} is newer than this version of "
            f"casestream reads (version {current}); upgrade casestream to read it"
        )
    if schema_version < 1:
        raise UnreadableVersion(
            f"schema_version {schema_version} of {event_type} does not exist: versions start "
            f"at 1 and this version of casestream reads version {current}"
        )
    for version in range(schema_version, current):
        if (event_type, version) not in UPCASTERS:
            raise UnreadableVersion(
                f"schema_version {schema_version} of {event_type} cannot be read: no upcaster "
                f"from version {version} to {version + 1} (this version of casestream reads "
                f"version {current})"
            )


def upcast_payload(event_type: str, schema_version: int, payload: Mapping[str, Any]) -> PayloadJson:
    """`payload`, published at `schema_version` of `event_type`, in the shape of the current
    version (a copy; the same payload when it is current). Deterministic: the same input gives
    the same output. Raises UnreadableVersion as `check_readable` does."""
    check_readable(event_type, schema_version)
    upcast = dict(payload)
    for version in range(schema_version, current_version(event_type)):
        upcast = UPCASTERS[(event_type, version)](upcast)
    return upcast
