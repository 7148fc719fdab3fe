"""Reading event records from JSONL and CSV files, one validated event or one problem per record."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pydantic

from casestream.domain.catalog import Origin
from casestream.domain.envelope import Event, field_errors
from casestream.domain.plausibility import DateWindow

from .intake import validate_record

ENVELOPE_COLUMNS = frozenset(
    {
        "event_id",
        "event_type",
        "schema_version",
        "case_id",
        "case_kind",
        "occurred_at",
        "recorded_at",
        "source",
        "actor",
        "correlation_id",
        "causation_id",
        "source_record_id",
    }
)


@dataclass(frozen=True)
class Problem:
    """Why the record on `line` was not sent."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


Record = tuple[int, Event[Any] | list[Problem]]


def _validated(
    line: int,
    raw: dict[str, Any],
    now: datetime,
    timezone: str,
    source: str,
    window: DateWindow | None,
) -> Record:
    if not raw.get("event_id") and not raw.get("source_record_id"):
        # the same line of the same file is the same event: a file sent again after a failure
        # (or twice) records each of its events once
        canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:32]
        raw = {**raw, "source_record_id": f"line {line} {digest}"}
    try:
        event = validate_record(
            raw, now=now, timezone=timezone, source=source, actor=source, window=window
        )
        if type(event.payload).origin is not Origin.outside:
            return line, [
                Problem(
                    line,
                    "event_type",
                    f"{event.event_type} is not a fact from outside: made through its command "
                    "or derived by casestream, never sent from a file",
                )
            ]
        return line, event
    except pydantic.ValidationError as exc:
        return line, [Problem(line, field, message) for field, message in field_errors(exc)]


def read_jsonl(
    path: Path, *, now: datetime, timezone: str, window: DateWindow | None = None
) -> Iterator[Record]:
    with path.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                yield (
                    number,
                    [Problem(number, "line", f"not valid JSON: {exc.msg} at column {exc.colno}")],
                )
                continue
            if not isinstance(raw, dict):
                yield number, [Problem(number, "line", "expected a JSON object")]
                continue
            yield _validated(number, raw, now, timezone, f"file:{path.name}", window)


def _cell(value: str) -> Any:
    text = value.strip()
    if text.startswith(("[", "{")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def csv_row_to_record(row: dict[str, str]) -> dict[str, Any]:
    """Envelope columns stay on top; every other column goes into the payload.

    A column named `a.b` (or `payload.a.b`) fills a nested object; empty cells are left out;
    a cell holding `[...]` or `{...}` is read as JSON (lists such as evidence).
    """
    record: dict[str, Any] = {}
    payload: dict[str, Any] = {}
    for column, value in row.items():
        if column is None or value is None or not value.strip():
            continue
        name = column.strip()
        if name in ENVELOPE_COLUMNS:
            record[name] = value.strip()
            continue
        parts = name.removeprefix("payload.").split(".")
        target = payload
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = _cell(value)
    record["payload"] = payload
    return record


def read_csv(
    path: Path, *, now: datetime, timezone: str, window: DateWindow | None = None
) -> Iterator[Record]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):  # line 1 holds the headers
            yield _validated(
                number, csv_row_to_record(row), now, timezone, f"file:{path.name}", window
            )


def count_records(path: Path) -> int:
    with path.open(encoding="utf-8-sig") as handle:
        lines = sum(1 for text in handle if text.strip())
    return max(0, lines - 1) if path.suffix.lower() == ".csv" else lines
