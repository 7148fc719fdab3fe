"""The console's 工作台 (home page, GET /console/): the signed-in member of staff's counts and
their alerts, within what the API shows them (their department, or all for the roles without
one: `auth.visible_department`).

Six counts, each a link to the list it counts (the console's URL contract): 新收, 即将到期,
已超期, 待整改, 待核验, 督察关注 (`read_models/workbench_queries.py`). 实时提醒: the latest
alerts from GET /alerts's query, then the live ones of GET /alerts/stream added by
/console/static/console.js; the page shows its counts and the latest alerts without script.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from casestream.domain import catalog as ev
from casestream.domain.words import SUPERVISION_TITLE as SUPERVISION_TITLE
from casestream.domain.words import rule_titles as rule_titles
from casestream.durations import parse_duration
from casestream.read_models.alert_queries import AlertFilter
from casestream.read_models.workbench_queries import (
    TO_RECTIFY,
    TO_VERIFY,
    WorkbenchCounts,
    WorkbenchQueries,
    WorkbenchScope,
)

from .auth import visible_department
from .console import SIGN_IN_PAGE, _page, _redirect, signed_in, signed_in_frame
from .console_labels import ALERT_LEVELS, ALERT_TYPES, KINDS, label
from .deps import Services, ServicesDep
from .sessions import session_principal

router = APIRouter(prefix="/console", tags=["console"], include_in_schema=False)

DUE_WINDOW = "3d"  # 即将到期: as GET /clocks/due?within=3d and /console/cases?due_within=3d
RECENT_ALERTS = 20  # shown on load; the live list keeps at most 50 (console.js)
CASES_LIST = "/console/cases"
RECTIFICATIONS_BOARD = "/console/rectifications"
ALERT_STREAM = "/alerts/stream"  # signed in by the session cookie (auth.current_principal)
TONES: Mapping[str, str] = {  # an alert's look (class) on the page; 超期 is red and says so
    ev.DeadlineApproaching.__name__: "due-soon",
    ev.DeadlineBreached.__name__: "overdue",
    ev.Escalated.__name__: "overdue",
    ev.SupervisionRequested.__name__: "supervision",
    ev.AlertCleared.__name__: "cleared",
}


@dataclass(frozen=True)
class CountCard:
    key: str  # the card's id on the page
    label: str
    count: int
    href: str


@dataclass(frozen=True)
class AlertLine:
    """One alert as the 实时提醒 list shows it (console.js builds the same from a live one)."""

    alert_id: str
    event_type: str
    tone: str  # its class: due-soon, overdue, supervision, cleared
    type_label: str
    rule_title: str
    case_id: str
    kind_label: str
    level_label: str
    due: str  # local time of the deployment, "YYYY-MM-DD HH:MM"
    raised: str
    raised_iso: str


def _link(path: str, params: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(params)}"


def count_cards(counts: WorkbenchCounts, today: str) -> list[CountCard]:
    """The six cards, each linking to exactly the list it counts."""
    received = [("received_from", today), ("received_to", today)]
    return [
        CountCard("received", "新收", counts.received_today, _link(CASES_LIST, received)),
        CountCard(
            "due-soon", "即将到期", counts.due_soon, _link(CASES_LIST, [("due_within", DUE_WINDOW)])
        ),
        CountCard("overdue", "已超期", counts.overdue, _link(CASES_LIST, [("overdue", "true")])),
        CountCard(
            "to-rectify",
            "待整改",
            counts.to_rectify,
            _link(RECTIFICATIONS_BOARD, [("status", status) for status in TO_RECTIFY]),
        ),
        CountCard(
            "to-verify",
            "待核验",
            counts.to_verify,
            _link(RECTIFICATIONS_BOARD, [("status", status) for status in TO_VERIFY]),
        ),
        CountCard(
            "supervised", "督察关注", counts.supervised, _link(CASES_LIST, [("supervised", "true")])
        ),
    ]


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M}"


def alert_line(row: Any, titles: dict[str, str], zone: ZoneInfo) -> AlertLine:
    return AlertLine(
        alert_id=row.alert_id,
        event_type=row.event_type,
        tone=TONES.get(row.event_type, ""),
        type_label=label(ALERT_TYPES, row.event_type),
        rule_title=titles.get(row.rule_id, row.rule_id),
        case_id=row.case_id,
        kind_label=label(KINDS, row.case_kind),
        level_label=ALERT_LEVELS.get(str(row.level), ""),
        due=_local(row.due_at, zone),
        raised=_local(row.raised_at, zone),
        raised_iso=row.raised_at.isoformat(),
    )


@dataclass(frozen=True)
class LiveAlertLabels:
    """What console.js needs to write a live alert as the page writes the others: where the
    stream is (None: this API has no Kafka, so no live alerts), the deployment's time zone,
    and the Chinese labels by value."""

    stream: str | None
    timezone: str
    rules: Mapping[str, str]
    types: Mapping[str, str]
    tones: Mapping[str, str]
    levels: Mapping[str, str]
    kinds: Mapping[str, str]

    def json(self) -> str:
        """The labels as the page's `data-live` attribute holds them (JSON)."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        shown = {
            name: value if value is None or isinstance(value, str) else dict(value)
            for name, value in fields.items()
        }
        return json.dumps(shown, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Workbench:
    cards: list[CountCard]
    alerts: list[AlertLine]


def workbench(services: Services, department: str | None) -> Workbench:
    """The counts and the latest alerts of `department` (None: every department), now."""
    zone = ZoneInfo(services.settings.timezone)
    now = services.now()
    today = now.astimezone(zone).date()
    scope = WorkbenchScope(
        visible_department=department,
        now=now,
        day_start=datetime.combine(today, time(), tzinfo=zone),
        day_end=datetime.combine(today + timedelta(days=1), time(), tzinfo=zone),
        due_until=now + parse_duration(DUE_WINDOW),
    )
    counts = WorkbenchQueries(services.queries.engine, services.rulebook).counts(scope)
    recent = services.alerts.list_alerts(
        AlertFilter(visible_department=department), limit=RECENT_ALERTS, cursor=None
    )
    titles = rule_titles(services.rulebook)
    return Workbench(
        cards=count_cards(counts, today.isoformat()),
        alerts=[alert_line(row, titles, zone) for row in recent.rows],
    )


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, services: ServicesDep) -> Response:
    session = await signed_in(request, services)
    if session is None:
        return _redirect(SIGN_IN_PAGE)
    department = visible_department(session_principal(session))
    found = await run_in_threadpool(workbench, services, department)
    return _page(
        request,
        "home.html",
        **signed_in_frame(session),
        department=session.department,
        scope=department,
        cards=found.cards,
        alerts=found.alerts,
        live=LiveAlertLabels(
            stream=ALERT_STREAM if services.alert_feed is not None else None,
            timezone=services.settings.timezone,
            rules=rule_titles(services.rulebook),
            types=ALERT_TYPES,
            tones=TONES,
            levels=ALERT_LEVELS,
            kinds=KINDS,
        ),
    )
