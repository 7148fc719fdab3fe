"""The one event factory: type and version come from the payload class."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pydantic
import pytest

from casestream.domain.catalog import PAYLOAD_TYPES, CaseKind, MeasureAdded
from casestream.domain.envelope import new_event, parse_event

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_factory_names_the_type_and_version_from_the_payload_class() -> None:
    event = new_event(
        MeasureAdded(measure="培训执法人员"),
        case_id="RECT-1",
        case_kind=CaseKind.rectification,
        occurred_at=AT,
        source="api",
        actor="zhang",
    )
    assert event.event_type == "MeasureAdded" and "MeasureAdded" in PAYLOAD_TYPES
    assert event.schema_version == MeasureAdded.schema_version
    assert event.recorded_at == AT
    assert parse_event(event.model_dump(mode="json")) == event


def test_the_factory_keeps_a_given_id_and_refuses_a_kind_the_payload_cannot_belong_to() -> None:
    given = uuid.uuid5(uuid.NAMESPACE_URL, "x")
    event = new_event(
        MeasureAdded(measure="m"),
        case_id="RECT-1",
        case_kind=CaseKind.rectification,
        occurred_at=AT,
        source="api",
        actor="zhang",
        event_id=str(given),
    )
    assert event.event_id == given
    with pytest.raises(pydantic.ValidationError, match="cannot carry MeasureAdded"):
        new_event(
            MeasureAdded(measure="m"),
            case_id="C-1",
            case_kind=CaseKind.complaint,
            occurred_at=AT,
            source="api",
            actor="zhang",
        )
