"""Work orders (工单) of an export turned into casestream events through a mapping: pure
functions from rows to the events of each row, or to the row's errors naming row and column.

Ids are deterministic: the case id comes from the work-order number, each event id from the
mapping's `source`, the number and the event's key, so an export imported twice (or a later
export holding the same work orders) records each fact once.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pydantic

from casestream.domain.envelope import Event, field_errors
from casestream.domain.plausibility import DateWindow

from .intake import validate_record
from .work_order_mapping import Column, EventRule, WorkOrderMapping, normalize_header
from .work_order_tables import Sheet, SheetRow, TableError

HEADER_SEARCH_ROWS = 10  # a title or a date range may stand above the headers
QUOTED_CHARS = 30  # how much of a refused cell an error repeats
_CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")


@dataclass(frozen=True)
class RowError:
    """Why row `row` was not imported: the column at fault (its header) and the reason."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.column}: {self.reason}"


@dataclass(frozen=True)
class RowOutcome:
    """The events of one row, or (none of them, and) why not."""

    row: int
    case_id: str | None
    events: tuple[Event[Any], ...]
    errors: tuple[RowError, ...]


@dataclass(frozen=True)
class Layout:
    """Where each column of the mapping is in the sheet (None: the export lacks it)."""

    header_row: int
    positions: dict[str, int | None]
    headers: dict[str, str]  # the header each column was found under, as the export spells it
    unmapped: tuple[str, ...]  # headers of the export the mapping neither reads nor ignores
    missing: tuple[str, ...]  # optional columns of the mapping the export lacks


@dataclass
class ImportTally:
    """What an import sent or would send: rows, cases, events by type, row errors."""

    rows: int = 0
    cases: set[str] = field(default_factory=set)
    events_by_type: Counter[str] = field(default_factory=Counter)
    errors: list[RowError] = field(default_factory=list)

    def add(self, outcome: RowOutcome) -> None:
        self.rows += 1
        self.errors.extend(outcome.errors)
        if outcome.events and outcome.case_id is not None:
            self.cases.add(outcome.case_id)
            self.events_by_type.update(event.event_type for event in outcome.events)

    @property
    def refused_rows(self) -> int:
        return len({error.row for error in self.errors})


def quoted(text: str) -> str:
    """A cell's text as an error repeats it: its start only, and its length when cut."""
    if len(text) <= QUOTED_CHARS:
        return repr(text)
    return f"{text[:QUOTED_CHARS]!r}… ({len(text)} characters)"


def locate_columns(sheet: Sheet, mapping: WorkOrderMapping) -> Layout:
    """Find the header row (the first holding the work-order number's header) and each column;
    TableError naming the headers a required column may have when the export lacks it."""
    number = mapping.columns[mapping.number_column]
    for row in sheet.rows[:HEADER_SEARCH_ROWS]:
        found = [normalize_header(cell) for cell in row.cells]
        if any(header in found for header in number.headers):
            return _layout(row, found, mapping)
    raise TableError(
        f"no header row: none of the first {HEADER_SEARCH_ROWS} rows holds "
        f"{' or '.join(number.headers)} (the work-order number): is this the export "
        f"{mapping.name!r} reads?"
    )


def _layout(row: SheetRow, found: list[str], mapping: WorkOrderMapping) -> Layout:
    positions: dict[str, int | None] = {}
    headers: dict[str, str] = {}
    lacking: list[str] = []
    for name, column in mapping.columns.items():
        index = next((found.index(h) for h in column.headers if h in found), None)
        positions[name] = index
        if index is None:
            headers[name] = column.headers[0]
            lacking.append(name)
        else:
            headers[name] = found[index]
    required = [
        name for name in lacking if mapping.columns[name].required or name == mapping.number_column
    ]
    if required:
        wanted = "; ".join(" or ".join(mapping.columns[name].headers) for name in required)
        raise TableError(f"the export lacks the column(s) {wanted} that {mapping.name!r} needs")
    read = {index for index in positions.values() if index is not None}
    ignored = {normalize_header(header) for header in mapping.ignore}
    unmapped = tuple(
        header[:QUOTED_CHARS]
        for index, header in enumerate(found)
        if header and index not in read and header not in ignored
    )
    missing = tuple(headers[name] for name in lacking)
    return Layout(row.number, positions, headers, unmapped, missing)


