"""Putting dead letters back onto their source topics: as they were, or corrected."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pydantic
from kafka.errors import KafkaError

from casestream.domain.envelope import Event, deterministic_event_id, field_errors
from casestream.domain.plausibility import DateWindow

from .deadletters import (
    REPLAY_OF,
    BrokerUnavailable,
    DeadLetterError,
    FixRefused,
    ReplayRefused,
    StoredDeadLetter,
)
from .intake import validate_record
from .kafka_producer import Delivered, EventProducer, SendFailed
from .topics import Topics


def corrected_event(
    letter: StoredDeadLetter,
    fix: object,
    topics: Topics,
    *,
    now: datetime,
    timezone: str,
    source: str,
    window: DateWindow | None = None,
) -> Event[Any]:
    """The corrected event for `letter`, validated by the intake of `casestream produce`;
    raises FixRefused naming each field at fault.

    A fix that names no event id keeps the id of the message it corrects (or, if that had
    none, one derived from the dead letter's source position), so a fix replayed twice is
    one event.
    """
    if not isinstance(fix, dict):
        raise FixRefused([("event", "expected one JSON object: the corrected event")])
    record = dict(fix)
    if not record.get("event_id") and not record.get("source_record_id"):
        record["event_id"] = letter.original_event_id() or str(
            deterministic_event_id("deadletter", str(letter.source))
        )
    try:
        event = validate_record(
            record, now=now, timezone=timezone, source=source, actor=source, window=window
        )
    except pydantic.ValidationError as exc:
        raise FixRefused(field_errors(exc)) from exc
    if letter.case_id is not None and event.case_id != letter.case_id:
        raise FixRefused(
            [
                (
                    "case_id",
                    f"{event.case_id!r} is not the dead letter's key {letter.case_id!r}; a fix "
                    "corrects the message of its own case",
                )
            ]
        )
    if letter.source.topic in topics.case_topics and topics.for_kind(event.case_kind) != (
        letter.source.topic
    ):
        raise FixRefused(
            [
                (
                    "case_kind",
                    f"{event.case_kind.value} events go to {topics.for_kind(event.case_kind)}, "
                    f"this dead letter came from {letter.source.topic}",
                )
            ]
        )
    return event


class Replayer:
    """Puts dead letters back onto their source topics, with their keys, for the worker to
    project again (an event id already applied is skipped; a message still bad is
    dead-lettered again, naming the one it replays)."""

    def __init__(self, bootstrap: str, topics: Topics) -> None:
        self._topics = topics
        try:
            self._producer = EventProducer(bootstrap, topics)
        except KafkaError as exc:
            raise BrokerUnavailable(bootstrap, exc) from exc

    def check(self, letter: StoredDeadLetter, corrected: Event[Any] | None = None) -> None:
        """Raise ReplayRefused when `letter` cannot go back (as it is, or as `corrected`)."""
        source = letter.source.topic
        if source not in (*self._topics.case_topics, self._topics.alerts):
            raise ReplayRefused(
                f"dead letter {letter.id} came from {source or 'no topic'}, which is not a case "
                f"or alert topic of this deployment (prefix {self._topics.prefix!r}): "
                "check CASESTREAM_TOPIC_PREFIX"
            )
        if corrected is None and not letter.value:
            raise ReplayRefused(
                f"dead letter {letter.id} has no value ({letter.reason}): nothing to replay; "
                "give the event it should have been with --file"
            )

    def replay(self, letter: StoredDeadLetter, corrected: Event[Any] | None = None) -> Delivered:
        """Send `letter` back (its original bytes, or `corrected`) and wait until Kafka has it."""
        self.check(letter, corrected)
        key = letter.key
        if corrected is not None:
            key = key if key is not None else corrected.case_id.encode()
        value = letter.value if corrected is None else corrected.to_json_bytes()
        try:
            return self._producer.send_raw(
                letter.source.topic, key, value, headers=[(REPLAY_OF, str(letter.id).encode())]
            )
        except SendFailed as exc:
            raise DeadLetterError(str(exc)) from exc

    def close(self) -> None:
        self._producer.close()

    def __enter__(self) -> Replayer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
