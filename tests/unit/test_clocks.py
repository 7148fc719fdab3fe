"""Deadline clocks maintained from a case's events, and the alerts they owe."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from casestream.domain import catalog as ev
from casestream.domain.calendar import load_calendar
from casestream.domain.cases import evolve
from casestream.domain.clocks import Clock, ClockPolicy, ClockStatus, with_emitted
from casestream.domain.envelope import Event
from casestream.domain.lifecycle import CaseState
from casestream.domain.rectifications import RectificationState
from casestream.domain.rules import load_rulebook
from tests.events import event, local, reconsideration

POLICY = ClockPolicy(load_rulebook(), load_calendar())
# Monday 2026-09-14, 10:00 Shanghai. Counted by hand from the official 2026 schedule:
# 15 16 17 18 Sep, Sun 20 Sep (调休 working day), 21–24 Sep (25 Sep is 中秋 Mid-Autumn),
# 28 29 30 Sep, 8 9 Oct (1–7 Oct National Day), Sat 10 Oct (调休) = 15 working days.
ACCEPTED = datetime.fromisoformat("2026-09-14T10:00:00+08:00")


def run(events: list[Event[Any]]) -> tuple[CaseState | None, tuple[Clock, ...]]:
    state: CaseState | None = None
    clocks: tuple[Clock, ...] = ()
    for item in events:
        state = evolve(state, item)
        clocks = POLICY.advance(clocks, item, state)
    return state, clocks


def accepted_complaint(case_id: str = "K-1", enterprise: bool = False) -> list[Event[Any]]:
    return [
        event(
            "ComplaintReceived",
            case_id,
            "complaint",
            {"channel": "hotline_12345", "subject": "s", "enterprise": enterprise},
            at=ACCEPTED - timedelta(hours=2),
        ),
        event("ComplaintAccepted", case_id, "complaint", {"department": "治安大队"}, at=ACCEPTED),
    ]


def test_acceptance_starts_the_handling_clock_counted_in_working_days() -> None:
    _, clocks = run(accepted_complaint())
    (clock,) = clocks
    assert (clock.rule_id, clock.clock_id, clock.department) == (
        "complaint.handling",
        "K-1/complaint.handling/0",
        "治安大队",
    )
    assert clock.due_date.isoformat() == "2026-10-10"
    assert clock.due_at.isoformat() == "2026-10-10T23:59:59+08:00"
    assert POLICY.status(clock) is ClockStatus.running


def test_enterprise_complaints_get_the_shorter_enterprise_rule() -> None:
    _, (clock,) = run(accepted_complaint(enterprise=True))
    assert clock.rule_id == "complaint.handling_enterprise"
    assert clock.due_date.isoformat() == "2026-09-20"  # 5th working day: the adjusted Sunday


def test_resolution_in_time_meets_the_clock_and_starts_the_follow_up_clock() -> None:
    events = [
        *accepted_complaint(),
        event(
            "ComplaintResolved",
            "K-1",
            "complaint",
            {"outcome": "explained"},
            at=ACCEPTED + timedelta(days=3),
        ),
    ]
    _, clocks = run(events)
    handling, follow_up = clocks
    assert POLICY.status(handling) is ClockStatus.met
    assert (
        follow_up.rule_id == "complaint.follow_up"
        and POLICY.status(follow_up) is ClockStatus.running
    )


def test_resolution_after_the_due_instant_is_a_breach() -> None:
    events = [
        *accepted_complaint(),
        event(
            "ComplaintResolved",
            "K-1",
            "complaint",
            {"outcome": "explained"},
            at=ACCEPTED + timedelta(days=40),
        ),
    ]
    _, clocks = run(events)
    assert POLICY.status(clocks[0]) is ClockStatus.breached


def test_suspension_pauses_and_resumption_moves_the_due_date_later() -> None:
    events = [
        *accepted_complaint(),
        event(
            "CaseSuspended",
            "K-1",
            "complaint",
            {"reason": "等待鉴定"},
            at=ACCEPTED + timedelta(days=1),
        ),
    ]
    _, (paused,) = run(events)
    assert POLICY.status(paused) is ClockStatus.paused
    assert POLICY.next_alert_at(paused) is None  # a paused clock raises nothing
    _, (resumed,) = run(
        [*events, event("CaseResumed", "K-1", "complaint", at=ACCEPTED + timedelta(days=8))]
    )
    assert resumed.due_date > paused.due_date
    assert POLICY.status(resumed) is ClockStatus.running


def test_an_approved_extension_gives_the_new_length() -> None:
    events = [
        *accepted_complaint(),
        event(
            "DeadlineExtended",
            "K-1",
            "complaint",
            {"approved_by": "局长", "new_length": 20},
            at=ACCEPTED + timedelta(days=2),
        ),
    ]
    _, (clock,) = run(events)
    assert clock.extension == 5 and clock.due_date.isoformat() == "2026-10-16"  # 12–16 Oct


def test_a_rectification_deadline_extension_counts_the_completion_clock_to_the_new_date() -> None:
    opened = event(
        "RectificationOpened",
        "RECT-X1",
        "rectification",
        {"department": "治安大队", "responsible_person": "李四", "deadline": "2026-10-09"},
        at=ACCEPTED,
    )
    _, (before,) = run([opened])
    assert before.due_date.isoformat() == "2026-10-09"
    extended = event(
        "RectificationDeadlineExtended",
        "RECT-X1",
        "rectification",
        {"deadline": "2026-11-13", "approved_by": "局领导陈"},
        at=ACCEPTED + timedelta(days=3),
    )
    state, (clock,) = run([opened, extended])
    assert clock.clock_id == before.clock_id and clock.open
    assert clock.due_date.isoformat() == "2026-11-13" and clock.due_at > before.due_at
    assert isinstance(state, RectificationState) and state.deadline == date(2026, 11, 13)
    assert POLICY.status(clock) is not ClockStatus.breached
    assert POLICY.due_alerts(clock, ACCEPTED + timedelta(days=40)) == []  # 2026-10-24: none due


def _petition_rejected_after(days: int) -> Clock:
    received = event(
        "ComplaintReceived",
        "P-1",
        "complaint",
        {"channel": "petition", "subject": "s"},
        at=ACCEPTED,
    )
    rejected = event(
        "ComplaintRejected",
        "P-1",
        "complaint",
        {"reason": "重复信访"},
        at=ACCEPTED + timedelta(days=days),
    )
    _, (clock,) = run([received, rejected])
    assert clock.rule_id == "petition.acceptance_notice"
    return clock


def test_a_petition_rejected_in_time_met_its_acceptance_notice_deadline() -> None:
    # 不予受理 is the decision the 15-day notice (信访工作条例 Art 23) is owed for
    clock = _petition_rejected_after(1)
    assert clock.stopped_at == ACCEPTED + timedelta(days=1) and not clock.cancelled
    assert POLICY.status(clock) is ClockStatus.met


def test_a_petition_rejected_late_breached_its_acceptance_notice_deadline() -> None:
    clock = _petition_rejected_after(20)
    assert POLICY.status(clock) is ClockStatus.breached


def _withdrawn(events: list[Event[Any]], at: datetime) -> tuple[Clock, ...]:
    withdrawn = event(
        "ReconsiderationWithdrawn", "R-W", "reconsideration", {"reason": "申请人撤回"}, at=at
    )
    _, clocks = run([*events, withdrawn])
    return clocks


def test_a_withdrawn_reconsideration_ends_its_decision_period_and_owes_no_reply() -> None:
    applied, accepted, copy, _reply = reconsideration("R-W", 7, None)
    clocks = _withdrawn([applied, accepted, copy], local("2026-03-05T09:00"))
    by_rule = {clock.rule_id: clock for clock in clocks}
    assert set(by_rule) == {"reconsideration.decision", "reconsideration.reply"}
    # the period the reconsideration body decides in ends with the case: met, as decided
    assert POLICY.status(by_rule["reconsideration.decision"]) is ClockStatus.met
    # the 答复 is no longer owed: neither met nor breached
    assert POLICY.status(by_rule["reconsideration.reply"]) is ClockStatus.cancelled


def test_a_reconsideration_withdrawn_after_the_reply_keeps_the_reply_met() -> None:
    events = reconsideration("R-W", 8, None)
    clocks = _withdrawn(events, local("2026-03-10T09:00"))
    statuses = {clock.rule_id: POLICY.status(clock) for clock in clocks}
    assert statuses == {
        "reconsideration.decision": ClockStatus.met,
        "reconsideration.reply": ClockStatus.met,
    }


def test_alerts_owed_come_in_due_order_with_ids_that_never_change() -> None:
    _, (clock,) = run(accepted_complaint())
    later = clock.due_at + timedelta(days=10)
    owed = POLICY.due_alerts(clock, later)
    assert [a.payload_type for a in owed] == [
        ev.DeadlineApproaching,
        ev.Escalated,
        ev.DeadlineApproaching,
        ev.DeadlineBreached,
        ev.Escalated,
        ev.Escalated,
    ]
    assert [a.scheduled_at for a in owed] == sorted(a.scheduled_at for a in owed)
    assert [a.alert_id for a in owed] == [a.alert_id for a in POLICY.due_alerts(clock, later)]
    assert POLICY.due_alerts(clock, clock.started_at) == []


def test_emitted_alerts_move_the_next_alert_on_and_a_breach_marks_the_clock() -> None:
    _, (clock,) = run(accepted_complaint())
    owed = POLICY.due_alerts(clock, clock.due_at + timedelta(seconds=2))
    assert POLICY.next_alert_at(clock) == owed[0].scheduled_at
    seen = with_emitted(clock, [a.alert_id for a in owed])
    assert POLICY.status(seen) is ClockStatus.breached
    assert (
        POLICY.next_alert_at(seen) is not None and POLICY.next_alert_at(seen) > clock.due_at
    )  # level 3 still to come
    assert with_emitted(
        with_emitted(clock, [owed[1].alert_id]), [owed[0].alert_id]
    ) == with_emitted(clock, [owed[0].alert_id, owed[1].alert_id])


def test_a_stopped_clock_that_raised_alerts_owes_exactly_one_clearing() -> None:
    events = accepted_complaint()
    _, (clock,) = run(events)
    warned = with_emitted(clock, [POLICY.due_alerts(clock, clock.due_at)[0].alert_id])
    state, _ = run(events)
    assert state is not None
    resolved = event(
        "ComplaintResolved",
        "K-1",
        "complaint",
        {"outcome": "explained"},
        at=clock.due_at - timedelta(hours=1),
    )
    (stopped, _) = POLICY.advance((warned,), resolved, evolve(state, resolved))
    (clearing,) = POLICY.due_alerts(stopped, clock.due_at)
    assert clearing.payload_type is ev.AlertCleared
    assert POLICY.due_alerts(with_emitted(stopped, [clearing.alert_id]), clock.due_at) == []


def test_a_period_shorter_than_its_warnings_raises_no_warning_before_it_started() -> None:
    events = [
        *accepted_complaint(),
        event(
            "ComplaintResolved",
            "K-1",
            "complaint",
            {"outcome": "explained"},
            at=ACCEPTED + timedelta(days=1),
        ),
    ]
    _, (_, follow_up) = run(events)
    owed = POLICY.due_alerts(follow_up, follow_up.due_at + timedelta(days=30))
    assert all(alert.scheduled_at >= follow_up.started_at for alert in owed)
    assert owed[0].payload_type is ev.DeadlineApproaching


# 重新办理: Monday 2026-11-02, 10:00 Shanghai; no holiday or 调休 day in November 2026, so the
# 15th working day after it is Monday 23 November and the 5th Monday 9 November.
REOPENED = datetime.fromisoformat("2026-11-02T10:00:00+08:00")


def _complaint_event(kind: str, fields: dict[str, Any], at: datetime) -> Event[Any]:
    return event(kind, "K-1", "complaint", fields, at=at)


def _handling(clocks: tuple[Clock, ...]) -> list[Clock]:
    return [clock for clock in clocks if clock.rule_id.startswith("complaint.handling")]


def test_a_reopened_complaint_is_handled_within_a_new_period_counted_from_the_reopening() -> None:
    late = _complaint_event(
        "ComplaintResolved",
        {"outcome": "explained"},
        datetime.fromisoformat("2026-10-20T10:00:00+08:00"),
    )
    reopened = _complaint_event("ComplaintReopened", {"reason": "督察要求重新办理"}, REOPENED)
    _, clocks = run([*accepted_complaint(), late, reopened])
    first, again = _handling(clocks)
    assert POLICY.status(first) is ClockStatus.breached  # the first period keeps its outcome
    assert first.stopped_at == late.occurred_at
    assert (again.clock_id, again.rule_id, again.department) == (
        "K-1/complaint.handling/1",
        "complaint.handling",
        "治安大队",
    )
    assert (again.started_at, again.start_event_id) == (REOPENED, str(reopened.event_id))
    assert again.due_at.isoformat() == "2026-11-23T23:59:59+08:00"
    assert POLICY.status(again) is ClockStatus.running
    assert POLICY.next_alert_at(again) is not None  # the scanner times it like any clock

    resolved = _complaint_event(
        "ComplaintResolved", {"outcome": "explained"}, REOPENED + timedelta(days=7)
    )
    _, clocks = run([*accepted_complaint(), late, reopened, resolved])
    first, again = _handling(clocks)
    assert POLICY.status(first) is ClockStatus.breached
    assert again.stopped_at == resolved.occurred_at
    assert POLICY.status(again) is ClockStatus.met


def test_a_reopened_enterprise_complaint_gets_the_enterprise_period_again() -> None:
    resolved = _complaint_event(
        "ComplaintResolved", {"outcome": "explained"}, ACCEPTED + timedelta(days=1)
    )
    reopened = _complaint_event("ComplaintReopened", {"reason": "企业不满意"}, REOPENED)
    _, clocks = run([*accepted_complaint(enterprise=True), resolved, reopened])
    first, again = _handling(clocks)
    assert POLICY.status(first) is ClockStatus.met
    assert again.clock_id == "K-1/complaint.handling_enterprise/1"
    assert again.due_date == date(2026, 11, 9)


def test_a_complaint_reopened_after_it_was_rejected_is_timed_from_the_reopening() -> None:
    received = _complaint_event(
        "ComplaintReceived", {"channel": "window", "subject": "s"}, ACCEPTED
    )
    rejected = _complaint_event("ComplaintRejected", {"reason": "不属于本局"}, ACCEPTED)
    reopened = _complaint_event("ComplaintReopened", {"reason": "应予受理"}, REOPENED)
    state, clocks = run([received, rejected, reopened])
    assert state is not None and state.status == "accepted"
    (clock,) = _handling(clocks)
    assert (clock.clock_id, clock.due_date) == ("K-1/complaint.handling/0", date(2026, 11, 23))


def test_a_reopening_while_the_handling_clock_runs_starts_no_second_one() -> None:
    reopened = _complaint_event("ComplaintReopened", {"reason": "重复"}, REOPENED)
    _, clocks = run([*accepted_complaint(), reopened])
    (clock,) = _handling(clocks)
    assert clock.clock_id == "K-1/complaint.handling/0" and clock.open


def test_a_petition_reopened_gets_no_complaint_handling_clock() -> None:
    received = _complaint_event(
        "ComplaintReceived", {"channel": "petition", "subject": "s"}, ACCEPTED
    )
    resolved = _complaint_event(
        "ComplaintResolved", {"outcome": "explained"}, ACCEPTED + timedelta(days=1)
    )
    reopened = _complaint_event("ComplaintReopened", {"reason": "复查"}, REOPENED)
    _, clocks = run([received, resolved, reopened])
    assert _handling(clocks) == []


def _follow_ups(clocks: tuple[Clock, ...]) -> list[Clock]:
    return [clock for clock in clocks if clock.rule_id == "complaint.follow_up"]


def test_a_reopening_cancels_the_follow_up_and_the_next_resolution_starts_a_fresh_one() -> None:
    resolved = _complaint_event(
        "ComplaintResolved", {"outcome": "explained"}, ACCEPTED + timedelta(days=1)
    )
    reopened = _complaint_event("ComplaintReopened", {"reason": "不满意"}, REOPENED)
    again = _complaint_event(
        "ComplaintResolved", {"outcome": "substantiated"}, REOPENED + timedelta(days=2)
    )
    _, clocks = run([*accepted_complaint(), resolved, reopened])
    (owed,) = _follow_ups(clocks)
    # the 回访 of a resolution no longer standing is not owed: neither met nor breached
    assert POLICY.status(owed) is ClockStatus.cancelled
    _, clocks = run([*accepted_complaint(), resolved, reopened, again])
    first, fresh = _follow_ups(clocks)
    assert POLICY.status(first) is ClockStatus.cancelled
    assert fresh.clock_id == "K-1/complaint.follow_up/1"
    assert fresh.started_at == again.occurred_at and fresh.due_date == date(2026, 11, 9)
    assert POLICY.status(fresh) is ClockStatus.running
