"""The enterprise tip-off (涉企举报线索) events of the catalog."""

from __future__ import annotations

from pydantic import Field

from .shared import (
    CaseKind,
    Payload,
    Person,
    ShortText,
    VerificationResult,
)

_TIP = frozenset({CaseKind.enterprise_tip})


class TipReceived(Payload):
    case_kinds = _TIP
    opens_case = True

    enterprise: ShortText
    subject: ShortText
    description: str = Field(default="", max_length=10000)
    informant: Person | None = None
    anonymous: bool = False
    department: ShortText | None = None


class TipAssigned(Payload):
    case_kinds = _TIP

    department: ShortText
    handler: ShortText | None = None


class TipVerified(Payload):
    """核查 result."""

    case_kinds = _TIP

    result: VerificationResult
    findings: str = Field(default="", max_length=10000)


class TipClosed(Payload):
    case_kinds = _TIP

    summary: str = Field(default="", max_length=10000)


class TipFeedbackGiven(Payload):
    """反馈 to the informant."""

    case_kinds = _TIP

    method: ShortText = "phone"
    summary: str = Field(default="", max_length=2000)
