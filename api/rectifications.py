"""The rectification tracking API (整改跟踪督办): lists, one rectification in full, and the
commands of its users, each turned into an event on Kafka (never a direct write).

A command the rectification's current state does not allow (e.g. verifying one that is not
completed) answers 409 with the reason; one the caller's role may not give answers 403; a
rectification outside the caller's department answers 404.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from casestream.domain.catalog import (
    PAYLOAD_TYPES,
    CaseKind,
    Evidence,
    NonEmpty,
    RootCauses,
    ShortText,
)
from casestream.domain.envelope import field_errors, parse_event
from casestream.domain.rectifications import RECTIFICATION, RectificationState
from casestream.policy import date_window
from casestream.producers.intake import refuse_implausible
from casestream.read_models.queries import BadCursor
from casestream.read_models.rectification_queries import (
    RectificationFilter,
    RectificationQueries,
    Sort,
)

from .auth import Principal, PrincipalDep, Role, not_found, require_roles, visible_department
from .deps import Services, ServicesDep
from .masking import shown_to
from .params import CursorQuery, Instant
from .problems import query_problem, unprocessable
from .responses import COMMAND_REFUSED, KAFKA_UNAVAILABLE, NOT_FOUND
from .schemas import Accepted
from .writes import publish

router = APIRouter(tags=["rectifications"])

# who may move a rectification on (besides the supervisors' own verify / reject)
WORKERS = (
    Role.handler,
    Role.department_head,
    Role.legal,
    Role.supervisor,
    Role.leader,
    Role.system,
)
OPENERS = (Role.department_head, Role.legal, Role.supervisor, Role.leader, Role.system)
SUPERVISORS = (Role.supervisor,)
REOPENERS = (Role.supervisor, Role.legal)


class RectificationSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

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


class RectificationPage(BaseModel):
    items: list[RectificationSummary]
    next_cursor: str | None


class ClockView(BaseModel):
    rule: str
    status: str
    started_at: datetime
    due_at: datetime
    stopped_at: datetime | None


class ChainLink(BaseModel):
    case_id: str
    case_kind: str
    status: str
    linked_at: datetime


class RectificationDetail(RectificationSummary):
    description: str | None
    decision_ref: str | None
    review: dict[str, Any]
    measures: list[str]
    progress_reports: list[dict[str, Any]]
    evidence: list[str]
    verifications: list[dict[str, Any]]
    cancelled_reason: str | None
    source_case: dict[str, Any] | None
    dispute_chain: list[ChainLink]
    clocks: list[ClockView]
    anomalies: int


def _queries(services: ServicesDep) -> RectificationQueries:
    return RectificationQueries(services.queries.engine, services.rulebook)


QueriesDep = Annotated[RectificationQueries, Depends(_queries)]


def _summary(row: Any) -> RectificationSummary:
    state = row.state
    return RectificationSummary(
        rectification_id=row.case_id,
        status=row.status,
        department=row.department,
        responsible_person=state.get("responsible_person"),
        source_case_id=state.get("source_case_id"),
        source_case_kind=state.get("source_case_kind"),
        review_status=state.get("review_status"),
        opened_at=row.received_at,
        deadline_at=getattr(row, "deadline_at", None),
        overdue=bool(getattr(row, "overdue", False)),
        version=row.version,
    )


@router.get("/rectifications", response_model=RectificationPage)
def list_rectifications(
    queries: QueriesDep,
    services: ServicesDep,
    principal: PrincipalDep,
    status: str | None = None,
    department: str | None = None,
    responsible_person: str | None = None,
    source_case_kind: CaseKind | None = None,
    overdue: bool | None = None,
    opened_from: Instant | None = None,
    opened_to: Instant | None = None,
    sort: Sort = "opened_desc",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: CursorQuery = None,
) -> RectificationPage:
    where = RectificationFilter(
        status=status,
        department=department,
        responsible_person=responsible_person,
        source_case_kind=source_case_kind.value if source_case_kind else None,
        overdue=overdue,
        opened_from=opened_from,
        opened_to=opened_to,
        visible_department=visible_department(principal),
    )
    try:
        page = queries.list(where, now=services.now(), sort=sort, limit=limit, cursor=cursor)
    except BadCursor as exc:
        raise query_problem("cursor", str(exc)) from exc
    return RectificationPage(
        items=[_summary(row) for row in page.rows], next_cursor=page.next_cursor
    )


@router.get(
    "/rectifications/{rectification_id}", response_model=RectificationDetail, responses=NOT_FOUND
)
def get_rectification(
    rectification_id: str, queries: QueriesDep, services: ServicesDep, principal: PrincipalDep
) -> RectificationDetail:
    found = queries.get(rectification_id, visible_department(principal), now=services.now())
    if found is None:
        raise not_found(f"rectification {rectification_id!r}")
    row, state = found.case, found.case.state
    source = None
    if found.source is not None and (
        visible_department(principal) in (None, found.source.department)
    ):
        source = shown_to(
            principal,
            {
                "case_id": found.source.case_id,
                "case_kind": found.source.case_kind,
                "status": found.source.status,
                "department": found.source.department,
                "decision_ref": found.source.decision_ref,
                "state": found.source.state,
            },
        )
    return RectificationDetail(
        **_summary(row).model_dump(),
        description=state.get("description"),
        decision_ref=row.decision_ref,
        review={key: state.get(key) for key in ("review_status", "root_causes", "lessons")},
        measures=list(state.get("measures") or ()),
        progress_reports=list(state.get("progress_reports") or ()),
        evidence=list(state.get("evidence") or ()),
        verifications=list(state.get("verifications") or ()),
        cancelled_reason=state.get("cancelled_reason"),
        source_case=source,
        dispute_chain=[
            ChainLink(
                case_id=link.case_id,
                case_kind=link.case_kind,
                status=link.status,
                linked_at=link.linked_at,
            )
            for link in found.dispute
            if visible_department(principal) in (None, link.department)
        ],
        clocks=[
            ClockView(
                rule=c.rule_id,
                status=c.status,
                started_at=c.started_at,
                due_at=c.due_at,
                stopped_at=c.stopped_at,
            )
            for c in found.clocks
        ],
        anomalies=row.anomaly_count,
    )


# --- commands ----------------------------------------------------------------------------


class OpenRectification(BaseModel):
    """Open a rectification by hand (e.g. from 执法质量考评 findings)."""

    model_config = ConfigDict(extra="forbid")

    department: ShortText
    responsible_person: ShortText
    deadline: date | None = None
    description: str = Field(default="", max_length=10000)
    source_case_id: ShortText | None = None
    with_review: bool = False  # also open a 复盘 review task


class CompleteReview(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root_causes: RootCauses
    lessons: NonEmpty


class AddMeasure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    measure: NonEmpty


class ReportProgress(BaseModel):
    model_config = ConfigDict(extra="forbid")

    progress: NonEmpty
    percent: int | None = Field(default=None, ge=0, le=100)


class Complete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evidence: Evidence
    summary: str = Field(default="", max_length=10000)


class Verify(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=2000)


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: NonEmpty


async def _send(
    services: Services, principal: Principal, case_id: str, event_type: str, payload: dict[str, Any]
) -> Accepted:
    now = datetime.now(UTC)
    try:
        event = parse_event(
            {
                "event_id": str(uuid.uuid4()),
                "event_type": event_type,
                "case_id": case_id,
                "case_kind": CaseKind.rectification.value,
                "occurred_at": now.isoformat(),
                "recorded_at": now.isoformat(),
                "source": principal.source,
                "actor": principal.subject,
                "payload": payload,
            },
            timezone=services.settings.timezone,
        )
        refuse_implausible(event, now=now, window=date_window(services.settings))
    except pydantic.ValidationError as exc:  # the payload's fields are the body's
        problems = field_errors(exc)
        raise unprocessable(
            "body", [(field.removeprefix("payload."), msg) for field, msg in problems]
        ) from exc
    return await publish(services, event)


def _current(
    queries: RectificationQueries, rectification_id: str, principal: Principal, now: datetime
) -> RectificationState:
    found = queries.get(rectification_id, visible_department(principal), now=now)
    if found is None:
        raise not_found(f"rectification {rectification_id!r}")
    return RectificationState.model_validate(found.case.state)


async def _command(
    queries: RectificationQueries,
    services: Services,
    principal: Principal,
    rectification_id: str,
    event_type: str,
    payload: dict[str, Any],
) -> Accepted:
    state = await run_in_threadpool(_current, queries, rectification_id, principal, services.now())
    refusal = RECTIFICATION.refusal(state, PAYLOAD_TYPES[event_type])
    if event_type == "ReviewCompleted" and state.review_status != "open":
        refusal = "this rectification has no open 复盘 review task"
    if refusal:
        raise HTTPException(409, f"{refusal} (as of version {state.version})")
    return await _send(services, principal, rectification_id, event_type, payload)


Workers = Annotated[Principal, Depends(require_roles(*WORKERS))]
COMMAND_RESPONSES = {**NOT_FOUND, **COMMAND_REFUSED, **KAFKA_UNAVAILABLE}


@router.post(
    "/rectifications", status_code=202, response_model=Accepted, responses=KAFKA_UNAVAILABLE
)
async def open_rectification(
    body: OpenRectification,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require_roles(*OPENERS))],
) -> Accepted:
    scope = visible_department(principal)
    if scope is not None and body.department != scope:
        raise HTTPException(403, f"a {principal.role.value} opens rectifications of {scope} only")
    case_id = f"RECT-M-{uuid.uuid4().hex[:10].upper()}"
    fields = body.model_dump(mode="json", exclude={"with_review"}, exclude_none=True)
    if body.with_review:
        review = {
            "source_case_id": body.source_case_id or case_id,
            "source_case_kind": CaseKind.rectification.value,
            "department": body.department,
            "responsible_person": body.responsible_person,
        }
        await _send(services, principal, case_id, "ReviewTaskOpened", review)
    return await _send(services, principal, case_id, "RectificationOpened", fields)


@router.post(
    "/rectifications/{rectification_id}/review",
    status_code=202,
    response_model=Accepted,
    responses=COMMAND_RESPONSES,
)
async def complete_review(
    rectification_id: str,
    body: CompleteReview,
    queries: QueriesDep,
    services: ServicesDep,
    principal: Workers,
) -> Accepted:
    return await _command(
        queries,
        services,
        principal,
        rectification_id,
        "ReviewCompleted",
        body.model_dump(mode="json"),
    )


@router.post(
    "/rectifications/{rectification_id}/measures",
    status_code=202,
    response_model=Accepted,
    responses=COMMAND_RESPONSES,
)
async def add_measure(
    rectification_id: str,
    body: AddMeasure,
    queries: QueriesDep,
    services: ServicesDep,
    principal: Workers,
) -> Accepted:
    return await _command(
        queries, services, principal, rectification_id, "MeasureAdded", body.model_dump()
    )


@router.post(
    "/rectifications/{rectification_id}/progress",
    status_code=202,
    response_model=Accepted,
    responses=COMMAND_RESPONSES,
)
async def report_progress(
    rectification_id: str,
    body: ReportProgress,
    queries: QueriesDep,
    services: ServicesDep,
    principal: Workers,
) -> Accepted:
    payload = {**body.model_dump(exclude_none=True), "reported_by": principal.subject}
    return await _command(
        queries, services, principal, rectification_id, "ProgressReported", payload
    )


@router.post(
    "/rectifications/{rectification_id}/completion",
    status_code=202,
    response_model=Accepted,
    responses=COMMAND_RESPONSES,
)
async def complete(
    rectification_id: str,
    body: Complete,
    queries: QueriesDep,
    services: ServicesDep,
    principal: Workers,
) -> Accepted:
    return await _command(
        queries, services, principal, rectification_id, "RectificationCompleted", body.model_dump()
    )


@router.post(
    "/rectifications/{rectification_id}/verification",
    status_code=202,
    response_model=Accepted,
    responses=COMMAND_RESPONSES,
)
async def verify(
    rectification_id: str,
    body: Verify,
    queries: QueriesDep,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require_roles(*SUPERVISORS))],
) -> Accepted:
    payload = {"supervisor": principal.subject, "comment": body.comment}
    return await _command(
        queries, services, principal, rectification_id, "RectificationVerified", payload
    )


@router.post(
    "/rectifications/{rectification_id}/rejection",
    status_code=202,
    response_model=Accepted,
    responses=COMMAND_RESPONSES,
)
async def reject(
    rectification_id: str,
    body: Reason,
    queries: QueriesDep,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require_roles(*SUPERVISORS))],
) -> Accepted:
    payload = {"supervisor": principal.subject, "reason": body.reason}
    return await _command(
        queries, services, principal, rectification_id, "RectificationRejected", payload
    )


@router.post(
    "/rectifications/{rectification_id}/reopening",
    status_code=202,
    response_model=Accepted,
    responses=COMMAND_RESPONSES,
)
async def reopen(
    rectification_id: str,
    body: Reason,
    queries: QueriesDep,
    services: ServicesDep,
    principal: Annotated[Principal, Depends(require_roles(*REOPENERS))],
) -> Accepted:
    return await _command(
        queries, services, principal, rectification_id, "RectificationReopened", body.model_dump()
    )
