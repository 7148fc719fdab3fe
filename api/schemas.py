"""The bodies of the HTTP API: the response models it answers with (built from read-model rows,
never ORM objects), the envelope of a registration and the completion body that cites files by
digest; the command bodies are the domain's Command models. Every router takes its models from
here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from casestream.domain.catalog import (
    MAX_CITED_FILES,
    CaseKind,
    Evidence,
    EvidenceMediaType,
    RootCause,
    Sha256,
)
from casestream.domain.commands import Role
from casestream.domain.deadline_explanation_models import ClockExplanation
from casestream.domain.envelope import CaseId
from casestream.domain.rectifications import ProgressEntry, VerificationEntry
from casestream.read_models.clock_queries import clock_of

from .state_views import StateView


class Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class AnomalyOut(Public):
    event_id: str
    event_type: str
    version: int
    reason: str


class CaseSummary(Public):
    case_id: str
    case_kind: str
    status: str
    version: int
    received_at: datetime
    last_occurred_at: datetime
    department: str | None
    handler: str | None
    enterprise: bool
    enterprise_name: str | None
    decision_ref: str | None
    subject: str | None
    paused: bool
    anomaly_count: int

    @classmethod
    def from_row(cls, row: Any) -> CaseSummary:
        return cls.model_validate(row, from_attributes=True)


class CaseDetail(CaseSummary):
    state: StateView
    anomalies: list[AnomalyOut]


class CasePage(Public):
    items: list[CaseSummary]
    next_cursor: str | None

    @classmethod
    def from_rows(cls, rows: Sequence[Any], next_cursor: str | None) -> CasePage:
        """The page of these rows, each read by attribute (one validation for the page)."""
        return cls.model_validate({"items": rows, "next_cursor": next_cursor}, from_attributes=True)


class EventOut(Public):
    version: int
    event_id: str
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    event: dict[str, Any]


class DisputeCase(Public):
    linked_at: datetime
    case: CaseSummary


class DisputeOut(Public):
    decision_ref: str
    cases: list[DisputeCase]


class Accepted(Public):
    event_id: str
    consistency_token: str
    topic: str
    partition: int
    offset: int


class UploadedFile(Public):
    """An evidence file kept under its digest: cite it by `sha256` in a command or an event."""

    sha256: str
    name: str
    media_type: EvidenceMediaType
    size: int


class Health(Public):
    status: str
    checks: dict[str, str] = {}


class AlertOut(Public):
    """One alert on a deadline clock: 预警 warning, 超期 breach, 升级 escalation, or its clearing."""

    alert_id: str
    clock_id: str
    case_id: str
    case_kind: str
    rule: Annotated[str, Field(validation_alias=AliasChoices("rule", "rule_id"))]
    event_type: str
    level: int
    notify: str | None
    due_at: datetime
    scheduled_at: datetime
    raised_at: datetime
    department: str | None
    enterprise: bool
    status: str
    cleared_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> AlertOut:
        """An alerts row, read by attribute (its `rule_id` is the rule)."""
        return cls.model_validate(row, from_attributes=True)


class AlertPage(Public):
    items: list[AlertOut]
    next_cursor: str | None


class PauseOut(Public):
    """A suspension (中止) of a clock: `end` is None while it lasts."""

    start: date
    end: date | None


class ClockOut(Public):
    """A deadline clock (时限) of a case."""

    clock_id: str
    case_id: str
    case_kind: str
    rule: str
    status: str
    started_at: datetime
    due_date: date
    due_at: datetime
    provisional: bool
    stopped_at: datetime | None
    department: str | None
    enterprise: bool
    next_alert_at: datetime | None
    pauses: list[PauseOut]
    extension: int
    # only with ?explain=true: absent otherwise, so the default answer keeps its shape
    explanation: ClockExplanation | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="with explain=true: how the deadline was counted; absent otherwise, and "
        "for a clock whose rule is no longer in force",
    )

    @classmethod
    def from_row(cls, row: Any, explanation: ClockExplanation | None = None) -> ClockOut:
        clock = clock_of(row)  # the row's detail read once, as the domain reads it
        pauses = [PauseOut(start=start, end=end) for start, end in clock.pauses]
        return cls(
            clock_id=row.clock_id,
            case_id=row.case_id,
            case_kind=row.case_kind,
            rule=row.rule_id,
            status=row.status,
            started_at=row.started_at,
            due_date=row.due_date,
            due_at=row.due_at,
            provisional=row.provisional,
            stopped_at=row.stopped_at,
            department=row.department,
            enterprise=row.enterprise,
            next_alert_at=row.next_alert_at,
            pauses=pauses,
            extension=clock.extension,
            explanation=explanation,
        )


class OverdueClock(ClockOut):
    overdue_seconds: int


class OverdueList(Public):
    as_of: datetime
    items: list[OverdueClock]


class DueClock(ClockOut):
    remaining_seconds: int


class DueList(Public):
    as_of: datetime
    until: datetime
    items: list[DueClock]


class DeliveryOut(Public):
    """One alert's delivery to one webhook."""

    alert_id: str
    webhook_id: str
    event_type: str
    case_id: str
    clock_id: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> DeliveryOut:
        """A deliveries row, read by attribute; only a pending delivery has a next attempt."""
        found = cls.model_validate(row, from_attributes=True)
        if found.status != "pending" and found.next_attempt_at is not None:
            return found.model_copy(update={"next_attempt_at": None})
        return found


