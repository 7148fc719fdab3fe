"""The mapping of a work-order export (工单导出) onto casestream events: which column holds the
work-order number, which columns feed which event fields, how words translate, how dates read.

A mapping is a TOML file (the packaged ones live in `mappings/`; docs/import.md describes the
format); `load_mapping` reads and checks one, naming the key at fault.
"""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from casestream.domain.catalog import PAYLOAD_TYPES, CaseKind, Origin

MAX_MAPPING_BYTES = 1 << 20

PACKAGED = {"12345": "hotline_12345", "hotline_12345": "hotline_12345"}
"""The names `--mapping` accepts for a mapping shipped with casestream, and its file."""

Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Header = Annotated[str, Field(min_length=1, max_length=200)]
Constant = str | bool | int


class MappingError(ValueError):
    """A mapping that cannot be used; the message names the key and the fix."""


def normalize_header(text: str) -> str:
    """A header as compared: without any white space (exports break long headers in two)."""
    return re.sub(r"\s+", "", text.replace("\ufeff", ""))


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Column(_Frozen):
    """One column of the export: the header(s) it may have, how its cells read."""

    header: Header | Annotated[list[Header], Field(min_length=1, max_length=10)]
    type: Literal["text", "datetime"] = "text"
    translate: Name | None = None  # a table of [translations]
    required: bool = False  # every row must have it filled (else the row is refused)

    @property
    def headers(self) -> tuple[str, ...]:
        found = [self.header] if isinstance(self.header, str) else self.header
        return tuple(normalize_header(header) for header in found)


class Translation(_Frozen):
    """Words of the export and the value each stands for (满意 → 5, 是 → true)."""

    values: dict[Annotated[str, Field(min_length=1, max_length=200)], Constant] = Field(
        min_length=1, max_length=1000
    )
    unknown: Literal["error", "keep"] = "error"  # a word not listed: refuse the row, or keep it
    otherwise: Constant | None = None  # the value of any word not listed (instead of `unknown`)

    @field_validator("values")
    @classmethod
    def _words_as_compared(cls, values: dict[str, Constant]) -> dict[str, Constant]:
        return {word.strip(): value for word, value in values.items()}


class FieldSource(_Frozen):
    """Where one payload field comes from: the first filled of some columns, or a constant."""

    column: Name | Annotated[list[Name], Field(min_length=1, max_length=10)] | None = None
    value: Constant | None = None
    default: Constant | None = None  # when every column named is empty
    shorten: Annotated[int, Field(ge=1, le=10000)] | None = None  # cut text to this many chars

    @model_validator(mode="after")
    def _column_or_value(self) -> FieldSource:
        if (self.column is None) == (self.value is None):
            raise ValueError("give either `column` (a name from [columns]) or `value`")
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        if self.column is None:
            return ()
        return (self.column,) if isinstance(self.column, str) else tuple(self.column)


class EventRule(_Frozen):
    """One event a row yields: its type, when it happened, when it applies, its payload."""

    type: Annotated[str, Field(min_length=1, max_length=64)]
    id: Name | None = None  # what tells this event apart within its work order; default: type
    at: Name | Annotated[list[Name], Field(min_length=1, max_length=10)]
    when: list[Name] = Field(default_factory=list, max_length=10)
    id_columns: list[Name] = Field(default_factory=list, max_length=5)
    # each payload field (dotted for a nested object) and where it comes from; a bare name
    # stands for {column = name}
    payload: dict[Annotated[str, Field(min_length=1, max_length=100)], FieldSource] = Field(
        default_factory=dict, max_length=50
    )

    @field_validator("payload", mode="before")
    @classmethod
    def _bare_names_are_columns(cls, payload: object) -> object:
        if isinstance(payload, dict):
            return {
                field: {"column": source} if isinstance(source, str) else source
                for field, source in payload.items()
            }
        return payload

    @property
    def record_key(self) -> str:
        return self.id or self.type

    @property
    def at_columns(self) -> tuple[str, ...]:
        return (self.at,) if isinstance(self.at, str) else tuple(self.at)


