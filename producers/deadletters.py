"""Dead letters: the headers the worker gives them, their ids, and what the operator's commands
make of them (listings, the dead letters a bulk replay takes). Reading the topic is
`deadletter_topic.py`, sending them back `deadletter_replay.py`."""

from __future__ import annotations

import codecs
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .topics import Topics

REASON = "reason"
DETAIL = "detail"
SOURCE_TOPIC = "source_topic"
SOURCE_PARTITION = "source_partition"
SOURCE_OFFSET = "source_offset"
# on a replayed message, and on the dead letter it becomes if it fails again: the id of the
# dead letter it replays, so a newer attempt supersedes an older one
REPLAY_OF = "replay_of"

Headers = list[tuple[str, bytes]]


class DeadLetterError(Exception):
    """Something about the dead letters that the operator can fix; the message says how."""


class BrokerUnavailable(DeadLetterError):
    def __init__(self, bootstrap: str, cause: object = None) -> None:
        because = f" ({cause})" if cause else ""
        super().__init__(
            f"no Kafka broker answers at {bootstrap}{because}: set CASESTREAM_KAFKA_BOOTSTRAP to "
            "host:port of your cluster, or run `casestream up`, which starts a local broker"
        )


class MissingTopic(DeadLetterError):
    def __init__(self, topic: str) -> None:
        super().__init__(
            f"there is no topic {topic}: check CASESTREAM_TOPIC_PREFIX, or create the topics "
            "with `casestream topics create`"
        )


class BadDeadLetterId(DeadLetterError):
    def __init__(self, text: str) -> None:
        super().__init__(
            f"{text!r} is not a dead-letter id: expected PARTITION:OFFSET, e.g. 0:12, as "
            "`casestream deadletter list` shows them"
        )


class UnknownDeadLetter(DeadLetterError):
    def __init__(self, letter_id: DeadLetterId, topic: str) -> None:
        super().__init__(
            f"no dead letter {letter_id} in {topic}: `casestream deadletter list` shows the ids "
            "(check CASESTREAM_TOPIC_PREFIX if the list is empty)"
        )


class ReplayRefused(DeadLetterError):
    """This dead letter cannot go back as it is."""


class FixRefused(DeadLetterError):
    """The corrected event is not valid; `problems` holds (field, message) pairs."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.problems))


@dataclass(frozen=True, order=True)
class DeadLetterId:
    """A dead letter's place in the dead-letter topic: stable for as long as the topic lives."""

    partition: int
    offset: int

    @classmethod
    def parse(cls, text: str) -> DeadLetterId:
        partition, sep, offset = text.strip().partition(":")
        if not sep or not partition.isdigit() or not offset.isdigit():
            raise BadDeadLetterId(text)
        return cls(int(partition), int(offset))

    def __str__(self) -> str:
        return f"{self.partition}:{self.offset}"


@dataclass(frozen=True)
class SourcePosition:
    """Where the dead-lettered message was when the worker read it."""

    topic: str
    partition: int | None
    offset: int | None

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


def dead_letter_headers(
    reason: str,
    detail: str,
    source: SourcePosition,
    replay_of: str | None = None,
) -> Headers:
    """The headers of a dead letter (its key and value are the message's, bytes unchanged)."""
    headers = [
        (REASON, reason.encode()),
        (DETAIL, detail[:4000].encode()),
        (SOURCE_TOPIC, source.topic.encode()),
        (SOURCE_PARTITION, str(source.partition).encode()),
        (SOURCE_OFFSET, str(source.offset).encode()),
    ]
    if replay_of:
        headers.append((REPLAY_OF, replay_of.encode()))
    return headers


def replayed_letter_id(
    headers: Iterable[tuple[str, bytes]] | Mapping[str, bytes] | None,
) -> str | None:
    """The dead letter a consumed message replays, from its headers (None for most messages)."""
    if not headers:
        return None
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        if name == REPLAY_OF and value:
            return bytes(value).decode(errors="replace")
    return None


def printable(data: bytes, limit: int) -> str:
    """The first `limit` bytes of `data` as text anyone can read: UTF-8 where it decodes,
    other bytes and control characters escaped, `…` when there is more."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="backslashreplace")
    text = decoder.decode(data[:limit], final=len(data) <= limit)
    shown = "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )
    return shown + ("…" if len(data) > limit else "")


@dataclass(frozen=True)
class StoredDeadLetter:
    """One dead letter as read back from the topic: the message, bytes unchanged, and why."""

    id: DeadLetterId
    dead_lettered_at: datetime | None
    reason: str
    detail: str
    source: SourcePosition
    replay_of: str | None
    key: bytes | None
    value: bytes

    @property
    def case_id(self) -> str | None:
        """The message's key: the case id it was sent for."""
        return None if self.key is None else self.key.decode(errors="replace")

    def original_event_id(self) -> str | None:
        """The event id the message carried, if it names one that is a UUID."""
        try:
            decoded = json.loads(self.value)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        candidate = decoded.get("event_id") if isinstance(decoded, dict) else None
        if not isinstance(candidate, str):
            return None
        try:
            return str(uuid.UUID(candidate))
        except ValueError:
            return None

    def summary(self, *, value_bytes: int = 200) -> DeadLetterSummary:
        return DeadLetterSummary(
            id=str(self.id),
            dead_lettered_at=self.dead_lettered_at,
            reason=self.reason,
            detail=self.detail,
            source=self.source,
            replay_of=self.replay_of,
            key=None if self.key is None else printable(self.key, 200),
            value_size=len(self.value),
            value_preview=printable(self.value, value_bytes),
        )


