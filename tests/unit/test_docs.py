"""The documents under docs/ stay in step with the code they describe: every event type, origin,
case kind and payload field of the catalog in docs/events.md, every packaged deadline rule with
its length and legal source in docs/deadlines.md, and every relative link resolving."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from casestream.domain.catalog import PAYLOAD_TYPES, CaseKind
from casestream.domain.rules import Unit, load_rulebook
from casestream.producers.intake import validate_record

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EVENTS = (DOCS / "events.md").read_text(encoding="utf-8")
DEADLINES = (DOCS / "deadlines.md").read_text(encoding="utf-8")

# a CamelCase name in backticks, as an event type is written
EVENT_NAME = re.compile(r"`([A-Z][a-z]+(?:[A-Z][a-z]+)+)`")
CATALOGUE_ROW = re.compile(r"^\| `(\w+)` \| ([^|]+) \| `(\w+)` \|$", re.MULTILINE)


def sections(text: str, level: str) -> dict[str, str]:
    """Heading text → the text up to the next heading of that level or above."""
    found: dict[str, str] = {}
    parts = re.split(rf"^({level} .*)$", text, flags=re.MULTILINE)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        title = heading.removeprefix(level).strip()
        found[title] = re.split(rf"^#{{1,{len(level)}}} ", body, flags=re.MULTILINE)[0]
    return found


EVENT_SECTIONS = sections(EVENTS, "####")


def test_every_event_type_of_the_catalog_has_its_entry_in_events_md() -> None:
    missing = sorted(set(PAYLOAD_TYPES) - set(EVENT_SECTIONS))
    assert not missing, f"docs/events.md has no '#### <EventType>' entry for: {missing}"


def test_events_md_names_no_event_type_that_does_not_exist() -> None:
    unknown_entries = sorted(set(EVENT_SECTIONS) - set(PAYLOAD_TYPES))
    assert not unknown_entries, f"docs/events.md describes unknown event types: {unknown_entries}"
    unknown_names = sorted(set(EVENT_NAME.findall(EVENTS)) - set(PAYLOAD_TYPES))
    assert not unknown_names, f"docs/events.md names unknown event types: {unknown_names}"


def test_the_catalogue_table_gives_each_event_type_its_case_kinds_and_origin() -> None:
    rows = {name: (kinds, origin) for name, kinds, origin in CATALOGUE_ROW.findall(EVENTS)}
    assert sorted(rows) == sorted(PAYLOAD_TYPES), "the catalogue table lists other event types"
    for name, payload in PAYLOAD_TYPES.items():
        kinds, origin = rows[name]
        listed = (
            set(CaseKind)
            if kinds.strip() == "every kind"
            else {CaseKind(kind.strip()) for kind in kinds.split(",")}
        )
        assert listed == set(payload.case_kinds), f"{name}: case kinds in docs/events.md"
        assert origin == payload.origin.value, f"{name}: origin in docs/events.md"


@pytest.mark.parametrize("event_type", sorted(PAYLOAD_TYPES))
def test_every_payload_field_is_documented_under_its_event_type(event_type: str) -> None:
    entry = EVENT_SECTIONS.get(event_type, "")
    missing = [name for name in PAYLOAD_TYPES[event_type].model_fields if f"`{name}`" not in entry]
    assert not missing, f"docs/events.md, {event_type}: fields not described: {missing}"


def test_the_examples_of_events_md_are_valid_events() -> None:
    examples = re.findall(r"```json\n(.*?)```", EVENTS, flags=re.DOTALL)
    assert examples
    for example in examples:
        validate_record(
            json.loads(example),
            now=datetime(2026, 11, 20, 12, tzinfo=UTC),
            timezone="Asia/Shanghai",
            source="api",
            actor="docs",
        )


RULES = load_rulebook(None)
RULE_SECTIONS = sections(DEADLINES, "###")
UNIT_WORDS = {
    Unit.calendar_days: "calendar days",
    Unit.working_days: "working days",
    Unit.months: "months",
    Unit.hours: "hours",
    Unit.minutes: "minutes",
}


def test_every_packaged_rule_is_in_deadlines_md() -> None:
    missing = [rule_id for rule_id in RULES.ids if f"`{rule_id}`" not in DEADLINES]
    assert not missing, f"docs/deadlines.md does not mention the rules: {missing}"


@pytest.mark.parametrize("rule_id", RULES.ids)
def test_each_packaged_rule_has_an_entry_with_its_length_and_legal_source(rule_id: str) -> None:
    rule = RULES.get(rule_id)
    entry = next((body for title, body in RULE_SECTIONS.items() if f"`{rule_id}`" in title), None)
    assert entry is not None, f"docs/deadlines.md has no '### `{rule_id}` …' entry"
    assert f"{rule.length} {UNIT_WORDS[rule.unit]}" in entry, f"{rule_id}: length or unit"
    assert rule.source in entry, f"{rule_id}: legal source, word for word"
    assert f"`{rule.starts_on}`" in entry, f"{rule_id}: starting event"


def test_deadlines_md_names_no_rule_that_does_not_exist() -> None:
    prefixes = "|".join(sorted({rule_id.split(".")[0] for rule_id in RULES.ids}))
    named = set(re.findall(rf"`((?:{prefixes})\.[a-z_]+)`", DEADLINES))
    assert not sorted(named - set(RULES.ids)), "docs/deadlines.md names unknown rules"


def test_relative_links_of_the_documents_resolve() -> None:
    broken = []
    for document in [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]:
        text = document.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://", "#", "mailto:")):
                continue
            path = target.split("#", 1)[0]
            if not (document.parent / path).exists():
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert not broken, f"links to missing files: {broken}"
