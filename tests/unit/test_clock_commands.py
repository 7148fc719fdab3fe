"""The clock commands complaints and tip-offs share (延期, 中止, 恢复办理): one decision for both
kinds, the same events, the refusals in each kind's words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casestream.domain import catalog as ev
from casestream.domain.commands import Command, Context, Refusal, Role, decide
from casestream.domain.complaint_commands import ExtendDeadline, ResumeComplaint, SuspendComplaint
from casestream.domain.complaints import ComplaintState
from casestream.domain.lifecycle import CaseState
from casestream.domain.tip_commands import ExtendTipDeadline, ResumeTip, SuspendTip
from casestream.domain.tips import TipState

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HEAD = Context("wang.wu", Role.department_head, NOW)

KINDS = [
    pytest.param(
        ComplaintState, ev.CaseKind.complaint, "assigned", "complaint",
        (ExtendDeadline, SuspendComplaint, ResumeComplaint), id="complaint",
    ),
    pytest.param(
        TipState, ev.CaseKind.enterprise_tip, "assigned", "tip-off",
        (ExtendTipDeadline, SuspendTip, ResumeTip), id="enterprise_tip",
    ),
]  # fmt: skip


def _state(
    state_type: type[CaseState], kind: ev.CaseKind, status: str, *, paused: bool
) -> CaseState:
    return state_type(case_id="X-1", case_kind=kind, status=status, version=2, paused=paused)


@pytest.mark.parametrize(("state_type", "kind", "status", "noun", "models"), KINDS)
def test_both_kinds_give_the_same_events_and_refuse_in_their_own_words(
    state_type: type[CaseState],
    kind: ev.CaseKind,
    status: str,
    noun: str,
    models: tuple[type[Command], type[Command], type[Command]],
) -> None:
    extend, suspend, resume = models
    running = _state(state_type, kind, status, paused=False)
    paused = _state(state_type, kind, status, paused=True)
    body = extend.model_validate({"new_length": 30, "rule": None, "reason": "复杂"})
    assert decide(running, body, HEAD) == (
        ev.DeadlineExtended(approved_by="wang.wu", new_length=30, reason="复杂"),
    )
    stop = suspend.model_validate({"reason": "等待鉴定"})
    assert decide(running, stop, HEAD) == (ev.CaseSuspended(reason="等待鉴定"),)
    assert decide(paused, stop, HEAD) == Refusal(f"the {noun} is already suspended")
    restart = resume.model_validate({"reason": "已鉴定"})
    assert decide(paused, restart, HEAD) == (ev.CaseResumed(reason="已鉴定"),)
    assert decide(running, restart, HEAD) == Refusal(f"the {noun} is not suspended")


@pytest.mark.parametrize(("state_type", "kind", "status", "noun", "models"), KINDS)
def test_the_lifecycle_s_refusal_is_named_before_the_suspension(
    state_type: type[CaseState],
    kind: ev.CaseKind,
    status: str,
    noun: str,
    models: tuple[type[Command], type[Command], type[Command]],
) -> None:
    closed = "resolved" if kind is ev.CaseKind.complaint else "closed"
    _, suspend, _ = models
    paused = _state(state_type, kind, closed, paused=True)
    refused = decide(paused, suspend.model_validate({"reason": "等待"}), HEAD)
    assert isinstance(refused, Refusal) and f"'{closed}'" in refused.reason
