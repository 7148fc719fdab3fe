"""Reading cases, their history and disputes; a read may wait for a write to become visible.

A department-bound caller sees only their department's cases: another department's case
answers 404 like an unknown one, and personal data is masked for roles that don't need it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response

from casestream.read_models.queries import BadCursor, CaseOrder

from .auth import PrincipalDep, not_found, visible_department
from .consistency import BadToken, ConsistencyToken, wait_until
from .deps import Services, ServicesDep
from .masking import event_shown_to, shown_to
from .params import CaseFilterDep, CaseSortQuery, CursorQuery
from .problems import query_problem
from .responses import NOT_FOUND, NOT_VISIBLE_YET, json_answer
from .schemas import (
    AnomalyOut,
    CaseDetail,
    CasePage,
    CaseSummary,
    DisputeCase,
    DisputeOut,
    EventOut,
)
from .state_views import state_view

router = APIRouter(tags=["cases"])

TokenQuery = Annotated[
    str | None,
    Query(
        max_length=400,
        description="consistency_token from POST /events: wait until that write is visible",
    ),
]
MinVersionQuery = Annotated[
    int | None, Query(ge=1, description="wait until the case reaches this version")
]


async def _await_consistency(
    services: Services,
    case_id: str | None,
    token: str | None,
    min_version: int | None,
    department: str | None,
) -> None:
    timeout = services.settings.consistency_wait_seconds
    if token:
        try:
            decoded = ConsistencyToken.decode(token)
        except BadToken as exc:
            raise query_problem("consistency_token", str(exc)) from exc
        visible = await services.projected_offsets.reached(
            (decoded.topic, decoded.partition), decoded.offset + 1, timeout
        )
    elif min_version is not None and case_id is not None:
        visible = await wait_until(
            lambda: (
                (services.queries.case_version(case_id, visible_department=department) or 0)
                >= min_version
            ),
            timeout,
        )
    else:
        return
    if not visible:
        raise HTTPException(
            503,
            "the write is not visible yet (the projector is behind); retry shortly",
            headers={"Retry-After": "1"},
        )


@router.get("/cases", response_model=CasePage)
async def list_cases(
    services: ServicesDep,
    where: CaseFilterDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: CursorQuery = None,
    sort: CaseSortQuery = CaseOrder.received,
) -> Response:
    """Cases newest received first, or nearest due first (`sort=due`), a page at a time."""
    # Served on the event loop, as GET /cases/{id}: one indexed query of about a millisecond,
    # where a worker thread's hop cost more than it saved. The page is read from its rows and
    # written as JSON in one step each.
    try:
        page = services.queries.list_cases(
            where, limit=limit, cursor=cursor, sort=sort, with_state=False
        )
    except BadCursor as exc:
        raise query_problem("cursor", str(exc)) from exc
    return json_answer(CasePage.from_rows(page.rows, page.next_cursor))


@router.get(
    "/cases/{case_id}", response_model=CaseDetail, responses={**NOT_FOUND, **NOT_VISIBLE_YET}
)
async def get_case(
    case_id: str,
    services: ServicesDep,
    principal: PrincipalDep,
    consistency_token: TokenQuery = None,
    min_version: MinVersionQuery = None,
) -> CaseDetail:
    department = visible_department(principal)
    await _await_consistency(services, case_id, consistency_token, min_version, department)
    found = services.queries.get_case(case_id, visible_department=department)
    if found is None:
        raise not_found(f"case {case_id!r}")
    row, anomalies = found
    summary = CaseSummary.from_row(row)
    return CaseDetail(
        **summary.model_dump(),
        state=shown_to(principal, state_view(row.state)),
        anomalies=[
            AnomalyOut(
                event_id=a.event_id, event_type=a.event_type, version=a.version, reason=a.reason
            )
            for a in anomalies
        ],
    )


@router.get(
    "/cases/{case_id}/events",
    response_model=list[EventOut],
    responses={**NOT_FOUND, **NOT_VISIBLE_YET},
)
async def get_case_events(
    case_id: str,
    services: ServicesDep,
    principal: PrincipalDep,
    consistency_token: TokenQuery = None,
    min_version: MinVersionQuery = None,
) -> list[EventOut]:
    department = visible_department(principal)
    await _await_consistency(services, case_id, consistency_token, min_version, department)
    rows = services.queries.case_events(case_id, visible_department=department)
    if not rows:
        raise not_found(f"case {case_id!r}")
    return [
        EventOut(
            version=row.version,
            event_id=row.event_id,
            event_type=row.event_type,
            occurred_at=row.occurred_at,
            recorded_at=row.recorded_at,
            event=event_shown_to(principal, row.body),
        )
        for row in rows
    ]


@router.get("/disputes/{decision_ref}", response_model=DisputeOut, responses=NOT_FOUND)
def get_dispute(decision_ref: str, services: ServicesDep, principal: PrincipalDep) -> DisputeOut:
    """The cases about one decision that the caller may see; 404 when none."""
    rows = services.queries.dispute(decision_ref, visible_department=visible_department(principal))
    if not rows:
        raise not_found(f"case concerns decision {decision_ref!r}")
    return DisputeOut(
        decision_ref=decision_ref,
        cases=[
            DisputeCase(linked_at=row.linked_at, case=CaseSummary.from_row(row)) for row in rows
        ],
    )
