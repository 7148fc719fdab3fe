"""The event envelope shared by every event, and parsing of raw events into typed ones."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar, Union
from zoneinfo import ZoneInfo

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, to_jsonable_python

from .catalog import PAYLOAD_TYPES, CaseKind, Payload
from .upcasting import UnreadableVersion, check_readable, upcast_payload

P = TypeVar("P", bound=Payload)

DEFAULT_TIMEZONE = "Asia/Shanghai"

# Namespace of deterministic event ids derived from a source system's own record id.
SOURCE_ID_NAMESPACE = uuid.UUID("6f1d2c55-3a43-4c47-9d1f-2b8f4f0e6a10")

CaseId = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")
]


def deterministic_event_id(source: str, source_record_id: str) -> uuid.UUID:
    """The event id of a record a source system already identifies, the same on every resend."""
    return uuid.uuid5(SOURCE_ID_NAMESPACE, f"{source}\x1f{source_record_id}")


class Event(BaseModel, Generic[P]):
    """One fact about one case, as it travels on Kafka (JSON) and is stored in history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: uuid.UUID
    event_type: str
    schema_version: int = 1
    case_id: CaseId
    case_kind: CaseKind
    occurred_at: AwareDatetime
    recorded_at: AwareDatetime
    source: Annotated[str, Field(min_length=1, max_length=100)]
    actor: Annotated[str, Field(min_length=1, max_length=100)]  # who: the authenticated caller
    # the person a system caller (e.g. the 12345 platform) acted for; not authenticated here
    on_behalf_of: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    correlation_id: Annotated[str, Field(max_length=100)] | None = None
    causation_id: Annotated[str, Field(max_length=100)] | None = None
    payload: P

    # (schema_version, payload) as published, for an event read at an older version of its
    # type; None when it was published at the current one (see `as_published`)
    _published: tuple[int, dict[str, Any]] | None = PrivateAttr(default=None)

    @field_validator("occurred_at", "recorded_at", mode="before")
    @classmethod
    def _attach_default_zone(cls, value: Any, info: ValidationInfo) -> Any:
        """A timestamp without offset is taken in the deployment's zone (default Asia/Shanghai)."""
        zone = ZoneInfo((info.context or {}).get("timezone", DEFAULT_TIMEZONE))
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return value
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=zone)
        return value

    @model_validator(mode="after")
    def _check_type_kind_and_version(self) -> Event[P]:
        payload_type = type(self.payload)
        if self.event_type != payload_type.__name__:
            raise ValueError(f"event_type {self.event_type!r} does not match its payload")
        if self.case_kind not in payload_type.case_kinds:
            kinds = ", ".join(sorted(payload_type.case_kinds))
            raise ValueError(
                f"case_kind {self.case_kind.value!r} cannot carry {self.event_type}; "
                f"it belongs to: {kinds}"
            )
        if self.schema_version != payload_type.schema_version:
            raise ValueError(
                f"schema_version {self.schema_version} of {self.event_type} is not supported; "
                f"this version of casestream reads version {payload_type.schema_version}"
            )
        return self

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @property
    def published_version(self) -> int:
        """The schema version the event was published at (`schema_version` is the current one
        once it has been read: an older event is upcast)."""
        return self.schema_version if self._published is None else self._published[0]

    def as_published(self) -> dict[str, Any]:
        """The event as JSON, with the `schema_version` and `payload` it was published at: what
        the history keeps (an event is the fact as published; `payload` is the current model
        of it, read through domain/upcasting.py)."""
        body = self.model_dump(mode="json")
        if self._published is not None:
            body["schema_version"], body["payload"] = self._published
        return body


