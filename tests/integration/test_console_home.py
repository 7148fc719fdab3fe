"""The console's 工作台 (GET /console/) over real SQLite and PostgreSQL read models: its six
counts equal what the API's lists count for the same signed-in account, within its
department (another department's cases never counted; every department for a role without
one), each links to its list by the console's URL contract, and the latest alerts of the
account's scope are on the page. Cases, clocks and alerts come from the real projection
writer; "now" is fixed."""

from __future__ import annotations

import html
import json
import re
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from casestream.domain.envelope import Event
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.staff_accounts import StaffAccounts
from casestream.staff import add_account
from tests.conftest import Database
from tests.console_app import console_client
from tests.events import event, local
from tests.integration.test_console_signin import CSRF_FIELD, PASSWORD
from tests.integration.test_stats import POLICY

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NOW = datetime.fromisoformat("2026-04-15T10:00:00+08:00")  # a Wednesday
ZA, JJ = "治安大队", "交警大队"
ACCOUNTS = [
    ("li.ming", "handler", ZA),
    ("wang.jun", "department_head", JJ),
    ("fa.zhi", "legal", None),
]
CARD = re.compile(
    r'id="count-([\w-]+)" href="([^"]+)">\s*<span class="card-label">([^<]+)</span>\s*'
    r'<span class="card-count" data-count="(\d+)">'
)


def complaint(
    case_id: str, department: str, received: str, *, accepted: bool = True
) -> list[Event[Any]]:
    payload = {"channel": "hotline_12345", "subject": "夜间噪音扰民", "department": department}
    events = [event("ComplaintReceived", case_id, "complaint", payload, at=local(received))]
    if accepted:
        events.append(event("ComplaintAccepted", case_id, "complaint", at=local(received)))
    return events


def supervised(case_id: str, department: str, *, closed: bool = False) -> list[Event[Any]]:
    """A complaint resolved and visited with a poor score, flagged for 督察 (as the projector's
    outbox would send it), and the supervision closed when `closed`."""
    kind = "complaint"
    events = [
        *complaint(case_id, department, "2026-03-02T09:00"),
        event(
            "ComplaintResolved",
            case_id,
            kind,
            {"outcome": "explained"},
            at=local("2026-03-05T09:00"),
        ),
        event(
            "ComplaintFollowUpVisited",
            case_id,
            kind,
            {"satisfaction": 1},
            at=local("2026-03-06T09:00"),
        ),
        event(
            "SupervisionFlagged",
            case_id,
            kind,
            {"satisfaction": 1, "threshold": 2, "reason": "回访不满意"},
            at=local("2026-03-06T09:00"),
        ),
    ]
    if closed:
        closing = {"supervisor": "督察李", "conclusion": "已核实整改"}
        events.append(
            event("SupervisionClosed", case_id, kind, closing, at=local("2026-03-10T09:00"))
        )
    return events


def rectification(
    case_id: str, department: str, deadline: str, *then: tuple[str, dict[str, Any]]
) -> list[Event[Any]]:
    kind = "rectification"
    opened = {
        "department": department,
        "responsible_person": "张警官",
        "deadline": deadline,
        "description": "整改执法告知程序",
    }
    events = [event("RectificationOpened", case_id, kind, opened, at=local("2026-03-20T10:00"))]
    for day, (event_type, payload) in enumerate(then, start=1):
        at = local("2026-03-20T10:00") + timedelta(days=day)
        events.append(event(event_type, case_id, kind, payload, at=at))
    return events


MEASURE = ("MeasureAdded", {"measure": "组织执法培训"})
COMPLETED = ("RectificationCompleted", {"evidence": ["培训签到表"]})
REJECTED = ("RectificationRejected", {"supervisor": "督察李", "reason": "材料不全"})


def breach(case_id: str, department: str, at: str) -> Event[Any]:
    """A DeadlineBreached alert on the case's handling clock, as the scanner raises it."""
    alert_id = alert_of(case_id)
    return event(
        "DeadlineBreached",
        case_id,
        "complaint",
        {
            "alert_id": alert_id,
            "clock_id": f"{case_id}/complaint.handling/0",
            "rule": "complaint.handling",
            "due_at": "2026-03-20T23:59:59+08:00",
            "scheduled_at": local(at).isoformat(),
            "department": department,
            "level": 2,
            "notify": "department_head",
        },
        at=local(at),
        event_id=alert_id,
    )


def alert_of(case_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"alert/{case_id}"))


