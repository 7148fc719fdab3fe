"""The case detail page's timeline speaks Chinese for every event type of the catalog: each
payload class has its label, each payload field a label or a deliberate place among the
hidden ones, and every stored fixture event (each type at each version) reads as a line."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from pathlib import Path

from casestream.api.console_case_view import HIDDEN_FIELDS, event_label, timeline
from casestream.api.console_labels import EVENT_FIELDS, EVENT_LABELS
from casestream.api.masking import current_form
from casestream.api.schemas import EventOut
from casestream.domain.catalog import PAYLOAD_TYPES

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
TZ = "Asia/Shanghai"


def test_every_payload_class_of_the_catalog_has_a_chinese_label() -> None:
    missing = sorted(cls.__name__ for cls in PAYLOAD_TYPES.values() if cls not in EVENT_LABELS)
    assert not missing, f"add these to EVENT_LABELS in api/console_labels.py: {missing}"
    assert set(EVENT_LABELS) == set(PAYLOAD_TYPES.values())  # no label of a removed class
    assert all(label and label.isascii() is False for label in EVENT_LABELS.values())


def test_every_payload_field_has_a_label_or_is_hidden_on_purpose() -> None:
    fields = {name for cls in PAYLOAD_TYPES.values() for name in cls.model_fields}
    missing = sorted(fields - set(EVENT_FIELDS) - HIDDEN_FIELDS)
    assert not missing, f"add these to EVENT_FIELDS in api/console_labels.py: {missing}"


def _stored(path: Path, version: int) -> EventOut:
    body = json.loads(path.read_text(encoding="utf-8"))
    return EventOut(
        version=version,
        event_id=body["event_id"],
        event_type=body["event_type"],
        occurred_at=datetime.fromisoformat(body["occurred_at"]),
        recorded_at=datetime.fromisoformat(body["recorded_at"]),
        event=current_form(body),
    )


def test_every_fixture_event_reads_as_a_chinese_line_with_its_fields() -> None:
    files = sorted(FIXTURES.glob("*/v*.json"))
    assert {path.parent.name for path in files} == set(PAYLOAD_TYPES)
    events = [_stored(path, index + 1) for index, path in enumerate(files)]
    lines = timeline(events, TZ, lambda rule: f"规则{rule}")
    assert len(lines) == len(events)
    for line, item in zip(lines, events, strict=True):
        assert line.what == EVENT_LABELS[PAYLOAD_TYPES[item.event_type]]
        assert line.who == item.event["actor"] != "system"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", line.when)
        for title, words in line.details:
            assert title in EVENT_FIELDS.values() and words
    by_type = {item.event_type: line for line, item in zip(lines, events, strict=True)}
    resolved = dict(by_type["ComplaintResolved"].details)
    assert resolved["结果"] != "" and not resolved["结果"].isascii()  # an outcome in words


def test_an_event_type_the_catalog_lacks_keeps_its_name() -> None:
    unknown = f"Unknown{uuid.uuid4().hex[:6]}"
    assert event_label(unknown) == unknown


def test_an_event_casestream_derived_itself_is_told_as_the_systems() -> None:
    path = FIXTURES / "SupervisionFlagged" / "v1.json"
    derived = _stored(path, 1)
    derived = derived.model_copy(update={"event": {**derived.event, "actor": "system"}})
    (line,) = timeline([derived], TZ, str)
    assert (line.who, line.what) == ("系统（自动）", "列入督察")
    assert ("满意度", "1 分") in line.details and ("督察阈值", "2 分") in line.details
