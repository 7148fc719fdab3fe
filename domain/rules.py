"""Deadline rules (期限规则) as data: the model of one rule, the rule book, and loading them from
the packaged `rules/*.toml` files and an optional deployment file.

A rule file holds an optional `[defaults]` table and an array `[[rule]]` of entries. Fields
are those of `Rule`; `[defaults]` fills fields its file's entries leave out.

A deployment file (`CASESTREAM_RULES_FILE`) overrides **field by field**: an entry whose id
is already known replaces only the fields it gives (a list such as `stops_on` or
`escalation` is replaced whole); `replace = true` in an entry discards the packaged entry
and takes the deployment's as the whole rule; an unknown id adds a rule. The deployment's
`[defaults]` apply to every rule (packaged ones included), below the deployment's own
entries. Precedence, lowest first: model defaults < packaged `[defaults]` < packaged entry
< deployment `[defaults]` < deployment entry.

`when` is a mapping of fact → required value (or a list of allowed values). Facts are the
fields of the starting event's payload, completed by the case's state (see `case_facts`):
`{ channel = "petition" }`, `{ simplified = true }`, `{ form = "ruling" }`.

`role` says what a rule's clock stands for beyond its own deadline (`RuleRole`); the read
models and the clocks ask the rule book by role (`main_rules`, `report_rules`), never by id,
so a deployment that adds or renames a rule gives it the role in its own file.

Only `read_rule_file`, `packaged_rule_files` and `load_rulebook` touch files.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from .catalog import PAYLOAD_TYPES, CaseKind, Payload

Fact = bool | int | str
FactValue = Fact | tuple[Fact, ...]
When = Mapping[str, FactValue]


class Unit(StrEnum):
    calendar_days = "calendar_days"
    working_days = "working_days"  # 工作日: weekdays less holidays, plus 调休 days
    months = "months"
    hours = "hours"
    minutes = "minutes"


class Severity(StrEnum):
    normal = "normal"
    critical = "critical"  # breach has legal consequences (e.g. 行政复议法 Art 70)


class RuleRole(StrEnum):
    """What a rule's clock stands for beyond its own deadline."""

    # 时限 of the case: the bureau's own duty in its kind of case; the clock a ledger shows and
    # by which the figures judge a case handled (or a rectification completed) on time
    main = "main"
    # the report owed on a 行政复议意见书: stopped when the rectification opened for that
    # opinion completes, not by an event of its own case
    report = "report"


class EscalationAnchor(StrEnum):
    first_warning = "first_warning"
    breach = "breach"


class EscalationStep(BaseModel):
    """One rung of the escalation ladder (督办升级): who is told, and when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    level: Annotated[int, Field(ge=1, le=3)]
    notify: Annotated[str, Field(min_length=1, max_length=100)]
    at: EscalationAnchor = EscalationAnchor.breach
    after: Annotated[int, Field(ge=0, le=365)] = 0  # in the rule's alert unit


DEFAULT_LADDER = (
    EscalationStep(level=1, notify="handler", at=EscalationAnchor.first_warning),
    EscalationStep(level=2, notify="department_head", at=EscalationAnchor.breach),
    EscalationStep(level=3, notify="bureau_leadership", at=EscalationAnchor.breach, after=3),
)


def _when_problem(event_type: str, when: When) -> str | None:
    """Why `when` cannot apply to events of `event_type`, or None. Known facts are the
    payload's fields and those of every other event of the same case kinds."""
    payload_type = PAYLOAD_TYPES[event_type]
    related = [payload_type] + [
        other
        for other in PAYLOAD_TYPES.values()
        if other.case_kinds & payload_type.case_kinds and not other.derived
    ]
    known: dict[str, Any] = {}
    for model in related:
        for name, info in model.model_fields.items():
            known.setdefault(name, info.annotation)
    for fact, required in when.items():
        if fact not in known:
            return f"{event_type} cases know no fact {fact!r}; known: {', '.join(sorted(known))}"
        for value in _allowed(required):
            try:
                if (known[fact] is bool) != isinstance(value, bool):
                    raise ValueError(fact)
                TypeAdapter(known[fact]).validate_python(value)
            except ValueError:  # pydantic's ValidationError included
                return f"{value!r} is not a possible value of {fact!r}"
    return None