class Problem(Public):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblems(Public):
    """422: what is wrong, field by field (the input is never echoed back)."""

    detail: list[Problem]


class Refusal(Public):
    """An answer of 401, 403, 404, 409, 413 or 503: why, in words that name the fix."""

    detail: str


class ConflictReason(Public):
    reason: str
    current_version: int


class Conflict(Public):
    """409 of POST /events: why the case as it stands refuses the event, and its version."""

    detail: ConflictReason


class UnsentReason(Public):
    reason: str
    event_id: str
    retry: str


class Unsent(Public):
    """503 of a write: Kafka is not there or did not confirm the event; how to send it again."""

    detail: UnsentReason


# --- rectification 整改 ------------------------------------------------------------------


class RectificationSummary(Public):
    rectification_id: str
    status: str
    department: str | None
    responsible_person: str | None
    source_case_id: str | None
    source_case_kind: str | None
    review_status: str | None
    opened_at: datetime
    deadline_at: datetime | None
    overdue: bool
    version: int


class RectificationPage(Public):
    items: list[RectificationSummary]
    next_cursor: str | None


class ClockView(Public):
    rule: str
    status: str
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None


class ChainLink(Public):
    case_id: str
    case_kind: str
    status: str
    linked_at: datetime


class ReviewOut(Public):
    """The 复盘 review of a rectification: its task's status, root causes and lessons."""

    review_status: str | None
    root_causes: list[RootCause]
    lessons: str | None


class SourceCase(Public):
    """The case a rectification comes from (its persons masked per role)."""

    case_id: str
    case_kind: str
    status: str
    department: str | None
    decision_ref: str | None
    state: StateView


class RectificationDetail(RectificationSummary):
    description: str | None
    decision_ref: str | None
    review: ReviewOut
    measures: list[str]
    progress_reports: list[ProgressEntry]
    evidence: list[str]
    verifications: list[VerificationEntry]
    cancelled_reason: str | None
    source_case: SourceCase | None
    dispute_chain: list[ChainLink]
    clocks: list[ClockView]
    anomalies: int


# --- the completion body of POST /rectifications/{id}/completion: files cited by digest ---


class CommandBody(BaseModel):
    """A command's JSON body: an unknown field is refused, never ignored."""

    model_config = ConfigDict(extra="forbid")


class Complete(CommandBody):
    """The body the completion route has always taken: each file by the digest POST /files
    answered (the domain's `complete` command takes them described)."""

    evidence: Evidence
    summary: str = Field(default="", max_length=10000)
    files: list[Sha256] = Field(
        default_factory=list,
        max_length=MAX_CITED_FILES,
        description="digests of evidence files uploaded first (POST /files)",
    )


# --- commands (their bodies are the domain's Command models: domain/*_commands.py) -------


class CommandOut(Public):
    """One command of the catalogue: enough for a client to build its form."""

    name: str
    case_kind: CaseKind
    roles: list[Role]
    label_zh: str
    label_en: str
    opens_case: bool  # given with POST /cases; every other one on POST /cases/{id}/commands/{name}
    body_schema: dict[str, Any]  # JSON Schema of the body (`fields` of a registration)


class CommandCatalogue(Public):
    items: list[CommandOut]


class NewCase(BaseModel):
    """The body of POST /cases: the opening command and its fields."""

    model_config = ConfigDict(extra="forbid")

    case_kind: CaseKind
    command: str = Field(min_length=1, max_length=64)
    case_id: CaseId | None = None  # a rectification's is made when absent (RECT-M-…)
    fields: dict[str, Any] = Field(default_factory=dict)


class CommandApplied(Public):
    """200: the command's events are in the read models; 202 (`applied` false): they are on
    Kafka (wait for them with `consistency_token`) or, without one, kept in the outbox that the
    worker publishes."""

    applied: bool
    case_id: str
    version: int  # the case's version once the events are applied
    event_ids: list[str]
    consistency_token: str | None = None
