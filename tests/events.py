"""Builders of raw events for tests (dicts as a sender would post them)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from casestream.domain.envelope import Event, parse_event

T0 = datetime.fromisoformat("2026-03-02T09:00:00+08:00")


def raw(
    event_type: str,
    case_id: str,
    case_kind: str,
    payload: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
    day: float = 0,
    event_id: str | None = None,
) -> dict[str, Any]:
    occurred = (at or T0) + timedelta(days=day)
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "case_id": case_id,
        "case_kind": case_kind,
        "occurred_at": occurred.isoformat(),
        "recorded_at": occurred.isoformat(),
        "source": "test",
        "actor": "tester",
        "payload": payload or {},
    }


def event(*args: Any, **kwargs: Any) -> Event[Any]:
    return parse_event(raw(*args, **kwargs))


def complaint_lifecycle(case_id: str, *, enterprise: bool = False) -> list[Event[Any]]:
    return [
        event(
            "ComplaintReceived",
            case_id,
            "complaint",
            {"channel": "hotline_12345", "subject": "出警慢", "enterprise": enterprise},
        ),
        event("ComplaintAccepted", case_id, "complaint", day=1),
        event(
            "ComplaintAssigned",
            case_id,
            "complaint",
            {"department": "治安大队", "handler": "民警101"},
            day=2,
        ),
        event("ComplaintReplied", case_id, "complaint", {"reply": "已答复"}, day=3),
        event("ComplaintResolved", case_id, "complaint", {"outcome": "explained"}, day=4),
        event("ComplaintFollowUpVisited", case_id, "complaint", {"satisfaction": 5}, day=5),
    ]


def local(text: str) -> datetime:
    """A Beijing wall-clock time, e.g. local("2026-03-02T09:00")."""
    return datetime.fromisoformat(f"{text}+08:00")


def reconsideration(
    case_id: str, number: int, decision: str | None, *, department: str = "治安大队"
) -> list[Event[Any]]:
    """Applied 2 March, accepted, answered 9 March and (with a `decision`) decided 20 March."""
    kind = "reconsideration"
    applied = {
        "applicant": {"name": "王五", "phone": "13900001111"},
        "decision_ref": f"公(治)行罚决字〔2026〕{number}号",
        "reconsideration_body": "市人民政府",
        "matter": "不服罚款决定",
        "department": department,
    }
    events = [
        event("ReconsiderationApplied", case_id, kind, applied, at=local("2026-03-02T09:00")),
        event("ReconsiderationAccepted", case_id, kind, at=local("2026-03-03T09:00")),
        event("ApplicationCopyReceived", case_id, kind, at=local("2026-03-04T09:00")),
        event("ReplySubmitted", case_id, kind, {"summary": "答复"}, at=local("2026-03-09T09:00")),
    ]
    if decision:
        decided = {"decision": decision}
        events.append(
            event("ReconsiderationDecided", case_id, kind, decided, at=local("2026-03-20T09:00"))
        )
    return events