def new_event(
    payload: P,
    *,
    case_id: str,
    case_kind: CaseKind,
    occurred_at: datetime,
    source: str,
    actor: str,
    event_id: uuid.UUID | str | None = None,
    recorded_at: datetime | None = None,
    on_behalf_of: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Event[P]:
    """The one way the core builds an event: its type and schema version come from the
    payload's class, so no event type is ever spelled outside the catalog.

    `event_id` defaults to a random id (a fresh decision); pass a deterministic one for a
    derived event. `recorded_at` defaults to `occurred_at`. Raises pydantic.ValidationError
    when the envelope is invalid (for instance a case kind the payload cannot belong to)."""
    payload_type = type(payload)
    model: type[Event[P]] = Event[payload_type]  # type: ignore[valid-type]
    return model(
        event_id=uuid.UUID(str(event_id)) if event_id is not None else uuid.uuid4(),
        event_type=payload_type.__name__,
        schema_version=payload_type.schema_version,
        case_id=case_id,
        case_kind=case_kind,
        occurred_at=occurred_at,
        recorded_at=recorded_at if recorded_at is not None else occurred_at,
        source=source,
        actor=actor,
        on_behalf_of=on_behalf_of,
        correlation_id=correlation_id,
        causation_id=causation_id,
        payload=payload,
    )


def event_type_name(payload_type: type[Payload]) -> str:
    """The name on the wire of a payload class (the catalog's class name)."""
    return payload_type.__name__


EVENT_MODELS: dict[str, type[Event[Any]]] = {
    name: Event[payload_type]  # type: ignore[valid-type]
    for name, payload_type in PAYLOAD_TYPES.items()
}
"""The envelope specialised for each event type (one JSON Schema each)."""


def _event_type_of(value: Any) -> str | None:
    if isinstance(value, dict):
        found = value.get("event_type")
    else:
        found = getattr(value, "event_type", None)
    return found if isinstance(found, str) and found in PAYLOAD_TYPES else None


_KNOWN = ", ".join(sorted(PAYLOAD_TYPES))

_ANY_EVENT: Any = Annotated[
    Union[tuple(Annotated[model, Tag(name)] for name, model in EVENT_MODELS.items())],  # noqa: UP007
    Discriminator(
        _event_type_of,
        custom_error_type="unknown_event_type",
        custom_error_message=f"event_type is missing or unknown; known types: {_KNOWN}",
    ),
]
_event_adapter: TypeAdapter[Event[Any]] = TypeAdapter(_ANY_EVENT)


class UndecodableEvent(ValueError):
    """Raised for bytes that are not a JSON object."""


def parse_event(data: dict[str, Any] | bytes | str, timezone: str = DEFAULT_TIMEZONE) -> Event[Any]:
    """Validate a raw event into its typed envelope; raises pydantic.ValidationError naming the field."""
    if isinstance(data, bytes | str):
        try:
            decoded = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UndecodableEvent(f"not valid JSON: {exc}") from exc
        if not isinstance(decoded, dict):
            raise UndecodableEvent(f"expected a JSON object, got {type(decoded).__name__}")
        data = decoded
    event_type = _event_type_of(data)
    if event_type is None:
        raise _refused(
            "unknown_event_type",
            "event_type is missing or unknown; known types: {known}",
            ("event_type",),
            data.get("event_type"),
            known=_KNOWN,
        )
    current, published = _at_current_version(event_type, data)
    event = _event_adapter.validate_python(current, context={"timezone": timezone})
    if published is not None:
        event._published = published
    return event


_VERSION: TypeAdapter[int] = TypeAdapter(int)


def _at_current_version(
    event_type: str, data: dict[str, Any]
) -> tuple[dict[str, Any], tuple[int, dict[str, Any]] | None]:
    """`data` with its payload upcast to the current version of its type, and the version and
    payload it was published at (None when it is current, or not readable as a version: then
    validation names what is wrong). Without `schema_version`, `data` is at the current version
    (built by this code; intake fills in version 1 for outside senders). Raises
    ValidationError on `schema_version` for a version this code cannot read."""
    if "schema_version" not in data:
        return {**data, "schema_version": PAYLOAD_TYPES[event_type].schema_version}, None
    try:
        version = _VERSION.validate_python(data["schema_version"])
    except ValidationError:
        return data, None
    try:
        check_readable(event_type, version)
    except UnreadableVersion as exc:
        raise _refused(
            "unreadable_schema_version", "{reason}", ("schema_version",), version, reason=str(exc)
        ) from exc
    payload = data.get("payload")
    if version == PAYLOAD_TYPES[event_type].schema_version or not isinstance(payload, dict):
        return data, None
    upcast = upcast_payload(event_type, version, payload)
    current = {**data, "schema_version": PAYLOAD_TYPES[event_type].schema_version}
    return {**current, "payload": upcast}, (version, to_jsonable_python(payload))


def _refused(
    kind: str, template: str, loc: tuple[str, ...], given: Any, **context: Any
) -> ValidationError:
    """A validation error of one field, like pydantic's own, so every edge names the field."""
    return ValidationError.from_exception_data(
        "Event",
        [
            InitErrorDetails(
                type=PydanticCustomError(kind, template, context),
                loc=loc,
                input=given,
            )
        ],
    )


FACT_FIELDS = ("event_type", "case_id", "case_kind", "payload")
"""What makes two events with one id the same fact (the instants and the sender's details may
differ between a record and its resend)."""


def same_fact(stored: dict[str, Any], event: Event[Any]) -> bool:
    """Whether `stored` (an event as JSON, as published: perhaps at an older version of its
    type) states the same fact as `event`."""
    sent = event.model_dump(mode="json")
    current = _current_payload(stored)
    return current == sent["payload"] and all(
        stored.get(name) == sent[name] for name in FACT_FIELDS if name != "payload"
    )


def _current_payload(stored: dict[str, Any]) -> Any:
    """The payload of `stored` as the current model would write it; as stored when it is at the
    current version already, or cannot be read as one."""
    event_type, payload = _event_type_of(stored), stored.get("payload")
    version = stored.get("schema_version")
    if event_type is None or not isinstance(payload, dict) or not isinstance(version, int):
        return payload
    payload_type = PAYLOAD_TYPES[event_type]
    if version == payload_type.schema_version:
        return payload
    try:
        upcast = upcast_payload(event_type, version, payload)
        return payload_type.model_validate(upcast).model_dump(mode="json")
    except (UnreadableVersion, ValidationError):
        return payload


def field_errors(error: ValidationError) -> list[tuple[str, str]]:
    """(dotted field path, message) for each problem, without the event-type tag of the union."""
    found: list[tuple[str, str]] = []
    for detail in error.errors():
        loc = [str(part) for part in detail["loc"]]
        if loc and loc[0] in PAYLOAD_TYPES:
            loc = loc[1:]
        found.append((".".join(loc) or "event", detail["msg"]))
    return found


def event_json_schemas() -> dict[str, dict[str, Any]]:
    """One JSON Schema per event type, keyed by event type."""
    schemas: dict[str, dict[str, Any]] = {}
    for name, model in EVENT_MODELS.items():
        schema = model.model_json_schema()
        schema["title"] = name
        schema["properties"]["event_type"] = {
            "const": name,
            "title": "Event Type",
            "type": "string",
        }
        schema["properties"]["schema_version"] = {
            "const": PAYLOAD_TYPES[name].schema_version,
            "title": "Schema Version",
            "type": "integer",
        }
        schema["x-case-kinds"] = sorted(PAYLOAD_TYPES[name].case_kinds)
        schemas[name] = schema
    return schemas
