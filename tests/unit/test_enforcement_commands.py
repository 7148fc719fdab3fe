"""The staff commands of enforcement supervision (执法监督): the legal office reviews, scores and
issues 执法监督书; departments record 不予处罚 decisions and publish them. An allowed role on a
state that allows the step gets the expected events; a state that does not allow it is refused
naming why; a role the command does not name is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from casestream.domain import catalog as ev
from casestream.domain.commands import Context, Refusal, Role, decide
from casestream.domain.enforcement import (
    EnforcementDecisionState,
    EnforcementNoticeState,
    EnforcementReviewState,
)
from casestream.domain.enforcement_commands import (
    CompleteEnforcementReview,
    IssueNotice,
    IssueOpinion,
    OpenReview,
    PublishDecision,
    RecordDecision,
    WithdrawPublication,
)
from tests.command_cases import (
    CommandCase,
    check_bounds,
    check_decision,
    check_every_command_tested,
    each_case,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTOR = "fazhi.zhang"


def review(status: str, **fields: Any) -> EnforcementReviewState:
    return EnforcementReviewState(
        case_id="KP-1", case_kind=ev.CaseKind.enforcement_review, status=status, version=1, **fields
    )


def notice(status: str) -> EnforcementNoticeState:
    return EnforcementNoticeState(
        case_id="JDS-1", case_kind=ev.CaseKind.enforcement_notice, status=status, version=1
    )


def decision(status: str) -> EnforcementDecisionState:
    return EnforcementDecisionState(
        case_id="BYCF-1", case_kind=ev.CaseKind.enforcement_decision, status=status, version=1
    )


NOTICE = IssueNotice(
    notice_no="公法监字〔2026〕4号",
    department="治安大队",
    decision_ref="公(治)行罚决字〔2026〕88号",
    review_case_id="KP-1",
    matters=["补正告知程序"],
    deadline=date(2026, 4, 1),
)
DECISION = RecordDecision(
    decision_ref="公(交)不罚决字〔2026〕17号",
    exemption=ev.ExemptionType.first_offence,
    legal_basis="《行政处罚法》第三十三条第一款",
    decided_on=date(2026, 2, 27),
    department="交警大队",
)

CASES = [
    CommandCase(
        OpenReview(decision_ref="公(治)行罚决字〔2026〕88号", department="治安大队"),
        None,
        (
            ev.EnforcementReviewOpened(
                decision_ref="公(治)行罚决字〔2026〕88号", department="治安大队", reviewer=ACTOR
            ),
        ),
        review("opened"),
        "already registered",
        Role.department_head,
    ),
    CommandCase(
        IssueOpinion(category=ev.OpinionCategory.procedure, text="未告知陈述申辩权利"),
        review("opened"),
        (ev.ReviewOpinionIssued(category=ev.OpinionCategory.procedure, text="未告知陈述申辩权利"),),
        review("completed", score=80),
        "'completed'",
        Role.handler,
    ),
    CommandCase(
        CompleteEnforcementReview(score=82, summary="程序瑕疵"),
        review("opened"),
        (ev.EnforcementReviewCompleted(score=82, summary="程序瑕疵"),),
        review("completed", score=80),
        "'completed'",
        Role.supervisor,
    ),
    CommandCase(
        NOTICE,
        None,
        (ev.EnforcementNoticeIssued(**NOTICE.model_dump()),),
        notice("issued"),
        "already registered",
        Role.department_head,
    ),
    CommandCase(
        DECISION,
        None,
        (ev.EnforcementDecisionRecorded(**DECISION.model_dump()),),
        decision("recorded"),
        "already registered",
        Role.supervisor,
    ),
    CommandCase(
        PublishDecision(platform="县政府门户网站", url="https://www.example.gov.cn/gs/17"),
        decision("recorded"),
        (
            ev.EnforcementDecisionPublished(
                platform="县政府门户网站", url="https://www.example.gov.cn/gs/17"
            ),
        ),
        decision("published"),
        "'published'",
        Role.handler,
    ),
    CommandCase(
        WithdrawPublication(reason="公示期满"),
        decision("published"),
        (ev.EnforcementDecisionPublicationWithdrawn(reason="公示期满"),),
        decision("recorded"),
        "'recorded'",
        Role.handler,
    ),
]


@each_case(CASES)
def test_a_command_gives_its_events_where_allowed_and_is_refused_by_state_and_by_role(
    case: CommandCase,
) -> None:
    check_decision(case, ACTOR, NOW)


@pytest.mark.parametrize(
    "kind",
    [
        ev.CaseKind.enforcement_review,
        ev.CaseKind.enforcement_notice,
        ev.CaseKind.enforcement_decision,
    ],
)
def test_the_catalogue_declares_every_enforcement_command(kind: ev.CaseKind) -> None:
    check_every_command_tested(kind, [case for case in CASES if case.body.case_kind is kind])


# open_review leaves `reviewer` out for the caller to be the reviewer: not the event's bounds
@each_case(case for case in CASES if case.body.name != "open_review")
def test_each_command_field_has_the_bounds_of_the_event_field_it_fills(case: CommandCase) -> None:
    check_bounds(case)


def test_a_notice_due_today_or_earlier_is_refused_naming_the_deadline() -> None:
    late = NOTICE.model_copy(update={"deadline": NOW.date()})
    refused = decide(None, late, Context(ACTOR, Role.legal, NOW))
    assert isinstance(refused, Refusal) and "deadline 2026-03-02" in refused.reason


def test_a_decision_dated_after_today_is_refused_naming_decided_on() -> None:
    ahead = DECISION.model_copy(update={"decided_on": date(2026, 3, 3)})
    refused = decide(None, ahead, Context(ACTOR, Role.handler, NOW))
    assert isinstance(refused, Refusal) and "decided_on 2026-03-03" in refused.reason


@pytest.mark.parametrize("score", [-1, 101])
def test_a_score_outside_0_to_100_is_invalid(score: int) -> None:
    with pytest.raises(ValidationError, match="score"):
        CompleteEnforcementReview(score=score)


def test_a_notice_without_matters_and_a_publication_address_that_is_no_web_address_are_invalid() -> (
    None
):
    with pytest.raises(ValidationError, match="matters"):
        IssueNotice(**{**NOTICE.model_dump(), "matters": []})
    with pytest.raises(ValidationError, match="url"):
        PublishDecision(url="javascript:alert(1)")
