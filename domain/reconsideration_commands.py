"""The staff commands on an administrative reconsideration (行政复议) in which the bureau is the
respondent (被申请人), from the notice of the application to the decision, and their pure
decisions.

Who may give each is stated on its model. In short: the legal office (法制大队) carries the
case (it registers the notice, records what the reconsideration body sends and decides, and the
applicant's withdrawal); the reply (答复) and its evidence are drafted by the department whose
act is challenged, so its handlers and department head may submit it too. Which department's
cases a caller may touch is the API's check, not the decision's.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from . import catalog as ev
from .commands import Command, Context, Decision, Refusal, Role, allowed, command
from .reconsiderations import RECONSIDERATION, ReconsiderationState

LongText = Annotated[str, Field(max_length=10000)]
Note = Annotated[str, Field(max_length=2000)]  # may be empty

LEGAL = frozenset({Role.legal})
"""The legal office: it carries reconsiderations and lawsuits."""
REPLYING = frozenset({Role.legal, Role.handler, Role.department_head})
"""The legal office, and the handlers and head of the department whose act is challenged."""


class _ReconsiderationCommand(Command):
    case_kind = ev.CaseKind.reconsideration


# --- 登记 the notice of an application ---------------------------------------------------


class RegisterReconsideration(_ReconsiderationCommand):
    """登记: the bureau is notified that an application for reconsideration challenges one of
    its acts (the decision numbered `decision_ref`). Roles: legal."""

    name = "register"
    roles = LEGAL
    label_zh = "登记行政复议"
    label_en = "Register a reconsideration application"
    opens_case = True

    applicant: ev.Person
    decision_ref: ev.ShortText  # 处罚决定书文号 challenged
    reconsideration_body: ev.ShortText  # 复议机关
    matter: LongText = ""
    department: ev.ShortText | None = None  # the department whose act is challenged


@command(RegisterReconsideration)
def register(
    state: ReconsiderationState | None, body: RegisterReconsideration, context: Context
) -> Decision:
    return (
        ev.ReconsiderationApplied(
            applicant=body.applicant,
            decision_ref=body.decision_ref,
            reconsideration_body=body.reconsideration_body,
            matter=body.matter,
            department=body.department,
        ),
    )


class RecordAcceptance(_ReconsiderationCommand):
    """受理: the reconsideration body accepted the application (its notice, when it does not
    post the fact itself); starts the decision clock. Roles: legal."""

    name = "record_acceptance"
    roles = LEGAL
    label_zh = "登记复议受理"
    label_en = "Record the acceptance of the application"

    simplified: bool = False  # 简易程序


@command(RecordAcceptance)
def record_acceptance(
    state: ReconsiderationState | None, body: RecordAcceptance, context: Context
) -> Decision:
    return allowed(
        RECONSIDERATION.refusal, state, ev.ReconsiderationAccepted(simplified=body.simplified)
    )


class RecordCopyReceived(_ReconsiderationCommand):
    """收到申请书副本: the bureau received the copy of the application; starts the reply clock
    (10 working days, 5 under the simplified procedure). Roles: legal."""

    name = "record_copy_received"
    roles = LEGAL
    label_zh = "登记收到申请书副本"
    label_en = "Record receipt of the application copy"

    simplified: bool = False  # 简易程序, when the copy says so


@command(RecordCopyReceived)
def record_copy_received(
    state: ReconsiderationState | None, body: RecordCopyReceived, context: Context
) -> Decision:
    if state is not None and state.application_copy_received:
        return Refusal("the application copy is already recorded as received")
    return allowed(
        RECONSIDERATION.refusal, state, ev.ApplicationCopyReceived(simplified=body.simplified)
    )


# --- 答复 the reply -----------------------------------------------------------------------


class SubmitReply(_ReconsiderationCommand):
    """答复: the written reply and its evidence, submitted to the reconsideration body; stops
    the reply clock. Roles: legal, and the handlers and head of the department whose act is
    challenged (they draft it). It cites the evidence files uploaded beforehand (`POST /files`
    answers each file's description) and states how many evidence items it lists."""

    name = "submit_reply"
    roles = REPLYING
    label_zh = "提交答复及证据"
    label_en = "Submit the reply and evidence"

    summary: LongText = ""
    evidence_count: Annotated[int, Field(ge=0, le=10000)] = 0
    files: ev.EvidenceFiles = Field(default_factory=list)


@command(SubmitReply)
def submit_reply(
    state: ReconsiderationState | None, body: SubmitReply, context: Context
) -> Decision:
    if state is not None and state.reply_submitted:
        return Refusal("the reply is already submitted")
    return allowed(
        RECONSIDERATION.refusal,
        state,
        ev.ReplySubmitted(
            summary=body.summary, evidence_count=body.evidence_count, files=body.files
        ),
    )


# --- 听证, 决定, 意见书, 撤回 ------------------------------------------------------------


class RecordHearing(_ReconsiderationCommand):
    """听证: a hearing held by the reconsideration body, and whether the bureau's head attended.
    Roles: legal."""

    name = "record_hearing"
    roles = LEGAL
    label_zh = "登记听证"
    label_en = "Record a hearing"

    hearing_date: date
    agency_head_appeared: bool = False  # 负责人参加听证
    notes: LongText = ""


@command(RecordHearing)
def record_hearing(
    state: ReconsiderationState | None, body: RecordHearing, context: Context
) -> Decision:
    return allowed(
        RECONSIDERATION.refusal,
        state,
        ev.HearingHeld(
            hearing_date=body.hearing_date,
            agency_head_appeared=body.agency_head_appeared,
            notes=body.notes,
        ),
    )


class RecordDecision(_ReconsiderationCommand):
    """复议决定: the reconsideration body's decision; a correction (撤销, 变更, 确认违法,
    责令履行) opens a review and a rectification. Roles: legal."""

    name = "record_decision"
    roles = LEGAL
    label_zh = "登记复议决定"
    label_en = "Record the reconsideration decision"

    decision: ev.ReconsiderationDecision
    decision_no: ev.ShortText | None = None
    summary: LongText = ""


@command(RecordDecision)
def record_decision(
    state: ReconsiderationState | None, body: RecordDecision, context: Context
) -> Decision:
    return allowed(
        RECONSIDERATION.refusal,
        state,
        ev.ReconsiderationDecided(
            decision=body.decision, decision_no=body.decision_no, summary=body.summary
        ),
    )


class RecordOpinion(_ReconsiderationCommand):
    """行政复议意见书: the reconsideration body asks the bureau to correct an act and report
    within 60 days; opens a rectification and starts the report clock. Roles: legal."""

    name = "record_opinion"
    roles = LEGAL
    label_zh = "登记行政复议意见书"
    label_en = "Record a reconsideration opinion"

    opinion_no: ev.ShortText
    requested_action: ev.NonEmpty


@command(RecordOpinion)
def record_opinion(
    state: ReconsiderationState | None, body: RecordOpinion, context: Context
) -> Decision:
    if state is not None and state.opinion_no == body.opinion_no:
        return Refusal(f"opinion {body.opinion_no} is already recorded")
    return allowed(
        RECONSIDERATION.refusal,
        state,
        ev.ReconsiderationOpinionReceived(
            opinion_no=body.opinion_no, requested_action=body.requested_action
        ),
    )


class Withdraw(_ReconsiderationCommand):
    """撤回: the applicant withdrew the application; cancels every clock of the case.
    Roles: legal."""

    name = "withdraw"
    roles = LEGAL
    label_zh = "登记申请人撤回"
    label_en = "Record the applicant's withdrawal"

    reason: Note = ""


@command(Withdraw)
def withdraw(state: ReconsiderationState | None, body: Withdraw, context: Context) -> Decision:
    return allowed(RECONSIDERATION.refusal, state, ev.ReconsiderationWithdrawn(reason=body.reason))