EventType = Annotated[str, Field(min_length=1)]


class EventMatch(BaseModel):
    """An event type, optionally with facts it must carry (`{ event = "...", when = {...} }`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event: EventType
    when: When = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _plain_name(cls, value: Any) -> Any:
        return {"event": value} if isinstance(value, str) else value

    def matches(self, event_type: str, facts: Mapping[str, object]) -> bool:
        return event_type == self.event and facts_match(self.when, facts)

    def __hash__(self) -> int:  # `when` is a mapping; hash what identifies the match
        return hash((self.event, tuple(sorted(self.when.items()))))


def facts_match(when: When, facts: Mapping[str, object]) -> bool:
    """Whether every required fact is present with the required (or an allowed) value."""
    return all(
        fact in facts and any(_same_fact(facts[fact], value) for value in _allowed(required))
        for fact, required in when.items()
    )


def _allowed(required: FactValue) -> tuple[Fact, ...]:
    return required if isinstance(required, tuple) else (required,)


def _same_fact(actual: object, value: Fact) -> bool:
    # True == 1 in Python; a yes/no fact must not match a number
    return isinstance(actual, bool) == isinstance(value, bool) and actual == value


def case_facts(payload: Payload, state: BaseModel | None = None) -> dict[str, object]:
    """The facts a rule's `when` is matched against: the payload's fields, where the payload
    leaves a field at its default the case state's value, and the state's other fields."""
    facts: dict[str, object] = {name: getattr(payload, name) for name in type(payload).model_fields}
    if state is not None:
        facts.update({name: getattr(state, name) for name in type(state).model_fields})
    facts.update({name: getattr(payload, name) for name in payload.model_fields_set})
    return facts


class Rule(BaseModel):
    """One deadline rule: when its clock starts, stops, pauses, how long it runs, who is told."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$", max_length=100)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    source: Annotated[str, Field(min_length=1, max_length=500)]  # the legal or policy source
    starts_on: EventType
    when: When = Field(default_factory=dict)
    # events that start a new period of the rule, counted from the event with the same length,
    # when none of its clocks is running in the case and `when` matches (重新办理: a complaint
    # handled again); the periods before keep their own outcome
    restarts_on: tuple[EventType, ...] = ()
    stops_on: Annotated[tuple[EventMatch, ...], Field(min_length=1)]
    pauses_on: tuple[EventType, ...] = ()  # 中止
    resumes_on: tuple[EventType, ...] = ()
    extended_by: tuple[EventType, ...] = ()  # 延期
    # events that cancel the running clock (e.g. a hearing rescheduled): it neither meets nor
    # breaches; when the same event also starts the rule, a new clock replaces it
    cancelled_on: tuple[EventType, ...] = ()
    max_extension: Annotated[int, Field(ge=1, le=3650)] | None = None  # None: no cap
    length: Annotated[int, Field(ge=1, le=3650)]
    unit: Unit
    working_hours: bool = False  # hours/minutes count only 09:00-17:00 of working days
    due_date_field: str | None = None  # a date field of the starting event that sets the due date
    # a date field of the starting event the period is counted from (e.g. the decision's date,
    # when the decision is recorded later), instead of the instant the event occurred
    start_date_field: str | None = None
    warnings: tuple[Annotated[int, Field(ge=1, le=365)], ...] = (3, 1)
    alert_unit: Literal[Unit.working_days, Unit.hours, Unit.minutes] | None = None
    escalate: bool = True
    escalation: tuple[EscalationStep, ...] = DEFAULT_LADDER
    severity: Severity = Severity.normal
    role: RuleRole | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        problem = _rule_problem(self)
        if problem is not None:
            field_name, message = problem
            raise PydanticCustomError(
                "rule_field", "{message}", {"field": field_name, "message": message}
            )
        return self

    def __hash__(self) -> int:  # `when` is a mapping; equal rules share these fields
        return hash((self.id, self.starts_on, self.length, self.unit))

    @property
    def effective_alert_unit(self) -> Unit:
        """The unit of warning and escalation offsets."""
        if self.alert_unit is not None:
            return self.alert_unit
        return self.unit if self.unit in (Unit.hours, Unit.minutes) else Unit.working_days

    @property
    def case_kinds(self) -> frozenset[CaseKind]:
        """The kinds of case whose clocks this rule starts (those of its starting event)."""
        return PAYLOAD_TYPES[self.starts_on].case_kinds

    def starts(self, event_type: str, facts: Mapping[str, object]) -> bool:
        """Whether an event of `event_type` with these facts starts a period of the rule (the
        clocks skip a rule whose clock is already running in the case)."""
        starting = event_type == self.starts_on or event_type in self.restarts_on
        return starting and facts_match(self.when, facts)

    def stops(self, event_type: str, facts: Mapping[str, object]) -> bool:
        return any(match.matches(event_type, facts) for match in self.stops_on)

    def fixed_due_date(self, payload: Payload) -> date | None:
        """The due date set on the starting event (e.g. 整改时限), if the rule reads one."""
        if self.due_date_field is None:
            return None
        value = getattr(payload, self.due_date_field, None)
        return value if isinstance(value, date) else None

    def counted_from(self, payload: Payload, occurred_at: datetime, tz: str) -> datetime:
        """The instant the period starts: the start of the day the starting event names in
        `start_date_field` (local time in `tz`), else the instant it occurred."""
        value = None if self.start_date_field is None else getattr(payload, self.start_date_field)
        if not isinstance(value, date):
            return occurred_at
        return datetime.combine(value, time.min, tzinfo=ZoneInfo(tz))


