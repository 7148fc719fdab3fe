"""案件详情: GET /console/cases/{case_id}, one case of any kind as the signed-in member of staff
may see it.

Everything on the page is what the API answers the same caller: the case (GET /cases/{id}),
its history (GET /cases/{id}/events), its clocks with their explanation (GET
/cases/{id}/clocks?explain=true), the other cases about the same decision (GET
/disputes/{ref}), masked as the API masks them for the role; the evidence files its events
cite; and the commands the role may give on it now (`console_case_options`). A case of
another department answers the same 404 page as an unknown id.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from casestream.read_models.staff_sessions import OpenSession

from .auth import visible_department
from .cases import get_case, get_case_events, get_dispute
from .clocks import case_clocks
from .command_writes import read_standing
from .console import SIGN_IN_PAGE, _page, _redirect, signed_in, signed_in_frame
from .console_case_options import command_options
from .console_case_view import clock_views, event_label, facts, local_time, timeline
from .console_labels import KINDS, MEDIA_TYPES, label, rule_title_zh, status_label
from .deps import Services, ServicesDep
from .evidence import evidence_records
from .schemas import CaseDetail, DisputeOut
from .sessions import session_principal

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

LIST_PAGE = "/console/cases"


def _rule_title(services: Services, rule_id: str) -> str:
    rule = services.rulebook.rules.get(rule_id)
    return rule_title_zh(rule.title) if rule is not None else rule_id


async def _dispute(services: Services, session: OpenSession, ref: str | None) -> DisputeOut | None:
    if not ref:
        return None
    try:
        return await run_in_threadpool(get_dispute, ref, services, session_principal(session))
    except HTTPException as exc:
        if exc.status_code == 404:
            return None
        raise


def _size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} 字节"


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_detail(case_id: str, request: Request, services: ServicesDep) -> Response:
    session = await signed_in(request, services)
    if session is None:
        return _redirect(SIGN_IN_PAGE)
    principal = session_principal(session)
    try:
        detail: CaseDetail = await get_case(case_id, services, principal)
        events = await get_case_events(case_id, services, principal)
    except HTTPException as exc:
        if exc.status_code != 404:
            raise
        return _page(
            request,
            "case_missing.html",
            404,
            case_id=case_id[:120],
            back=LIST_PAGE,
            **signed_in_frame(session),
        )
    tz = services.settings.timezone
    clocks = await run_in_threadpool(case_clocks, case_id, services, principal, True)
    dispute = await _dispute(services, session, detail.decision_ref)
    files = await run_in_threadpool(
        lambda: evidence_records(services).of_case(
            case_id, visible_department=visible_department(principal)
        )
    )
    standing = await run_in_threadpool(read_standing, services, case_id)
    now = services.now().astimezone(ZoneInfo(tz))
    options = (
        []
        if standing.state is None
        else command_options(standing.state, principal.role, principal.subject, now)
    )
    return _page(
        request,
        "case_detail.html",
        case=detail,
        kind_label=label(KINDS, detail.case_kind),
        status=status_label(detail.case_kind, detail.status),
        facts=facts(detail, tz),
        timeline=timeline(events, tz, lambda rule: _rule_title(services, rule)),
        clocks=clock_views(clocks, tz, lambda rule: _rule_title(services, rule)),
        dispute=[
            {
                "case_id": item.case.case_id,
                "kind": label(KINDS, item.case.case_kind),
                "status": status_label(item.case.case_kind, item.case.status),
                "department": item.case.department or "",
                "linked_at": local_time(item.linked_at, tz),
                "current": item.case.case_id == detail.case_id,
            }
            for item in (dispute.cases if dispute else [])
        ],
        anomalies=[
            {"version": a.version, "what": event_label(a.event_type), "reason": a.reason}
            for a in detail.anomalies
        ],
        files=[
            {
                "name": file.name,
                "type": label(MEDIA_TYPES, file.media_type),
                "size": _size(file.size),
                "href": f"/files/{file.sha256}",
            }
            for file in files
        ],
        possible=[option for option in options if option.reason is None],
        barred=[option for option in options if option.reason is not None],
        back=LIST_PAGE,
        as_of=local_time(now, tz),
        **signed_in_frame(session),
    )
