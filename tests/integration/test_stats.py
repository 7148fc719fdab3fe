"""Rule-of-law figures (GET /stats) over real SQLite and PostgreSQL read models.

The cases are projected from events by the real ProjectionWriter (clocks included), so the
figures are computed from what the worker would have written; "now" is fixed.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from casestream.api.app import create_app
from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import Event, parse_event
from casestream.domain.rules import load_rulebook
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.figure_counts import FigureCounter
from casestream.read_models.outbox import Outbox
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import cases
from casestream.settings import Settings
from tests.auth import TEST_SECRET, auth_headers
from tests.conftest import Database
from tests.events import event, local, reconsideration

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NOW = datetime.fromisoformat("2026-04-15T10:00:00+08:00")
POLICY = ClockPolicy(load_rulebook(), load_calendar())
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def complaint(
    case_id: str,
    received: str,
    *,
    accepted: str | None = None,
    resolved: str | None = None,
    satisfaction: int | None = None,
    department: str = "治安大队",
    **received_payload: Any,
) -> list[Event[Any]]:
    payload = {"channel": "hotline_12345", "subject": "夜间噪音扰民", "department": department}
    events = [
        event(
            "ComplaintReceived",
            case_id,
            "complaint",
            payload | received_payload,
            at=local(received),
        )
    ]
    if accepted:
        events.append(event("ComplaintAccepted", case_id, "complaint", at=local(accepted)))
    if resolved:
        outcome = {"outcome": "substantiated"}
        events.append(event("ComplaintResolved", case_id, "complaint", outcome, at=local(resolved)))
    if satisfaction:
        visit = {"satisfaction": satisfaction}
        events.append(
            event(
                "ComplaintFollowUpVisited",
                case_id,
                "complaint",
                visit,
                at=local(resolved or received),
            )
        )
    return events


def tip(case_id: str, received: str, verified: str | None = None, **extra: Any) -> list[Event[Any]]:
    payload = {"enterprise": "甲建材有限公司", "subject": "违规经营", "department": "治安大队"}
    events = [event("TipReceived", case_id, "enterprise_tip", payload | extra, at=local(received))]
    if verified:
        result = {"result": "substantiated"}
        events.append(event("TipVerified", case_id, "enterprise_tip", result, at=local(verified)))
    return events


def lawsuit(
    case_id: str, number: int, *, head_appeared: bool | None, outcome: str | None
) -> list[Event[Any]]:
    kind = "litigation"
    filed = {
        "court": "区人民法院",
        "plaintiff": {"name": "赵六", "phone": "13700002222"},
        "decision_ref": f"公(治)行罚决字〔2026〕{number}号",
        "department": "治安大队",
    }
    events = [
        event("LawsuitFiled", case_id, kind, filed, at=local("2026-03-02T09:00")),
        event("ComplaintCopyServed", case_id, kind, at=local("2026-03-03T09:00")),
        event("DefenceSubmitted", case_id, kind, at=local("2026-03-10T09:00")),
    ]
    if head_appeared is not None:
        hearing = {"agency_head_appeared": head_appeared}
        events.append(event("HearingHeld", case_id, kind, hearing, at=local("2026-03-20T09:00")))
    if outcome:
        judgment = {"instance": "first", "outcome": outcome}
        events.append(
            event("JudgmentIssued", case_id, kind, judgment, at=local("2026-03-30T09:00"))
        )
    return events


def rectification(case_id: str, source: str, source_kind: str, opened: str) -> list[Event[Any]]:
    payload = {
        "source_case_id": source,
        "source_case_kind": source_kind,
        "department": "治安大队",
        "responsible_person": "张警官",
        "deadline": "2026-04-10",
        "description": f"整改 {source}",
    }
    return [event("RectificationOpened", case_id, "rectification", payload, at=local(opened))]


def scenario() -> list[Event[Any]]:
    """March 2026, and a few cases just outside it; see the figures asserted below."""
    rect = "rectification"
    return [
        # complaints: C1, C2 (涉企), C5 in time; C3 late; C4 open past due; C6 received in April
        *complaint(
            "C1",
            "2026-03-01T00:30",  # 28 Feb in UTC: in March by the local date
            accepted="2026-03-02T09:00",
            resolved="2026-03-05T09:00",
            satisfaction=5,
            complainant={"name": "张三", "phone": "13812345678"},
        ),
        *complaint(
            "C2",
            "2026-03-03T09:00",
            accepted="2026-03-03T10:00",
            resolved="2026-03-06T09:00",
            satisfaction=3,
            enterprise=True,
            enterprise_name="某某科技有限公司",
            channel="online",
        ),
        *complaint(
            "C3", "2026-03-04T09:00", accepted="2026-03-04T09:00", resolved="2026-03-31T09:00"
        ),
        *complaint("C4", "2026-03-20T09:00", accepted="2026-03-20T09:00"),
        *complaint(
            "C5",
            "2026-03-31T23:30",
            accepted="2026-04-01T09:00",
            resolved="2026-04-02T09:00",
            department="交警大队",
        ),
        *complaint("C6", "2026-04-01T00:30", subject="=1+2"),  # 31 Mar in UTC: April locally
        # enterprise tip-offs: T1 verified in time, T2 late (due 23 Mar); T3 in April, anonymous
        *tip("T1", "2026-03-02T09:00", "2026-03-06T09:00", informant={"name": "李四"}),
        *tip("T2", "2026-03-02T09:00", "2026-04-10T09:00"),
        *tip("T3", "2026-04-10T09:00", anonymous=True, informant={"name": "钱七"}),
        # reconsiderations: maintained, revoked (纠错), pending
        *reconsideration("R1", 101, "maintained"),
        *reconsideration("R2", 102, "revoked"),
        *reconsideration("R3", 104, None),
        # lawsuits: lost with the agency head in court, won without, pending without a hearing
        *lawsuit("L1", 103, head_appeared=True, outcome="revoked"),
        *lawsuit("L2", 105, head_appeared=False, outcome="claim_dismissed"),
        *lawsuit("L3", 106, head_appeared=None, outcome=None),
        # rectifications: RECT-R2 completed in time, RECT-L1 open past its 10 April deadline,
        # RECT-X cancelled (its loss was overturned)
        event(
            "ReviewTaskOpened",
            "RECT-R2",
            rect,
            {
                "source_case_id": "R2",
                "source_case_kind": "reconsideration",
                "department": "治安大队",
            },
            at=local("2026-03-20T10:00"),
        ),
        *rectification("RECT-R2", "R2", "reconsideration", "2026-03-20T10:00"),
        event(
            "ReviewCompleted",
            "RECT-R2",
            rect,
            {"root_causes": ["procedure", "facts"], "lessons": "告知程序缺失"},
            at=local("2026-03-25T09:00"),
        ),
        event(
            "MeasureAdded",
            "RECT-R2",
            rect,
            {"measure": "完善告知程序"},
            at=local("2026-03-26T09:00"),
        ),
        event(
            "MeasureAdded",
            "RECT-R2",
            rect,
            {"measure": "组织执法培训"},
            at=local("2026-03-26T10:00"),
        ),
        event(
            "ProgressReported",
            "RECT-R2",
            rect,
            {"progress": "培训已完成", "percent": 100},
            at=local("2026-04-07T09:00"),
        ),
        event(
            "RectificationCompleted",
            "RECT-R2",
            rect,
            {"evidence": ["培训签到表", "新版告知书"]},
            at=local("2026-04-08T09:00"),
        ),
        event(
            "RectificationVerified",
            "RECT-R2",
            rect,
            {"supervisor": "督察李", "comment": "材料齐全"},
            at=local("2026-04-09T09:00"),
        ),
        *rectification("RECT-L1", "L1", "litigation", "2026-03-30T10:00"),
        *rectification("RECT-X", "L2", "litigation", "2026-03-25T09:00"),
        event(
            "RectificationCancelled",
            "RECT-X",
            rect,
            {"reason": "二审改判"},
            at=local("2026-03-28T09:00"),
        ),
    ]


def project(database: Database, events: list[Event[Any]]) -> None:
    engine = create_engine(database.url, database.schema)
    migrate(engine, FigureCounter(POLICY.rulebook, POLICY.timezone).ensure)  # as bootstrap does
    batch = [ConsumedEvent("cases.events", 0, offset, item) for offset, item in enumerate(events)]
    ProjectionWriter(engine, POLICY).apply_batch(batch)
    engine.dispose()


def client_for(database: Database) -> Iterator[TestClient]:
    """The API of the database, "now" fixed at NOW; requests are made as legal (法制) unless
    they send other credentials."""
    settings = Settings(
        database_url=database.url,
        database_schema=database.schema,
        kafka_bootstrap=None,
        auth_secret=TEST_SECRET,
    )
    with TestClient(create_app(settings, now=lambda: NOW), headers=auth_headers("legal")) as client:
        yield client


@pytest.fixture
def api(database: Database) -> Iterator[TestClient]:
    project(database, scenario())
    yield from client_for(database)


def figures(api: TestClient, **params: str) -> dict[str, Any]:
    response = api.get("/stats", params=MARCH | params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_figures_of_a_month_count_cases_received_in_it_by_local_date(api: TestClient) -> None:
    body = figures(api)
    assert body["period_from"] == "2026-03-01" and body["period_to"] == "2026-03-31"
    assert body["timezone"] == "Asia/Shanghai" and body["department"] is None
    assert body["complaints"] == {
        "received": 5,  # C1 (28 Feb UTC) … C5 (31 Mar 23:30); not C6 (1 Apr 00:30)
        "resolved": 4,
        "resolved_on_time": 3,
        "overdue": 2,  # C3 resolved late, C4 open past its 13 April deadline
        "on_time_rate": pytest.approx(0.6),
    }
    assert body["enterprise_complaints"] == {
        "received": 1,
        "resolved": 1,
        "resolved_on_time": 1,
        "overdue": 0,
        "on_time_rate": 1.0,
    }
    assert body["enterprise_tips"] == {
        "received": 2,
        "verified": 2,
        "verified_on_time": 1,
        "overdue": 1,
        "on_time_rate": 0.5,
    }
    assert body["satisfaction"] == {
        "visited": 2,
        "average_score": 4.0,
        "satisfied": 1,
        "satisfied_rate": 0.5,
    }


def test_correction_loss_and_agency_head_appearance_rates(api: TestClient) -> None:
    body = figures(api)
    assert body["reconsiderations"] == {
        "received": 3,
        "decided": 2,
        "corrections": 1,
        "correction_rate": 0.5,
    }
    assert body["lawsuits"] == {
        "filed": 3,
        "judged": 2,
        "losses": 1,
        "loss_rate": 0.5,
        "heard": 2,
        "agency_head_appeared": 1,
        "hearings": 2,
        "hearings_head_appeared": 1,
        "agency_head_appearance_rate": 0.5,
    }


def hearings_scenario() -> list[Event[Any]]:
    """March 2026: L7 heard twice, the head at the first; L8 heard once with the head (an
    older HearingHeld record); L9 heard once without; L10 not heard yet."""
    kind = "litigation"
    events = [
        *lawsuit("L7", 107, head_appeared=None, outcome=None),
        *lawsuit("L8", 108, head_appeared=True, outcome=None),
        *lawsuit("L9", 109, head_appeared=None, outcome=None),
        *lawsuit("L10", 110, head_appeared=None, outcome=None),
    ]
    scheduled = {"hearing_date": "2026-03-25", "head_expected": True}
    first = {
        "held_on": "2026-03-25",
        "appeared": [{"name": "王副局长", "title": "副局长"}, {"name": "李法制"}],
        "head_appeared": True,
    }
    second = {"held_on": "2026-04-08", "appeared": [{"name": "李法制"}], "head_appeared": False}
    events += [
        event("CourtHearingScheduled", "L7", kind, scheduled, at=local("2026-03-12T09:00")),
        event("CourtHearingHeld", "L7", kind, first, at=local("2026-03-25T11:00")),
        event("CourtHearingHeld", "L7", kind, second, at=local("2026-04-08T11:00")),
        event("CourtHearingHeld", "L9", kind, second, at=local("2026-04-08T15:00")),
    ]
    return events


def test_the_appearance_rate_counts_hearings_the_head_appeared_at_over_hearings_held(
    database: Database,
) -> None:
    project(database, hearings_scenario())
    expected = {
        "filed": 4,
        "judged": 0,
        "losses": 0,
        "loss_rate": None,
        "heard": 3,  # lawsuits: L7, L8, L9
        "agency_head_appeared": 2,  # L7, L8
        "hearings": 4,  # L7 twice, L8, L9
        "hearings_head_appeared": 2,  # L7's first, L8's
        "agency_head_appearance_rate": 0.5,  # by lawsuit it would be 2/3
    }
    for api in client_for(database):
        assert figures(api)["lawsuits"] == expected
    # a lawsuit stored before hearings were counted one by one (no head_appearances) counts
    # once if the head appeared at any of its hearings: the figure is unchanged
    forget_head_appearances(database, "L8")
    for api in client_for(database):
        assert figures(api)["lawsuits"] == expected


def forget_head_appearances(database: Database, case_id: str) -> None:
    engine = create_engine(database.url, database.schema)
    with engine.begin() as conn:
        row = conn.execute(sa.select(cases.c.state).where(cases.c.case_id == case_id)).one()
        state = {key: value for key, value in row.state.items() if key != "head_appearances"}
        conn.execute(sa.update(cases).where(cases.c.case_id == case_id).values(state=state))
    engine.dispose()


def test_rectifications_on_time_overdue_and_cancelled(api: TestClient) -> None:
    assert figures(api)["rectifications"] == {
        "opened": 2,  # RECT-R2, RECT-L1; RECT-X was cancelled
        "completed": 1,
        "completed_on_time": 1,
        "overdue": 1,  # RECT-L1: open, its deadline (10 April) has passed
        "cancelled": 1,
        "on_time_rate": 0.5,
    }


def test_a_department_sees_only_its_own_cases(api: TestClient) -> None:
    own = figures(api, department="治安大队")
    assert own["department"] == "治安大队"
    assert own["complaints"]["received"] == 4 and own["complaints"]["on_time_rate"] == 0.5
    other = figures(api, department="交警大队")
    assert other["complaints"] == {
        "received": 1,
        "resolved": 1,
        "resolved_on_time": 1,
        "overdue": 0,
        "on_time_rate": 1.0,
    }
    assert other["lawsuits"]["filed"] == 0 and other["lawsuits"]["loss_rate"] is None


def test_a_department_head_gets_their_own_departments_figures_only(api: TestClient) -> None:
    head = auth_headers("department_head", "交警大队")
    response = api.get("/stats", params=MARCH, headers=head)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["department"] == "交警大队" and body["complaints"]["received"] == 1
    other = api.get("/stats", params=MARCH | {"department": "治安大队"}, headers=head)
    assert other.status_code == 403


def test_figures_need_a_caller(api: TestClient) -> None:
    assert api.get("/stats", params=MARCH, headers={"Authorization": ""}).status_code == 401


def test_an_empty_period_has_zero_counts_and_null_rates(api: TestClient) -> None:
    body = figures(api, **{"from": "2025-01-01", "to": "2025-12-31"})
    assert body["complaints"]["received"] == 0 and body["complaints"]["on_time_rate"] is None
    assert body["satisfaction"] == {
        "visited": 0,
        "average_score": None,
        "satisfied": 0,
        "satisfied_rate": None,
    }
    assert body["supervision"] == {"flagged": 0, "open": 0}
    assert body["reconsiderations"]["correction_rate"] is None
    assert body["lawsuits"]["agency_head_appearance_rate"] is None
    assert body["rectifications"]["on_time_rate"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-03-31", "to": "2026-03-01"}, "to"),
        ({"from": "2026-13-01", "to": "2026-03-01"}, "from"),
        ({"from": "2026-03-01", "to": "31/03/2026"}, "to"),
        ({"to": "2026-03-31"}, "from"),
    ],
)
def test_a_bad_period_is_refused_naming_the_field(
    api: TestClient, params: dict[str, str], field: str
) -> None:
    response = api.get("/stats", params=params)
    assert response.status_code == 422
    assert ["query", field] in [error["loc"] for error in response.json()["detail"]]


def test_supervision_counts_complaints_flagged_after_a_poor_follow_up_and_those_still_open(
    database: Database,
) -> None:
    visited = {"accepted": "2026-03-02T10:00", "resolved": "2026-03-05T09:00"}
    events = [
        *complaint("S1", "2026-03-02T09:00", satisfaction=1, **visited),
        *complaint("S2", "2026-03-02T09:00", satisfaction=2, **visited),
        *complaint("S3", "2026-03-02T09:00", satisfaction=2, **visited),
        *complaint("S4", "2026-03-02T09:00", satisfaction=4, **visited),
    ]
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    writer = ProjectionWriter(engine, POLICY)
    writer.apply_batch([ConsumedEvent("cases.events", 0, n, item) for n, item in enumerate(events)])
    flags = [parse_event(json.loads(row.body)) for row in Outbox(engine).unpublished()]
    later = [
        *flags,  # relayed: S1, S2 and S3 flagged
        event(
            "SupervisionClosed",
            "S2",
            "complaint",
            {"supervisor": "督察李", "conclusion": "已约谈承办人"},
            at=local("2026-03-10T09:00"),
        ),
        event(
            "ComplaintReopened",
            "S3",
            "complaint",
            {"reason": "重新办理"},
            at=local("2026-03-10T09:00"),
        ),
    ]
    start = len(events)
    writer.apply_batch(
        [ConsumedEvent("cases.events", 0, start + n, item) for n, item in enumerate(later)]
    )
    engine.dispose()
    for api in client_for(database):
        assert figures(api)["supervision"] == {"flagged": 3, "open": 1}  # S1 still open


def test_a_reopened_complaint_is_judged_on_every_handling_period(database: Database) -> None:
    in_time = {"accepted": "2026-03-02T09:00", "resolved": "2026-03-05T09:00"}

    def reopened(case_id: str, at: str) -> Event[Any]:
        return event(
            "ComplaintReopened", case_id, "complaint", {"reason": "重新办理"}, at=local(at)
        )

    def resolved(case_id: str, at: str) -> Event[Any]:
        outcome = {"outcome": "substantiated"}
        return event("ComplaintResolved", case_id, "complaint", outcome, at=local(at))

    project(
        database,
        [
            # R1: both handlings in time
            *complaint("R1", "2026-03-02T08:00", **in_time),
            reopened("R1", "2026-03-10T09:00"),
            resolved("R1", "2026-03-12T09:00"),
            # R2: the first handling late (due 23 March), the second in time: late it stays
            *complaint("R2", "2026-03-02T08:00", accepted="2026-03-02T09:00"),
            resolved("R2", "2026-04-10T09:00"),
            reopened("R2", "2026-04-13T09:00"),
            resolved("R2", "2026-04-14T09:00"),
            # R3: handled again from 10 March, 15 working days to 31 March, still open on 15 April
            *complaint("R3", "2026-03-02T08:00", **in_time),
            reopened("R3", "2026-03-10T09:00"),
        ],
    )
    for api in client_for(database):
        assert figures(api)["complaints"] == {
            "received": 3,
            "resolved": 2,
            "resolved_on_time": 1,  # R1
            "overdue": 2,  # R2's first handling, R3's second
            "on_time_rate": pytest.approx(1 / 3),
        }
        listed = api.get("/cases/R3/clocks").json()
        handling = sorted(
            (clock["clock_id"], clock["due_date"], clock["stopped_at"] is None)
            for clock in listed
            if clock["rule"] == "complaint.handling"
        )
        assert handling == [
            ("R3/complaint.handling/0", "2026-03-23", False),
            ("R3/complaint.handling/1", "2026-03-31", True),
        ]
