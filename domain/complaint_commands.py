"""The staff commands on a complaint (投诉), from 登记 registration to 回访 and 督察, and their
pure decisions.

Who may give each is stated on its model. In short: the handlers (承办人) and department heads
of the complaint's department and the legal office (法制大队) carry the day-to-day work; steps
that decide for or against the complainant, or move the work elsewhere, are for department
heads and the legal office; a deadline extension (延期) is approved by a department head or the
bureau's leadership; the supervision office (督察) closes its own supervision. Which
department's cases a caller may touch is the API's check, not the decision's.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from . import catalog as ev
from .clock_commands import ClockDecisions, ExtendDeadlineBody, ResumeBody, SuspendBody
from .commands import STAFF, Command, Context, Decision, Role, allowed, command
from .complaints import COMPLAINT, ComplaintState

LongText = Annotated[str, Field(max_length=10000)]
Note = Annotated[str, Field(max_length=2000)]  # may be empty

HEADS = frozenset({Role.department_head, Role.legal})
"""Department heads of the complaint's department and the legal office."""


_CLOCKS = ClockDecisions(COMPLAINT.refusal, "complaint")


class _ComplaintCommand(Command):
    case_kind = ev.CaseKind.complaint


# --- 登记 registration -----------------------------------------------------------------


class RegisterComplaint(_ComplaintCommand):
    """登记: a complaint received at a window, by letter, online or as a 信访 petition, entered by
    staff. Roles: handler, department_head, legal. A 12345 work order is not registered here:
    the 12345 platform posts it (ComplaintReceived, channel `hotline_12345`)."""

    name = "register"
    roles = STAFF
    label_zh = "登记投诉"
    label_en = "Register a complaint"
    opens_case = True

    channel: ev.Channel
    subject: ev.ShortText
    description: LongText = ""
    complainant: ev.Person | None = None
    enterprise: bool = False  # 涉企投诉
    enterprise_name: ev.ShortText | None = None
    department: ev.ShortText | None = None
    decision_ref: ev.ShortText | None = None  # 处罚决定书文号

    @field_validator("channel")
    @classmethod
    def _staff_channel(cls, channel: ev.Channel) -> ev.Channel:
        if channel is ev.Channel.hotline_12345:
            raise ValueError(
                "a 12345 work order comes from the 12345 platform; "
                "register window, letter, online or petition complaints here"
            )
        return channel


@command(RegisterComplaint)
def register(state: ComplaintState | None, body: RegisterComplaint, context: Context) -> Decision:
    return (
        ev.ComplaintReceived(
            channel=body.channel,
            subject=body.subject,
            description=body.description,
            complainant=body.complainant,
            enterprise=body.enterprise,
            enterprise_name=body.enterprise_name,
            department=body.department,
            decision_ref=body.decision_ref,
        ),
    )


# --- 受理 / 不予受理, 交办, 转办 ----------------------------------------------------------


class AcceptComplaint(_ComplaintCommand):
    """受理. Roles: handler, department_head, legal (routine intake work)."""

    name = "accept"
    roles = STAFF
    label_zh = "受理"
    label_en = "Accept the complaint"

    department: ev.ShortText | None = None  # the department answering for it, if it changes


@command(AcceptComplaint)
def accept(state: ComplaintState | None, body: AcceptComplaint, context: Context) -> Decision:
    return allowed(COMPLAINT.refusal, state, ev.ComplaintAccepted(department=body.department))


class RejectComplaint(_ComplaintCommand):
    """不予受理, with the reason the complainant is told. Roles: department_head, legal: a
    refusal to handle a complaint is a decision against the complainant."""

    name = "reject"
    roles = HEADS
    label_zh = "不予受理"
    label_en = "Reject the complaint"

    reason: ev.NonEmpty


@command(RejectComplaint)
def reject(state: ComplaintState | None, body: RejectComplaint, context: Context) -> Decision:
    return allowed(COMPLAINT.refusal, state, ev.ComplaintRejected(reason=body.reason))


class AssignComplaint(_ComplaintCommand):
    """交办 to a department and its handler (承办人). Roles: department_head, legal: they hand
    out the work."""

    name = "assign"
    roles = HEADS
    label_zh = "交办"
    label_en = "Assign to a department and handler"

    department: ev.ShortText
    handler: ev.ShortText | None = None


@command(AssignComplaint)
def assign(state: ComplaintState | None, body: AssignComplaint, context: Context) -> Decision:
    return allowed(
        COMPLAINT.refusal,
        state,
        ev.ComplaintAssigned(department=body.department, handler=body.handler),
    )


class TransferComplaint(_ComplaintCommand):
    """转办 to another department (its handler is cleared). Roles: department_head, legal."""

    name = "transfer"
    roles = HEADS
    label_zh = "转办"
    label_en = "Transfer to another department"

    to_department: ev.ShortText
    reason: Note = ""


@command(TransferComplaint)
def transfer(state: ComplaintState | None, body: TransferComplaint, context: Context) -> Decision:
    same = state is not None and state.department == body.to_department
    return allowed(
        COMPLAINT.refusal,
        state,
        ev.ComplaintTransferred(to_department=body.to_department, reason=body.reason),
        unless=f"the complaint is already with {body.to_department}" if same else None,
    )