@dataclass(frozen=True)
class DeadLetterSummary:
    """What a listing shows of a dead letter: never the whole value."""

    id: str
    dead_lettered_at: datetime | None
    reason: str
    detail: str
    source: SourcePosition
    replay_of: str | None
    key: str | None
    value_size: int
    value_preview: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dead_lettered_at": (
                None if self.dead_lettered_at is None else self.dead_lettered_at.isoformat()
            ),
            "reason": self.reason,
            "detail": self.detail,
            "source_topic": self.source.topic,
            "source_partition": self.source.partition,
            "source_offset": self.source.offset,
            "replay_of": self.replay_of,
            "key": self.key,
            "value_bytes": self.value_size,
            "value_preview": self.value_preview,
        }


@dataclass(frozen=True)
class Selection:
    """Which dead letters a listing or a bulk replay takes (None: any)."""

    reason: str | None = None
    source_topic: str | None = None

    def matches(self, letter: StoredDeadLetter, topics: Topics) -> bool:
        if self.reason is not None and letter.reason != self.reason:
            return False
        # a topic may be named with or without the deployment's prefix
        return self.source_topic is None or letter.source.topic in {
            self.source_topic,
            topics.prefix + self.source_topic,
        }


def latest_attempts(letters: Iterable[StoredDeadLetter]) -> list[StoredDeadLetter]:
    """The dead letters no later replay has superseded: a dead letter replayed and dead-lettered
    again is represented by its newer dead letter, so replaying every dead letter of a reason
    twice re-injects each message once, not twice."""
    letters = list(letters)
    superseded = {letter.replay_of for letter in letters if letter.replay_of}
    return [letter for letter in letters if str(letter.id) not in superseded]


def chronological(letters: Iterable[StoredDeadLetter]) -> list[StoredDeadLetter]:
    """Dead letters in the order they were set aside (their Kafka timestamps, then ids)."""
    never = datetime.min.replace(tzinfo=UTC)
    return sorted(letters, key=lambda letter: (letter.dead_lettered_at or never, letter.id))


@dataclass(frozen=True)
class ReplayPlan:
    """What a bulk replay puts back, in source order, and how many matching dead letters it
    leaves out because a newer attempt superseded them."""

    letters: list[StoredDeadLetter]
    superseded: int


def plan_replay(
    letters: Sequence[StoredDeadLetter], selection: Selection, topics: Topics
) -> ReplayPlan:
    matching = [letter for letter in letters if selection.matches(letter, topics)]
    current = {letter.id for letter in latest_attempts(letters)}
    chosen = [letter for letter in matching if letter.id in current]
    return ReplayPlan(in_source_order(chosen), len(matching) - len(chosen))


def in_source_order(letters: Iterable[StoredDeadLetter]) -> list[StoredDeadLetter]:
    """Dead letters in the order their messages had on their source partitions, so a case's
    events go back in the order they first came."""
    return sorted(
        letters,
        key=lambda letter: (
            letter.source.topic,
            letter.source.partition if letter.source.partition is not None else -1,
            letter.source.offset if letter.source.offset is not None else -1,
            letter.id,
        ),
    )


def _header_int(text: str | None) -> int | None:
    return int(text) if text is not None and text.lstrip("-").isdigit() else None


def stored_dead_letter(
    letter_id: DeadLetterId,
    timestamp_ms: int | None,
    headers: Iterable[tuple[str, bytes]],
    key: bytes | None,
    value: bytes | None,
) -> StoredDeadLetter:
    """A dead letter from a message of the dead-letter topic (headers as the worker wrote them)."""
    found = {name: bytes(raw).decode(errors="replace") for name, raw in headers}
    return StoredDeadLetter(
        id=letter_id,
        dead_lettered_at=(
            datetime.fromtimestamp(timestamp_ms / 1000, UTC)
            if timestamp_ms and timestamp_ms > 0
            else None
        ),
        reason=found.get(REASON, ""),
        detail=found.get(DETAIL, ""),
        source=SourcePosition(
            found.get(SOURCE_TOPIC, ""),
            _header_int(found.get(SOURCE_PARTITION)),
            _header_int(found.get(SOURCE_OFFSET)),
        ),
        replay_of=found.get(REPLAY_OF) or None,
        key=key,
        value=value or b"",
    )