def _rule_problem(rule: Rule) -> tuple[str, str] | None:
    """(field, message) of the first inconsistency pydantic's field types cannot see."""
    kinds = PAYLOAD_TYPES[rule.starts_on].case_kinds if rule.starts_on in PAYLOAD_TYPES else None
    for field_name, names in (
        ("starts_on", (rule.starts_on,)),
        ("restarts_on", rule.restarts_on),
        ("stops_on", tuple(match.event for match in rule.stops_on)),
        ("pauses_on", rule.pauses_on),
        ("resumes_on", rule.resumes_on),
        ("extended_by", rule.extended_by),
        ("cancelled_on", rule.cancelled_on),
    ):
        for name in names:
            if name not in PAYLOAD_TYPES:
                return field_name, f"unknown event type {name!r}; see casestream.domain.catalog"
            if field_name not in ("starts_on", "stops_on") and not (
                kinds and PAYLOAD_TYPES[name].case_kinds & kinds
            ):
                return field_name, f"{name} never happens to {rule.starts_on} cases"
    for field_name, match in [("when", EventMatch(event=rule.starts_on, when=rule.when))] + [
        ("stops_on", match) for match in rule.stops_on
    ]:
        problem = _when_problem(match.event, match.when)
        if problem:
            return field_name, problem
    if bool(rule.pauses_on) != bool(rule.resumes_on):
        return "resumes_on", "pauses_on and resumes_on go together"
    if rule.max_extension is not None and not rule.extended_by:
        return "max_extension", "a rule with max_extension needs extended_by"
    if rule.working_hours and rule.unit not in (Unit.hours, Unit.minutes):
        return "working_hours", "working_hours applies to hours and minutes only"
    for field_name, date_field in (
        ("due_date_field", rule.due_date_field),
        ("start_date_field", rule.start_date_field),
    ):
        if date_field is None:
            continue
        info = PAYLOAD_TYPES[rule.starts_on].model_fields.get(date_field)
        if info is None or date not in getattr(info.annotation, "__args__", (info.annotation,)):
            return field_name, f"{rule.starts_on} has no date field {date_field!r}"
    levels = [step.level for step in rule.escalation]
    if levels != sorted(set(levels)):
        return "escalation", "levels must rise strictly, each level once"
    if not rule.warnings and any(
        step.at is EscalationAnchor.first_warning for step in rule.escalation
    ):
        return "warnings", "cannot be empty while the escalation ladder has a first_warning step"
    return None


