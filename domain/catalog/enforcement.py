"""The enforcement supervision (执法监督) events of the catalog: the 执法质量考评 review of an
enforcement case, the 执法监督书 supervision notice issued to a department, and the 不予处罚 /
轻微免罚 decision record with its 公示 publication."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from .shared import CaseKind, NonEmpty, Origin, Payload, ShortText

_REVIEW = frozenset({CaseKind.enforcement_review})
_NOTICE = frozenset({CaseKind.enforcement_notice})
_DECISION = frozenset({CaseKind.enforcement_decision})


class OpinionCategory(StrEnum):
    """What a 考评 review opinion (评查意见) is about."""

    facts = "facts"  # 事实认定
    evidence = "evidence"  # 证据
    procedure = "procedure"  # 程序
    law = "law"  # 法律适用
    documents = "documents"  # 文书制作
    discretion = "discretion"  # 裁量
    property = "property"  # 涉案财物管理
    other = "other"  # 其他


class ExemptionType(StrEnum):
    """The kind of a 不予处罚 decision, by the ground 《行政处罚法》 gives for it."""

    minor = "minor"  # 轻微不罚 / 轻微免罚: Art 33 ¶1, first sentence
    first_offence = "first_offence"  # 首违不罚: Art 33 ¶1, second sentence
    no_fault = "no_fault"  # 无过错不罚: Art 33 ¶2
    other = "other"  # 其他不予处罚 (Art 30, 31, 36 …)


Score = Annotated[int, Field(ge=0, le=100)]
"""A 考评 score out of 100."""

Matters = Annotated[list[NonEmpty], Field(min_length=1, max_length=50)]
"""The matters a 执法监督书 orders corrected (纠正事项), one per item."""

Url = Annotated[str, Field(max_length=2000, pattern=r"^https?://\S+$")]
"""A web address (where a decision is published)."""


# --- 执法质量考评 enforcement review -----------------------------------------------------------


class EnforcementReviewOpened(Payload):
    """评查 of one enforcement case (its 文书号) handled by a department."""

    case_kinds = _REVIEW
    origin = Origin.command
    opens_case = True

    decision_ref: ShortText  # the reviewed case's 文书号 (e.g. 处罚决定书文号)
    department: ShortText  # the department that handled the reviewed case
    reviewer: ShortText
    subject: ShortText | None = None  # 案由


class ReviewOpinionIssued(Payload):
    """One 评查意见 on the reviewed case, by category."""

    case_kinds = _REVIEW
    origin = Origin.command

    category: OpinionCategory
    text: NonEmpty


class EnforcementReviewCompleted(Payload):
    """评查 finished with its score (考评得分)."""

    case_kinds = _REVIEW
    origin = Origin.command

    score: Score
    summary: str = Field(default="", max_length=10000)


# --- 执法监督书 supervision notice -------------------------------------------------------------


class EnforcementNoticeIssued(Payload):
    """执法监督书 issued to a department about an enforcement case: the matters to correct and
    the 整改期限; opens one rectification with that deadline."""

    case_kinds = _NOTICE
    origin = Origin.command
    opens_case = True

    notice_no: ShortText  # 监督书文号
    department: ShortText  # the department ordered to correct
    decision_ref: ShortText | None = None  # the enforcement case's 文书号
    review_case_id: ShortText | None = None  # the 考评 review that found the problems
    matters: Matters
    deadline: date  # 整改期限
    responsible_person: ShortText | None = None


class EnforcementNoticeRectified(Payload):
    """The rectification opened for the notice was verified (核验): the notice is carried out."""

    case_kinds = _NOTICE
    origin = Origin.casestream  # derived from the rectification's RectificationVerified

    rectification_id: ShortText
    supervisor: ShortText


# --- 不予处罚 / 轻微免罚 decisions and their 公示 ------------------------------------------------


class EnforcementDecisionRecorded(Payload):
    """A 不予处罚 (轻微免罚, 首违不罚, 无过错不罚 …) decision of a department; starts the clock
    of its publication (公示)."""

    case_kinds = _DECISION
    opens_case = True

    decision_ref: ShortText  # 不予行政处罚决定书文号
    exemption: ExemptionType
    legal_basis: ShortText  # e.g. 《行政处罚法》第三十三条第一款
    decided_on: date
    department: ShortText
    subject: ShortText | None = None  # 案由


class EnforcementDecisionPublished(Payload):
    """公示 of the decision (where: the portal, the 行政执法公示平台 …)."""

    case_kinds = _DECISION
    origin = Origin.command

    platform: ShortText
    url: Url | None = None


class EnforcementDecisionPublicationWithdrawn(Payload):
    """撤回公示: the decision is taken off the platform (revoked, or its 公示期 ended)."""

    case_kinds = _DECISION
    origin = Origin.command

    reason: NonEmpty
