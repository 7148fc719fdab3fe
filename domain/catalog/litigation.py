"""The administrative litigation (行政诉讼, the bureau as defendant) events of the catalog."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .shared import (
    CaseKind,
    CitesFiles,
    Instance,
    JudgmentForm,
    JudgmentOutcome,
    Payload,
    Person,
    ShortText,
)

_LIT = frozenset({CaseKind.litigation})


class LawsuitFiled(Payload):
    case_kinds = _LIT
    opens_case = True

    court: ShortText
    instance: Instance = Instance.first
    plaintiff: Person
    decision_ref: ShortText
    court_case_no: ShortText | None = None
    simplified: bool = False
    department: ShortText | None = None


class ComplaintCopyServed(Payload):
    """起诉状副本 served on the bureau: starts the defence clock."""

    case_kinds = _LIT


class DefenceSubmitted(CitesFiles):
    case_kinds = _LIT

    summary: str = Field(default="", max_length=10000)


class BureauAppearance(BaseModel):
    """Someone who appeared in court for the bureau (出庭人员): a leader, the legal office, a
    handler of the department whose act is disputed, or an agent (委托代理人)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ShortText
    title: ShortText | None = None  # 职务 or role: 副局长, 法制大队, 委托代理律师


class CourtHearingScheduled(Payload):
    """开庭 notice: the court set a hearing. With the agency head expected (负责人出庭应诉,
    行政诉讼法 Art 3 ¶3) it starts a reminder clock due on the hearing date; a later notice
    replaces it (rescheduled)."""

    case_kinds = _LIT

    hearing_date: date
    court: ShortText | None = None  # the court or courtroom, when not the case's court
    head_expected: bool = False  # 行政机关负责人 expected to appear


class CourtHearingHeld(Payload):
    """开庭 held: who appeared for the bureau and whether the agency head was among them; each
    one counts once in the 出庭应诉率 (head_appeared / hearings held)."""

    case_kinds = _LIT

    held_on: date
    appeared: Annotated[list[BureauAppearance], Field(max_length=20)] = Field(default_factory=list)
    head_appeared: bool = False  # 负责人出庭应诉
    notes: str = Field(default="", max_length=10000)


class JudgmentIssued(Payload):
    case_kinds = _LIT

    instance: Instance
    outcome: JudgmentOutcome
    form: JudgmentForm = JudgmentForm.judgment
    judgment_no: ShortText | None = None


class JudgmentServed(Payload):
    """Starts the appeal window."""

    case_kinds = _LIT

    form: JudgmentForm = JudgmentForm.judgment


class AppealFiled(Payload):
    case_kinds = _LIT

    appellant: Literal["bureau", "plaintiff"]
    court: ShortText | None = None


class JudgmentEffective(Payload):
    """生效."""

    case_kinds = _LIT