class UnknownRule(LookupError):
    """A rule id the rule book does not hold; the message lists the valid ids."""


@dataclass(frozen=True)
class RuleBook:
    """All rules in force, by id."""

    rules: Mapping[str, Rule] = field(default_factory=dict, hash=False)
    _starters: Mapping[str, tuple[Rule, ...]] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", MappingProxyType(dict(self.rules)))
        # the rules an event type may start, in the book's order: every event of a replay asks
        starters: dict[str, list[Rule]] = {}
        for rule in self.rules.values():
            for event_type in dict.fromkeys((rule.starts_on, *rule.restarts_on)):
                starters.setdefault(event_type, []).append(rule)
        object.__setattr__(
            self, "_starters", {name: tuple(found) for name, found in starters.items()}
        )

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(sorted(self.rules))

    def get(self, rule_id: str) -> Rule:
        try:
            return self.rules[rule_id]
        except KeyError:
            raise UnknownRule(
                f"unknown rule {rule_id!r}; valid rules: {', '.join(self.ids)}"
            ) from None

    def starting_on(self, event_type: str, facts: Mapping[str, object]) -> tuple[Rule, ...]:
        candidates: tuple[Rule, ...] = self._starters.get(event_type, ())
        return tuple(rule for rule in candidates if rule.starts(event_type, facts))

    def with_role(self, role: RuleRole, kind: CaseKind | None = None) -> tuple[str, ...]:
        """The ids of the rules of `role` (for cases of `kind`, or of any kind), sorted."""
        return tuple(
            rule.id
            for rule in sorted(self.rules.values(), key=lambda rule: rule.id)
            if rule.role is role and (kind is None or kind in rule.case_kinds)
        )

    def main_rules(self, kind: CaseKind | None = None) -> tuple[str, ...]:
        """The main (时限) rules of `kind`, or of every kind: see `RuleRole.main`."""
        return self.with_role(RuleRole.main, kind)

    def report_rules(self) -> tuple[str, ...]:
        """The 意见书 report rules: see `RuleRole.report`."""
        return self.with_role(RuleRole.report)


# --- loading ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleProblem:
    file: str
    rule_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        rule = "" if self.rule_id is None else f": rule {self.rule_id!r}"
        field_name = "" if self.field is None else f": field {self.field!r}"
        return f"{self.file}{rule}{field_name}: {self.message}"


class RuleFileError(ValueError):
    """A rule file that cannot be loaded; names the file, rule id and field of each problem."""

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid deadline rules:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class RuleDocument:
    """A parsed rule file: its name (for errors), `[defaults]` and `[[rule]]` entries."""

    source: str
    defaults: Mapping[str, Any]
    entries: tuple[Mapping[str, Any], ...]


def parse_rule_document(document: Mapping[str, Any], source: str) -> RuleDocument:
    unknown = sorted(set(document) - {"defaults", "rule"})
    if unknown:
        raise RuleFileError(
            [RuleProblem(source, None, unknown[0], "a rule file holds [defaults] and [[rule]]")]
        )
    defaults = document.get("defaults", {})
    entries = document.get("rule", [])
    if not isinstance(defaults, dict) or "id" in defaults:
        raise RuleFileError([RuleProblem(source, None, "defaults", "must be a table without id")])
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise RuleFileError([RuleProblem(source, None, "rule", "must be an array of [[rule]]")])
    problems: list[RuleProblem] = []
    seen: set[str] = set()
    for position, entry in enumerate(entries, start=1):
        rule_id = entry.get("id")
        if not isinstance(rule_id, str) or not rule_id or rule_id in seen:
            message = "defined twice in this file" if rule_id in seen else "every rule needs an id"
            problems.append(RuleProblem(source, str(rule_id or f"#{position}"), "id", message))
        seen.add(str(rule_id))
    if problems:
        raise RuleFileError(problems)
    return RuleDocument(source, dict(defaults), tuple(dict(entry) for entry in entries))


