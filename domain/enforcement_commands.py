"""The staff commands of enforcement supervision (执法监督) and their pure decisions.

- 执法质量考评: the legal office (法制大队) opens the review of an enforcement case, issues its
  opinions (评查意见) and scores it.
- 执法监督书: the legal office issues the notice to a department; its rectification is opened
  by casestream (domain/outcomes.py) and the notice is rectified when that rectification is
  verified, so the notice has no other command.
- 不予处罚 / 轻微免罚: the handling department's staff (and the legal office) record the
  decision; department heads and the legal office publish it (公示) and withdraw it.

Which department's cases a caller may touch is the API's check, not the decision's.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from . import catalog as ev
from .commands import STAFF, Command, Context, Decision, Refusal, Role, allowed, command
from .enforcement import (
    ENFORCEMENT_DECISION,
    ENFORCEMENT_REVIEW,
    EnforcementDecisionState,
    EnforcementNoticeState,
    EnforcementReviewState,
)

LongText = Annotated[str, Field(max_length=10000)]

LEGAL = frozenset({Role.legal})
"""The legal office (法制大队): reviews enforcement cases and issues supervision notices."""
PUBLISHERS = frozenset({Role.department_head, Role.legal})
"""Who approves a decision's 公示 and its withdrawal."""


# --- 执法质量考评 -------------------------------------------------------------------------------


class _ReviewCommand(Command):
    case_kind = ev.CaseKind.enforcement_review


class OpenReview(_ReviewCommand):
    """评查: open the review of one enforcement case (its 文书号) of a department.
    Roles: legal."""

    name = "open_review"
    roles = LEGAL
    label_zh = "开展执法质量考评"
    label_en = "Open an enforcement review"
    opens_case = True

    decision_ref: ev.ShortText
    department: ev.ShortText
    subject: ev.ShortText | None = None
    reviewer: ev.ShortText | None = None  # None: the caller reviews


@command(OpenReview)
def open_review(
    state: EnforcementReviewState | None, body: OpenReview, context: Context
) -> Decision:
    return (
        ev.EnforcementReviewOpened(
            decision_ref=body.decision_ref,
            department=body.department,
            reviewer=body.reviewer or context.actor,
            subject=body.subject,
        ),
    )


class IssueOpinion(_ReviewCommand):
    """评查意见: one problem found, by category; a review holds as many as it finds.
    Roles: legal."""

    name = "issue_opinion"
    roles = LEGAL
    label_zh = "出具评查意见"
    label_en = "Issue a review opinion"

    category: ev.OpinionCategory
    text: ev.NonEmpty


@command(IssueOpinion)
def issue_opinion(
    state: EnforcementReviewState | None, body: IssueOpinion, context: Context
) -> Decision:
    return allowed(
        ENFORCEMENT_REVIEW.refusal,
        state,
        ev.ReviewOpinionIssued(category=body.category, text=body.text),
    )


class CompleteEnforcementReview(_ReviewCommand):
    """评分: the review's score out of 100; no opinion follows it. Roles: legal."""

    name = "complete_review"
    roles = LEGAL
    label_zh = "评分并完成考评"
    label_en = "Score and complete the review"

    score: ev.Score
    summary: LongText = ""


@command(CompleteEnforcementReview)
def complete_review(
    state: EnforcementReviewState | None, body: CompleteEnforcementReview, context: Context
) -> Decision:
    return allowed(
        ENFORCEMENT_REVIEW.refusal,
        state,
        ev.EnforcementReviewCompleted(score=body.score, summary=body.summary),
    )


# --- 执法监督书 ---------------------------------------------------------------------------------


class IssueNotice(Command):
    """执法监督书: orders a department to correct the matters named by the deadline; opens one
    rectification with that deadline. Roles: legal."""

    case_kind = ev.CaseKind.enforcement_notice
    name = "issue_notice"
    roles = LEGAL
    label_zh = "下达执法监督书"
    label_en = "Issue a supervision notice"
    opens_case = True

    notice_no: ev.ShortText
    department: ev.ShortText
    decision_ref: ev.ShortText | None = None
    review_case_id: ev.ShortText | None = None
    matters: ev.Matters
    deadline: date
    responsible_person: ev.ShortText | None = None


@command(IssueNotice)
def issue_notice(
    state: EnforcementNoticeState | None, body: IssueNotice, context: Context
) -> Decision:
    if body.deadline <= context.now.date():
        return Refusal(
            f"deadline {body.deadline} is not after today ({context.now.date()}); "
            "give the day the department must have corrected the matters by"
        )
    return (ev.EnforcementNoticeIssued(**body.model_dump()),)


# --- 不予处罚 / 轻微免罚 -------------------------------------------------------------------------


class _DecisionCommand(Command):
    case_kind = ev.CaseKind.enforcement_decision


class RecordDecision(_DecisionCommand):
    """登记不予处罚决定: starts the clock of its 公示, counted from the decision's date.
    Roles: handler, department_head, legal."""

    name = "record_decision"
    roles = STAFF
    label_zh = "登记不予处罚决定"
    label_en = "Record a no-penalty decision"
    opens_case = True

    decision_ref: ev.ShortText
    exemption: ev.ExemptionType
    legal_basis: ev.ShortText
    decided_on: date
    department: ev.ShortText
    subject: ev.ShortText | None = None


@command(RecordDecision)
def record_decision(
    state: EnforcementDecisionState | None, body: RecordDecision, context: Context
) -> Decision:
    if body.decided_on > context.now.date():
        return Refusal(
            f"decided_on {body.decided_on} is after today ({context.now.date()}); "
            "record a decision once it is made"
        )
    return (ev.EnforcementDecisionRecorded(**body.model_dump()),)


class PublishDecision(_DecisionCommand):
    """公示: the decision is published (stops its publication clock).
    Roles: department_head, legal."""

    name = "publish"
    roles = PUBLISHERS
    label_zh = "公示"
    label_en = "Publish the decision"

    platform: ev.ShortText = "门户网站"
    url: ev.Url | None = None


@command(PublishDecision)
def publish(
    state: EnforcementDecisionState | None, body: PublishDecision, context: Context
) -> Decision:
    return allowed(
        ENFORCEMENT_DECISION.refusal,
        state,
        ev.EnforcementDecisionPublished(platform=body.platform, url=body.url),
    )


class WithdrawPublication(_DecisionCommand):
    """撤回公示: takes the published decision off the platform. Roles: department_head, legal."""

    name = "withdraw_publication"
    roles = PUBLISHERS
    label_zh = "撤回公示"
    label_en = "Withdraw the publication"

    reason: ev.NonEmpty


@command(WithdrawPublication)
def withdraw_publication(
    state: EnforcementDecisionState | None, body: WithdrawPublication, context: Context
) -> Decision:
    return allowed(
        ENFORCEMENT_DECISION.refusal,
        state,
        ev.EnforcementDecisionPublicationWithdrawn(reason=body.reason),
    )
