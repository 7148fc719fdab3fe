"""Turning outside records into validated events: fill the envelope's defaults, then validate."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from casestream.domain.envelope import Event, deterministic_event_id, parse_event
from casestream.domain.plausibility import DateWindow, implausible_dates


def complete_envelope(
    raw: dict[str, Any], *, now: datetime, source: str | None = None, actor: str | None = None
) -> dict[str, Any]:
    """The record with the envelope fields a sender may leave out filled in.

    `source_record_id` (the id a source system gives the record) yields a deterministic
    event id, so a record sent twice is the same event.
    """
    record = dict(raw)
    source_record_id = record.pop("source_record_id", None)
    if source is not None:
        record.setdefault("source", source)
    if actor is not None:
        record.setdefault("actor", actor)
    if not record.get("event_id"):
        if source_record_id and isinstance(record.get("source"), str):
            record["event_id"] = str(
                deterministic_event_id(record["source"], str(source_record_id))
            )
        else:
            record["event_id"] = str(uuid.uuid4())
    record.setdefault("schema_version", 1)
    record.setdefault("recorded_at", now.isoformat())
    if not record.get("occurred_at"):
        record["occurred_at"] = now.isoformat()
    if not record.get("correlation_id"):
        record["correlation_id"] = record["event_id"]
    return record


def validate_record(
    raw: dict[str, Any],
    *,
    now: datetime,
    timezone: str,
    source: str | None = None,
    actor: str | None = None,
    window: DateWindow | None = None,
) -> Event[Any]:
    """A validated event from an outside record; raises pydantic.ValidationError naming the
    field, also for an instant or date outside `window` (default: `DateWindow()`)."""
    event = parse_event(
        complete_envelope(raw, now=now, source=source, actor=actor), timezone=timezone
    )
    refuse_implausible(event, now=now, window=window or DateWindow())
    return event


def refuse_implausible(event: Event[Any], *, now: datetime, window: DateWindow) -> None:
    """Raise pydantic.ValidationError naming each instant or date of `event` outside `window`."""
    problems = implausible_dates(event, now, window)
    if problems:
        raise ValidationError.from_exception_data(
            "Event",
            [
                InitErrorDetails(
                    type=PydanticCustomError("implausible_date", message),
                    loc=tuple(field.split(".")),
                    input=None,
                )
                for field, message in problems
            ],
        )
