"""The reminder clock of a hearing the agency head is expected at (负责人出庭应诉提醒): due on the
hearing date, stopped when the hearing is held, replaced when it is rescheduled."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from casestream.domain import catalog as ev
from casestream.domain.cases import evolve
from casestream.domain.clocks import Clock, ClockStatus, with_emitted
from casestream.domain.envelope import Event
from tests.events import event
from tests.unit.test_clocks import POLICY, run

RULE = "litigation.hearing_reminder"
# Monday 2026-11-02, 10:00 Shanghai: the court's notice; the hearing is on Friday 2026-11-20.
NOTICE = datetime.fromisoformat("2026-11-02T10:00:00+08:00")


def lawsuit(*later: Event[Any]) -> list[Event[Any]]:
    filed = {"court": "县人民法院", "plaintiff": {"name": "张三"}, "decision_ref": "公(治)决字1号"}
    return [
        event("LawsuitFiled", "L-1", "litigation", filed, at=NOTICE - timedelta(days=20)),
        event("ComplaintCopyServed", "L-1", "litigation", at=NOTICE - timedelta(days=19)),
        *later,
    ]


def scheduled(hearing_date: str, head_expected: bool = True, day: float = 0) -> Event[Any]:
    payload = {"hearing_date": hearing_date, "head_expected": head_expected}
    return event("CourtHearingScheduled", "L-1", "litigation", payload, at=NOTICE, day=day)


def reminders(clocks: tuple[Clock, ...]) -> list[Clock]:
    return [clock for clock in clocks if clock.rule_id == RULE]


def test_a_hearing_the_head_is_expected_at_is_due_on_its_date_with_leadership_warned() -> None:
    _, clocks = run(lawsuit(scheduled("2026-11-20")))
    (clock,) = reminders(clocks)
    assert clock.clock_id == f"L-1/{RULE}/0"
    assert clock.due_at.isoformat() == "2026-11-20T23:59:59+08:00"
    assert POLICY.status(clock) is ClockStatus.running
    # 5 working days before Friday 20 Nov: Fri 13 Nov (19, 18, 17, 16, 13); 1 before: Thu 19
    alerts = POLICY.due_alerts(clock, datetime.fromisoformat("2026-11-21T00:00:00+08:00"))
    assert [
        (alert.payload_type, alert.scheduled_at.isoformat(), alert.level, alert.notify)
        for alert in alerts
    ] == [
        (ev.DeadlineApproaching, "2026-11-13T00:00:00+08:00", 1, None),
        (ev.Escalated, "2026-11-13T00:00:00+08:00", 3, "bureau_leadership"),
        (ev.DeadlineApproaching, "2026-11-19T00:00:00+08:00", 1, None),
        (ev.DeadlineBreached, "2026-11-21T00:00:00+08:00", 2, None),
    ]
    assert POLICY.due_alerts(clock, datetime.fromisoformat("2026-11-12T23:59:59+08:00")) == []


def test_a_hearing_without_the_head_expected_starts_no_reminder() -> None:
    _, clocks = run(lawsuit(scheduled("2026-11-20", head_expected=False)))
    assert reminders(clocks) == []


def test_the_hearing_held_on_its_date_meets_the_reminder() -> None:
    held = {"held_on": "2026-11-20", "head_appeared": True, "appeared": [{"name": "王局长"}]}
    at = datetime.fromisoformat("2026-11-20T11:30:00+08:00")
    _, clocks = run(
        lawsuit(
            scheduled("2026-11-20"), event("CourtHearingHeld", "L-1", "litigation", held, at=at)
        )
    )
    (clock,) = reminders(clocks)
    assert clock.stopped_at == at
    assert POLICY.status(clock) is ClockStatus.met


def test_a_rescheduled_hearing_cancels_the_reminder_and_starts_one_due_on_the_new_date() -> None:
    _, clocks = run(lawsuit(scheduled("2026-11-20"), scheduled("2026-12-04", day=7)))
    first, second = reminders(clocks)
    assert POLICY.status(first) is ClockStatus.cancelled
    assert (second.clock_id, second.due_at.isoformat()) == (
        f"L-1/{RULE}/1",
        "2026-12-04T23:59:59+08:00",
    )
    assert POLICY.status(second) is ClockStatus.running


def test_rescheduled_without_the_head_expected_the_reminder_is_cancelled_and_none_replaces_it() -> (
    None
):
    _, clocks = run(
        lawsuit(scheduled("2026-11-20"), scheduled("2026-12-04", head_expected=False, day=7))
    )
    (clock,) = reminders(clocks)
    assert POLICY.status(clock) is ClockStatus.cancelled
    assert not clock.open


def test_a_judgment_cancels_a_reminder_that_warned_and_it_owes_one_alert_cleared() -> None:
    state, clocks = run(lawsuit(scheduled("2026-11-20")))
    (clock,) = reminders(clocks)
    warned = POLICY.due_alerts(clock, datetime.fromisoformat("2026-11-13T08:00:00+08:00"))
    assert [alert.payload_type for alert in warned] == [ev.DeadlineApproaching, ev.Escalated]
    clock = with_emitted(clock, [alert.alert_id for alert in warned])
    at = datetime.fromisoformat("2026-11-14T09:00:00+08:00")
    judged = event(
        "JudgmentIssued",
        "L-1",
        "litigation",
        {"instance": "first", "outcome": "claim_dismissed"},
        at=at,
    )
    assert state is not None
    (cancelled,) = POLICY.advance((clock,), judged, evolve(state, judged))
    assert POLICY.status(cancelled) is ClockStatus.cancelled
    (cleared,) = POLICY.due_alerts(cancelled, at)
    assert cleared.payload_type is ev.AlertCleared
