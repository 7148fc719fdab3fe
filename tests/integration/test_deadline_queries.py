"""Deadline and alert queries of the API over real SQLite and PostgreSQL read models.

Rows go straight into `clocks`, `alerts` and `cases` (as the projector would write them);
the API's clock is fixed so "overdue" and "due within" are exact.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from casestream.api.app import create_app
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.schema import alerts, cases, clocks
from casestream.settings import Settings
from tests.auth import TEST_SECRET, auth_headers
from tests.conftest import Database

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NOW = datetime.fromisoformat("2026-03-20T10:00:00+08:00")


def clock_row(
    case_id: str,
    status: str,
    due_in: timedelta,
    *,
    rule: str = "complaint.handling",
    number: int = 0,
    enterprise: bool = False,
    department: str | None = "治安大队",
    case_kind: str = "complaint",
    stopped: bool = False,
    pauses: list[list[str | None]] | None = None,
    extension: int = 0,
) -> dict[str, Any]:
    due_at = NOW + due_in
    started_at = due_at - timedelta(days=15)
    return {
        "clock_id": f"{case_id}/{rule}/{number}",
        "case_id": case_id,
        "case_kind": case_kind,
        "rule_id": rule,
        "status": status,
        "started_at": started_at,
        "due_date": due_at.date(),
        "due_at": due_at,
        "provisional": False,
        "stopped_at": due_at - timedelta(days=1) if stopped else None,
        "department": department,
        "enterprise": enterprise,
        "next_alert_at": None,
        "detail": {"pauses": pauses or [], "extension": extension},
    }


def alert_row(
    alert_id: str,
    raised_hours_ago: float,
    *,
    event_type: str = "DeadlineApproaching",
    level: int = 1,
    department: str | None = "治安大队",
    rule: str = "complaint.handling",
    case_kind: str = "complaint",
    status: str = "open",
) -> dict[str, Any]:
    raised_at = NOW - timedelta(hours=raised_hours_ago)
    return {
        "alert_id": alert_id,
        "clock_id": f"C-{alert_id}/{rule}/0",
        "case_id": f"C-{alert_id}",
        "case_kind": case_kind,
        "rule_id": rule,
        "event_type": event_type,
        "level": level,
        "notify": "handler" if level == 1 else "department_head",
        "due_at": NOW + timedelta(days=1),
        "scheduled_at": raised_at,
        "raised_at": raised_at,
        "department": department,
        "enterprise": False,
        "status": status,
        "cleared_at": raised_at + timedelta(minutes=5) if status == "cleared" else None,
    }


CLOCKS = [
    clock_row("A1", "breached", -timedelta(days=5)),
    clock_row("A0", "breached", -timedelta(days=5)),
    clock_row("B", "breached", -timedelta(days=5), enterprise=True),
    clock_row("C", "running", -timedelta(hours=1)),
    clock_row("D", "breached", -timedelta(days=9), stopped=True),  # stopped late: not open
    clock_row("E", "running", timedelta(days=1)),
    clock_row("F", "paused", -timedelta(days=2)),  # 中止: time stands still
    clock_row(
        "G",
        "breached",
        -timedelta(days=2),
        rule="reconsideration.reply",
        case_kind="reconsideration",
        department="法制大队",
    ),
    clock_row("H", "met", -timedelta(days=3), stopped=True),
    clock_row("I", "cancelled", -timedelta(days=4)),
    clock_row("J", "running", timedelta(days=2, hours=23)),
    clock_row("K", "running", timedelta(days=4)),
    clock_row("L", "paused", timedelta(days=1)),
    clock_row("M", "running", timedelta(minutes=20), enterprise=True),
    clock_row(
        "P-1",
        "running",
        timedelta(days=10),
        rule="petition.handling",
        pauses=[["2026-03-01", "2026-03-05"], ["2026-03-10", None]],
        extension=30,
    ),
    clock_row("P-1", "met", -timedelta(days=40), rule="petition.acceptance_notice", stopped=True),
]

ALERTS = [
    alert_row("a-1", 10),
    alert_row("a-2", 8, event_type="DeadlineBreached", level=2),
    alert_row("a-3", 6, event_type="Escalated", level=3, department="法制大队"),
    alert_row("a-4", 4, rule="petition.handling", status="cleared"),
    alert_row("a-6", 2, event_type="DeadlineBreached", level=2, case_kind="enterprise_tip"),
    alert_row("a-5", 2, event_type="DeadlineBreached", level=2),
]


def case_row(case_id: str) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "case_kind": "complaint",
        "status": "received",
        "version": 1,
        "received_at": NOW - timedelta(days=60),
        "last_occurred_at": NOW - timedelta(days=60),
        "enterprise": False,
        "paused": False,
        "anomaly_count": 0,
        "state": {},
    }


@pytest.fixture
def api(database: Database) -> Iterator[TestClient]:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(clocks), CLOCKS)
        conn.execute(sa.insert(alerts), ALERTS)
        conn.execute(sa.insert(cases), [case_row("P-1"), case_row("NO-CLOCKS")])
    engine.dispose()
    settings = Settings(
        database_url=database.url,
        database_schema=database.schema,
        kafka_bootstrap=None,
        auth_secret=TEST_SECRET,
    )
    with TestClient(create_app(settings, now=lambda: NOW), headers=auth_headers("legal")) as client:
        yield client


def _ids(response: Any, key: str = "case_id") -> list[str]:
    assert response.status_code == 200, response.text
    return [item[key] for item in response.json()["items"]]


def test_overdue_lists_open_breached_and_late_running_clocks_longest_overdue_first(
    api: TestClient,
) -> None:
    response = api.get("/cases/overdue")
    assert _ids(response) == ["B", "A0", "A1", "G", "C"]
    body = response.json()
    assert datetime.fromisoformat(body["as_of"]) == NOW
    first = body["items"][0]
    assert first["enterprise"] is True and first["overdue_seconds"] == 5 * 86400
    assert body["items"][-1]["overdue_seconds"] == 3600


def test_overdue_filters_by_department_kind_and_rule_and_honours_limit(api: TestClient) -> None:
    assert _ids(api.get("/cases/overdue", params={"department": "法制大队"})) == ["G"]
    assert _ids(api.get("/cases/overdue", params={"case_kind": "reconsideration"})) == ["G"]
    assert _ids(api.get("/cases/overdue", params={"rule": "complaint.handling"})) == [
        "B",
        "A0",
        "A1",
        "C",
    ]
    assert _ids(api.get("/cases/overdue", params={"limit": 2})) == ["B", "A0"]
    assert api.get("/cases/overdue", params={"case_kind": "parking"}).status_code == 422


def test_clocks_due_within_a_window_soonest_first(api: TestClient) -> None:
    assert _ids(api.get("/clocks/due", params={"within": "30m"})) == ["M"]
    assert _ids(api.get("/clocks/due", params={"within": "12h"})) == ["M"]
    assert _ids(api.get("/clocks/due", params={"within": "3d"})) == ["M", "E", "J"]
    assert _ids(api.get("/clocks/due")) == ["M", "E", "J"]  # default 3d
    week = api.get("/clocks/due", params={"within": "1w"})
    assert _ids(week) == ["M", "E", "J", "K"]  # P-1 is due in 10 days
    assert week.json()["items"][0]["remaining_seconds"] == 20 * 60
    assert datetime.fromisoformat(week.json()["until"]) == NOW + timedelta(weeks=1)


@pytest.mark.parametrize("within", ["3x", "0d", "d", "-1d", "3 days", ""])
def test_an_invalid_window_answers_422_naming_within(api: TestClient, within: str) -> None:
    response = api.get("/clocks/due", params={"within": within})
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["query", "within"] and "30m, 12h, 3d or 1w" in detail["msg"]


def test_a_case_lists_its_clocks_with_pauses_and_extension(api: TestClient) -> None:
    response = api.get("/cases/P-1/clocks")
    assert response.status_code == 200, response.text
    found = response.json()
    assert [clock["rule"] for clock in found] == [
        "petition.acceptance_notice",
        "petition.handling",
    ]
    handling = found[1]
    assert handling["status"] == "running" and handling["extension"] == 30
    assert handling["pauses"] == [
        {"start": "2026-03-01", "end": "2026-03-05"},
        {"start": "2026-03-10", "end": None},
    ]
    assert found[0]["stopped_at"] is not None and found[0]["due_date"]
    assert api.get("/cases/NO-CLOCKS/clocks").json() == []
    assert api.get("/cases/NO-SUCH-CASE/clocks").status_code == 404


def test_overdue_is_not_taken_for_a_case_id(api: TestClient) -> None:
    assert "items" in api.get("/cases/overdue").json()
    assert api.get("/cases/overdue/clocks").status_code == 404


def test_alerts_newest_first_with_filters(api: TestClient) -> None:
    assert _ids(api.get("/alerts"), "alert_id") == ["a-6", "a-5", "a-4", "a-3", "a-2", "a-1"]
    assert _ids(api.get("/alerts", params={"level": 2}), "alert_id") == ["a-6", "a-5", "a-2"]
    assert _ids(api.get("/alerts", params={"department": "法制大队"}), "alert_id") == ["a-3"]
    assert _ids(api.get("/alerts", params={"rule": "petition.handling"}), "alert_id") == ["a-4"]
    assert _ids(api.get("/alerts", params={"status": "cleared"}), "alert_id") == ["a-4"]
    assert _ids(api.get("/alerts", params={"case_kind": "enterprise_tip"}), "alert_id") == ["a-6"]
    assert _ids(api.get("/alerts", params={"event_type": "Escalated"}), "alert_id") == ["a-3"]
    item = api.get("/alerts", params={"status": "cleared"}).json()["items"][0]
    assert set(item) == {
        "alert_id",
        "clock_id",
        "case_id",
        "case_kind",
        "rule",
        "event_type",
        "level",
        "notify",
        "due_at",
        "scheduled_at",
        "raised_at",
        "department",
        "enterprise",
        "status",
        "cleared_at",
    }
    assert item["rule"] == "petition.handling" and item["cleared_at"] is not None


def test_alerts_are_paginated_with_a_cursor(api: TestClient) -> None:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = api.get("/alerts", params=params).json()
        seen.extend(item["alert_id"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["a-6", "a-5", "a-4", "a-3", "a-2", "a-1"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"level": 4}, "level"),
        ({"status": "closed"}, "status"),
        ({"event_type": "ComplaintReceived"}, "event_type"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_invalid_alert_filters_answer_422_naming_the_field(
    api: TestClient, params: dict[str, Any], field: str
) -> None:
    response = api.get("/alerts", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_the_stream_answers_503_without_kafka(api: TestClient) -> None:
    response = api.get("/alerts/stream")
    assert response.status_code == 503 and "CASESTREAM_KAFKA_BOOTSTRAP" in response.text


def test_explain_counts_a_clock_whose_row_holds_only_pauses_and_extension(api: TestClient) -> None:
    response = api.get("/cases/P-1/clocks", params={"explain": "true"})
    assert response.status_code == 200, response.text
    handling = response.json()[1]["explanation"]
    assert handling["rule"]["id"] == "petition.handling"
    assert [pause["resumed_on"] for pause in handling["pauses"]] == ["2026-03-05", None]
    assert handling["extension"] == 30
    # the row's due instant was not counted by the rule book: the explanation says so
    assert handling["matches_clock"] is False and handling["notes"]
