"""Reading rectifications (整改跟踪督办): the list and one rectification in full.

A rectification outside the caller's department answers 404 like an unknown one; the commands
that move a rectification on are in `rectification_commands.py`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from casestream.domain.catalog import CaseKind
from casestream.domain.rectifications import RectificationState
from casestream.read_models.queries import BadCursor
from casestream.read_models.rectification_queries import (
    RectificationFilter,
    RectificationQueries,
    Sort,
)

from .auth import PrincipalDep, not_found, visible_department
from .deps import ReadModelEngineDep, ServicesDep
from .masking import shown_to
from .params import CursorQuery, Instant
from .problems import query_problem
from .responses import NOT_FOUND
from .schemas import (
    ChainLink,
    ClockView,
    RectificationDetail,
    RectificationPage,
    RectificationSummary,
    ReviewOut,
    SourceCase,
)
from .state_views import state_view

router = APIRouter(prefix="/rectifications", tags=["rectifications"])


def _summary(row: Any, state: RectificationState) -> RectificationSummary:
    return RectificationSummary(
        rectification_id=row.case_id,
        status=row.status,
        department=row.department,
        responsible_person=state.responsible_person,
        source_case_id=state.source_case_id,
        source_case_kind=state.source_case_kind,
        review_status=state.review_status,
        opened_at=row.received_at,
        deadline_at=getattr(row, "deadline_at", None),
        overdue=bool(getattr(row, "overdue", False)),
        version=row.version,
    )


@router.get("", response_model=RectificationPage)
def list_rectifications(
    engine: ReadModelEngineDep,
    services: ServicesDep,
    principal: PrincipalDep,
    status: Annotated[
        list[str] | None,
        Query(description="any of these statuses (repeat the parameter: status=a&status=b)"),
    ] = None,
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
        statuses=tuple(status or ()),
        department=department,
        responsible_person=responsible_person,
        source_case_kind=source_case_kind.value if source_case_kind else None,
        overdue=overdue,
        opened_from=opened_from,
        opened_to=opened_to,
        visible_department=visible_department(principal),
    )
    try:
        page = RectificationQueries(engine, services.rulebook).list(
            where, now=services.now(), sort=sort, limit=limit, cursor=cursor
        )
    except BadCursor as exc:
        raise query_problem("cursor", str(exc)) from exc
    return RectificationPage(
        items=[_summary(row, RectificationState.model_validate(row.state)) for row in page.rows],
        next_cursor=page.next_cursor,
    )


@router.get("/{rectification_id}", response_model=RectificationDetail, responses=NOT_FOUND)
def get_rectification(
    rectification_id: str,
    engine: ReadModelEngineDep,
    services: ServicesDep,
    principal: PrincipalDep,
) -> RectificationDetail:
    scope = visible_department(principal)
    found = RectificationQueries(engine, services.rulebook).get(
        rectification_id, scope, now=services.now()
    )
    if found is None:
        raise not_found(f"rectification {rectification_id!r}")
    row, state = found.case, RectificationState.model_validate(found.case.state)
    source = None
    if found.source is not None and scope in (None, found.source.department):
        source = shown_to(
            principal,
            SourceCase(
                case_id=found.source.case_id,
                case_kind=found.source.case_kind,
                status=found.source.status,
                department=found.source.department,
                decision_ref=found.source.decision_ref,
                state=state_view(found.source.state),
            ),
        )
    return RectificationDetail(
        **_summary(row, state).model_dump(),
        description=state.description,
        decision_ref=row.decision_ref,
        review=ReviewOut(
            review_status=state.review_status,
            root_causes=list(state.root_causes),
            lessons=state.lessons,
        ),
        measures=list(state.measures),
        progress_reports=list(state.progress_reports),
        evidence=list(state.evidence),
        verifications=list(state.verifications),
        cancelled_reason=state.cancelled_reason,
        source_case=source,
        dispute_chain=[
            ChainLink(
                case_id=link.case_id,
                case_kind=link.case_kind,
                status=link.status,
                linked_at=link.linked_at,
            )
            for link in found.dispute
            if scope in (None, link.department)
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
