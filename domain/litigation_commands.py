"""The staff commands on an administrative lawsuit (行政诉讼) in which the bureau is the
defendant (被告), from the filing to the judgment taking effect, and their pure decisions.

Who may give each is stated on its model. In short: the legal office (法制大队) carries the
lawsuit and records what the court sends; the defence (答辩状) and its evidence are drafted by
the department whose act is challenged, so its handlers and department head may submit it too;
a hearing held may also be recorded by a leader (局领导), who appears in court for the bureau
(负责人出庭应诉). Which department's cases a caller may touch is the API's check, not the
decision's.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from . import catalog as ev
from .commands import Command, Context, Decision, Refusal, Role, allowed, command
from .litigation import LITIGATION, LitigationState, LitigationStatus

LongText = Annotated[str, Field(max_length=10000)]

LEGAL = frozenset({Role.legal})
"""The legal office: it carries reconsiderations and lawsuits."""
DEFENDING = frozenset({Role.legal, Role.handler, Role.department_head})
"""The legal office, and the handlers and head of the department whose act is challenged."""
IN_COURT = frozenset({Role.legal, Role.leader})
"""The legal office, and the bureau's leaders who appear in court."""


class _LitigationCommand(Command):
    case_kind = ev.CaseKind.litigation


# --- 立案, 送达, 答辩 ------------------------------------------------------------------


class RegisterLawsuit(_LitigationCommand):
    """登记: a lawsuit against the bureau was filed (立案) over the act numbered
    `decision_ref`; starts the court's first-instance period. Roles: legal."""

    name = "register"
    roles = LEGAL
    label_zh = "登记行政诉讼"
    label_en = "Register a lawsuit"
    opens_case = True

    court: ev.ShortText
    instance: ev.Instance = ev.Instance.first
    plaintiff: ev.Person
    decision_ref: ev.ShortText  # 处罚决定书文号 challenged
    court_case_no: ev.ShortText | None = None
    simplified: bool = False  # 简易程序
    department: ev.ShortText | None = None  # the department whose act is challenged


@command(RegisterLawsuit)
def register(state: LitigationState | None, body: RegisterLawsuit, context: Context) -> Decision:
    return (
        ev.LawsuitFiled(
            court=body.court,
            instance=body.instance,
            plaintiff=body.plaintiff,
            decision_ref=body.decision_ref,
            court_case_no=body.court_case_no,
            simplified=body.simplified,
            department=body.department,
        ),
    )


class RecordCopyServed(_LitigationCommand):
    """起诉状副本送达: the copy of the statement of claim was served on the bureau; starts the
    15-day defence clock. Roles: legal."""

    name = "record_copy_served"
    roles = LEGAL
    label_zh = "登记起诉状副本送达"
    label_en = "Record service of the complaint copy"


@command(RecordCopyServed)
def record_copy_served(
    state: LitigationState | None, body: RecordCopyServed, context: Context
) -> Decision:
    return allowed(LITIGATION.refusal, state, ev.ComplaintCopyServed())


class SubmitDefence(_LitigationCommand):
    """答辩: the defence and the evidence and normative documents the act rests on, submitted
    to the court; stops the defence clock. Roles: legal, and the handlers and head of the
    department whose act is challenged (they draft it). It cites the evidence files uploaded
    beforehand (`POST /files` answers each file's description)."""

    name = "submit_defence"
    roles = DEFENDING
    label_zh = "提交答辩状及证据"
    label_en = "Submit the defence and evidence"

    summary: LongText = ""
    files: ev.EvidenceFiles = Field(default_factory=list)


@command(SubmitDefence)
def submit_defence(
    state: LitigationState | None, body: SubmitDefence, context: Context
) -> Decision:
    return allowed(
        LITIGATION.refusal, state, ev.DefenceSubmitted(summary=body.summary, files=body.files)
    )


# --- 开庭 hearings ------------------------------------------------------------------------


class ScheduleHearing(_LitigationCommand):
    """开庭通知: the court set a hearing; with the agency head expected (负责人出庭应诉) it
    starts a reminder to the bureau's leadership due on the hearing date. A new notice
    reschedules: it replaces the reminder of the previous one. Roles: legal."""

    name = "schedule_hearing"
    roles = LEGAL
    label_zh = "登记开庭通知"
    label_en = "Schedule a court hearing"

    hearing_date: date
    court: ev.ShortText | None = None  # the court or courtroom, when not the case's court
    head_expected: bool = False


@command(ScheduleHearing)
def schedule_hearing(
    state: LitigationState | None, body: ScheduleHearing, context: Context
) -> Decision:
    if body.hearing_date < context.now.date():
        return Refusal(
            f"the hearing date {body.hearing_date} has passed; record the hearing as held instead"
        )
    return allowed(
        LITIGATION.refusal,
        state,
        ev.CourtHearingScheduled(
            hearing_date=body.hearing_date, court=body.court, head_expected=body.head_expected
        ),
    )


