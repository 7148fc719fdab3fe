"""Alerts on deadline clocks and on complaints under 督察 supervision: the list (GET /alerts) and
the live stream (GET /alerts/stream, SSE).

A department-bound caller gets only the alerts of their department's cases, in both; the
supervisors, like every all-department role, get every department's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse

from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import Event
from casestream.read_models.alert_queries import ALERT_EVENT_TYPES, AlertFilter
from casestream.read_models.queries import BadCursor

from .alert_feed import AlertFeed, AlertMatch
from .auth import PrincipalDep, visible_department
from .deps import ServicesDep
from .params import CursorQuery
from .problems import query_problem
from .schemas import AlertOut, AlertPage

router = APIRouter(prefix="/alerts", tags=["alerts"])

LevelQuery = Annotated[
    int | None,
    Query(ge=1, le=3, description="1 handler (承办人), 2 department head, 3 bureau leadership"),
]
EventTypeQuery = Annotated[str | None, Query(description=f"one of {', '.join(ALERT_EVENT_TYPES)}")]


@dataclass(frozen=True)
class ScopedAlertMatch(AlertMatch):
    """What a client asked for, within the one department it may see (None: every one)."""

    visible_department: str | None = None

    def accepts(self, event: Event[Any]) -> bool:
        return (
            self.visible_department is None or event.payload.department == self.visible_department
        ) and super().accepts(event)


def _check_event_type(event_type: str | None) -> None:
    if event_type is not None and event_type not in ALERT_EVENT_TYPES:
        raise query_problem(
            "event_type", f"unknown alert event type; choose from {', '.join(ALERT_EVENT_TYPES)}"
        )


@router.get("", response_model=AlertPage)
def list_alerts(
    services: ServicesDep,
    principal: PrincipalDep,
    level: LevelQuery = None,
    department: str | None = None,
    rule: Annotated[str | None, Query(description="rule id, e.g. complaint.handling")] = None,
    case_kind: CaseKind | None = None,
    status: Literal["open", "cleared"] | None = None,
    event_type: EventTypeQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: CursorQuery = None,
) -> AlertPage:
    """Alerts newest first; pass `next_cursor` as `cursor` for the next page."""
    _check_event_type(event_type)
    where = AlertFilter(
        level=level,
        department=department,
        rule_id=rule,
        case_kind=case_kind.value if case_kind else None,
        status=status,
        event_type=event_type,
        visible_department=visible_department(principal),
    )
    try:
        page = services.alerts.list_alerts(where, limit=limit, cursor=cursor)
    except BadCursor as exc:
        raise query_problem("cursor", str(exc)) from exc
    return AlertPage(
        items=[AlertOut.from_row(row) for row in page.rows], next_cursor=page.next_cursor
    )


async def sse_frames(feed: AlertFeed, match: AlertMatch, heartbeat: float) -> AsyncIterator[str]:
    """The text of one client's event stream: its alerts, and a comment line when idle."""
    # starlette cancels this generator when the client goes away; `with` then unsubscribes
    with feed.subscribe(match) as subscription:
        yield "retry: 3000\n: connected\n\n"
        while True:
            try:
                alert = await asyncio.wait_for(subscription.queue.get(), heartbeat)
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            yield alert.sse_frame()


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "Server-Sent Events: `id: <alert_id>`, `event: <event_type>`, "
            "`data: <the alert event JSON>`; a comment line every 15 s keeps the connection open",
        },
        503: {"description": "the API has no Kafka connection (CASESTREAM_KAFKA_BOOTSTRAP unset)"},
    },
)
async def stream_alerts(
    services: ServicesDep,
    principal: PrincipalDep,
    level: LevelQuery = None,
    department: str | None = None,
    rule: Annotated[str | None, Query(description="rule id, e.g. complaint.handling")] = None,
    case_kind: CaseKind | None = None,
    event_type: EventTypeQuery = None,
) -> StreamingResponse:
    """Alerts as they are raised, from the moment of connecting (no history: see GET /alerts)."""
    _check_event_type(event_type)
    feed = services.alert_feed
    if feed is None:
        raise HTTPException(
            503,
            "live alerts need Kafka: set CASESTREAM_KAFKA_BOOTSTRAP and restart the API "
            "(GET /alerts lists past alerts without it)",
        )
    match = ScopedAlertMatch(
        level=level,
        department=department,
        rule=rule,
        case_kind=case_kind.value if case_kind else None,
        event_type=event_type,
        visible_department=visible_department(principal),
    )
    return StreamingResponse(
        sse_frames(feed, match, services.heartbeat_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