def department_cases(prefix: str, department: str) -> list[Event[Any]]:
    """In each department: received today (two, one just after local midnight, which is
    yesterday in UTC), yesterday, overdue, rectifications in every status, supervisions."""
    return [
        *complaint(f"{prefix}-TODAY-1", department, "2026-04-15T08:00"),
        *complaint(f"{prefix}-TODAY-2", department, "2026-04-15T00:30", accepted=False),
        *complaint(f"{prefix}-YESTERDAY", department, "2026-04-14T23:30"),
        *complaint(f"{prefix}-LATE", department, "2026-03-02T09:00"),  # 15 working days: past
        *rectification(f"{prefix}-R-OPEN", department, "2026-04-16"),  # due within 3 days
        *rectification(f"{prefix}-R-WORK", department, "2026-04-10", MEASURE),  # overdue
        *rectification(f"{prefix}-R-DONE", department, "2026-04-30", MEASURE, COMPLETED),
        *rectification(f"{prefix}-R-BACK", department, "2026-04-30", COMPLETED, REJECTED),
        *rectification(
            f"{prefix}-R-OK",
            department,
            "2026-04-30",
            COMPLETED,
            ("RectificationVerified", {"supervisor": "督察李"}),
        ),
        *supervised(f"{prefix}-SUP", department),
        *supervised(f"{prefix}-SUP-CLOSED", department, closed=True),
    ]


@dataclass
class Workbench:
    client: TestClient

    def sign_in(self, username: str) -> None:
        self.client.cookies.clear()
        page = self.client.get("/console/signin")
        found = CSRF_FIELD.search(page.text)
        assert found is not None
        form = {"username": username, "password": PASSWORD, "csrf_token": found.group(1)}
        assert self.client.post("/console/signin", data=form).status_code == 200

    def cards(self) -> dict[str, tuple[str, str, int]]:
        """label → (key, link, count) of the page's count cards."""
        page = self.client.get("/console/", follow_redirects=False)
        assert page.status_code == 200, page.text
        return {
            label: (key, html.unescape(href), int(count))
            for key, href, label, count in CARD.findall(page.text)
        }

    def api(self, path: str, **params: Any) -> Any:
        """An API answer for the signed-in account (its session cookie is its credential)."""
        answer = self.client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def api_counts(self) -> dict[str, int]:
        """The six counts as the API lists them for the same account."""
        day = NOW.date().isoformat()
        received = self.api(
            "/cases",
            received_from=f"{day}T00:00:00+08:00",
            received_to=f"{NOW.date() + timedelta(days=1)}T00:00:00+08:00",
            limit=500,
        )["items"]
        due = {item["case_id"] for item in self.api("/clocks/due", within="3d")["items"]}
        overdue = {item["case_id"] for item in self.api("/cases/overdue")["items"]}

        def rectifications(*statuses: str) -> int:
            return sum(
                len(self.api("/rectifications", status=status, limit=500)["items"])
                for status in statuses
            )

        every = self.api("/cases", limit=500)["items"]
        under_supervision = [
            item["case_id"]
            for item in every
            if item["case_kind"] == "complaint"
            and self.api(f"/cases/{item['case_id']}")["state"].get("supervision")
        ]
        return {
            "新收": len(received),
            "即将到期": len(due),
            "已超期": len(overdue),
            "待整改": rectifications("open", "in_progress", "rejected"),
            "待核验": rectifications("completed"),
            "督察关注": len(under_supervision),
        }


@pytest.fixture
def workbench(database: Database) -> Iterator[Workbench]:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    accounts = StaffAccounts(engine)
    for username, role, department in ACCOUNTS:
        add_account(
            accounts, username, role=role, department=department, password=PASSWORD, now=NOW
        )
    events = [
        *department_cases("ZA", ZA),
        *department_cases("JJ", JJ),
        *complaint("JJ-TODAY-3", JJ, "2026-04-15T09:30"),  # the departments' counts differ
    ]
    batch = [ConsumedEvent("cases.events", 0, offset, item) for offset, item in enumerate(events)]
    alerts = [
        breach("ZA-LATE", ZA, "2026-04-14T09:00"),
        breach("JJ-LATE", JJ, "2026-04-14T10:00"),
    ]
    batch += [ConsumedEvent("alerts.events", 0, offset, item) for offset, item in enumerate(alerts)]
    ProjectionWriter(engine, POLICY).apply_batch(batch)
    engine.dispose()
    with console_client(database, NOW) as client:
        yield Workbench(client)


# 新收 TODAY-1, TODAY-2; 即将到期 R-OPEN; 已超期 LATE, R-WORK (整改时限 passed) and R-DONE (its
# 核验 within 5 working days of completion is late); 待整改 R-OPEN, R-WORK, R-BACK; 待核验 R-DONE;
# 督察关注 SUP (SUP-CLOSED's supervision is over)
EXPECTED_ZA = {"新收": 2, "即将到期": 1, "已超期": 3, "待整改": 3, "待核验": 1, "督察关注": 1}


def test_a_handler_sees_the_counts_of_their_department_as_the_api_lists_them(
    workbench: Workbench,
) -> None:
    workbench.sign_in("li.ming")
    cards = workbench.cards()
    counts = {label: count for label, (_, _, count) in cards.items()}
    assert counts == workbench.api_counts()
    assert counts == EXPECTED_ZA  # 交警大队's cases are not counted


