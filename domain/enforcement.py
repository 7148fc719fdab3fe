"""Enforcement supervision (执法监督) lifecycles: the 执法质量考评 review of an enforcement case,
the 执法监督书 supervision notice carried out through its rectification, and the 不予处罚 /
轻微免罚 decision published (公示) within its deadline."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from . import catalog as ev
from .lifecycle import CaseState, Lifecycle, step

# --- 执法质量考评 review of an enforcement case ---------------------------------------------------


class ReviewOpinion(BaseModel):
    """One 评查意见, as issued."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    category: ev.OpinionCategory
    text: str


class OpinionCounts(BaseModel):
    """A review's opinions counted by category (one field per `OpinionCategory`): the figures
    read them from the stored state."""

    model_config = ConfigDict(frozen=True)

    facts: int = 0
    evidence: int = 0
    procedure: int = 0
    law: int = 0
    documents: int = 0
    discretion: int = 0
    property: int = 0
    other: int = 0

    def counted(self, category: ev.OpinionCategory) -> OpinionCounts:
        """The counts with one more opinion of `category`."""
        name = category.value
        return self.model_copy(update={name: getattr(self, name) + 1})


class EnforcementReviewStatus(StrEnum):
    """The statuses of an enforcement review, in lifecycle order."""

    opened = "opened"  # 评查中
    completed = "completed"  # 已评分


class EnforcementReviewState(CaseState):
    reviewer: str | None = None
    opinions: tuple[ReviewOpinion, ...] = ()
    opinions_by_category: OpinionCounts = OpinionCounts()
    score: int | None = None
    summary: str | None = None
    completed_at: datetime | None = None


def _apply_review(
    state: EnforcementReviewState, payload: ev.Payload, at: datetime
) -> Mapping[str, Any]:
    match payload:
        case ev.EnforcementReviewOpened():
            return {
                "decision_ref": payload.decision_ref,
                "department": payload.department,
                "reviewer": payload.reviewer,
                "subject": payload.subject or state.subject,
            }
        case ev.ReviewOpinionIssued():
            opinion = ReviewOpinion(at=at, category=payload.category, text=payload.text)
            return {
                "opinions": (*state.opinions, opinion),
                "opinions_by_category": state.opinions_by_category.counted(payload.category),
            }
        case ev.EnforcementReviewCompleted():
            return {"score": payload.score, "summary": payload.summary or None, "completed_at": at}
    return {}


ENFORCEMENT_REVIEW = Lifecycle(
    kind=ev.CaseKind.enforcement_review,
    state_type=EnforcementReviewState,
    statuses=tuple(status.value for status in EnforcementReviewStatus),
    transitions={
        ev.ReviewOpinionIssued: step(EnforcementReviewStatus.opened),
        ev.EnforcementReviewCompleted: step(
            EnforcementReviewStatus.opened, EnforcementReviewStatus.completed
        ),
    },
    apply=_apply_review,
)


# --- 执法监督书 supervision notice ---------------------------------------------------------------


def notice_rectification_id(notice_case_id: str) -> str:
    """The one rectification a 执法监督书 opens: `RECT-` and the notice's case id."""
    return f"RECT-{notice_case_id}"


class EnforcementNoticeStatus(StrEnum):
    """The statuses of a supervision notice, in lifecycle order."""

    issued = "issued"  # 已下达: its rectification runs
    rectified = "rectified"  # 已整改: the rectification was verified


class EnforcementNoticeState(CaseState):
    notice_no: str | None = None
    review_case_id: str | None = None
    matters: tuple[str, ...] = ()
    deadline: date | None = None
    responsible_person: str | None = None
    rectification_id: str | None = None
    rectified_at: datetime | None = None
    verified_by: str | None = None


def _apply_notice(
    state: EnforcementNoticeState, payload: ev.Payload, at: datetime
) -> Mapping[str, Any]:
    match payload:
        case ev.EnforcementNoticeIssued():
            return {
                "notice_no": payload.notice_no,
                "subject": f"执法监督书 {payload.notice_no}",
                "department": payload.department,
                "decision_ref": payload.decision_ref or state.decision_ref,
                "review_case_id": payload.review_case_id,
                "matters": tuple(payload.matters),
                "deadline": payload.deadline,
                "responsible_person": payload.responsible_person,
                "rectification_id": notice_rectification_id(state.case_id),
            }
        case ev.EnforcementNoticeRectified():
            return {
                "rectification_id": payload.rectification_id,
                "rectified_at": at,
                "verified_by": payload.supervisor,
            }
    return {}


ENFORCEMENT_NOTICE = Lifecycle(
    kind=ev.CaseKind.enforcement_notice,
    state_type=EnforcementNoticeState,
    statuses=tuple(status.value for status in EnforcementNoticeStatus),
    transitions={
        ev.EnforcementNoticeRectified: step(
            EnforcementNoticeStatus.issued, EnforcementNoticeStatus.rectified
        ),
    },
    apply=_apply_notice,
)


# --- 不予处罚 / 轻微免罚 decision and its 公示 -----------------------------------------------------


class EnforcementDecisionStatus(StrEnum):
    """The statuses of a 不予处罚 decision record, in lifecycle order."""

    recorded = "recorded"  # 待公示
    published = "published"  # 已公示
    withdrawn = "withdrawn"  # 已撤回公示


class EnforcementDecisionState(CaseState):
    exemption: ev.ExemptionType | None = None
    legal_basis: str | None = None
    decided_on: date | None = None
    published_at: datetime | None = None
    platform: str | None = None
    url: str | None = None
    withdrawn_at: datetime | None = None
    withdrawal_reason: str | None = None


def _apply_decision(
    state: EnforcementDecisionState, payload: ev.Payload, at: datetime
) -> Mapping[str, Any]:
    match payload:
        case ev.EnforcementDecisionRecorded():
            return {
                "decision_ref": payload.decision_ref,
                "exemption": payload.exemption,
                "legal_basis": payload.legal_basis,
                "decided_on": payload.decided_on,
                "department": payload.department,
                "subject": payload.subject or state.subject,
            }
        case ev.EnforcementDecisionPublished():
            return {"published_at": at, "platform": payload.platform, "url": payload.url}
        case ev.EnforcementDecisionPublicationWithdrawn():
            return {"withdrawn_at": at, "withdrawal_reason": payload.reason}
    return {}


ENFORCEMENT_DECISION = Lifecycle(
    kind=ev.CaseKind.enforcement_decision,
    state_type=EnforcementDecisionState,
    statuses=tuple(status.value for status in EnforcementDecisionStatus),
    transitions={
        ev.EnforcementDecisionPublished: step(
            EnforcementDecisionStatus.recorded, EnforcementDecisionStatus.published
        ),
        ev.EnforcementDecisionPublicationWithdrawn: step(
            EnforcementDecisionStatus.published, EnforcementDecisionStatus.withdrawn
        ),
    },
    apply=_apply_decision,
)
