"""Response models of the HTTP API (built from read-model rows, never ORM objects)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class Public(BaseModel):
    model_config = ConfigDict(frozen=True)


class AnomalyOut(Public):
    event_id: str
    event_type: str
    version: int
    reason: str


class CaseSummary(Public):
    case_id: str
    case_kind: str
    status: str
    version: int
    received_at: datetime
    last_occurred_at: datetime
    department: str | None
    handler: str | None
    enterprise: bool
    enterprise_name: str | None
    decision_ref: str | None
    subject: str | None
    paused: bool
    anomaly_count: int

    @classmethod
    def from_row(cls, row: Any) -> CaseSummary:
        return cls.model_validate({name: getattr(row, name) for name in cls.model_fields})


class CaseDetail(CaseSummary):
    state: dict[str, Any]
    anomalies: list[AnomalyOut]


class CasePage(Public):
    items: list[CaseSummary]
    next_cursor: str | None


class EventOut(Public):
    version: int
    event_id: str
    event_type: str
    occurred_at: datetime
    recorded_at: datetime
    event: dict[str, Any]


class DisputeCase(Public):
    linked_at: datetime
    case: CaseSummary


class DisputeOut(Public):
    decision_ref: str
    cases: list[DisputeCase]


class Accepted(Public):
    event_id: str
    consistency_token: str
    topic: str
    partition: int
    offset: int


class Health(Public):
    status: str
    checks: dict[str, str] = {}
