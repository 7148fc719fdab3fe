"""执法监督 through the API and the projector, in-process on a SQLite read model: the commands
are decided by the API (the broker is away, so their events wait in the outbox, as the relay
finds them) and projected by the projection writer the worker runs. A 执法监督书 opens one
rectification with its deadline even when the notice is delivered again, and is rectified once
that rectification is verified; a 不予处罚 decision's publication clock runs from the decision
date and is met when it is published; roles and departments are enforced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from casestream.api.app import create_app
from casestream.api.http_metrics import ApiRegistry
from casestream.bootstrap import SendPatience, bootstrap
from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import parse_event
from casestream.domain.rules import load_rulebook
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.outbox import Outbox
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import case_events
from casestream.settings import Settings
from tests.auth import TEST_SECRET, auth_headers
from tests.events import raw

DEPARTMENT = "治安大队"
LEGAL = auth_headers("legal")
HANDLER = auth_headers("handler", DEPARTMENT)
HEAD = auth_headers("department_head", DEPARTMENT)
SUPERVISOR = auth_headers("supervisor")
OTHER_HEAD = auth_headers("department_head", "交警大队")
NOTICE_ID = "JDS-2026-0004"
RECT_ID = f"RECT-{NOTICE_ID}"


class System:
    """The API and the projector over one read model; `project` plays the broker and worker."""

    def __init__(self, engine: sa.Engine, client: TestClient) -> None:
        self.engine = engine
        self.client = client
        self.writer = ProjectionWriter(engine, ClockPolicy(load_rulebook(), load_calendar()))
        self.offsets = count()

    def deliver(self, bodies: list[str]) -> None:
        batch = [
            ConsumedEvent("enforcement-flow", 0, next(self.offsets), parse_event(body))
            for body in bodies
        ]
        self.writer.apply_batch(batch)

    def project(self) -> None:
        """Project what waits in the outbox, then what that derived, until nothing waits."""
        outbox = Outbox(self.engine)
        later = datetime.now(UTC) + timedelta(days=1)  # past any command's send window
        while pending := outbox.unpublished(now=later):
            self.deliver([item.body for item in pending])
            outbox.mark_published([item.event_id for item in pending])

    def command(
        self, case_id: str, name: str, headers: dict[str, str], **fields: Any
    ) -> dict[str, Any]:
        answer = self.client.post(f"/cases/{case_id}/commands/{name}", json=fields, headers=headers)
        assert answer.status_code == 202, answer.text  # kept for the relay: the broker is away
        self.project()
        return dict(answer.json())

    def register(
        self, kind: str, command: str, case_id: str, headers: dict[str, str], **fields: Any
    ) -> None:
        body = {"case_kind": kind, "command": command, "case_id": case_id, "fields": fields}
        answer = self.client.post("/cases", json=body, headers=headers)
        assert answer.status_code == 202, answer.text
        self.project()

    def state(self, case_id: str, headers: dict[str, str] = LEGAL) -> dict[str, Any]:
        answer = self.client.get(f"/cases/{case_id}", headers=headers)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["state"])

    def clocks(self, case_id: str) -> list[dict[str, Any]]:
        return list(self.client.get(f"/cases/{case_id}/clocks", headers=LEGAL).json())


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    engine = create_engine(f"sqlite:///{tmp_path / 'enforcement.db'}")
    migrate(engine)
    settings = Settings(
        database_url=str(engine.url),
        kafka_bootstrap="127.0.0.1:1",  # nothing listens: every command waits in the outbox
        auth_secret=TEST_SECRET,
        command_wait_seconds=0.3,
    )
    # the broker is away: a send gives up after half a second, not the API's usual five
    parts = bootstrap(settings, registry=ApiRegistry(), patience=SendPatience(0.5, 0.0))
    with TestClient(create_app(parts=parts)) as client:
        yield System(engine, client)
    engine.dispose()


def _today(days: int = 0) -> str:
    return (datetime.now(UTC) + timedelta(hours=8, days=days)).date().isoformat()


def test_the_catalogue_lists_the_enforcement_commands_with_their_roles(system: System) -> None:
    items = system.client.get("/commands", headers=HANDLER).json()["items"]
    roles = {
        (item["case_kind"], item["name"]): item["roles"]
        for item in items
        if item["case_kind"].startswith("enforcement_")
    }
    assert roles == {
        ("enforcement_review", "open_review"): ["legal"],
        ("enforcement_review", "issue_opinion"): ["legal"],
        ("enforcement_review", "complete_review"): ["legal"],
        ("enforcement_notice", "issue_notice"): ["legal"],
        ("enforcement_decision", "record_decision"): ["department_head", "handler", "legal"],
        ("enforcement_decision", "publish"): ["department_head", "legal"],
        ("enforcement_decision", "withdraw_publication"): ["department_head", "legal"],
    }


def test_a_review_holds_its_opinions_and_score_and_a_score_over_100_is_422(system: System) -> None:
    system.register(
        "enforcement_review",
        "open_review",
        "KP-2026-0031",
        LEGAL,
        decision_ref="公(治)行罚决字〔2026〕88号",
        department=DEPARTMENT,
    )
    system.command("KP-2026-0031", "issue_opinion", LEGAL, category="procedure", text="未告知")
    system.command("KP-2026-0031", "issue_opinion", LEGAL, category="evidence", text="证据不足")
    over = system.client.post(
        "/cases/KP-2026-0031/commands/complete_review", json={"score": 101}, headers=LEGAL
    )
    assert over.status_code == 422 and over.json()["detail"][0]["loc"][-1] == "score", over.text
    handler = system.client.post(
        "/cases/KP-2026-0031/commands/issue_opinion",
        json={"category": "other", "text": "x"},
        headers=HANDLER,
    )
    assert handler.status_code == 403, handler.text
    system.command("KP-2026-0031", "complete_review", LEGAL, score=78)
    state = system.state("KP-2026-0031", HEAD)  # the reviewed department sees its review
    assert (state["status"], state["score"]) == ("completed", 78)
    assert [o["category"] for o in state["opinions"]] == ["procedure", "evidence"]
    late = system.client.post(
        "/cases/KP-2026-0031/commands/issue_opinion",
        json={"category": "other", "text": "补充"},
        headers=LEGAL,
    )
    assert late.status_code == 409 and "completed" in late.text


def test_a_notice_opens_one_rectification_and_is_rectified_when_it_is_verified(
    system: System,
) -> None:
    deadline = _today(30)
    refused = system.client.post(
        "/cases",
        json={
            "case_kind": "enforcement_notice",
            "command": "issue_notice",
            "case_id": NOTICE_ID,
            "fields": {
                "notice_no": "x",
                "department": DEPARTMENT,
                "matters": ["x"],
                "deadline": deadline,
            },
        },
        headers=HEAD,
    )
    assert refused.status_code == 403, refused.text
    system.register(
        "enforcement_notice",
        "issue_notice",
        NOTICE_ID,
        LEGAL,
        notice_no="公法监字〔2026〕4号",
        department=DEPARTMENT,
        decision_ref="公(治)行罚决字〔2026〕88号",
        review_case_id="KP-2026-0031",
        matters=["补正告知程序", "重新审核处罚裁量"],
        deadline=deadline,
    )
    notice = system.state(NOTICE_ID, HEAD)
    assert (notice["status"], notice["rectification_id"]) == ("issued", RECT_ID)
    rectification = system.state(RECT_ID, HEAD)
    assert (rectification["deadline"], rectification["department"]) == (deadline, DEPARTMENT)
    assert rectification["source_case_id"] == NOTICE_ID
    (completion,) = [c for c in system.clocks(RECT_ID) if c["rule"] == "rectification.completion"]
    assert (completion["due_date"], completion["status"]) == (deadline, "running")
    assert system.client.get(f"/cases/{NOTICE_ID}", headers=OTHER_HEAD).status_code == 404

    # the notice delivered again (a redelivery from the topic): still one rectification
    with system.engine.connect() as conn:
        issued = conn.execute(
            sa.select(case_events.c.body).where(case_events.c.case_id == NOTICE_ID)
        ).scalar_one()
    system.deliver([issued if isinstance(issued, str) else json.dumps(issued)])
    system.project()
    with system.engine.connect() as conn:
        opened = conn.execute(
            sa.select(sa.func.count())
            .select_from(case_events)
            .where(case_events.c.case_id == RECT_ID)
        ).scalar()
    assert opened == 1

    system.command(RECT_ID, "complete", HEAD, evidence=["重新告知笔录"])
    assert system.state(NOTICE_ID)["status"] == "issued"  # completed is not yet verified
    system.command(RECT_ID, "verify", SUPERVISOR, comment="核查属实")
    notice = system.state(NOTICE_ID, HEAD)
    assert (notice["status"], notice["verified_by"]) == ("rectified", "test-supervisor")


def test_a_decision_s_publication_clock_runs_from_its_date_and_is_met_when_published(
    system: System,
) -> None:
    fields = {
        "decision_ref": "公(治)不罚决字〔2026〕17号",
        "exemption": "minor",
        "legal_basis": "《行政处罚法》第三十三条第一款",
        "decided_on": _today(-1),
    }
    other = system.client.post(
        "/cases",
        json={
            "case_kind": "enforcement_decision",
            "command": "record_decision",
            "case_id": "BYCF-2026-0017",
            "fields": {**fields, "department": "交警大队"},
        },
        headers=HANDLER,
    )
    assert other.status_code == 403, other.text  # a handler records their own department's
    system.register(
        "enforcement_decision",
        "record_decision",
        "BYCF-2026-0017",
        HANDLER,
        **fields,
        department=DEPARTMENT,
    )
    (clock,) = system.clocks("BYCF-2026-0017")
    assert (clock["rule"], clock["status"]) == ("enforcement_decision.publication", "running")
    assert clock["due_date"] > _today(5)  # 7 working days from yesterday
    denied = system.client.post(
        "/cases/BYCF-2026-0017/commands/publish", json={"platform": "门户网站"}, headers=HANDLER
    )
    assert denied.status_code == 403, denied.text
    system.command("BYCF-2026-0017", "publish", HEAD, platform="县政府门户网站")
    state = system.state("BYCF-2026-0017", HANDLER)
    assert (state["status"], state["platform"]) == ("published", "县政府门户网站")
    (clock,) = system.clocks("BYCF-2026-0017")
    assert clock["status"] == "met"


def test_the_figures_count_reviews_opinions_notices_and_decisions_on_time(
    system: System,
) -> None:
    """GET /stats: reviews scored with their opinions by category, notices issued and rectified,
    decisions by ground and their publication on time, late or overdue still unpublished."""
    now = datetime.now(UTC)
    review = {"decision_ref": "D-1", "department": DEPARTMENT, "reviewer": "张敏"}
    decided = {"legal_basis": "《行政处罚法》第三十三条", "department": DEPARTMENT}
    today, long_ago = _today(), _today(-40)
    events = [
        raw("EnforcementReviewOpened", "KP-A", "enforcement_review", review, at=now),
        raw("EnforcementReviewOpened", "KP-B", "enforcement_review", review, at=now),
        *(
            raw("ReviewOpinionIssued", case_id, "enforcement_review", opinion, at=now)
            for case_id, opinion in [
                ("KP-A", {"category": "procedure", "text": "未告知"}),
                ("KP-A", {"category": "evidence", "text": "证据不足"}),
                ("KP-B", {"category": "procedure", "text": "超期送达"}),
            ]
        ),
        raw("EnforcementReviewCompleted", "KP-A", "enforcement_review", {"score": 70}, at=now),
        raw("EnforcementReviewCompleted", "KP-B", "enforcement_review", {"score": 90}, at=now),
        raw(
            "EnforcementNoticeIssued",
            "JDS-A",
            "enforcement_notice",
            {
                "notice_no": "N-1",
                "department": DEPARTMENT,
                "matters": ["x"],
                "deadline": _today(30),
            },
            at=now,
        ),
        *(
            raw(
                "EnforcementDecisionRecorded",
                case_id,
                "enforcement_decision",
                decided | {"decision_ref": case_id, "exemption": ground, "decided_on": on},
                at=now,
            )
            for case_id, ground, on in [
                ("BCF-ON-TIME", "minor", today),
                ("BCF-LATE", "first_offence", long_ago),
                ("BCF-UNPUBLISHED", "first_offence", long_ago),
            ]
        ),
        *(
            raw(
                "EnforcementDecisionPublished",
                case_id,
                "enforcement_decision",
                {"platform": "网站"},
                at=now,
            )
            for case_id in ("BCF-ON-TIME", "BCF-LATE")
        ),
    ]
    system.deliver([json.dumps(item) for item in events])
    answer = system.client.get(f"/stats?from={_today(-1)}&to={_today(1)}", headers=LEGAL)
    assert answer.status_code == 200, answer.text
    figures = answer.json()["enforcement"]
    reviews, notices, decisions = figures["reviews"], figures["notices"], figures["decisions"]
    assert (reviews["reviewed"], reviews["scored"], reviews["average_score"]) == (2, 2, 80)
    assert reviews["opinions"] == 3
    assert reviews["opinions_by_category"] == {
        "facts": 0,
        "evidence": 1,
        "procedure": 2,
        "law": 0,
        "documents": 0,
        "discretion": 0,
        "property": 0,
        "other": 0,
    }
    assert (notices["issued"], notices["rectified"]) == (1, 0)
    assert decisions["by_exemption"] == {"minor": 1, "first_offence": 2, "no_fault": 0, "other": 0}
    assert (decisions["recorded"], decisions["published"]) == (3, 2)
    assert (decisions["published_on_time"], decisions["overdue"]) == (1, 2)
    assert decisions["on_time_rate"] == 1 / 3
