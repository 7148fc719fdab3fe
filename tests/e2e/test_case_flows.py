"""Each kind of case carried from registration to closure through the API alone, as the staff
would: a handler, a department head, the legal office, the supervision office (督察) and the
bureau's leadership each give the commands that are theirs, and read what they made at once.

One running system (broker topics, worker, API) serves the whole module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from casestream.domain.calendar import load_calendar
from tests.auth import auth_env, auth_headers
from tests.conftest import Database, fresh_topics
from tests.processes import free_port, running_system, service_env, wait_for

DEPARTMENT = "治安大队"
HANDLER = auth_headers("handler", DEPARTMENT)
HEAD = auth_headers("department_head", DEPARTMENT)
LEGAL = auth_headers("legal")
SUPERVISOR = auth_headers("supervisor")
LEADER = auth_headers("leader")
# the bureau's time zone, chosen so that its calendar day is not UTC's whenever the test runs: a
# day the staff name (a hearing held today) is the bureau's day, never the server clock's UTC one
ZONE = "Etc/GMT-14" if datetime.now(UTC).hour >= 12 else "Etc/GMT+12"
PDF = b"%PDF-1.7\n" + "答复书及证据".encode() * 200 + b"\n%%EOF\n"


@pytest.fixture(scope="module")
def api(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    topics = fresh_topics(kafka_bootstrap)  # one system for the module
    tmp_path = tmp_path_factory.mktemp("flows")
    database = Database(f"sqlite:///{tmp_path / 'flows.db'}", None)
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_API_PORT=str(free_port()),
        CASESTREAM_COMMAND_WAIT_SECONDS="30",
        CASESTREAM_CONSISTENCY_WAIT_SECONDS="30",
        CASESTREAM_EVIDENCE_DIR=str(tmp_path / "evidence"),
        CASESTREAM_TIMEZONE=ZONE,
        **auth_env(),
    )
    with running_system(env, tmp_path) as client:
        yield client


def _today(days: int = 0) -> str:
    """The bureau's calendar day, `days` from today."""
    return (datetime.now(ZoneInfo(ZONE)) + timedelta(days=days)).date().isoformat()


def _register(
    api: httpx.Client, kind: str, prefix: str, fields: dict[str, Any], headers: dict[str, str]
) -> str:
    case_id = f"{prefix}-{uuid.uuid4().hex[:8].upper()}"
    body = {"case_kind": kind, "command": "register", "case_id": case_id, "fields": fields}
    registered = api.post("/cases", json=body, headers=headers)
    assert registered.status_code == 201, registered.text
    assert registered.json()["applied"] is True and registered.json()["version"] == 1
    return case_id


