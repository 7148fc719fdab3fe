"""Events citing evidence files: `files` was added to three event types without a new version,
so an event citing none is published exactly as before, and one published before reads with
none; a cited file is described within bounds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest

from casestream.domain import catalog as ev
from casestream.domain.envelope import parse_event, same_fact

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
CITING = [ev.ReplySubmitted, ev.DefenceSubmitted, ev.RectificationCompleted]
FILE = {
    "sha256": "ab" * 32,
    "name": "整改报告.pdf",
    "media_type": "application/pdf",
    "size": 1024,
}


def _published(payload_type: type[ev.Payload]) -> dict[str, Any]:
    name = payload_type.__name__
    loaded: dict[str, Any] = json.loads(
        (FIXTURES / name / f"v{payload_type.schema_version}.json").read_text(encoding="utf-8")
    )
    return loaded


@pytest.mark.parametrize("payload_type", CITING, ids=lambda t: t.__name__)
def test_an_event_citing_no_file_is_published_as_before_the_field_existed(
    payload_type: type[ev.Payload],
) -> None:
    published = _published(payload_type)
    assert "files" not in published["payload"]
    event = parse_event(published)
    assert ev.cited_files(event.payload) == []
    assert event.model_dump(mode="json") == published
    assert same_fact(published, event)


@pytest.mark.parametrize("payload_type", CITING, ids=lambda t: t.__name__)
def test_an_event_citing_files_keeps_them_through_the_wire(
    payload_type: type[ev.Payload],
) -> None:
    published = _published(payload_type)
    citing = {**published, "payload": {**published["payload"], "files": [FILE]}}
    event = parse_event(citing)
    assert [file.sha256 for file in ev.cited_files(event.payload)] == [FILE["sha256"]]
    assert json.loads(event.to_json_bytes())["payload"]["files"] == [FILE]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sha256", "AB" * 32),  # lower-case hex only
        ("sha256", "ab" * 31),
        ("name", "../etc/passwd"),
        ("name", "C:\\evidence.pdf"),
        ("name", "report\n.pdf"),
        ("name", ""),
        ("media_type", "application/x-msdownload"),
        ("size", 0),
    ],
)
def test_a_cited_file_out_of_bounds_is_refused_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(pydantic.ValidationError) as refused:
        ev.DefenceSubmitted.model_validate({"files": [{**FILE, field: value}]})
    assert refused.value.errors()[0]["loc"] == ("files", 0, field)


def test_at_most_twenty_files_are_cited_by_one_event() -> None:
    many = [{**FILE, "sha256": f"{n:064x}"} for n in range(ev.MAX_CITED_FILES + 1)]
    ev.RectificationCompleted(evidence=["x"], files=many[:-1])
    with pytest.raises(pydantic.ValidationError):
        ev.RectificationCompleted(evidence=["x"], files=many)


def test_types_that_cite_no_files_have_none() -> None:
    assert ev.cited_files(ev.HearingHeld()) == []
