"""How a clock's deadline was counted: the explanation is the clocks' own count, told."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from casestream.domain.catalog import CaseKind
from casestream.domain.clocks import Clock, ClockPolicy
from casestream.domain.deadline_explanation import explain_clock
from casestream.domain.deadline_explanation_models import ClockExplanation
from casestream.domain.deadlines import SkipReason
from casestream.domain.envelope import Event
from casestream.domain.rules import RuleBook, Unit
from tests.events import event
from tests.unit.test_clocks import ACCEPTED, POLICY, accepted_complaint, run

TZ = "Asia/Shanghai"


def explain(
    clock: Clock, events: list[Event[Any]] | None = None, policy: ClockPolicy = POLICY
) -> ClockExplanation:
    rule = policy.rulebook.rules[clock.rule_id]
    return explain_clock(clock, rule, policy.calendar, TZ, events)


def clock_of(
    rule_id: str,
    started_at: datetime,
    *,
    pauses: tuple[tuple[date, date | None], ...] = (),
    extension: int = 0,
    policy: ClockPolicy = POLICY,
) -> Clock:
    """A clock of `rule_id` as the clocks count it (`ClockPolicy.recomputed`)."""
    placeholder = Clock(
        clock_id=f"X/{rule_id}/0",
        case_id="X",
        case_kind=CaseKind.complaint,
        rule_id=rule_id,
        start_event_id="start",
        started_at=started_at,
        pauses=pauses,
        extension=extension,
        due_date=started_at.date(),
        due_at=started_at,
        provisional=False,
    )
    return policy.recomputed(placeholder)


def test_a_span_over_national_day_2026_skips_the_holiday_and_counts_the_adjusted_saturday() -> None:
    # started Thu 2026-09-24: 25-27 Sep 中秋, 1-7 Oct 国庆 (official 2026 schedule), Sat 10 Oct
    # is an adjusted working day (调休) of 国庆
    started = datetime.fromisoformat("2026-09-24T15:00:00+08:00")
    clock = clock_of("complaint.handling_enterprise", started)
    explained = explain(clock)
    days = explained.days
    assert days is not None
    assert days.counted_days == [
        date(2026, 9, 28),
        date(2026, 9, 29),
        date(2026, 9, 30),
        date(2026, 10, 8),
        date(2026, 10, 9),
    ]
    assert explained.due_date == clock.due_date == date(2026, 10, 9)
    assert explained.start.counts_from_next_day and explained.start.start_day == date(2026, 9, 24)
    national = [item for item in days.not_counted if item.holiday == "国庆节 National Day"]
    assert [item.day for item in national] == [date(2026, 10, d) for d in range(1, 8)]
    assert all(item.reason is SkipReason.holiday for item in national)
    assert [(h.name, h.days) for h in days.holidays] == [
        ("中秋节 Mid-autumn Festival", 3),
        ("国庆节 National Day", 7),
    ]
    assert days.weekend_days == 0 and days.adjusted_workdays == []
    # five more days reach the 调休 Saturday, counted as a working day and flagged as such
    longer = clock_of("complaint.handling", started)
    explained = explain(longer)
    assert explained.days is not None
    assert [(a.day, a.holiday) for a in explained.days.adjusted_workdays] == [
        (date(2026, 10, 10), "国庆节 National Day")
    ]
    assert date(2026, 10, 10) in explained.days.counted_days
    assert explained.summary_zh.startswith("自2026-09-24起算15个工作日（跳过周末")
    assert "国庆节假日7天" in explained.summary_zh and "计入调休上班日1天" in explained.summary_zh
    assert explained.summary_zh.endswith(f"{longer.due_date}届满")


def test_a_weekend_only_span_names_the_weekend_and_no_holiday() -> None:
    clock = clock_of(
        "complaint.handling_enterprise", datetime.fromisoformat("2026-03-05T10:00:00+08:00")
    )
    explained = explain(clock)
    days = explained.days
    assert days is not None
    assert explained.due_date == date(2026, 3, 12) == clock.due_date
    assert [(item.day, item.reason) for item in days.not_counted] == [
        (date(2026, 3, 7), SkipReason.weekend),
        (date(2026, 3, 8), SkipReason.weekend),
    ]
    assert (days.weekend_days, days.holiday_days, days.holidays) == (2, 0, [])
    assert explained.due_at.isoformat() == "2026-03-12T23:59:59+08:00"
    assert explained.summary_zh == (
        "自2026-03-05起算5个工作日（跳过周末2天、法定节假日0天，计入调休上班日0天），2026-03-12届满"
    )


def test_a_pause_lists_its_days_and_moves_the_due_date() -> None:
    events = [
        *accepted_complaint(),
        event(
            "CaseSuspended",
            "K-1",
            "complaint",
            {"reason": "待鉴定"},
            at=ACCEPTED + timedelta(days=1),
        ),
        event("CaseResumed", "K-1", "complaint", {}, at=ACCEPTED + timedelta(days=4)),
    ]
    _, (clock,) = run(events)
    explained = explain(clock, events)
    (pause,) = explained.pauses
    assert (pause.suspended_on, pause.resumed_on) == (date(2026, 9, 15), date(2026, 9, 18))
    assert (pause.days_suspended, pause.days_not_counted) == (3, 3)
    assert explained.days is not None and explained.days.paused_days == 3
    paused = [i.day for i in explained.days.not_counted if i.reason is SkipReason.paused]
    assert paused == [date(2026, 9, 16), date(2026, 9, 17), date(2026, 9, 18)]
    assert explained.due_date == clock.due_date == date(2026, 10, 14)
    assert "，中止3天，" in explained.summary_zh


def test_an_open_pause_is_shown_as_lasting() -> None:
    events = [
        *accepted_complaint(),
        event(
            "CaseSuspended",
            "K-1",
            "complaint",
            {"reason": "待鉴定"},
            at=ACCEPTED + timedelta(days=1),
        ),
    ]
    _, (clock,) = run(events)
    explained = explain(clock, events)
    assert explained.pauses[0].resumed_on is None and explained.matches_clock
    assert "中止中" in explained.summary_zh


def test_an_extension_names_its_approver_the_days_added_and_the_new_due_date() -> None:
    extended = event(
        "DeadlineExtended",
        "K-1",
        "complaint",
        {"approved_by": "王局长", "new_length": 20, "reason": "需现场核实"},
        at=ACCEPTED + timedelta(days=3),
    )
    events = [*accepted_complaint(), extended]
    _, (clock,) = run(events)
    explained = explain(clock, events)
    (extension,) = explained.extensions
    assert (extension.approved_by, extension.added, extension.total) == ("王局长", 5, 5)
    assert extension.reason == "需现场核实" and extension.unit is Unit.working_days
    assert extension.new_due_date == clock.due_date == explained.due_date == date(2026, 10, 16)
    assert extension.granted_at is not None and extension.granted_at.utcoffset() == timedelta(
        hours=8
    )
    assert explained.extension == 5 and "延期5个工作日" in explained.summary_zh
    # without the case's history the total is still told, without an approver
    (total,) = explain(clock).extensions
    assert (total.approved_by, total.added, total.new_due_date) == (None, 5, clock.due_date)


def test_a_calendar_day_rule_ending_on_a_holiday_moves_to_the_next_working_day() -> None:
    clock = clock_of("litigation.defence", datetime.fromisoformat("2026-09-16T09:00:00+08:00"))
    explained = explain(clock)
    days = explained.days
    assert days is not None and explained.rule.unit is Unit.calendar_days
    assert days.counted == 15 and days.last_counted == date(2026, 10, 1)
    assert days.end_moves_off_rest_days and days.rolled_from == date(2026, 10, 1)
    assert [item.day for item in days.rolled_over] == [date(2026, 10, d) for d in range(2, 8)]
    assert days.not_counted == []  # calendar days count weekends and holidays alike
    assert explained.due_date == clock.due_date == date(2026, 10, 8)
    assert "第八十五条" in " ".join(explained.notes)
    assert explained.summary_zh == (
        "自2026-09-16起算15日，末日2026-10-01为休息日，顺延至2026-10-08，2026-10-08届满"
    )


def test_the_rule_and_its_source_are_told() -> None:
    _, (clock,) = run(accepted_complaint())
    explained = explain(clock)
    assert explained.rule.id == "complaint.handling" and explained.rule.length == 15
    assert explained.rule.source == POLICY.rulebook.rules["complaint.handling"].source
    assert explained.start.event_type == "ComplaintAccepted"
    assert explained.start.event_id == clock.start_event_id


def _policy_with_length(rule_id: str, length: int) -> ClockPolicy:
    base = POLICY.rulebook.rules
    rules = {**base, rule_id: base[rule_id].model_copy(update={"length": length})}
    return ClockPolicy(RuleBook(rules), POLICY.calendar)


def test_the_explanation_due_is_the_clock_due_for_many_random_counts() -> None:
    chance = random.Random(20261001)
    counted_rules = [
        rule.id
        for rule in POLICY.rulebook.rules.values()
        if rule.due_date_field is None and rule.unit is not Unit.minutes
    ]
    for _ in range(300):
        rule_id = chance.choice(counted_rules)
        unit = POLICY.rulebook.rules[rule_id].unit
        length = chance.randint(1, {Unit.months: 12, Unit.hours: 96}.get(unit, 60))
        policy = _policy_with_length(rule_id, length)
        started = datetime(2024, 1, 1, 8, tzinfo=ZoneInfo(TZ)) + timedelta(
            days=chance.randint(0, 1000), minutes=chance.randint(0, 24 * 60 - 1)
        )
        paused_on = started.date() + timedelta(days=chance.randint(0, 20))
        pauses = ((paused_on, paused_on + timedelta(days=chance.randint(0, 9))),)
        extension = chance.randint(0, 10) if policy.rulebook.rules[rule_id].extended_by else 0
        clock = clock_of(
            rule_id,
            started,
            pauses=pauses if chance.random() < 0.5 else (),
            extension=extension,
            policy=policy,
        )
        explained = explain(clock, policy=policy)
        assert (explained.due_date, explained.due_at) == (clock.due_date, clock.due_at), rule_id
        assert explained.matches_clock
        days = explained.days
        if days is None:
            continue
        walked = sorted([*days.counted_days, *(item.day for item in days.not_counted)])
        span = (walked[-1] - walked[0]).days + 1 if walked else 0
        assert len(walked) == len(set(walked)) == span  # every day of the span once
        assert walked[0] == explained.start.start_day + timedelta(days=1)
        if unit is Unit.working_days:
            assert days.counted == length + explained.extension
            assert days.last_counted == explained.due_date
            assert all(POLICY.calendar.is_working_day(day) for day in days.counted_days)
        elif days.rolled_from is None:
            assert days.last_counted == explained.due_date
        else:
            assert days.rolled_from == days.last_counted < explained.due_date
            assert POLICY.calendar.is_working_day(explained.due_date)


def test_the_summary_tells_pause_and_extension_in_one_line() -> None:
    # the example of docs/deadlines.md
    events = [
        *accepted_complaint(),
        event(
            "CaseSuspended",
            "K-1",
            "complaint",
            {"reason": "待鉴定"},
            day=0,
            at=ACCEPTED + timedelta(days=1),
        ),
        event("CaseResumed", "K-1", "complaint", {}, at=ACCEPTED + timedelta(days=4)),
        event(
            "DeadlineExtended",
            "K-1",
            "complaint",
            {"approved_by": "王局长", "new_length": 20},
            at=ACCEPTED + timedelta(days=5),
        ),
    ]
    _, (clock,) = run(events)
    explained = explain(clock, events)
    assert explained.summary_zh == (
        "自2026-09-14起算15个工作日（跳过周末4天、中秋节假日3天、国庆节假日7天，"
        "计入调休上班日2天），中止3天，延期5个工作日，2026-10-21届满"
    )
    assert explained.due_date == clock.due_date == explained.extensions[0].new_due_date


def test_a_new_rectification_deadline_is_told_as_a_fixed_due_date_with_its_approver() -> None:
    opened = event(
        "RectificationOpened",
        "RECT-X1",
        "rectification",
        {"department": "治安大队", "responsible_person": "李四", "deadline": "2026-10-09"},
        at=ACCEPTED,
    )
    extended = event(
        "RectificationDeadlineExtended",
        "RECT-X1",
        "rectification",
        {"deadline": "2026-11-13", "approved_by": "局领导陈"},
        at=ACCEPTED + timedelta(days=3),
    )
    _, (clock,) = run([opened, extended])
    explained = explain(clock, [opened, extended])
    assert explained.fixed_due_date and explained.days is None
    assert not explained.start.counts_from_next_day
    (extension,) = explained.extensions
    assert (extension.approved_by, extension.added) == ("局领导陈", None)
    assert extension.new_due_date == explained.due_date == clock.due_date == date(2026, 11, 13)
    assert explained.summary_zh == "届满日2026-11-13由事件指定，2026-11-13届满"
