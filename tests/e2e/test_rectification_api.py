"""A lost lawsuit through the public API only: the rectification appears, is overdue with its
clock, is completed, rejected by the supervisor, completed again and verified."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from casestream.domain.outcomes import rectification_id
from casestream.producers.topics import Topics
from tests.auth import auth_env, auth_headers
from tests.conftest import Database
from tests.processes import free_port, running_system, service_env, wait_for

DEPARTMENT = "治安大队"


@pytest.fixture
def api(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> Iterator[httpx.Client]:
    database = Database(f"sqlite:///{tmp_path / 'rect.db'}", None)
    port = free_port()
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_API_PORT=str(port),
        CASESTREAM_CONSISTENCY_WAIT_SECONDS="30",
        CASESTREAM_SCANNER_INTERVAL_SECONDS="0.5",
        **auth_env(),
    )
    with running_system(env, tmp_path) as client:
        yield client


def test_lost_lawsuit_to_verified_rectification_through_the_api(api: httpx.Client) -> None:
    system, legal = auth_headers("system"), auth_headers("legal")
    head = auth_headers("department_head", DEPARTMENT)
    supervisor = auth_headers("supervisor")
    judged_at = datetime.now(UTC) - timedelta(days=45)  # 30 days to rectify ran out 15 days ago
    for body in (
        {
            "event_type": "LawsuitFiled",
            "case_id": "API-L1",
            "case_kind": "litigation",
            "occurred_at": (judged_at - timedelta(days=90)).isoformat(),
            "payload": {
                "court": "县人民法院",
                "plaintiff": {"name": "赵敏", "phone": "13800001111"},
                "decision_ref": "公决字〔2026〕88号",
                "department": DEPARTMENT,
            },
        },
        {
            "event_type": "JudgmentIssued",
            "case_id": "API-L1",
            "case_kind": "litigation",
            "occurred_at": judged_at.isoformat(),
            "payload": {"instance": "first", "outcome": "revoked"},
        },
    ):
        assert api.post("/events", json=body, headers=system).status_code == 202

    rect = rectification_id("API-L1")
    # the loss derives two events for the rectification (its review task, then the task itself),
    # which the relay may publish apart: wait for both
    detail = wait_for(
        lambda: (
            (found := _get(api, f"/rectifications/{rect}", head))
            and found["review_status"]
            and found
        ),
        timeout=60,
    )
    assert (
        detail["status"],
        detail["department"],
        detail["source_case_id"],
        detail["review_status"],
    ) == ("open", DEPARTMENT, "API-L1", "open")
    # the chain of the grievance: the lawsuit, then the rectification it led to
    assert [link["case_id"] for link in detail["dispute_chain"]] == ["API-L1", rect]
    overdue = wait_for(
        lambda: api.get("/rectifications", params={"overdue": True}, headers=head).json()["items"],
        timeout=30,
    )
    assert [item["rectification_id"] for item in overdue] == [rect]

    # a supervisor cannot verify what is not completed; a department head cannot verify at all
    assert (
        api.post(f"/rectifications/{rect}/verification", json={}, headers=supervisor).status_code
        == 409
    )
    assert (
        api.post(f"/rectifications/{rect}/verification", json={}, headers=head).status_code == 403
    )
    assert (
        api.post(
            f"/rectifications/{rect}/review",
            json={"root_causes": ["nope"], "lessons": "x"},
            headers=head,
        ).status_code
        == 422
    )

    def step(
        path: str, body: dict[str, Any], headers: dict[str, str], status: str
    ) -> dict[str, Any]:
        accepted = api.post(f"/rectifications/{rect}/{path}", json=body, headers=headers)
        assert accepted.status_code == 202, accepted.text
        api.get(
            f"/cases/{rect}",
            params={"consistency_token": accepted.json()["consistency_token"]},
            headers=legal,
        )
        found = _get(api, f"/rectifications/{rect}", head)
        assert found is not None and found["status"] == status, found
        return found

    step(
        "review", {"root_causes": ["procedure", "facts"], "lessons": "未履行告知程序"}, head, "open"
    )
    step("measures", {"measure": "全员程序规范培训"}, head, "in_progress")
    step("progress", {"progress": "已完成两期培训", "percent": 60}, head, "in_progress")
    step("completion", {"evidence": ["培训签到表.pdf"]}, head, "completed")
    step("rejection", {"reason": "缺少考试成绩"}, supervisor, "rejected")
    step("completion", {"evidence": ["培训签到表.pdf", "考试成绩.xlsx"]}, head, "completed")
    final = step("verification", {"comment": "整改到位"}, supervisor, "verified")
    # verified is closed: more work on it is refused, and it stays verified
    for path, body in (("measures", {"measure": "补充培训"}), ("progress", {"progress": "补充"})):
        late = api.post(f"/rectifications/{rect}/{path}", json=body, headers=head)
        assert late.status_code == 409 and "'verified'" in late.text, late.text
    assert (_get(api, f"/rectifications/{rect}", head) or {}).get("status") == "verified"

    assert final["review"]["root_causes"] == ["procedure", "facts"]
    assert [v["verified"] for v in final["verifications"]] == [False, True]
    assert final["progress_reports"][0]["percent"] == 60
    assert final["overdue"] is False
    assert {c["rule"] for c in final["clocks"]} >= {
        "rectification.review",
        "rectification.completion",
        "rectification.verification",
    }
    other = auth_headers("department_head", "交警大队")
    assert api.get(f"/rectifications/{rect}", headers=other).status_code == 404
    assert api.get("/rectifications", headers=other).json()["items"] == []


def _get(api: httpx.Client, path: str, headers: dict[str, str]) -> dict[str, Any] | None:
    response = api.get(path, headers=headers)
    return dict(response.json()) if response.status_code == 200 else None
