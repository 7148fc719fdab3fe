"""The complaint (投诉, 12345 hotline and 信访 petitions) events of the catalog, with the
督察 supervision of a complaint and the deadline events a complaint shares with a tip-off."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .shared import (
    CaseKind,
    Channel,
    ComplaintOutcome,
    NonEmpty,
    Origin,
    Payload,
    Person,
    ShortText,
)

_COMPLAINT = frozenset({CaseKind.complaint})
_CLOCKED = frozenset({CaseKind.complaint, CaseKind.enterprise_tip})


class ComplaintReceived(Payload):
    case_kinds = _COMPLAINT
    opens_case = True

    channel: Channel
    subject: ShortText
    description: str = Field(default="", max_length=10000)
    complainant: Person | None = None
    enterprise: bool = False  # 涉企投诉: handled first
    enterprise_name: ShortText | None = None
    department: ShortText | None = None
    decision_ref: ShortText | None = None  # 处罚决定书文号 the complaint is about
    work_order_no: ShortText | None = None  # 12345 工单号


class ComplaintAccepted(Payload):
    case_kinds = _COMPLAINT

    department: ShortText | None = None


class ComplaintRejected(Payload):
    """不予受理."""

    case_kinds = _COMPLAINT

    reason: NonEmpty


class ComplaintAssigned(Payload):
    case_kinds = _COMPLAINT

    department: ShortText
    handler: ShortText | None = None


class ComplaintTransferred(Payload):
    case_kinds = _COMPLAINT

    to_department: ShortText
    reason: str = Field(default="", max_length=2000)


class ComplaintReplied(Payload):
    case_kinds = _COMPLAINT

    reply: NonEmpty


class ComplaintResolved(Payload):
    """办结."""

    case_kinds = _COMPLAINT

    outcome: ComplaintOutcome
    summary: str = Field(default="", max_length=10000)


class ComplaintFollowUpVisited(Payload):
    """回访."""

    case_kinds = _COMPLAINT

    satisfaction: Annotated[int, Field(ge=1, le=5)]
    comment: str = Field(default="", max_length=2000)


class ComplaintReopened(Payload):
    case_kinds = _COMPLAINT

    reason: NonEmpty


class DeadlineExtended(Payload):
    """An approved extension of a case's deadline (延期)."""

    case_kinds = _CLOCKED

    approved_by: ShortText
    new_length: Annotated[int, Field(ge=1, le=3650)]  # in the rule's unit
    rule: ShortText | None = None
    reason: str = Field(default="", max_length=2000)


class CaseSuspended(Payload):
    """中止: pauses the case's clocks."""

    case_kinds = _CLOCKED

    reason: NonEmpty


class CaseResumed(Payload):
    case_kinds = _CLOCKED

    reason: str = Field(default="", max_length=2000)


class SupervisionFlagged(Payload):
    """督察: a poor 回访 puts the complaint under the supervision office's eye.

    Derived by casestream from a ComplaintFollowUpVisited whose satisfaction is at or below
    the deployment's threshold (domain/supervision_flags.py); never posted by anyone."""

    case_kinds = _COMPLAINT
    origin = Origin.casestream

    satisfaction: Annotated[int, Field(ge=1, le=5)]
    threshold: Annotated[int, Field(ge=1, le=5)]  # the highest score that is flagged
    reason: NonEmpty


class SupervisionClosed(Payload):
    """督察 closed by a supervisor: the poor 回访 has been looked into."""

    case_kinds = _COMPLAINT
    origin = Origin.command

    supervisor: ShortText
    conclusion: NonEmpty
