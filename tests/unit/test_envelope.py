from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pydantic
import pytest

from casestream.domain.catalog import PAYLOAD_TYPES
from casestream.domain.envelope import (
    UndecodableEvent,
    deterministic_event_id,
    field_errors,
    parse_event,
)
from casestream.producers.files import read_csv, read_jsonl
from casestream.producers.intake import validate_record
from tests.events import raw


def _fields(error: pydantic.ValidationError) -> list[str]:
    return [field for field, _ in field_errors(error)]


def test_a_timestamp_without_offset_is_taken_in_shanghai_time() -> None:
    record = raw("ComplaintReceived", "C-1", "complaint", {"channel": "window", "subject": "s"})
    record["occurred_at"] = "2026-05-01T08:00:00"
    event = parse_event(record)
    assert event.occurred_at.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]


def test_invalid_payload_field_is_named() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        parse_event(raw("ComplaintFollowUpVisited", "C-1", "complaint", {"satisfaction": 9}))
    assert _fields(caught.value) == ["payload.satisfaction"]


def test_unknown_event_type_is_named_with_the_known_ones() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        parse_event(raw("ComplaintTeleported", "C-1", "complaint"))
    assert _fields(caught.value) == ["event_type"]
    assert "ComplaintReceived" in str(caught.value)


def test_event_of_the_wrong_case_kind_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="cannot carry JudgmentIssued"):
        parse_event(
            raw("JudgmentIssued", "C-1", "complaint", {"instance": "first", "outcome": "revoked"})
        )


def test_bytes_that_are_not_json_are_undecodable() -> None:
    with pytest.raises(UndecodableEvent):
        parse_event(b"\xff\x00garbage")


def test_a_source_record_id_gives_the_same_event_id_every_time() -> None:
    record = {
        "event_type": "TipClosed",
        "case_id": "T-1",
        "case_kind": "enterprise_tip",
        "payload": {},
        "source_record_id": "42",
    }
    now = datetime(2026, 1, 1, tzinfo=UTC)
    first = validate_record(record, now=now, timezone="Asia/Shanghai", source="portal", actor="a")
    again = validate_record(record, now=now, timezone="Asia/Shanghai", source="portal", actor="a")
    assert first.event_id == again.event_id == deterministic_event_id("portal", "42")


def test_every_event_type_exports_a_json_schema(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from casestream.cli import app

    result = CliRunner().invoke(app, ["schema", "export", str(tmp_path)])
    assert result.exit_code == 0, result.output
    files = sorted(path.name.removesuffix(".schema.json") for path in tmp_path.iterdir())
    assert files == sorted(PAYLOAD_TYPES)
    schema = json.loads((tmp_path / "HearingHeld.schema.json").read_text())
    assert schema["properties"]["event_type"]["const"] == "HearingHeld"
    assert "agency_head_appeared" in json.dumps(schema)


def test_jsonl_problems_carry_line_number_and_field(tmp_path: Path) -> None:
    good = raw("ComplaintReceived", "C-1", "complaint", {"channel": "window", "subject": "s"})
    bad = raw("ComplaintReceived", "C-2", "complaint", {"channel": "fax", "subject": "s"})
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([json.dumps(good), "{not json", json.dumps(bad)]) + "\n")
    results = list(read_jsonl(path, now=datetime.now(UTC), timezone="Asia/Shanghai"))
    assert not isinstance(results[0][1], list)
    assert [(p.line, p.field) for _, found in results[1:] for p in found] == [
        (2, "line"),
        (3, "payload.channel"),
    ]  # type: ignore[union-attr]


def test_files_send_facts_from_outside_only_and_the_same_line_twice_as_one_event(
    tmp_path: Path,
) -> None:
    forged = raw("RectificationVerified", "RECT-1", "rectification", {"supervisor": "张"})
    alert = raw("AlertCleared", "C-1", "complaint", {})
    fact = raw("ComplaintReceived", "C-1", "complaint", {"channel": "window", "subject": "s"})
    for record in (forged, alert, fact):
        del record["event_id"]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (forged, alert, fact)) + "\n")
    now = datetime.now(UTC)
    first = list(read_jsonl(path, now=now, timezone="Asia/Shanghai"))
    assert [p.field for p in first[0][1]] == ["event_type"]  # type: ignore[union-attr]
    assert isinstance(first[1][1], list)
    again = list(read_jsonl(path, now=now, timezone="Asia/Shanghai"))
    assert first[2][1].event_id == again[2][1].event_id  # type: ignore[union-attr]


def test_csv_columns_fill_envelope_and_nested_payload(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(
        "event_type,case_id,case_kind,occurred_at,channel,subject,complainant.name,enterprise\n"
        "ComplaintReceived,C-9,complaint,2026-02-01T10:00:00,hotline_12345,投诉,王伟,true\n"
        "ComplaintReceived,C-10,complaint,2026-02-01T10:00:00,hotline_12345,,王伟,maybe\n",
        encoding="utf-8",
    )
    (line1, first), (line2, second) = read_csv(
        path, now=datetime.now(UTC), timezone="Asia/Shanghai"
    )
    assert line1 == 2 and not isinstance(first, list)
    assert first.payload.complainant.name == "王伟" and first.payload.enterprise is True  # type: ignore[union-attr]
    assert line2 == 3 and isinstance(second, list)
    assert {p.field for p in second} == {"payload.subject", "payload.enterprise"}
