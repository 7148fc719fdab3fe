"""The commands on a rectification (整改跟踪督办) and their decisions: opening one by hand, the
复盘 review, measures, progress, completion, the supervisor's check, reopening, a deadline
extension approved by leadership (延期) and a change of the person responsible.

Each body is bounded like the event field it fills; the decision checks the rectification's
lifecycle (`rectifications.command_refusal`) and answers the payload(s) to append.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field

from . import catalog as ev
from .catalog import CaseKind, Evidence, NonEmpty, RootCauses, ShortText
from .commands import STAFF, Command, Context, Decision, Refusal, Role, allowed, command
from .rectifications import RectificationState, command_refusal, manual_review_task

WORKERS = frozenset({*STAFF, Role.supervisor, Role.leader, Role.system})
"""Who may move a rectification on (besides the supervisors' own verify / reject)."""
OPENERS = frozenset({Role.department_head, Role.legal, Role.supervisor, Role.leader, Role.system})
SUPERVISORS = frozenset({Role.supervisor})
REOPENERS = frozenset({Role.supervisor, Role.legal})
LEADERSHIP = frozenset({Role.leader})  # 局领导: approves a 延期
ASSIGNERS = frozenset({Role.department_head, Role.legal, Role.leader})

_RECT = CaseKind.rectification


class _RectificationCommand(Command):
    case_kind: ClassVar[CaseKind] = _RECT


class OpenRectification(_RectificationCommand):
    """Open a rectification by hand (e.g. from 执法质量考评 findings)."""

    name: ClassVar[str] = "open"
    roles: ClassVar[frozenset[Role]] = OPENERS
    label_zh: ClassVar[str] = "开启整改"
    label_en: ClassVar[str] = "Open a rectification"
    opens_case: ClassVar[bool] = True

    department: ShortText
    responsible_person: ShortText
    deadline: date | None = None
    description: str = Field(default="", max_length=10000)
    source_case_id: ShortText | None = None
    with_review: bool = False  # also open a 复盘 review task

    def opened(self) -> ev.RectificationOpened:
        return ev.RectificationOpened.model_validate(
            self.model_dump(exclude={"with_review"}, exclude_none=True)
        )


@command(OpenRectification)
def _open(state: RectificationState | None, body: OpenRectification, context: Context) -> Decision:
    opened = body.opened()
    if not body.with_review:
        return (opened,)
    if context.case_id is None:
        raise ValueError("a rectification's review task names the rectification: give case_id")
    return (manual_review_task(context.case_id, opened), opened)


class CompleteReview(_RectificationCommand):
    name: ClassVar[str] = "complete_review"
    roles: ClassVar[frozenset[Role]] = WORKERS
    label_zh: ClassVar[str] = "完成复盘"
    label_en: ClassVar[str] = "Complete the review"

    root_causes: RootCauses
    lessons: NonEmpty


class AddMeasure(_RectificationCommand):
    name: ClassVar[str] = "add_measure"
    roles: ClassVar[frozenset[Role]] = WORKERS
    label_zh: ClassVar[str] = "添加整改措施"
    label_en: ClassVar[str] = "Add a measure"

    measure: NonEmpty


class ReportProgress(_RectificationCommand):
    name: ClassVar[str] = "report_progress"
    roles: ClassVar[frozenset[Role]] = WORKERS
    label_zh: ClassVar[str] = "报告整改进展"
    label_en: ClassVar[str] = "Report progress"

    progress: NonEmpty
    percent: int | None = Field(default=None, ge=0, le=100)


class Complete(_RectificationCommand):
    name: ClassVar[str] = "complete"
    roles: ClassVar[frozenset[Role]] = WORKERS
    label_zh: ClassVar[str] = "整改完成"
    label_en: ClassVar[str] = "Complete with evidence"

    evidence: Evidence
    summary: str = Field(default="", max_length=10000)
    files: ev.EvidenceFiles = Field(default_factory=list)  # uploaded first (POST /files)


class Verify(_RectificationCommand):
    name: ClassVar[str] = "verify"
    roles: ClassVar[frozenset[Role]] = SUPERVISORS
    label_zh: ClassVar[str] = "核验通过"
    label_en: ClassVar[str] = "Verify"

    comment: str = Field(default="", max_length=2000)


class Reject(_RectificationCommand):
    name: ClassVar[str] = "reject"
    roles: ClassVar[frozenset[Role]] = SUPERVISORS
    label_zh: ClassVar[str] = "退回整改"
    label_en: ClassVar[str] = "Reject (send back)"

    reason: NonEmpty


class Reopen(_RectificationCommand):
    name: ClassVar[str] = "reopen"
    roles: ClassVar[frozenset[Role]] = REOPENERS
    label_zh: ClassVar[str] = "重新开启整改"
    label_en: ClassVar[str] = "Reopen"

    reason: NonEmpty


class ExtendDeadline(_RectificationCommand):
    """延期 approved by bureau leadership: the completion clock counts to the new deadline."""

    name: ClassVar[str] = "extend_deadline"
    roles: ClassVar[frozenset[Role]] = LEADERSHIP
    label_zh: ClassVar[str] = "批准整改延期"
    label_en: ClassVar[str] = "Extend the deadline"

    deadline: date
    reason: str = Field(default="", max_length=2000)


class Reassign(_RectificationCommand):
    name: ClassVar[str] = "reassign"
    roles: ClassVar[frozenset[Role]] = ASSIGNERS
    label_zh: ClassVar[str] = "变更责任人"
    label_en: ClassVar[str] = "Change the person responsible"

    responsible_person: ShortText
    reason: str = Field(default="", max_length=2000)


def _existing(state: RectificationState | None) -> RectificationState:
    if state is None:  # `commands.decide` refuses a command on a case not registered first
        raise ValueError("a rectification command is decided on an existing rectification")
    return state


@command(CompleteReview)
def _complete_review(
    state: RectificationState | None, body: CompleteReview, context: Context
) -> Decision:
    payload = ev.ReviewCompleted(root_causes=body.root_causes, lessons=body.lessons)
    return allowed(command_refusal, _existing(state), payload)


@command(AddMeasure)
def _add_measure(state: RectificationState | None, body: AddMeasure, context: Context) -> Decision:
    return allowed(command_refusal, _existing(state), ev.MeasureAdded(measure=body.measure))


@command(ReportProgress)
def _report_progress(
    state: RectificationState | None, body: ReportProgress, context: Context
) -> Decision:
    payload = ev.ProgressReported(
        progress=body.progress, percent=body.percent, reported_by=context.actor
    )
    return allowed(command_refusal, _existing(state), payload)


@command(Complete)
def _complete(state: RectificationState | None, body: Complete, context: Context) -> Decision:
    payload = ev.RectificationCompleted(
        evidence=body.evidence, summary=body.summary, files=body.files
    )
    return allowed(command_refusal, _existing(state), payload)


@command(Verify)
def _verify(state: RectificationState | None, body: Verify, context: Context) -> Decision:
    payload = ev.RectificationVerified(supervisor=context.actor, comment=body.comment)
    return allowed(command_refusal, _existing(state), payload)


@command(Reject)
def _reject(state: RectificationState | None, body: Reject, context: Context) -> Decision:
    payload = ev.RectificationRejected(supervisor=context.actor, reason=body.reason)
    return allowed(command_refusal, _existing(state), payload)


@command(Reopen)
def _reopen(state: RectificationState | None, body: Reopen, context: Context) -> Decision:
    return allowed(command_refusal, _existing(state), ev.RectificationReopened(reason=body.reason))


@command(ExtendDeadline)
def _extend_deadline(
    state: RectificationState | None, body: ExtendDeadline, context: Context
) -> Decision:
    current = _existing(state)
    if body.deadline <= context.now.date():
        return Refusal(f"the new deadline {body.deadline} is not after today")
    if current.deadline is not None and body.deadline <= current.deadline:
        return Refusal(f"the new deadline {body.deadline} is not after {current.deadline}")
    payload = ev.RectificationDeadlineExtended(
        deadline=body.deadline, approved_by=context.actor, reason=body.reason
    )
    return allowed(command_refusal, current, payload)


@command(Reassign)
def _reassign(state: RectificationState | None, body: Reassign, context: Context) -> Decision:
    current = _existing(state)
    if body.responsible_person == current.responsible_person:
        return Refusal(f"{body.responsible_person} is already responsible for it")
    payload = ev.ResponsiblePersonChanged(
        responsible_person=body.responsible_person, reason=body.reason
    )
    return allowed(command_refusal, current, payload)