def case_id_for(mapping: WorkOrderMapping, number: str) -> str:
    """The case of a work order: the prefix and the number, or (a number with characters a
    case id cannot hold) the prefix and a digest of the number."""
    candidate = f"{mapping.case_id_prefix}{number}"
    if _CASE_ID.match(candidate) and len(candidate) <= 100:
        return candidate
    return f"{mapping.case_id_prefix}{hashlib.sha256(number.encode()).hexdigest()[:24]}"


def map_rows(
    sheet: Sheet,
    layout: Layout,
    mapping: WorkOrderMapping,
    *,
    now: datetime,
    timezone: str,
    window: DateWindow,
    max_cell_chars: int,
) -> Iterator[RowOutcome]:
    """The outcome of each row under the header row; a work-order number seen on an earlier
    row of the same export refuses the later row."""
    first_row: dict[str, int] = {}
    for row in sheet.rows:
        if row.number <= layout.header_row:
            continue
        outcome = map_row(
            row,
            layout,
            mapping,
            now=now,
            timezone=timezone,
            window=window,
            max_cell_chars=max_cell_chars,
        )
        if outcome.case_id is not None and outcome.events:
            earlier = first_row.setdefault(outcome.case_id, row.number)
            if earlier != row.number:
                header = layout.headers[mapping.number_column]
                reason = f"the same work-order number as row {earlier}: remove one of the two"
                outcome = RowOutcome(row.number, None, (), (RowError(row.number, header, reason),))
        yield outcome


def map_row(
    row: SheetRow,
    layout: Layout,
    mapping: WorkOrderMapping,
    *,
    now: datetime,
    timezone: str,
    window: DateWindow,
    max_cell_chars: int,
) -> RowOutcome:
    """The events one row yields under `mapping`, validated as intake validates every event;
    or, when any cell or event is wrong, none and every error found."""
    zone = mapping.zone(timezone)
    values: dict[str, Any] = {}
    errors: list[RowError] = []
    for name, column in mapping.columns.items():
        index = layout.positions[name]
        text = row.cells[index].strip() if index is not None and index < len(row.cells) else ""
        try:
            value = _read_cell(text, column, mapping, zone, max_cell_chars)
        except ValueError as exc:
            errors.append(RowError(row.number, layout.headers[name], str(exc)))
            continue
        if value is None and (column.required or name == mapping.number_column):
            why = "empty: every row needs its work-order number"
            if name != mapping.number_column:
                why = "empty, and the mapping requires it"
            errors.append(RowError(row.number, layout.headers[name], why))
        if value is not None:
            values[name] = value
    if errors:
        return RowOutcome(row.number, None, (), tuple(errors))
    number = str(values[mapping.number_column])
    case_id = case_id_for(mapping, number)
    events: list[Event[Any]] = []
    for rule in mapping.events:
        if not all(name in values for name in rule.when):
            continue
        try:
            events.append(_event(rule, values, mapping, case_id, number, now, timezone, window))
        except _FieldProblems as problems:
            for field_name, message in problems.found:
                header = _header_of(field_name, rule, layout, values)
                if not any(e.column == header and e.reason.endswith(message) for e in errors):
                    errors.append(RowError(row.number, header, f"{rule.type}: {message}"))
    if errors:
        return RowOutcome(row.number, case_id, (), tuple(errors))
    return RowOutcome(row.number, case_id, tuple(events), ())