# --- 答复, 办结, 回访, 重新办理 ------------------------------------------------------------


class ReplyToComplaint(_ComplaintCommand):
    """答复 to the complainant. Roles: handler, department_head, legal."""

    name = "reply"
    roles = STAFF
    label_zh = "答复"
    label_en = "Reply to the complainant"

    reply: ev.NonEmpty


@command(ReplyToComplaint)
def reply(state: ComplaintState | None, body: ReplyToComplaint, context: Context) -> Decision:
    return allowed(COMPLAINT.refusal, state, ev.ComplaintReplied(reply=body.reply))


class ResolveComplaint(_ComplaintCommand):
    """办结 with its outcome. Roles: handler, department_head, legal."""

    name = "resolve"
    roles = STAFF
    label_zh = "办结"
    label_en = "Resolve the complaint"

    outcome: ev.ComplaintOutcome
    summary: LongText = ""


@command(ResolveComplaint)
def resolve(state: ComplaintState | None, body: ResolveComplaint, context: Context) -> Decision:
    return allowed(
        COMPLAINT.refusal, state, ev.ComplaintResolved(outcome=body.outcome, summary=body.summary)
    )


class RecordFollowUp(_ComplaintCommand):
    """回访: the complainant's satisfaction (1–5) after resolution; a poor score puts the
    complaint under 督察 supervision (domain/supervision_flags.py). Roles: handler,
    department_head, legal, and supervisor (督察 make 回访 calls too)."""

    name = "record_follow_up"
    roles = STAFF | {Role.supervisor}
    label_zh = "回访"
    label_en = "Record the follow-up visit"

    satisfaction: Annotated[int, Field(ge=1, le=5)]
    comment: Note = ""


@command(RecordFollowUp)
def record_follow_up(
    state: ComplaintState | None, body: RecordFollowUp, context: Context
) -> Decision:
    return allowed(
        COMPLAINT.refusal,
        state,
        ev.ComplaintFollowUpVisited(satisfaction=body.satisfaction, comment=body.comment),
    )


class ReopenComplaint(_ComplaintCommand):
    """重新办理: a resolved, followed-up or rejected complaint is handled again (its outcome,
    satisfaction and supervision flag are cleared). Roles: department_head, legal, supervisor,
    leader: reopening overrules a closed case."""

    name = "reopen"
    roles = HEADS | {Role.supervisor, Role.leader}
    label_zh = "重新办理"
    label_en = "Reopen the complaint"

    reason: ev.NonEmpty


@command(ReopenComplaint)
def reopen(state: ComplaintState | None, body: ReopenComplaint, context: Context) -> Decision:
    return allowed(COMPLAINT.refusal, state, ev.ComplaintReopened(reason=body.reason))


# --- 延期, 中止 / 恢复 -----------------------------------------------------------------------


class ExtendDeadline(ExtendDeadlineBody):
    """延期: the deadline's new total length in its rule's unit (docs/deadlines.md); the caller
    is recorded as the approver. Roles: department_head, leader: only they approve an
    extension."""

    case_kind = ev.CaseKind.complaint


@command(ExtendDeadline)
def extend_deadline(
    state: ComplaintState | None, body: ExtendDeadline, context: Context
) -> Decision:
    return _CLOCKS.extend(state, body, context)


class SuspendComplaint(SuspendBody):
    """中止: pauses the complaint's clocks. Roles: department_head, legal (stopping a statutory
    clock is not a handler's call)."""

    case_kind = ev.CaseKind.complaint
    label_en = "Suspend the complaint"


@command(SuspendComplaint)
def suspend(state: ComplaintState | None, body: SuspendComplaint, context: Context) -> Decision:
    return _CLOCKS.suspend(state, body)


class ResumeComplaint(ResumeBody):
    """恢复办理: the complaint's clocks run again. Roles: department_head, legal."""

    case_kind = ev.CaseKind.complaint
    label_en = "Resume the complaint"


@command(ResumeComplaint)
def resume(state: ComplaintState | None, body: ResumeComplaint, context: Context) -> Decision:
    return _CLOCKS.resume(state, body)


# --- 督察 supervision -------------------------------------------------------------------


class CloseSupervision(_ComplaintCommand):
    """督察办结: the supervisor closes the supervision a poor 回访 opened, with a conclusion; the
    caller is recorded as the supervisor. Roles: supervisor."""

    name = "close_supervision"
    roles = frozenset({Role.supervisor})
    label_zh = "督察办结"
    label_en = "Close the supervision"

    conclusion: ev.NonEmpty


@command(CloseSupervision)
def close_supervision(
    state: ComplaintState | None, body: CloseSupervision, context: Context
) -> Decision:
    supervised = state is not None and state.supervision
    return allowed(
        COMPLAINT.refusal,
        state,
        ev.SupervisionClosed(supervisor=context.actor, conclusion=body.conclusion),
        unless=None if supervised else "the complaint is not under 督察 supervision",
    )