def _give(
    api: httpx.Client, case_id: str, name: str, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    """Give a command that must be applied: the 200 answer's body."""
    answered = api.post(f"/cases/{case_id}/commands/{name}", json=fields, headers=headers)
    assert answered.status_code == 200, f"{name}: {answered.status_code} {answered.text}"
    assert answered.json()["applied"] is True
    return dict(answered.json())


def _case(api: httpx.Client, case_id: str, headers: dict[str, str] = HEAD) -> dict[str, Any]:
    found = api.get(f"/cases/{case_id}", headers=headers)
    assert found.status_code == 200, found.text
    return dict(found.json())


def _clocks(api: httpx.Client, case_id: str) -> dict[str, str]:
    """Each clock's rule and status (the latest clock of a rule)."""
    listed = api.get(f"/cases/{case_id}/clocks", headers=LEGAL)
    assert listed.status_code == 200, listed.text
    return {clock["rule"]: clock["status"] for clock in listed.json()}


def _history(api: httpx.Client, case_id: str) -> list[str]:
    events = api.get(f"/cases/{case_id}/events", headers=LEGAL).json()
    return [item["event_type"] for item in events]


def _supervision(api: httpx.Client) -> dict[str, Any]:
    stats = api.get(
        "/stats",
        params={"from": _today(-1), "to": _today(1), "department": DEPARTMENT},
        headers=SUPERVISOR,
    )
    assert stats.status_code == 200, stats.text
    return dict(stats.json()["supervision"])


def _upload(api: httpx.Client, name: str, headers: dict[str, str]) -> dict[str, Any]:
    uploaded = api.post("/files", params={"name": name}, content=PDF, headers=headers)
    assert uploaded.status_code == 201, uploaded.text
    return dict(uploaded.json())


def test_a_window_complaint_is_handled_followed_up_and_its_poor_visit_supervised(
    api: httpx.Client,
) -> None:
    case_id = _register(
        api,
        "complaint",
        "C-FLOW",
        {"channel": "window", "subject": "办证窗口拖延", "department": DEPARTMENT},
        HANDLER,
    )
    _give(api, case_id, "accept", HANDLER)
    _give(api, case_id, "assign", HEAD, department=DEPARTMENT, handler="张三")
    _give(api, case_id, "reply", HANDLER, reply="已电话答复投诉人")
    resolved = _give(api, case_id, "resolve", HANDLER, outcome="explained", summary="已解释")
    assert resolved["version"] == 5
    assert _case(api, case_id, HANDLER)["status"] == "resolved"
    assert _clocks(api, case_id)["complaint.handling"] == "met"
    assert _supervision(api) == {"flagged": 0, "open": 0}

    _give(api, case_id, "record_follow_up", HANDLER, satisfaction=1, comment="不满意")
    # the worker flags the complaint for 督察 on its own topic: it shows on the case
    flagged = wait_for(
        lambda: (found := _case(api, case_id, SUPERVISOR))["state"]["supervision"] and found,
        timeout=60,
    )
    assert flagged["status"] == "followed_up" and flagged["state"]["satisfaction"] == 1
    assert _supervision(api) == {"flagged": 1, "open": 1}

    closed = _give(api, case_id, "close_supervision", SUPERVISOR, conclusion="已约谈承办人")
    assert closed["version"] == flagged["version"] + 1
    assert _case(api, case_id, HANDLER)["state"]["supervision"] is False
    assert _supervision(api) == {"flagged": 1, "open": 0}
    assert _history(api, case_id) == [
        "ComplaintReceived",
        "ComplaintAccepted",
        "ComplaintAssigned",
        "ComplaintReplied",
        "ComplaintResolved",
        "ComplaintFollowUpVisited",
        "SupervisionFlagged",
        "SupervisionClosed",
    ]
    again = api.post(
        f"/cases/{case_id}/commands/close_supervision",
        json={"conclusion": "再次办结"},
        headers=SUPERVISOR,
    )
    assert again.status_code == 409 and "not under" in again.json()["detail"]["reason"]


def _handling_clocks(api: httpx.Client, case_id: str) -> list[dict[str, Any]]:
    listed = api.get(f"/cases/{case_id}/clocks", headers=LEGAL)
    assert listed.status_code == 200, listed.text
    handling = [clock for clock in listed.json() if clock["rule"] == "complaint.handling"]
    return sorted(handling, key=lambda clock: str(clock["clock_id"]))


def test_a_reopened_complaint_is_timed_again_from_the_reopening_until_resolved_again(
    api: httpx.Client,
) -> None:
    case_id = _register(
        api,
        "complaint",
        "C-AGAIN",
        {"channel": "window", "subject": "户籍迁移拖延", "department": DEPARTMENT},
        HANDLER,
    )
    _give(api, case_id, "accept", HANDLER)
    _give(api, case_id, "resolve", HANDLER, outcome="explained", summary="已解释")
    (first,) = _handling_clocks(api, case_id)
    assert first["status"] == "met"

    _give(api, case_id, "reopen", SUPERVISOR, reason="督察要求重新办理")
    events = api.get(f"/cases/{case_id}/events", headers=LEGAL).json()
    reopened_at = datetime.fromisoformat(events[-1]["event"]["occurred_at"])
    assert events[-1]["event_type"] == "ComplaintReopened"
    first_again, again = _handling_clocks(api, case_id)
    assert first_again == first  # the first period keeps its outcome
    assert again["clock_id"] == f"{case_id}/complaint.handling/1"
    assert again["status"] == "running" and again["stopped_at"] is None
    assert datetime.fromisoformat(again["started_at"]) == reopened_at
    # the same 15 working days, counted from the reopening's day in the bureau's zone
    reopening_day = reopened_at.astimezone(ZoneInfo(ZONE)).date()
    due = load_calendar().working_day_after(reopening_day, 15)
    assert again["due_date"] == due.isoformat()
    assert again["next_alert_at"] is not None  # the scanner watches it like any clock

    _give(api, case_id, "resolve", HANDLER, outcome="substantiated", summary="已纠正")
    first_again, again = _handling_clocks(api, case_id)
    assert first_again == first
    assert again["status"] == "met" and again["stopped_at"] is not None


def test_an_enterprise_tip_off_is_verified_closed_and_fed_back(api: httpx.Client) -> None:
    case_id = _register(
        api,
        "enterprise_tip",
        "TIP-FLOW",
        {
            "enterprise": "某某建材有限公司",
            "subject": "无证经营",
            "informant": {"name": "李四", "phone": "13800000000"},
            "department": DEPARTMENT,
        },
        HANDLER,
    )
    _give(api, case_id, "assign", HEAD, department=DEPARTMENT, handler="张三")
    _give(api, case_id, "record_verification", HANDLER, result="substantiated", findings="属实")
    _give(api, case_id, "close", HEAD, summary="已责令整改")
    fed_back = _give(api, case_id, "give_feedback", HANDLER, method="phone", summary="已告知")
    assert fed_back["version"] == 5
    case = _case(api, case_id, HANDLER)
    assert (case["status"], case["handler"]) == ("closed", "张三")
    clocks = _clocks(api, case_id)
    assert (clocks["enterprise_tip.handling"], clocks["enterprise_tip.feedback"]) == ("met", "met")


def test_a_reconsideration_replied_with_evidence_and_revoked_opens_a_rectification(
    api: httpx.Client,
) -> None:
    case_id = _register(
        api,
        "reconsideration",
        "RC-FLOW",
        {
            "applicant": {"name": "王五"},
            "decision_ref": "公(治)行罚决字〔2026〕88号",
            "reconsideration_body": "市人民政府",
            "department": DEPARTMENT,
        },
        LEGAL,
    )
    _give(api, case_id, "record_acceptance", LEGAL)
    _give(api, case_id, "record_copy_received", LEGAL)
    assert _clocks(api, case_id)["reconsideration.reply"] == "running"
    # the department whose act is challenged drafts the reply and cites its evidence
    evidence = _upload(api, "答复书.pdf", HANDLER)
    _give(api, case_id, "submit_reply", HANDLER, summary="答复", evidence_count=3, files=[evidence])
    assert _clocks(api, case_id)["reconsideration.reply"] == "met"
    _give(api, case_id, "record_decision", LEGAL, decision="revoked", decision_no="复决〔2026〕1号")
    case = _case(api, case_id)
    assert case["status"] == "decided"
    history = api.get(f"/cases/{case_id}/events", headers=HEAD).json()
    assert history[3]["event"]["payload"]["files"] == [evidence]
    assert api.get(f"/files/{evidence['sha256']}", headers=LEGAL).content == PDF

    def rectification() -> dict[str, Any] | None:
        listed = api.get("/rectifications", headers=HEAD).json()["items"]
        return next((item for item in listed if item["source_case_id"] == case_id), None)

    opened = wait_for(rectification, timeout=60)
    assert opened["rectification_id"] == f"RECT-{case_id}"
    assert (opened["department"], opened["source_case_kind"]) == (DEPARTMENT, "reconsideration")

    refused = api.post(f"/cases/{case_id}/commands/withdraw", json={}, headers=LEGAL)
    assert refused.status_code == 409, refused.text
    assert "decided" in refused.json()["detail"]["reason"]
    assert refused.json()["detail"]["current_version"] == case["version"]


@dataclass(frozen=True)
class Lawsuit:
    """A lawsuit carried to an effective loss, and what its clocks showed on the way."""

    case_id: str
    clocks_scheduled: dict[str, str]
    clocks_heard: dict[str, str]


@pytest.fixture(scope="module")
def lawsuit(api: httpx.Client) -> Lawsuit:
    case_id = _register(
        api,
        "litigation",
        "LIT-FLOW",
        {
            "court": "某区人民法院",
            "plaintiff": {"name": "赵六"},
            "decision_ref": "公(治)行罚决字〔2026〕99号",
            "department": DEPARTMENT,
        },
        LEGAL,
    )
    _give(api, case_id, "record_copy_served", LEGAL)
    _give(api, case_id, "submit_defence", HANDLER, summary="答辩状")
    _give(api, case_id, "schedule_hearing", LEGAL, hearing_date=_today(), head_expected=True)
    scheduled = _clocks(api, case_id)
    _give(
        api,
        case_id,
        "record_hearing",
        LEADER,
        held_on=_today(),
        appeared=[{"name": "王局长", "title": "副局长"}],
        head_appeared=True,
    )
    heard = _clocks(api, case_id)
    _give(api, case_id, "record_judgment", LEGAL, instance="first", outcome="revoked")
    _give(api, case_id, "record_service", LEGAL)
    _give(api, case_id, "record_effective", LEGAL)
    return Lawsuit(case_id, scheduled, heard)


def test_a_lawsuit_is_defended_heard_with_the_head_and_judged_effective(
    api: httpx.Client, lawsuit: Lawsuit
) -> None:
    assert lawsuit.clocks_scheduled["litigation.hearing_reminder"] == "running"
    assert lawsuit.clocks_scheduled["litigation.defence"] == "met"
    assert lawsuit.clocks_heard["litigation.hearing_reminder"] == "met"
    case = _case(api, lawsuit.case_id)
    assert (case["status"], case["version"]) == ("effective", 8)
    clocks = _clocks(api, lawsuit.case_id)
    assert clocks["litigation.first_instance"] == "met"
    assert clocks["litigation.appeal_judgment"] == "met"
    lawsuits = api.get(
        "/stats", params={"from": _today(-1), "to": _today(1)}, headers=LEADER
    ).json()["lawsuits"]
    assert lawsuits["hearings_head_appeared"] >= 1 and lawsuits["losses"] >= 1


def test_the_lost_lawsuit_s_rectification_is_reviewed_carried_out_and_verified(
    api: httpx.Client, lawsuit: Lawsuit
) -> None:
    rect = f"RECT-{lawsuit.case_id}"
    opened = wait_for(
        lambda: api.get(f"/rectifications/{rect}", headers=HANDLER).status_code == 200, timeout=60
    )
    assert opened
    _give(api, rect, "complete_review", HANDLER, root_causes=["procedure"], lessons="告知不全")
    _give(api, rect, "add_measure", HANDLER, measure="修订告知书模板")
    _give(api, rect, "report_progress", HANDLER, progress="模板已修订", percent=60)
    later = _today(60)
    _give(api, rect, "extend_deadline", LEADER, deadline=later, reason="培训排期")
    _give(api, rect, "reassign", HEAD, responsible_person="王五", reason="岗位调整")
    detail = api.get(f"/rectifications/{rect}", headers=HANDLER).json()
    assert (detail["status"], detail["responsible_person"]) == ("in_progress", "王五")
    deadline_day = datetime.fromisoformat(detail["deadline_at"]).astimezone(ZoneInfo(ZONE)).date()
    assert deadline_day.isoformat() == later and detail["review_status"] == "completed"
    assert detail["measures"] == ["修订告知书模板"]

    report = _upload(api, "整改报告.pdf", HANDLER)
    _give(api, rect, "complete", HANDLER, evidence=["整改报告"], files=[report])
    _give(api, rect, "verify", SUPERVISOR, comment="核验通过")
    detail = api.get(f"/rectifications/{rect}", headers=HANDLER).json()
    assert detail["status"] == "verified" and detail["evidence"] == ["整改报告"]
    assert [entry["supervisor"] for entry in detail["verifications"]] == ["test-supervisor"]
    clocks = {clock["rule"]: clock["status"] for clock in detail["clocks"]}
    assert clocks["rectification.completion"] == "met"
    assert clocks["rectification.verification"] == "met"
