"""The commands on a case's clocks that complaints (投诉) and enterprise tip-offs (涉企举报线索)
share: 延期 (extend the deadline), 中止 (suspend) and 恢复办理 (resume), with one decision of
each, told in the words of the kind of case.

Each kind declares its own commands from these bodies (its `case_kind`, and its labels where
they differ) and decides them through its `ClockDecisions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Generic

from pydantic import Field

from . import catalog as ev
from .commands import Command, Context, Decision, OptS, Role, allowed

Note = Annotated[str, Field(max_length=2000)]  # may be empty

APPROVERS = frozenset({Role.department_head, Role.leader})
"""Who approves an extension (延期): a department head or the bureau's leadership."""
HEADS = frozenset({Role.department_head, Role.legal})
"""Who stops and restarts a clock: stopping a statutory clock is not a handler's call."""


class ExtendDeadlineBody(Command):
    """延期: the deadline's new total length in its rule's unit; the caller is recorded as the
    approver."""

    name = "extend_deadline"
    roles = APPROVERS
    label_zh = "延期"
    label_en = "Extend the deadline"

    new_length: Annotated[int, Field(ge=1, le=3650)]
    rule: ev.ShortText | None = None  # None: every open clock the extension applies to
    reason: Note = ""


class SuspendBody(Command):
    """中止: pauses the case's clocks."""

    name = "suspend"
    roles = HEADS
    label_zh = "中止"

    reason: ev.NonEmpty


class ResumeBody(Command):
    """恢复办理: the case's clocks run again."""

    name = "resume"
    roles = HEADS
    label_zh = "恢复办理"

    reason: Note = ""


@dataclass(frozen=True)
class ClockDecisions(Generic[OptS]):
    """The decisions on one kind's clock commands: its lifecycle's check first, then whether
    the case is suspended, named with `noun` (the kind's word for a case: "complaint")."""

    refusal: Callable[[OptS, type[ev.Payload]], str | None]
    noun: str

    def extend(self, state: OptS, body: ExtendDeadlineBody, context: Context) -> Decision:
        extended = ev.DeadlineExtended(
            approved_by=context.actor,
            new_length=body.new_length,
            rule=body.rule,
            reason=body.reason,
        )
        return allowed(self.refusal, state, extended)

    def suspend(self, state: OptS, body: SuspendBody) -> Decision:
        paused = state is not None and state.paused
        return allowed(
            self.refusal,
            state,
            ev.CaseSuspended(reason=body.reason),
            unless=f"the {self.noun} is already suspended" if paused else None,
        )

    def resume(self, state: OptS, body: ResumeBody) -> Decision:
        paused = state is not None and state.paused
        return allowed(
            self.refusal,
            state,
            ev.CaseResumed(reason=body.reason),
            unless=None if paused else f"the {self.noun} is not suspended",
        )
