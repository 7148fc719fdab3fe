"""The staff commands on an enterprise tip-off (涉企举报线索), from 登记 to 核查, 办结 and 反馈, and
their pure decisions.

Who may give each is stated on its model: the handlers (承办人) and department heads of the
tip-off's department and the legal office (法制大队) register, verify and give feedback;
handing the tip-off out and closing it are for department heads and the legal office. The
extension (延期), suspension (中止) and resumption take the bodies, roles and decisions they
share with complaints (domain/clock_commands.py). Which department's cases a caller may touch
is the API's check, not the decision's.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from . import catalog as ev
from .clock_commands import ClockDecisions, ExtendDeadlineBody, ResumeBody, SuspendBody
from .commands import STAFF, Command, Context, Decision, Role, allowed, command
from .tips import ENTERPRISE_TIP, TipState

LongText = Annotated[str, Field(max_length=10000)]
Note = Annotated[str, Field(max_length=2000)]  # may be empty

HEADS = frozenset({Role.department_head, Role.legal})
"""Department heads of the tip-off's department and the legal office."""


_CLOCKS = ClockDecisions(ENTERPRISE_TIP.refusal, "tip-off")


class _TipCommand(Command):
    case_kind = ev.CaseKind.enterprise_tip


class RegisterTip(_TipCommand):
    """登记: a tip-off about an enterprise received by staff. An anonymous one (匿名举报) may
    still name its informant: the record keeps it, no view shows it (domain/anonymity.py).
    Roles: handler, department_head, legal."""

    name = "register"
    roles = STAFF
    label_zh = "登记举报线索"
    label_en = "Register a tip-off"
    opens_case = True

    enterprise: ev.ShortText  # the enterprise the tip-off is about
    subject: ev.ShortText
    description: LongText = ""
    informant: ev.Person | None = None
    anonymous: bool = False
    department: ev.ShortText | None = None


@command(RegisterTip)
def register(state: TipState | None, body: RegisterTip, context: Context) -> Decision:
    return (
        ev.TipReceived(
            enterprise=body.enterprise,
            subject=body.subject,
            description=body.description,
            informant=body.informant,
            anonymous=body.anonymous,
            department=body.department,
        ),
    )


class AssignTip(_TipCommand):
    """交办 to a department and its handler. Roles: department_head, legal."""

    name = "assign"
    roles = HEADS
    label_zh = "交办"
    label_en = "Assign to a department and handler"

    department: ev.ShortText
    handler: ev.ShortText | None = None


@command(AssignTip)
def assign(state: TipState | None, body: AssignTip, context: Context) -> Decision:
    return allowed(
        ENTERPRISE_TIP.refusal,
        state,
        ev.TipAssigned(department=body.department, handler=body.handler),
    )


class RecordVerification(_TipCommand):
    """核查结果: whether the tip-off is substantiated, with the findings. Roles: handler,
    department_head, legal."""

    name = "record_verification"
    roles = STAFF
    label_zh = "核查结果"
    label_en = "Record the verification result"

    result: ev.VerificationResult
    findings: LongText = ""


@command(RecordVerification)
def record_verification(
    state: TipState | None, body: RecordVerification, context: Context
) -> Decision:
    return allowed(
        ENTERPRISE_TIP.refusal, state, ev.TipVerified(result=body.result, findings=body.findings)
    )


class CloseTip(_TipCommand):
    """办结 once verified. Roles: department_head, legal."""

    name = "close"
    roles = HEADS
    label_zh = "办结"
    label_en = "Close the tip-off"

    summary: LongText = ""


@command(CloseTip)
def close(state: TipState | None, body: CloseTip, context: Context) -> Decision:
    return allowed(ENTERPRISE_TIP.refusal, state, ev.TipClosed(summary=body.summary))


class GiveFeedback(_TipCommand):
    """反馈 to the informant once verified (again after closing, if need be). Roles: handler,
    department_head, legal."""

    name = "give_feedback"
    roles = STAFF
    label_zh = "反馈"
    label_en = "Give feedback to the informant"

    method: ev.ShortText = "phone"
    summary: Note = ""


@command(GiveFeedback)
def give_feedback(state: TipState | None, body: GiveFeedback, context: Context) -> Decision:
    return allowed(
        ENTERPRISE_TIP.refusal, state, ev.TipFeedbackGiven(method=body.method, summary=body.summary)
    )


# --- 延期, 中止 / 恢复, decided as for complaints (clock_commands) ---------------------------------------------------


class ExtendTipDeadline(ExtendDeadlineBody):
    """延期 of the tip-off's deadline: its new total length in the rule's unit; the caller is
    recorded as the approver. Roles: department_head, leader: only they approve an extension."""

    case_kind = ev.CaseKind.enterprise_tip


@command(ExtendTipDeadline)
def extend_deadline(state: TipState | None, body: ExtendTipDeadline, context: Context) -> Decision:
    return _CLOCKS.extend(state, body, context)


class SuspendTip(SuspendBody):
    """中止: pauses the tip-off's clocks. Roles: department_head, legal."""

    case_kind = ev.CaseKind.enterprise_tip
    label_en = "Suspend the tip-off"


@command(SuspendTip)
def suspend(state: TipState | None, body: SuspendTip, context: Context) -> Decision:
    return _CLOCKS.suspend(state, body)


class ResumeTip(ResumeBody):
    """恢复办理: the tip-off's clocks run again. Roles: department_head, legal."""

    case_kind = ev.CaseKind.enterprise_tip
    label_en = "Resume the tip-off"


@command(ResumeTip)
def resume(state: TipState | None, body: ResumeTip, context: Context) -> Decision:
    return _CLOCKS.resume(state, body)
