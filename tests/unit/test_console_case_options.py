"""可办理事项 of the case detail page: the commands a role may give on a case now, asked of the
domain's decisions with sample fields. Checked against every kind's command table (a state that
allows each command, a state that refuses it, a role it does not name)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from casestream.api.console_case_options import _samples, command_options
from casestream.domain import catalog as ev
from casestream.domain.cases import fold
from casestream.domain.command_catalogue import COMMANDS
from casestream.domain.commands import Context, Role, decide
from casestream.domain.envelope import parse_event
from casestream.domain.lifecycle import CaseState
from casestream.domain.rectifications import RectificationState
from tests.command_cases import CommandCase, each_case
from tests.unit import (
    test_complaint_commands,
    test_litigation_commands,
    test_reconsideration_commands,
    test_tip_commands,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "events"
TABLES = (
    test_complaint_commands,
    test_litigation_commands,
    test_reconsideration_commands,
    test_tip_commands,
)
CASES: list[CommandCase] = [
    case for table in TABLES for case in table.CASES if not case.body.opens_case
]
# refusals that hang on a value of the command's fields, which only the form collects
# (a transfer to the department the case is with, an opinion already recorded under its
# number): the page lists them possible and the form's answer names the refusal
BY_FIELD = {"transfer", "record_opinion"}


def _module_now(case: CommandCase) -> datetime:
    for table in TABLES:
        if case in table.CASES:
            now: datetime = table.NOW
            return now
    raise AssertionError(case)


def _options(state: CaseState | None, role: Role, now: datetime) -> dict[str, str | None]:
    assert state is not None
    return {option.name: option.reason for option in command_options(state, role, "tester", now)}


@each_case(CASES)
def test_a_command_is_listed_possible_where_its_table_allows_it(case: CommandCase) -> None:
    now = _module_now(case)
    for role in case.roles:
        assert _options(case.allowed, role, now)[case.body.name] is None, role


@each_case(CASES)
def test_a_command_is_listed_with_the_reason_where_its_table_refuses_it(case: CommandCase) -> None:
    now = _module_now(case)
    found = _options(case.refused, case.roles[0], now)[case.body.name]
    if case.body.name in BY_FIELD:
        assert found is None
    else:
        assert found is not None and "不可办理" in found


@each_case(CASES)
def test_a_role_the_command_does_not_name_sees_who_may_give_it(case: CommandCase) -> None:
    found = _options(case.allowed, case.wrong_role, _module_now(case))[case.body.name]
    assert found is not None and found.startswith("需由")


def test_possible_commands_come_first_and_no_registration_is_listed() -> None:
    case = CASES[0]
    assert case.allowed is not None
    options = command_options(case.allowed, case.roles[0], "tester", _module_now(case))
    reasons = [option.reason is not None for option in options]
    assert reasons == sorted(reasons)
    assert all(option.href.endswith(f"/commands/{option.name}") for option in options)
    assert not any(option.name == "register" for option in options)


def test_a_rectification_deadline_extension_is_possible_while_the_work_runs() -> None:
    now = datetime(2026, 3, 2, 9, tzinfo=UTC)
    running = RectificationState(
        case_id="RECT-1",
        case_kind=ev.CaseKind.rectification,
        status="in_progress",
        version=2,
        deadline=(now + timedelta(days=30)).date(),
        responsible_person="张三",
    )
    options = _options(running, Role.leader, now)
    assert options["extend_deadline"] is None  # a date a year ahead is a later deadline
    assert options["verify"] is not None and options["verify"].startswith("需由")


OPENING = {
    ev.CaseKind.complaint: "ComplaintReceived",
    ev.CaseKind.enterprise_tip: "TipReceived",
    ev.CaseKind.reconsideration: "ReconsiderationApplied",
    ev.CaseKind.litigation: "LawsuitFiled",
    ev.CaseKind.rectification: "RectificationOpened",
    ev.CaseKind.enforcement_review: "EnforcementReviewOpened",
    ev.CaseKind.enforcement_notice: "EnforcementNoticeIssued",
    ev.CaseKind.enforcement_decision: "EnforcementDecisionRecorded",
}


@pytest.mark.parametrize(
    ("kind", "name"),
    [key for key, handler in sorted(COMMANDS.items()) if not handler.model.opens_case],
)
def test_every_commands_samples_are_decided_not_failed(kind: ev.CaseKind, name: str) -> None:
    """The samples read as the decision expects: no command is listed possible only because
    its decision could not read them."""
    opened = fold([parse_event((FIXTURES / OPENING[kind] / "v1.json").read_text())])
    assert opened is not None
    model = COMMANDS[(kind, name)].model
    context = Context("tester", sorted(model.roles)[0], datetime(2026, 3, 2, 9, tzinfo=UTC))
    for body in _samples(model, context.now.date()):
        decide(opened, body, context)  # a payload or a refusal; never an exception
