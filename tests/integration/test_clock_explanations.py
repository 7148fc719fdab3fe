"""`explain=true` on the clock routes, through the real projection writer and the API on SQLite
and PostgreSQL: each clock says how its deadline was counted; without it the answer keeps its
shape."""

from __future__ import annotations

from typing import Any

from casestream.domain.envelope import Event
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from tests.conftest import Database
from tests.events import event, local
from tests.integration.test_stats import POLICY, client_for

CLOCK_FIELDS = {
    "clock_id",
    "case_id",
    "case_kind",
    "rule",
    "status",
    "started_at",
    "due_date",
    "due_at",
    "provisional",
    "stopped_at",
    "department",
    "enterprise",
    "next_alert_at",
    "pauses",
    "extension",
}


def _complaint() -> list[Event[Any]]:
    """Accepted before 国庆 2026, suspended three days, extended by five working days."""
    received = {"channel": "hotline_12345", "subject": "窗口办证拖延", "enterprise": False}
    return [
        event("ComplaintReceived", "K1", "complaint", received, at=local("2026-09-24T09:00")),
        event(
            "ComplaintAccepted",
            "K1",
            "complaint",
            {"department": "治安大队"},
            at=local("2026-09-24T10:00"),
        ),
        event(
            "CaseSuspended", "K1", "complaint", {"reason": "待鉴定"}, at=local("2026-09-28T09:00")
        ),
        event("CaseResumed", "K1", "complaint", {}, at=local("2026-10-01T09:00")),
        event(
            "DeadlineExtended",
            "K1",
            "complaint",
            {"approved_by": "王局长", "new_length": 20, "reason": "需现场核实"},
            at=local("2026-10-09T09:00"),
        ),
    ]


def _accepted(case_id: str, at: str) -> list[Event[Any]]:
    received = {"channel": "hotline_12345", "subject": "噪音扰民", "enterprise": False}
    return [
        event("ComplaintReceived", case_id, "complaint", received, at=local(at)),
        event("ComplaintAccepted", case_id, "complaint", {"department": "治安大队"}, at=local(at)),
    ]


def _project(database: Database, events: list[Event[Any]]) -> None:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    batch = [ConsumedEvent("cases.events", 0, index, item) for index, item in enumerate(events)]
    ProjectionWriter(engine, POLICY).apply_batch(batch)
    engine.dispose()


def test_explain_true_tells_how_each_deadline_was_counted_and_the_default_is_unchanged(
    database: Database,
) -> None:
    # at NOW (2026-04-15) K2 is overdue and K3 is due within a week
    _project(
        database,
        [*_complaint(), *_accepted("K2", "2026-03-02T10:00"), *_accepted("K3", "2026-03-27T10:00")],
    )
    for api in client_for(database):
        plain = api.get("/cases/K1/clocks")
        assert plain.status_code == 200, plain.text
        (clock,) = plain.json()
        assert set(clock) == CLOCK_FIELDS  # no explanation key unless asked

        explained = api.get("/cases/K1/clocks", params={"explain": "true"})
        assert explained.status_code == 200, explained.text
        (with_explanation,) = explained.json()
        explanation = with_explanation.pop("explanation")
        assert with_explanation == clock

        assert explanation["rule"]["id"] == "complaint.handling"
        assert explanation["rule"]["unit"] == "working_days"
        assert explanation["start"]["start_day"] == "2026-09-24"
        assert explanation["start"]["counts_from_next_day"] is True
        assert explanation["due_date"] == clock["due_date"]
        assert explanation["due_at"].endswith("+08:00")  # local time of the deployment
        assert explanation["matches_clock"] is True
        (pause,) = explanation["pauses"]
        assert (pause["suspended_on"], pause["resumed_on"], pause["days_suspended"]) == (
            "2026-09-28",
            "2026-10-01",
            3,
        )
        (extension,) = explanation["extensions"]
        assert (extension["approved_by"], extension["added"]) == ("王局长", 5)
        assert extension["new_due_date"] == clock["due_date"]
        days = explanation["days"]
        national = [d for d in days["not_counted"] if d["holiday"] == "国庆节 National Day"]
        assert [d["day"] for d in national] == [f"2026-10-0{n}" for n in range(2, 8)]
        assert {"day": "2026-10-10", "holiday": "国庆节 National Day"} in days["adjusted_workdays"]
        assert "中止3天" in explanation["summary_zh"]
        assert "延期5个工作日" in explanation["summary_zh"]
        assert explanation["summary_zh"].endswith(f"{clock['due_date']}届满")

        due = api.get("/clocks/due", params={"within": "1w", "explain": "true"})
        assert due.status_code == 200, due.text
        overdue = api.get("/cases/overdue", params={"explain": "true"}).json()["items"]
        listed = [*due.json()["items"], *overdue]
        assert [item["case_id"] for item in listed] == ["K3", "K2"]
        assert listed[0]["explanation"]["due_date"] == listed[0]["due_date"] == "2026-04-20"
        assert all(item["explanation"]["clock_id"] == item["clock_id"] for item in listed)
        assert all("explanation" not in item for item in api.get("/cases/overdue").json()["items"])


def test_the_explanation_is_documented_in_openapi(database: Database) -> None:
    for api in client_for(database):
        schema = api.get("/openapi.json").json()
        parameters = schema["paths"]["/cases/{case_id}/clocks"]["get"]["parameters"]
        assert "explain" in [parameter["name"] for parameter in parameters]
        components = schema["components"]["schemas"]
        assert {"ClockExplanation", "DayCount", "ExplainedExtension"} <= set(components)
