"""The rectification commands decided in the domain: who may give each, what the state allows,
the events they become (the caller signing what records who gave it), the deadline extension
and the change of the person responsible, and the routes made from them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from casestream.api.console_case_options import command_options
from casestream.api.rectification_commands import ROUTES
from casestream.domain import catalog as ev
from casestream.domain import rectification_commands as rc
from casestream.domain.cases import evolve
from casestream.domain.commands import Context, Refusal, Role, RoleRefused, decide
from casestream.domain.envelope import new_event
from casestream.domain.rectifications import (
    NO_OPEN_REVIEW,
    RectificationState,
    command_refusal,
    manual_rectification_id,
    manual_review_task,
)
from tests.command_cases import declared_commands

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HEAD = Context("head-1", Role.department_head, NOW, "RECT-1")


def _state(status: str, review_status: str | None = None, **fields: object) -> RectificationState:
    return RectificationState.model_validate(
        {
            "case_id": "RECT-1",
            "case_kind": ev.CaseKind.rectification,
            "status": status,
            "version": 3,
            "review_status": review_status,
            "department": "治安大队",
            **fields,
        }
    )


def test_a_review_is_completed_only_while_its_review_task_is_open() -> None:
    assert command_refusal(_state("open", "open"), ev.ReviewCompleted) is None
    assert command_refusal(_state("open", "completed"), ev.ReviewCompleted) == NO_OPEN_REVIEW
    assert command_refusal(_state("verified", None), ev.ReviewCompleted) == NO_OPEN_REVIEW
    review = rc.CompleteReview(root_causes=[ev.RootCause.facts], lessons="x")
    assert decide(_state("open", "completed"), review, HEAD) == Refusal(NO_OPEN_REVIEW)


def test_other_commands_follow_the_transition_table() -> None:
    assert command_refusal(_state("completed"), ev.RectificationVerified) is None
    refusal = command_refusal(_state("open"), ev.RectificationVerified)
    assert refusal is not None and "'open'" in refusal and "completed" in refusal
    supervisor = Context("sup-1", Role.supervisor, NOW)
    refused = decide(_state("open"), rc.Verify(), supervisor)
    assert isinstance(refused, Refusal) and "'open'" in refused.reason


def test_a_rectification_opened_by_hand_has_a_recognisable_id() -> None:
    assert manual_rectification_id("0a1b2c3d4e5f67890") == "RECT-M-0A1B2C3D4E"


def test_its_review_task_reviews_the_source_case_named_or_else_the_rectification() -> None:
    opened = ev.RectificationOpened(department="治安大队", responsible_person="李四")
    task = manual_review_task("RECT-M-1", opened)
    assert task.source_case_id == "RECT-M-1"
    assert task.source_case_kind is ev.CaseKind.rectification
    assert (task.department, task.responsible_person) == ("治安大队", "李四")
    named = opened.model_copy(update={"source_case_id": "L-9"})
    assert manual_review_task("RECT-M-1", named).source_case_id == "L-9"


def test_opening_with_a_review_decides_the_review_task_first_then_the_rectification() -> None:
    body = rc.OpenRectification(department="治安大队", responsible_person="李四", with_review=True)
    decided = decide(None, body, Context("legal-1", Role.legal, NOW, "RECT-M-1"))
    assert decided == (
        manual_review_task("RECT-M-1", body.opened()),
        ev.RectificationOpened(department="治安大队", responsible_person="李四"),
    )
    assert decide(None, body.model_copy(update={"with_review": False}), HEAD) == (body.opened(),)
    assert isinstance(decide(_state("open"), body, HEAD), Refusal)  # registered already


def test_a_signed_command_records_the_caller() -> None:
    supervisor = Context("sup-1", Role.supervisor, NOW)
    assert decide(_state("completed"), rc.Verify(comment="已核实"), supervisor) == (
        ev.RectificationVerified(supervisor="sup-1", comment="已核实"),
    )
    assert decide(_state("open"), rc.ReportProgress(progress="培训", percent=10), HEAD) == (
        ev.ProgressReported(progress="培训", percent=10, reported_by="head-1"),
    )


def test_only_supervisors_verify_and_only_leadership_extends_a_deadline() -> None:
    with pytest.raises(RoleRefused):
        decide(_state("completed"), rc.Verify(), HEAD)
    with pytest.raises(RoleRefused):
        decide(_state("open"), rc.ExtendDeadline(deadline=date(2026, 6, 1)), HEAD)


def test_a_deadline_extension_moves_the_deadline_later_while_the_work_runs() -> None:
    leader = Context("leader-1", Role.leader, NOW)
    later = rc.ExtendDeadline(deadline=date(2026, 6, 1), reason="系统改造")
    state = _state("in_progress", deadline=date(2026, 4, 1))
    assert decide(state, later, leader) == (
        ev.RectificationDeadlineExtended(
            deadline=date(2026, 6, 1), approved_by="leader-1", reason="系统改造"
        ),
    )
    earlier = rc.ExtendDeadline(deadline=date(2026, 3, 20))
    refused = decide(state, earlier, leader)
    assert isinstance(refused, Refusal) and "not after 2026-04-01" in refused.reason
    past = decide(_state("open"), rc.ExtendDeadline(deadline=date(2026, 3, 1)), leader)
    assert isinstance(past, Refusal) and "not after today" in past.reason
    completed = decide(_state("completed", deadline=date(2026, 4, 1)), later, leader)
    assert isinstance(completed, Refusal) and "'completed'" in completed.reason


def test_a_reassignment_names_another_person_and_the_state_follows() -> None:
    state = _state("in_progress", responsible_person="李四")
    same = decide(state, rc.Reassign(responsible_person="李四"), HEAD)
    assert isinstance(same, Refusal) and "already responsible" in same.reason
    decided = decide(state, rc.Reassign(responsible_person="王五", reason="调岗"), HEAD)
    assert decided == (ev.ResponsiblePersonChanged(responsible_person="王五", reason="调岗"),)
    event = new_event(
        decided[0],
        case_id="RECT-1",
        case_kind=ev.CaseKind.rectification,
        occurred_at=NOW,
        source="api",
        actor="head-1",
    )
    after = evolve(state, event)
    assert (after.responsible_person, after.status, after.version) == ("王五", "in_progress", 4)
    verified = decide(_state("verified"), rc.Reassign(responsible_person="王五"), HEAD)
    assert isinstance(verified, Refusal)


def test_every_rectification_command_is_in_the_catalogue_and_makes_command_events() -> None:
    declared = set(declared_commands(ev.CaseKind.rectification))
    assert declared == {
        "open",
        "complete_review",
        "add_measure",
        "report_progress",
        "complete",
        "verify",
        "reject",
        "reopen",
        "extend_deadline",
        "reassign",
    }
    assert {route.command.name for route in ROUTES} == declared - {"open"}
    assert len({route.path for route in ROUTES}) == len(ROUTES)


@pytest.mark.parametrize(
    "body",
    [
        rc.AddMeasure(measure="补充培训"),
        rc.ReportProgress(progress="补充培训完成", percent=100),
        rc.Complete(evidence=["补充记录"]),
    ],
    ids=["add_measure", "report_progress", "complete"],
)
def test_a_verified_rectification_stays_closed_to_work_even_after_a_late_measure(
    body: rc.AddMeasure | rc.ReportProgress | rc.Complete,
) -> None:
    verified = _state("verified")
    refused = decide(verified, body, HEAD)
    assert isinstance(refused, Refusal) and "'verified'" in refused.reason
    late = new_event(
        ev.MeasureAdded(measure="迟到的措施"),
        case_id="RECT-1",
        case_kind=ev.CaseKind.rectification,
        occurred_at=NOW,
        source="api",
        actor="head-1",
    )
    after = evolve(verified, late)  # a fact from the topic, applied with an anomaly
    assert after.status == "verified"
    again = decide(after, body, HEAD)
    assert isinstance(again, Refusal) and "'verified'" in again.reason


@pytest.mark.parametrize(
    ("status", "review", "role", "expected"),
    [
        (
            "open",
            "open",
            Role.department_head,
            ["complete_review", "add_measure", "report_progress", "complete", "reassign"],
        ),
        (
            "in_progress",
            None,
            Role.department_head,
            ["add_measure", "report_progress", "complete", "reassign"],
        ),
        ("in_progress", None, Role.handler, ["add_measure", "report_progress", "complete"]),
        (
            "in_progress",
            None,
            Role.leader,
            ["add_measure", "report_progress", "complete", "extend_deadline", "reassign"],
        ),
        ("completed", None, Role.supervisor, ["verify", "reject", "reopen"]),
        ("completed", None, Role.department_head, ["reassign"]),
        ("verified", None, Role.handler, []),
        ("rejected", None, Role.handler, ["add_measure", "report_progress", "complete"]),
    ],
)
def test_the_console_offers_what_the_role_may_do_on_the_rectification_now(
    status: str, review: str | None, role: Role, expected: list[str]
) -> None:
    now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    offered = command_options(_state(status, review), role, "tester", now)
    assert [option.name for option in offered if option.reason is None] == expected