class RecordCourtHearing(_LitigationCommand):
    """开庭: a hearing was held; who appeared for the bureau (出庭人员) and whether the agency
    head was among them (counted in the 出庭应诉率); stops the hearing reminder. Roles: legal,
    and leaders, who may record the hearing they appeared at."""

    name = "record_hearing"
    roles = IN_COURT
    label_zh = "登记开庭及出庭人员"
    label_en = "Record a court hearing and who appeared"

    held_on: date
    appeared: Annotated[list[ev.BureauAppearance], Field(max_length=20)] = Field(
        default_factory=list
    )
    head_appeared: bool = False  # 负责人出庭应诉
    notes: LongText = ""

    # a field's validator, not the model's: the 422 names `head_appeared` (declared after
    # `appeared`, so it sees the names already validated)
    @field_validator("head_appeared")
    @classmethod
    def _head_among_those_named(cls, head_appeared: bool, info: ValidationInfo) -> bool:
        if head_appeared and not info.data.get("appeared", True):
            raise ValueError("the agency head appeared: name who appeared for the bureau")
        return head_appeared


@command(RecordCourtHearing)
def record_hearing(
    state: LitigationState | None, body: RecordCourtHearing, context: Context
) -> Decision:
    if body.held_on > context.now.date():
        return Refusal(f"a hearing on {body.held_on} has not been held yet; schedule it instead")
    return allowed(
        LITIGATION.refusal,
        state,
        ev.CourtHearingHeld(
            held_on=body.held_on,
            appeared=body.appeared,
            head_appeared=body.head_appeared,
            notes=body.notes,
        ),
    )


# --- 判决, 送达, 上诉, 生效 --------------------------------------------------------------


class RecordJudgment(_LitigationCommand):
    """判决 / 裁定 of an instance; a loss (败诉) opens a review and a rectification. A
    second-instance judgment follows an appeal. Roles: legal."""

    name = "record_judgment"
    roles = LEGAL
    label_zh = "登记判决"
    label_en = "Record a judgment or ruling"

    instance: ev.Instance
    outcome: ev.JudgmentOutcome
    form: ev.JudgmentForm = ev.JudgmentForm.judgment
    judgment_no: ev.ShortText | None = None


@command(RecordJudgment)
def record_judgment(
    state: LitigationState | None, body: RecordJudgment, context: Context
) -> Decision:
    appealed = state is not None and state.status == LitigationStatus.appealed
    if body.instance is ev.Instance.second and not appealed:
        return Refusal("a second-instance judgment needs an appeal on record")
    if body.instance is ev.Instance.first and appealed:
        return Refusal("the lawsuit is on appeal; record the second-instance judgment")
    return allowed(
        LITIGATION.refusal,
        state,
        ev.JudgmentIssued(
            instance=body.instance,
            outcome=body.outcome,
            form=body.form,
            judgment_no=body.judgment_no,
        ),
    )


class RecordService(_LitigationCommand):
    """判决送达: the judgment or ruling was served on the bureau; starts the appeal period
    (15 days for a judgment, 10 for a ruling). Roles: legal."""

    name = "record_service"
    roles = LEGAL
    label_zh = "登记判决送达"
    label_en = "Record service of the judgment"

    form: ev.JudgmentForm | None = None  # None: the form of the judgment on record


@command(RecordService)
def record_service(
    state: LitigationState | None, body: RecordService, context: Context
) -> Decision:
    form = body.form or (state.judgment_form if state is not None else None)
    return allowed(
        LITIGATION.refusal, state, ev.JudgmentServed(form=form or ev.JudgmentForm.judgment)
    )


class FileAppeal(_LitigationCommand):
    """上诉: the bureau or the plaintiff appealed; stops the appeal period and starts the
    second-instance period. Roles: legal."""

    name = "file_appeal"
    roles = LEGAL
    label_zh = "登记上诉"
    label_en = "Record an appeal"

    appellant: Literal["bureau", "plaintiff"]
    court: ev.ShortText | None = None  # the appeal court


@command(FileAppeal)
def file_appeal(state: LitigationState | None, body: FileAppeal, context: Context) -> Decision:
    return allowed(
        LITIGATION.refusal, state, ev.AppealFiled(appellant=body.appellant, court=body.court)
    )


class RecordEffective(_LitigationCommand):
    """生效: the judgment took effect (no appeal in time, or final on appeal). Roles: legal."""

    name = "record_effective"
    roles = LEGAL
    label_zh = "登记判决生效"
    label_en = "Record the judgment as effective"


@command(RecordEffective)
def record_effective(
    state: LitigationState | None, body: RecordEffective, context: Context
) -> Decision:
    return allowed(LITIGATION.refusal, state, ev.JudgmentEffective())
