"""The administrative reconsideration (行政复议, the bureau as respondent) events of the catalog."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from .shared import (
    CaseKind,
    CitesFiles,
    NonEmpty,
    Payload,
    Person,
    ReconsiderationDecision,
    ShortText,
)

_RECON = frozenset({CaseKind.reconsideration})


class ReconsiderationApplied(Payload):
    case_kinds = _RECON
    opens_case = True

    applicant: Person
    decision_ref: ShortText
    reconsideration_body: ShortText  # 复议机关
    matter: str = Field(default="", max_length=10000)
    department: ShortText | None = None  # the department whose act is challenged


class ReconsiderationAccepted(Payload):
    case_kinds = _RECON

    simplified: bool = False  # 简易程序


class ApplicationCopyReceived(Payload):
    """The bureau received the application copy: starts the reply clock."""

    case_kinds = _RECON

    simplified: bool = False


class ReplySubmitted(CitesFiles):
    """答复 with evidence.

    Version 2 calls the number of evidence items `evidence_count` (version 1:
    `evidence_items`, read through domain/upcasting.py)."""

    schema_version = 2
    case_kinds = _RECON

    summary: str = Field(default="", max_length=10000)
    evidence_count: Annotated[int, Field(ge=0)] = 0  # how many evidence items the reply lists


class HearingHeld(Payload):
    case_kinds = frozenset({CaseKind.reconsideration, CaseKind.litigation})

    hearing_date: date | None = None
    agency_head_appeared: bool = False  # 负责人出庭应诉
    notes: str = Field(default="", max_length=10000)


class ReconsiderationExtended(Payload):
    case_kinds = _RECON

    extension_days: Annotated[int, Field(ge=1, le=30)]
    approved_by: ShortText | None = None
    reason: str = Field(default="", max_length=2000)


class ReconsiderationSuspended(Payload):
    case_kinds = _RECON

    reason: NonEmpty


class ReconsiderationResumed(Payload):
    case_kinds = _RECON

    reason: str = Field(default="", max_length=2000)


class ReconsiderationDecided(Payload):
    case_kinds = _RECON

    decision: ReconsiderationDecision
    decision_no: ShortText | None = None
    summary: str = Field(default="", max_length=10000)


class ReconsiderationWithdrawn(Payload):
    case_kinds = _RECON

    reason: str = Field(default="", max_length=2000)


class ReconsiderationOpinionReceived(Payload):
    """行政复议意见书: correct the act and report within 60 days."""

    case_kinds = _RECON

    opinion_no: ShortText
    requested_action: NonEmpty
