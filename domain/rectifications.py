"""复盘 review and 整改 rectification of a lost or corrected case, tracked to verification (督办)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from . import catalog as ev
from .lifecycle import CaseState, Lifecycle, step


class ProgressEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    progress: str
    percent: int | None = None
    reported_by: str | None = None


class VerificationEntry(BaseModel):
    """One 督办 check by a supervisor."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    supervisor: str
    verified: bool
    comment: str = ""


class RectificationStatus(StrEnum):
    """The statuses of a rectification (整改), in lifecycle order."""

    open = "open"
    in_progress = "in_progress"
    completed = "completed"
    rejected = "rejected"  # 退回 by the supervisor: to be done again
    verified = "verified"  # 核验 passed
    cancelled = "cancelled"  # the loss behind it was overturned


# still to be done: the statuses in which a rectification can fall overdue
WORKING_STATUSES = frozenset(
    {RectificationStatus.open, RectificationStatus.in_progress, RectificationStatus.rejected}
)


class ReviewStatus(StrEnum):
    """The 复盘 review of a lost or corrected case."""

    open = "open"
    completed = "completed"


class RectificationState(CaseState):
    source_case_id: str | None = None
    source_case_kind: ev.CaseKind | None = None
    responsible_person: str | None = None
    deadline: date | None = None
    description: str | None = None
    review_status: ReviewStatus | None = None
    root_causes: tuple[ev.RootCause, ...] = ()
    lessons: str | None = None
    measures: tuple[str, ...] = ()
    progress_percent: int | None = None
    evidence: tuple[str, ...] = ()
    rejections: int = 0
    progress_reports: tuple[ProgressEntry, ...] = ()
    verifications: tuple[VerificationEntry, ...] = ()
    completed_at: datetime | None = None
    cancelled_reason: str | None = None


def _apply(state: RectificationState, payload: ev.Payload, at: datetime) -> Mapping[str, Any]:
    match payload:
        case ev.ReviewTaskOpened():
            return {
                "source_case_id": payload.source_case_id,
                "source_case_kind": payload.source_case_kind,
                "department": payload.department,
                "responsible_person": payload.responsible_person or state.responsible_person,
                "decision_ref": payload.decision_ref or state.decision_ref,
                "review_status": ReviewStatus.open,
            }
        case ev.ReviewCompleted():
            return {
                "review_status": ReviewStatus.completed,
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
        case ev.ProgressReported():
            entry = ProgressEntry(
                at=at,
                progress=payload.progress,
                percent=payload.percent,
                reported_by=payload.reported_by,
            )
            percent = payload.percent if payload.percent is not None else state.progress_percent
            return {
                "progress_reports": (*state.progress_reports, entry),
                "progress_percent": percent,
            }
        case ev.RectificationCompleted():
            return {"evidence": tuple(payload.evidence), "completed_at": at}
        case ev.RectificationVerified():
            check = VerificationEntry(
                at=at, supervisor=payload.supervisor, verified=True, comment=payload.comment
            )
            return {"verifications": (*state.verifications, check)}
        case ev.RectificationRejected():
            check = VerificationEntry(
                at=at, supervisor=payload.supervisor, verified=False, comment=payload.reason
            )
            return {
                "rejections": state.rejections + 1,
                "verifications": (*state.verifications, check),
            }
        case ev.RectificationDeadlineExtended():
            return {"deadline": payload.deadline}
        case ev.ResponsiblePersonChanged():
            return {"responsible_person": payload.responsible_person}
        case ev.RectificationCancelled():
            return {"cancelled_reason": payload.reason}
    return {}


_WORKING = tuple(sorted(status.value for status in WORKING_STATUSES))

RECTIFICATION = Lifecycle(
    kind=ev.CaseKind.rectification,
    state_type=RectificationState,
    statuses=tuple(status.value for status in RectificationStatus),
    transitions={
        ev.ReviewCompleted: step(None),
        ev.RectificationOpened: step(RectificationStatus.open),
        # work resumes on a rejected one; a completed, verified or cancelled one is closed to it
        ev.MeasureAdded: step(_WORKING, RectificationStatus.in_progress, resumes=True),
        ev.ProgressReported: step(_WORKING, RectificationStatus.in_progress, resumes=True),
        ev.RectificationCompleted: step(_WORKING, RectificationStatus.completed, reopens=True),
        ev.RectificationVerified: step(RectificationStatus.completed, RectificationStatus.verified),
        ev.RectificationRejected: step(RectificationStatus.completed, RectificationStatus.rejected),
        ev.RectificationReopened: step(
            (
                RectificationStatus.completed,
                RectificationStatus.verified,
                RectificationStatus.rejected,
                RectificationStatus.cancelled,
            ),
            RectificationStatus.in_progress,
            reopens=True,
        ),
        # 延期 while its completion clock runs (a rejected one's stopped when it was completed)
        ev.RectificationDeadlineExtended: step(
            (RectificationStatus.open, RectificationStatus.in_progress)
        ),
        ev.ResponsiblePersonChanged: step((*_WORKING, RectificationStatus.completed)),
        ev.RectificationCancelled: step(None, RectificationStatus.cancelled, reopens=True),
    },
    apply=_apply,
)


# --- commands on a rectification (decided before they become events) ------------------------

NO_OPEN_REVIEW = "this rectification has no open 复盘 review task"


def command_refusal(state: RectificationState, payload_type: type[ev.Payload]) -> str | None:
    """Why a command producing `payload_type` may not be carried out on `state` now (None: it
    may): the lifecycle's transition table, and a 复盘 review is completed only while its task
    is open."""
    if payload_type is ev.ReviewCompleted and state.review_status is not ReviewStatus.open:
        return NO_OPEN_REVIEW
    return RECTIFICATION.refusal(state, payload_type)


def manual_rectification_id(random_hex: str) -> str:
    """The id of a rectification opened by hand (not derived from a lost case): `RECT-M-` and
    the first ten characters of `random_hex` (e.g. a random UUID's hex), upper-cased."""
    return f"RECT-M-{random_hex[:10].upper()}"


def manual_review_task(
    rectification_id: str, opened: ev.RectificationOpened
) -> ev.ReviewTaskOpened:
    """The 复盘 review task opened together with a rectification opened by hand: it reviews the
    source case named, or else the rectification itself."""
    return ev.ReviewTaskOpened(
        source_case_id=opened.source_case_id or rectification_id,
        source_case_kind=ev.CaseKind.rectification,
        department=opened.department,
        responsible_person=opened.responsible_person,
    )