def _layer(
    fields: dict[str, Any], origin: dict[str, str], layer: Mapping[str, Any], source: str
) -> None:
    for name, value in layer.items():
        if name != "replace":
            fields[name] = value
            origin[name] = source
    if layer:
        origin[_LAST] = source  # blamed for problems spanning several fields


_LAST = "\x00last"


def build_rulebook(packaged: Sequence[RuleDocument], deployment: RuleDocument | None) -> RuleBook:
    """Merge packaged and deployment rule documents (see the module docstring) and validate."""
    merged: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
    problems: list[RuleProblem] = []
    for document in packaged:
        for entry in document.entries:
            rule_id = entry["id"]
            if rule_id in merged:
                first = merged[rule_id][1]["id"]
                problems.append(
                    RuleProblem(document.source, rule_id, "id", f"already defined in {first}")
                )
                continue
            fields: dict[str, Any] = {}
            origin: dict[str, str] = {}
            _layer(fields, origin, document.defaults, document.source)
            _layer(fields, origin, entry, document.source)
            merged[rule_id] = (fields, origin)
    if deployment is not None:
        for fields, origin in merged.values():
            _layer(fields, origin, deployment.defaults, deployment.source)
        for entry in deployment.entries:
            rule_id = entry["id"]
            if entry.get("replace", False) is True or rule_id not in merged:
                merged[rule_id] = ({}, {})
                _layer(*merged[rule_id], deployment.defaults, deployment.source)
            _layer(*merged[rule_id], entry, deployment.source)
    rules: dict[str, Rule] = {}
    for rule_id, (fields, origin) in merged.items():
        try:
            rules[rule_id] = Rule.model_validate(fields)
        except ValidationError as exc:
            for detail in exc.errors():
                loc = [str(part) for part in detail["loc"]]
                field_name = str(detail.get("ctx", {}).get("field", "")) or (loc[0] if loc else "")
                where = ".".join(loc) if loc else field_name
                cross_field = "field" in detail.get("ctx", {})
                file = origin[_LAST] if cross_field else origin.get(field_name, origin[_LAST])
                message = detail["msg"] if where == field_name else f"{where}: {detail['msg']}"
                problems.append(RuleProblem(file, rule_id, field_name or None, message))
    if problems:
        raise RuleFileError(problems)
    return RuleBook(rules)


def read_rule_file(path: Path | Traversable) -> RuleDocument:
    """Read and parse one rule file (a Path, or a packaged resource)."""
    source = str(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RuleFileError([RuleProblem(source, None, None, f"cannot read: {exc}")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError([RuleProblem(source, None, None, f"not valid TOML: {exc}")]) from exc
    return parse_rule_document(document, source)


def packaged_rule_files() -> list[Traversable]:
    """The default rule files shipped in `casestream.domain/rules/`, in name order."""
    folder = files(__package__ or "casestream.domain") / "rules"
    return sorted(
        (item for item in folder.iterdir() if item.name.endswith(".toml")),
        key=lambda item: item.name,
    )


def load_rulebook(deployment_file: Path | None = None) -> RuleBook:
    """The packaged rules with the deployment's rule file (if any) laid over them."""
    packaged = [read_rule_file(item) for item in packaged_rule_files()]
    deployment = read_rule_file(deployment_file) if deployment_file is not None else None
    return build_rulebook(packaged, deployment)
