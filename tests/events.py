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