def test_a_department_head_of_another_department_sees_only_theirs(workbench: Workbench) -> None:
    workbench.sign_in("wang.jun")
    counts = {label: count for label, (_, _, count) in workbench.cards().items()}
    assert counts == workbench.api_counts()
    assert counts == {**EXPECTED_ZA, "新收": 3}


def test_a_role_without_a_department_sees_every_department(workbench: Workbench) -> None:
    workbench.sign_in("fa.zhi")
    counts = {label: count for label, (_, _, count) in workbench.cards().items()}
    assert counts == workbench.api_counts()
    assert counts == {label: 2 * n + (label == "新收") for label, n in EXPECTED_ZA.items()}


def test_each_count_links_to_its_list_by_the_url_contract(workbench: Workbench) -> None:
    workbench.sign_in("li.ming")
    links = {
        label: (urlsplit(href).path, parse_qsl(urlsplit(href).query))
        for label, (_, href, _) in workbench.cards().items()
    }
    today = "2026-04-15"
    assert links == {
        "新收": ("/console/cases", [("received_from", today), ("received_to", today)]),
        "即将到期": ("/console/cases", [("due_within", "3d")]),
        "已超期": ("/console/cases", [("overdue", "true")]),
        "待整改": (
            "/console/rectifications",
            [("status", "in_progress"), ("status", "open"), ("status", "rejected")],
        ),
        "待核验": ("/console/rectifications", [("status", "completed")]),
        "督察关注": ("/console/cases", [("supervised", "true")]),
    }


def test_the_page_names_who_is_signed_in_and_lists_the_latest_alerts_of_their_scope(
    workbench: Workbench,
) -> None:
    workbench.sign_in("li.ming")
    page = workbench.client.get("/console/")
    assert page.status_code == 200
    text = page.text
    assert '<span id="who-username">li.ming</span>' in text
    assert '<span id="who-role">承办人</span>' in text and f">{ZA}</span>" in text
    assert 'aria-live="polite"' in text and 'src="/console/static/console.js"' in text
    assert "<script>" not in text  # no inline script: the CSP allows only /console/static
    assert "script-src 'self'" in page.headers["content-security-policy"]
    alerts = re.findall(
        r'<li class="alert ([\w-]*)" data-alert-id="([^"]+)">(.*?)</li>', text, re.S
    )
    assert [(tone, alert_id) for tone, alert_id, _ in alerts] == [("overdue", alert_of("ZA-LATE"))]
    (_, _, item) = alerts[0]
    assert "已超期" in item and "投诉办理" in item and "二级（部门负责人）" in item
    assert '<a href="/console/cases/ZA-LATE">ZA-LATE</a>（投诉）' in item
    assert "期限：2026-03-20 23:59" in item and ">2026-04-14 09:00</time>" in item

    workbench.sign_in("fa.zhi")
    text = workbench.client.get("/console/").text
    assert re.findall(r'data-alert-id="([^"]+)"', text) == [
        alert_of("JJ-LATE"),
        alert_of("ZA-LATE"),
    ]
    assert "全局（不限部门）" in text


def test_the_workbench_sends_a_signed_out_visitor_to_sign_in(workbench: Workbench) -> None:
    answer = workbench.client.get("/console/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/signin"
    workbench.sign_in("li.ming")
    assert workbench.client.get("/console/", follow_redirects=False).status_code == 200
    workbench.client.cookies.set("casestream_session", "not-a-session")
    answer = workbench.client.get("/console/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/signin"


def test_the_static_script_and_style_sheet_are_served(workbench: Workbench) -> None:
    script = workbench.client.get("/console/static/console.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "EventSource" in script.text
    style = workbench.client.get("/console/static/console.css")
    assert style.status_code == 200 and ".visually-hidden" in style.text


def test_a_refused_sign_in_page_shows_no_signed_in_header(workbench: Workbench) -> None:
    page = workbench.client.get("/console/signin")
    found = CSRF_FIELD.search(page.text)
    assert found is not None
    form = {"username": "li.ming", "password": "not the password", "csrf_token": found.group(1)}
    refused = workbench.client.post("/console/signin", data=form)
    assert refused.status_code == 401
    assert 'value="li.ming"' in refused.text  # the username typed is kept in its field
    assert "退出登录" not in refused.text and "主导航" not in refused.text


def test_without_kafka_the_page_tells_the_script_there_is_no_live_stream(
    workbench: Workbench,
) -> None:
    workbench.sign_in("li.ming")
    text = workbench.client.get("/console/").text
    found = re.search(r'data-live="([^"]+)"', text)
    assert found is not None
    live = json.loads(html.unescape(found.group(1)))
    assert live["stream"] is None  # this API has no CASESTREAM_KAFKA_BOOTSTRAP
    assert live["rules"]["complaint.handling"] == "投诉办理" and live["types"]