class WorkOrderMapping(_Frozen):
    """A whole mapping file (see docs/import.md)."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    source: Annotated[str, Field(min_length=1, max_length=100)]
    case_kind: CaseKind = CaseKind.complaint
    case_id_prefix: Annotated[str, Field(max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$")]
    number_column: Name
    timezone: str | None = None
    date_formats: list[Annotated[str, Field(min_length=2, max_length=50)]] = Field(
        default_factory=list, max_length=30
    )
    ignore: list[Header] = Field(default_factory=list, max_length=200)
    columns: dict[Name, Column] = Field(min_length=1, max_length=200)
    translations: dict[Name, Translation] = Field(default_factory=dict, max_length=50)
    events: list[EventRule] = Field(min_length=1, max_length=20)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}; e.g. Asia/Shanghai") from exc
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> WorkOrderMapping:
        problems = list(self._reference_problems())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _reference_problems(self) -> list[str]:
        problems: list[str] = []
        if self.number_column not in self.columns:
            problems.append(f"number_column {self.number_column!r} is not a name in [columns]")
        for name, column in self.columns.items():
            if column.translate is not None and column.translate not in self.translations:
                problems.append(
                    f"columns.{name}.translate: no [translations.{column.translate}] table"
                )
        seen: set[str] = set()
        for index, rule in enumerate(self.events):
            where = f"events[{index}] ({rule.type})"
            payload_type = PAYLOAD_TYPES.get(rule.type)
            if payload_type is None:
                problems.append(f"{where}: no event type {rule.type!r} in the catalog")
                continue
            if payload_type.origin is not Origin.outside:
                problems.append(
                    f"{where}: {rule.type} is not a fact from outside: made through its "
                    "command or by casestream, never imported"
                )
            if self.case_kind not in payload_type.case_kinds:
                problems.append(f"{where}: {rule.type} cannot belong to a {self.case_kind}")
            if rule.record_key in seen:
                problems.append(f"{where}: a second event with id {rule.record_key!r}; set `id`")
            seen.add(rule.record_key)
            for name in rule.at_columns:
                at_column = self.columns.get(name)
                if at_column is None or at_column.type != "datetime":
                    problems.append(f"{where}.at: {name!r} is not a datetime column")
            named = [*rule.when, *rule.id_columns]
            named += [name for source in rule.payload.values() for name in source.columns]
            problems += [
                f"{where}: {name!r} is not a name in [columns]"
                for name in named
                if name not in self.columns
            ]
        return problems

    def zone(self, deployment_zone: str) -> ZoneInfo:
        """The zone the export's dates are in: the mapping's, else the deployment's."""
        return ZoneInfo(self.timezone or deployment_zone)


def parse_mapping(text: str, *, origin: str) -> WorkOrderMapping:
    """The mapping a TOML text describes; MappingError naming `origin` and the key at fault."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{origin}: not valid TOML: {exc}") from exc
    try:
        return WorkOrderMapping.model_validate(document)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or 'mapping'}: {error['msg']}"
            for error in exc.errors()
        ]
        raise MappingError(f"{origin}: " + "; ".join(problems)) from exc


def load_mapping(spec: str) -> WorkOrderMapping:
    """A packaged mapping by name (`12345`), else the mapping file at path `spec`."""
    if spec in PACKAGED:
        resource = resources.files("casestream.producers").joinpath(
            "mappings", f"{PACKAGED[spec]}.toml"
        )
        return parse_mapping(resource.read_text(encoding="utf-8"), origin=f"mapping {spec}")
    path = Path(spec)
    if not path.is_file():
        names = ", ".join(sorted(PACKAGED))
        raise MappingError(f"no mapping {spec!r}: give a TOML file's path or one of: {names}")
    if path.stat().st_size > MAX_MAPPING_BYTES:
        raise MappingError(f"{path}: a mapping is at most {MAX_MAPPING_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MappingError(f"{path}: save the mapping as UTF-8 ({exc.reason})") from exc
    return parse_mapping(text, origin=str(path))
