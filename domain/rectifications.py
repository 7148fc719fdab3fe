"""复盘 review and 整改 rectification of a lost or corrected case, tracked to verification (督办)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from . import catalog as ev
from .lifecycle import CaseState, Lifecycle, step


class RectificationState(CaseState):
    source_case_id: str | None = None
    source_case_kind: ev.CaseKind | None = None
    responsible_person: str | None = None
    deadline: date | None = None
    description: str | None = None
    review_status: str | None = None  # open / completed
    root_causes: tuple[ev.RootCause, ...] = ()
    lessons: str | None = None
    measures: tuple[str, ...] = ()
    progress_percent: int | None = None
    evidence: tuple[str, ...] = ()
    rejections: int = 0


def _apply(state: RectificationState, payload: ev.Payload) -> Mapping[str, Any]:
    match payload:
        case ev.ReviewTaskOpened():
            return {
                "source_case_id": payload.source_case_id,
                "source_case_kind": payload.source_case_kind,
                "department": payload.department,
                "responsible_person": payload.responsible_person or state.responsible_person,
                "decision_ref": payload.decision_ref or state.decision_ref,
                "review_status": "open",
            }
        case ev.ReviewCompleted():
            return {
                "review_status": "completed",
                "root_causes": tuple(payload.root_causes),
                "lessons": payload.lessons,
            }
        case ev.RectificationOpened():
            return {
                "source_case_id": payload.source_case_id or state.source_case_id,
                "source_case_kind": payload.source_case_kind or state.source_case_kind,
                "department": payload.department,
                "responsible_person": payload.responsible_person,
                "deadline": payload.deadline,
                "description": payload.description or None,
                "decision_ref": payload.decision_ref or state.decision_ref,
            }
        case ev.MeasureAdded():
            return {"measures": (*state.measures, payload.measure)}
        case ev.ProgressReported() if payload.percent is not None:
            return {"progress_percent": payload.percent}
        case ev.RectificationCompleted():
            return {"evidence": tuple(payload.evidence)}
        case ev.RectificationRejected():
            return {"rejections": state.rejections + 1}
    return {}


_WORKING = ("open", "in_progress", "rejected")

RECTIFICATION = Lifecycle(
    kind=ev.CaseKind.rectification,
    state_type=RectificationState,
    statuses=("open", "in_progress", "completed", "rejected", "verified"),
    transitions={
        "ReviewCompleted": step(None),
        "RectificationOpened": step("open"),
        "MeasureAdded": step(_WORKING, "in_progress", reopens=True),
        "ProgressReported": step(_WORKING, "in_progress", reopens=True),
        "RectificationCompleted": step(_WORKING, "completed", reopens=True),
        "RectificationVerified": step("completed", "verified"),
        "RectificationRejected": step("completed", "rejected"),
        "RectificationReopened": step(
            ("completed", "verified", "rejected"), "in_progress", reopens=True
        ),
    },
    apply=_apply,
)
