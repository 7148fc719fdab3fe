"""Old events read as the current model: every event type at every version ever published
(tests/fixtures/events/<EventType>/v<N>.json) parses through the upcasters into the catalog's
model, and a version this code cannot read is refused on `schema_version`."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic
import pytest

from casestream.domain import upcasting
from casestream.domain.cases import evolve
from casestream.domain.catalog import PAYLOAD_TYPES, ReplySubmitted
from casestream.domain.envelope import field_errors, parse_event, same_fact
from casestream.domain.upcasting import UPCASTERS, check_readable, upcast_payload
from casestream.producers.intake import validate_record
from casestream.producers.simulation import simulate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
FIXTURE_FILES = sorted(FIXTURES.glob("*/v*.json"))


def _fixture(event_type: str, version: int) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (FIXTURES / event_type / f"v{version}.json").read_text(encoding="utf-8")
    )
    return loaded


def _versions_on_disk() -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for path in FIXTURE_FILES:
        found.setdefault(path.parent.name, set()).add(int(path.stem.removeprefix("v")))
    return found


def test_every_event_type_has_a_fixture_for_every_version_from_1_to_its_current_one() -> None:
    on_disk = _versions_on_disk()
    for event_type, payload_type in PAYLOAD_TYPES.items():
        wanted = set(range(1, payload_type.schema_version + 1))
        missing = sorted(wanted - on_disk.get(event_type, set()))
        assert not missing, (
            f"no fixture of {event_type} version(s) {missing}: see tests/fixtures/make_fixtures.py"
        )
    unknown = sorted(set(on_disk) - set(PAYLOAD_TYPES))
    assert not unknown, f"fixtures of event types the catalog does not have: {unknown}"
    newer = {t: sorted(v) for t, v in on_disk.items() if max(v) > PAYLOAD_TYPES[t].schema_version}
    assert not newer, f"fixtures of versions newer than the catalog's: {newer}"


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_fixture_parses_into_the_current_model_keeping_its_id_and_what_was_published(
    path: Path,
) -> None:
    published = json.loads(path.read_text(encoding="utf-8"))
    event = parse_event(path.read_bytes())
    payload_type = PAYLOAD_TYPES[path.parent.name]
    assert event.event_type == path.parent.name == published["event_type"]
    assert published["schema_version"] == int(path.stem.removeprefix("v"))
    assert type(event.payload) is payload_type
    assert event.schema_version == payload_type.schema_version
    assert str(event.event_id) == published["event_id"]
    assert event.published_version == published["schema_version"]
    if published["schema_version"] < payload_type.schema_version:
        # the history keeps the fact as published: its version and payload, untouched
        kept = event.as_published()
        assert kept["schema_version"] == published["schema_version"]
        assert kept["payload"] == published["payload"]
    assert parse_event(event.as_published()) == event  # the history reads back as the same event
    assert parse_event(path.read_bytes()) == event  # deterministic


@pytest.mark.parametrize(
    "event_type", sorted(t for t, p in PAYLOAD_TYPES.items() if p.schema_version > 1)
)
def test_every_version_of_a_fixture_means_the_same_as_the_current_one(event_type: str) -> None:
    current = parse_event(_fixture(event_type, PAYLOAD_TYPES[event_type].schema_version))
    for version in range(1, PAYLOAD_TYPES[event_type].schema_version):
        old = parse_event(_fixture(event_type, version))
        assert old.model_dump() == current.model_dump(), f"{event_type} v{version}"
        assert same_fact(old.as_published(), current) and same_fact(current.as_published(), old)


def test_a_v1_reply_reads_its_evidence_items_as_the_v2_evidence_count() -> None:
    v1 = parse_event(_fixture("ReplySubmitted", 1))
    v2 = parse_event(_fixture("ReplySubmitted", 2))
    assert v1.payload == v2.payload == ReplySubmitted(summary="提交答复书及证据", evidence_count=7)
    assert v1.event_id == v2.event_id
    assert v1.schema_version == v2.schema_version == 2


def test_a_v1_reply_changes_the_case_as_its_v2_does() -> None:
    applied = parse_event(_fixture("ReconsiderationApplied", 1))
    copy = parse_event(_fixture("ApplicationCopyReceived", 1))
    opened = evolve(evolve(None, applied), copy)
    after_v1 = evolve(opened, parse_event(_fixture("ReplySubmitted", 1)))
    after_v2 = evolve(opened, parse_event(_fixture("ReplySubmitted", 2)))
    assert after_v1 == after_v2


def test_every_type_beyond_version_1_has_its_chain_of_upcasters_and_none_is_left_over() -> None:
    for event_type in PAYLOAD_TYPES:
        check_readable(event_type, 1)  # raises when a step of the chain is missing
    for event_type, version in UPCASTERS:
        assert event_type in PAYLOAD_TYPES, f"upcaster of an unknown event type {event_type}"
        assert 1 <= version < PAYLOAD_TYPES[event_type].schema_version, (event_type, version)


def test_an_upcaster_leaves_its_input_alone_and_gives_the_same_output_every_time() -> None:
    v1 = {"summary": "答复", "evidence_items": 3}
    first = upcast_payload("ReplySubmitted", 1, v1)
    assert (
        first == upcast_payload("ReplySubmitted", 1, v1) == {"summary": "答复", "evidence_count": 3}
    )
    assert v1 == {"summary": "答复", "evidence_items": 3}
    assert upcast_payload("ReplySubmitted", 2, first) == first


def test_a_version_newer_than_this_code_reads_is_refused_on_schema_version() -> None:
    record = _fixture("ComplaintReceived", 1)
    with pytest.raises(pydantic.ValidationError) as caught:
        parse_event({**record, "schema_version": 99})
    [(field, message)] = field_errors(caught.value)
    assert field == "schema_version"
    assert "99" in message and "reads (version 1)" in message and "upgrade" in message


def test_an_old_version_without_an_upcaster_is_refused_on_schema_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(upcasting, "UPCASTERS", {})
    with pytest.raises(pydantic.ValidationError) as caught:
        parse_event(_fixture("ReplySubmitted", 1))
    [(field, message)] = field_errors(caught.value)
    assert field == "schema_version"
    assert "no upcaster from version 1 to 2" in message and "reads version 2" in message


def test_a_v2_reply_with_the_v1_field_name_is_refused_naming_the_field() -> None:
    record = _fixture("ReplySubmitted", 2)
    with pytest.raises(pydantic.ValidationError) as caught:
        parse_event({**record, "payload": {"summary": "答复", "evidence_items": 2}})
    assert [field for field, _ in field_errors(caught.value)] == ["payload.evidence_items"]


def test_a_reply_of_a_v1_sender_is_published_as_v2_whether_or_not_it_gives_the_version() -> None:
    now = datetime(2026, 3, 10, tzinfo=UTC)
    for record in (
        {"payload": {"evidence_items": 2}},
        {"payload": {"evidence_items": 2}, "schema_version": 1},
        {"payload": {"evidence_count": 2}},  # new name, version left out (read as 1)
        {"payload": {"evidence_count": 2}, "schema_version": 2},
    ):
        event = validate_record(
            {
                "event_type": "ReplySubmitted",
                "case_id": "R-1",
                "case_kind": "reconsideration",
                "source_record_id": "reply-1",
                **record,
            },
            now=now,
            timezone="Asia/Shanghai",
            source="reconsideration-office",
            actor="system",
        )
        sent = json.loads(event.to_json_bytes())
        assert sent["schema_version"] == 2 and sent["payload"]["evidence_count"] == 2, record
        assert "evidence_items" not in sent["payload"]


def test_the_simulator_emits_replies_at_the_current_version() -> None:
    events = simulate(random.Random(3), 80, datetime(2026, 3, 2, tzinfo=UTC), prefix="U")
    replies = [e for e in events if e.event_type == "ReplySubmitted"]
    assert replies
    for reply in replies:
        assert reply.published_version == ReplySubmitted.schema_version
        assert json.loads(reply.to_json_bytes())["schema_version"] == ReplySubmitted.schema_version


def test_an_event_built_without_a_schema_version_is_at_the_current_version() -> None:
    record = {k: v for k, v in _fixture("ReplySubmitted", 2).items() if k != "schema_version"}
    event = parse_event(record)
    assert event.published_version == event.schema_version == ReplySubmitted.schema_version
    assert event.as_published() == _fixture("ReplySubmitted", 2)
