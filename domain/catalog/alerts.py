"""The alert events of the catalog: derived by casestream from the deadline clocks and the
督察 supervision of complaints, never posted by outsiders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from .shared import (
    CaseKind,
    Origin,
    Payload,
    ShortText,
)

_ALL = frozenset(CaseKind)
_COMPLAINT = frozenset({CaseKind.complaint})


class _AlertPayload(Payload):
    case_kinds = _ALL
    derived = True
    origin = Origin.casestream

    alert_id: ShortText
    clock_id: ShortText
    rule: ShortText
    due_at: datetime
    scheduled_at: datetime  # when the rule's schedule said this alert was due
    department: ShortText | None = None
    enterprise: bool = False
    notify: ShortText | None = None  # escalation: handler / department_head / bureau_leadership


class DeadlineApproaching(_AlertPayload):
    level: Annotated[int, Field(ge=1, le=3)] = 1


class DeadlineBreached(_AlertPayload):
    level: Annotated[int, Field(ge=1, le=3)] = 2


class Escalated(_AlertPayload):
    """Level 1 handler → 2 department head → 3 bureau leadership."""

    level: Annotated[int, Field(ge=1, le=3)]


class SupervisionRequested(_AlertPayload):
    """督察 requested: a complaint went under supervision after a poor 回访; the supervision
    office (notify=supervisor) is to look into it.

    Derived by casestream when a SupervisionFlagged puts the complaint under supervision
    (domain/supervision_flags.py). No deadline runs: `clock_id` names the supervision
    (`<case>/complaint.supervision/<flagged at>`), `due_at` and `scheduled_at` are the instant
    it was flagged. An AlertCleared on the same clock_id follows when the supervision is closed
    or the complaint reopened."""

    case_kinds = _COMPLAINT

    level: Annotated[int, Field(ge=1, le=3)] = 3  # the bureau's supervision office


class AlertCleared(_AlertPayload):
    reason: str = Field(default="", max_length=2000)