def _read_cell(
    text: str, column: Column, mapping: WorkOrderMapping, zone: ZoneInfo, max_chars: int
) -> Any:
    """The value of one cell (None when empty); ValueError saying why it cannot be read."""
    if not text:
        return None
    if len(text) > max_chars:
        raise ValueError(f"longer than {max_chars} characters: shorten the cell")
    if column.type == "datetime":
        return parse_datetime(text, mapping.date_formats, zone)
    if column.translate is not None:
        translation = mapping.translations[column.translate]
        words = translation.values
        if text in words:
            return words[text]
        if translation.otherwise is not None:
            return translation.otherwise
        if translation.unknown == "keep":
            return text
        known = "、".join(list(words)[:8])
        raise ValueError(
            f"unknown word {quoted(text)}; known: {known} "
            f"(add it to [translations.{column.translate}.values] of the mapping)"
        )
    return text


def parse_datetime(text: str, formats: list[str], zone: ZoneInfo) -> datetime:
    """An instant from a cell: in one of `formats`, else ISO 8601; a time without offset is
    in `zone`. ValueError naming the formats when it is neither."""
    for pattern in formats:
        try:
            parsed = datetime.strptime(text, pattern)
            break
        except ValueError:
            continue
    else:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            shown = ", ".join(formats[:4]) or "ISO 8601"
            raise ValueError(
                f"not a date and time: {quoted(text)}; expected e.g. {shown}"
            ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


class _FieldProblems(Exception):
    def __init__(self, found: list[tuple[str, str]]) -> None:
        super().__init__(found)
        self.found = found


def _event(
    rule: EventRule,
    values: dict[str, Any],
    mapping: WorkOrderMapping,
    case_id: str,
    number: str,
    now: datetime,
    timezone: str,
    window: DateWindow,
) -> Event[Any]:
    occurred_at = next((values[name] for name in rule.at_columns if name in values), None)
    if occurred_at is None:
        raise _FieldProblems([("occurred_at", "empty: the event needs its date and time")])
    record_id = "/".join(
        [number, rule.record_key, *(str(values.get(n, "")) for n in rule.id_columns)]
    )
    raw = {
        "event_type": rule.type,
        "case_id": case_id,
        "case_kind": mapping.case_kind.value,
        "occurred_at": occurred_at.isoformat(),
        "source_record_id": record_id,
        "payload": _payload(rule, values),
    }
    try:
        return validate_record(
            raw,
            now=now,
            timezone=timezone,
            source=mapping.source,
            actor=mapping.source,
            window=window,
        )
    except pydantic.ValidationError as exc:
        raise _FieldProblems(field_errors(exc)) from exc


def _payload(rule: EventRule, values: dict[str, Any]) -> dict[str, Any]:
    """The payload of `rule` from a row's values; a nested object with nothing filled is left out."""
    payload: dict[str, Any] = {}
    for dotted, source in rule.payload.items():
        if source.value is not None:
            value: Any = source.value
        else:
            value = next((values[name] for name in source.columns if name in values), None)
            if value is None:
                value = source.default
            if isinstance(value, datetime):
                value = value.isoformat()
            if (
                source.shorten is not None
                and isinstance(value, str)
                and len(value) > source.shorten
            ):
                value = value[: source.shorten - 1] + "…"
        if value is None:
            continue
        *parents, leaf = dotted.split(".")
        target = payload
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return payload


def _header_of(field: str, rule: EventRule, layout: Layout, values: dict[str, Any]) -> str:
    """The header of the column a field of an event came from (the longest matching path)."""
    sources = rule.payload
    if field == "occurred_at":
        used = [name for name in rule.at_columns if name in values][:1] or rule.at_columns
        return " / ".join(layout.headers[name] for name in used)
    parts = field.removeprefix("payload.").split(".")
    for end in range(len(parts), 0, -1):
        source = sources.get(".".join(parts[:end]))
        if source is not None:
            if source.columns:
                return " / ".join(layout.headers[name] for name in source.columns)
            return f"(the mapping's {rule.type} {'.'.join(parts[:end])})"
    return f"({rule.type} {field})"
