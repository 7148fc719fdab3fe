"""Anonymity (匿名举报): which personal data of an event or a case state nobody may see.

A record made anonymously (a `TipReceived` with `anonymous: true`) names its persons to no
one, whatever their role: the case state never holds them, and every view of a state or an
event shows the person as None beside `anonymous: true`. The identity stays only in the
event as recorded on Kafka (for a court order), never in a read model's state or an API view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from .catalog import Person

PERSON_FIELDS = frozenset({"complainant", "applicant", "plaintiff", "informant"})
"""Fields whose value is a person (catalog.Person), in payloads and case states alike."""

ANONYMITY_FLAG = "anonymous"
"""The field by which a payload or a case state says it was made anonymously."""

T = TypeVar("T")


def withheld_fields(record: Mapping[str, Any]) -> frozenset[str]:
    """The person fields of `record` (a payload's or a case state's fields) nobody may see:
    every one it holds when it was made anonymously, none otherwise."""
    if record.get(ANONYMITY_FLAG):
        return PERSON_FIELDS & record.keys()
    return frozenset()


def without_anonymous_persons(value: T) -> T:
    """A copy of `value` (fields of a payload or state, an event body, any JSON-like nesting of
    them) in which every person of an anonymous record is replaced by None."""
    if isinstance(value, Mapping):
        withheld = withheld_fields(value)
        return {  # type: ignore[return-value]
            key: None if key in withheld else without_anonymous_persons(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(without_anonymous_persons(item) for item in value)
    return value


@dataclass(frozen=True)
class Party:
    """The member of the public behind a case (投诉人, 举报人, 申请人, 原告): the person as
    recorded, or none; `anonymous` when the case was made anonymously and names nobody."""

    person: Person | None
    anonymous: bool = False


def party_of(state: BaseModel) -> Party:
    """The party of a case state: anonymous (never named, whoever asks) when it was made
    anonymously, else the person of its person field (a case kind has at most one)."""
    if getattr(state, ANONYMITY_FLAG, False):
        return Party(None, anonymous=True)
    for name in sorted(PERSON_FIELDS & type(state).model_fields.keys()):
        person = getattr(state, name)
        if isinstance(person, Person):
            return Party(person)
    return Party(None)
