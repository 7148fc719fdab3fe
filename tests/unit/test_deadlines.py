"""The counting procedure of docs/deadlines.md, against dates worked out by hand from the official
2026 schedule (春节 Feb 15-23 with Sat Feb 14 and Sat Feb 28 worked; 劳动节 May 1-5 with
Sat May 9 worked; 端午节 Jun 19-21; 中秋节 Sep 25-27; 国庆节 Oct 1-7 with Sun Sep 20 and
Sat Oct 10 worked; 元旦 Jan 1-3 with Sun Jan 4 worked)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casestream.domain.calendar import YearSchedule, load_calendar, package_calendar
from casestream.domain.deadlines import (
    AlertKind,
    InvalidDeadlineInput,
    SkipReason,
    _counted_period,
    add_months,
    alert_schedule,
    compute_deadline,
    escalation_instants,
    warning_instants,
)
from casestream.domain.rules import Rule, Unit, load_rulebook

RULES = load_rulebook()
CALENDAR = package_calendar()
D = date.fromisoformat


def _rule(unit: Unit, length: int, **fields: Any) -> Rule:
    return Rule.model_validate(
        {
            "id": "test.rule",
            "title": "t",
            "source": "test",
            "starts_on": "ComplaintAccepted",
            "stops_on": ["ComplaintResolved"],
            "extended_by": ["DeadlineExtended"],
            "length": length,
            "unit": unit,
            **fields,
        }
    )


def _due(rule_id: str, start: str, **kwargs: Any) -> date:
    return compute_deadline(RULES.get(rule_id), D(start), CALENDAR, **kwargs).due_date


# Each row: rule, start day, due date worked out by hand (see the comment on the right).
EVERY_RULE = [
    # 10 wd: Feb 6,9-13 (6), Sat 14 调休 (7), 15-23 春节, 24, 25, 26
    ("reconsideration.reply", "2026-02-05", "2026-02-26"),
    # 5 wd: May 1-5 劳动节; 6, 7, 8, Sat 9 调休, Mon 11
    ("reconsideration.reply_simplified", "2026-04-30", "2026-05-11"),
    # 60 d: Mar 4-31 (28), Apr (58), May 2 Sat in 劳动节 -> first working day May 6
    ("reconsideration.decision", "2026-03-03", "2026-05-06"),
    # 30 d: Sep 2-30 (29), Oct 1 国庆节 -> Oct 8
    ("reconsideration.decision_simplified", "2026-09-01", "2026-10-08"),
    # 15 d: Jun 5-19, Fri 19 端午节 -> Mon Jun 22
    ("litigation.defence", "2026-06-04", "2026-06-22"),
    # 15 d: Feb 2-16, 春节 -> Tue Feb 24
    ("litigation.appeal_judgment", "2026-02-01", "2026-02-24"),
    # 10 d: Oct 1-10; Sat Oct 10 is a 调休 working day and does not move
    ("litigation.appeal_ruling", "2026-09-30", "2026-10-10"),
    # 6 months: Oct 2 国庆节 -> Oct 8
    ("litigation.first_instance", "2026-04-02", "2026-10-08"),
    # 45 d: Jan 6-31 (26), Feb 1-19 (45), 春节 -> Feb 24
    ("litigation.first_instance_simplified", "2026-01-05", "2026-02-24"),
    # 3 months from Mar 31: June has 30 days -> Tue Jun 30
    ("litigation.second_instance", "2026-03-31", "2026-06-30"),
    # 15 d: Apr 21-30 (10), May 1-5 (15) 劳动节 -> Wed May 6
    ("petition.acceptance_notice", "2026-04-20", "2026-05-06"),
    # 60 d: Aug 4-31 (28), Sep (58), Oct 2 国庆节 -> Oct 8
    ("petition.handling", "2026-08-03", "2026-10-08"),
    # 60 d: Jul 11-31 (21), Aug (52), Sep 1-8 -> Tue Sep 8
    ("reconsideration.opinion_report", "2026-07-10", "2026-09-08"),
    # due on the notice's hearing date; counted without one: 1 d, Fri Jun 5
    ("litigation.hearing_reminder", "2026-06-04", "2026-06-05"),
    # 15 wd: Sep 15-18 (4), Sun 20 调休 (5), 21-24 (9), 25-27 中秋, 28-30 (12),
    # Oct 1-7 国庆, 8, 9, Sat 10 调休 (15)
    ("complaint.handling", "2026-09-14", "2026-10-10"),
    # 5 wd: Jun 19-21 端午; 22-26
    ("complaint.handling_enterprise", "2026-06-18", "2026-06-26"),
    # 3 wd: Jan 1-3 元旦; Sun Jan 4 调休, Mon 5, Tue 6
    ("complaint.follow_up", "2025-12-31", "2026-01-06"),
    # 15 wd: Feb 10-13 (4), Sat 14 (5), 春节, 24-27 (9), Sat 28 (10), Mar 2-6 (15)
    ("enterprise_tip.handling", "2026-02-09", "2026-03-06"),
    # 5 wd: Apr 4-6 清明; 7-10 (4), Mon 13
    ("enterprise_tip.feedback", "2026-04-03", "2026-04-13"),
    # 15 wd: May 5 劳动节; 6-8 (3), Sat 9 (4), 11-15 (9), 18-22 (14), Mon 25
    ("rectification.review", "2026-05-04", "2026-05-25"),
    # 30 d: Jan 21-31 (11), Feb 1-19 (30) 春节 -> Feb 24
    ("rectification.completion", "2026-01-20", "2026-02-24"),
    # 5 wd: Sep 25-27 中秋; 28-30 (3), 国庆; Oct 8, 9
    ("rectification.verification", "2026-09-24", "2026-10-09"),
    # 7 wd: Sep 29, 30 (2), 国庆 Oct 1-7; 8, 9, Sat 10 调休 (5), Mon 12, Tue 13
    ("enforcement_decision.publication", "2026-09-28", "2026-10-13"),
]


def test_the_table_covers_every_rule() -> None:
    assert sorted(row[0] for row in EVERY_RULE) == sorted(RULES.ids)


@pytest.mark.parametrize(("rule_id", "start", "due"), EVERY_RULE)
def test_every_rule_counts_to_its_hand_worked_due_date(rule_id: str, start: str, due: str) -> None:
    deadline = compute_deadline(RULES.get(rule_id), D(start), CALENDAR)
    assert deadline.due_date == D(due)
    assert deadline.due_at.isoformat() == f"{due}T23:59:59+08:00"
    assert not deadline.provisional
    assert CALENDAR.is_working_day(deadline.due_date)


def test_the_reply_clock_across_spring_festival_counts_the_adjusted_saturday() -> None:
    deadline = compute_deadline(RULES.get("reconsideration.reply"), D("2026-02-05"), CALENDAR)
    assert deadline.counted_days == tuple(
        D(day)
        for day in [
            "2026-02-06",
            "2026-02-09",
            "2026-02-10",
            "2026-02-11",
            "2026-02-12",
            "2026-02-13",
            "2026-02-14",
            "2026-02-24",
            "2026-02-25",
            "2026-02-26",
        ]
    )
    reasons = {item.day: (item.reason, item.holiday) for item in deadline.skipped}
    assert reasons[D("2026-02-07")] == (SkipReason.weekend, None)
    assert reasons[D("2026-02-16")] == (SkipReason.holiday, "春节 Spring Festival")
    assert len(deadline.skipped) == 2 + 9


def test_a_calendar_day_period_ending_on_a_holiday_moves_to_the_next_working_day() -> None:
    deadline = compute_deadline(RULES.get("litigation.defence"), D("2026-06-04"), CALENDAR)
    assert deadline.rolled_from == D("2026-06-19")
    assert deadline.counted_days[-1] == D("2026-06-19")
    assert [item.day for item in deadline.skipped] == [D("2026-06-20"), D("2026-06-21")]
    assert deadline.due_date == D("2026-06-22")


def test_a_calendar_day_period_ending_on_an_ordinary_sunday_moves_to_monday() -> None:
    # 15 d from Sat Mar 7: Sun Mar 22 -> Mon Mar 23
    assert _due("litigation.defence", "2026-03-07") == D("2026-03-23")


def test_a_calendar_day_period_ending_on_an_adjusted_working_day_does_not_move() -> None:
    deadline = compute_deadline(RULES.get("litigation.appeal_ruling"), D("2026-09-30"), CALENDAR)
    assert (deadline.due_date, deadline.rolled_from) == (D("2026-10-10"), None)


def test_a_month_rule_from_january_31_clamps_to_february_28() -> None:
    one_month = _rule(Unit.months, 1)
    deadline = compute_deadline(one_month, D("2026-01-31"), CALENDAR)
    # Feb 28 2026 is a Saturday worked in lieu of 春节: it stays
    assert (deadline.month_date, deadline.due_date) == (D("2026-02-28"), D("2026-02-28"))
    # Feb 28 2027 is a Sunday (weekends only in 2027) -> Mon Mar 1
    assert compute_deadline(one_month, D("2027-01-31"), CALENDAR).due_date == D("2027-03-01")
    assert add_months(D("2024-01-31"), 1) == D("2024-02-29")
    assert add_months(D("2026-11-30"), 3) == D("2027-02-28")


def test_three_months_from_november_30_end_on_the_adjusted_february_28() -> None:
    assert _due("litigation.second_instance", "2025-11-30") == D("2026-02-28")


def test_a_pause_does_not_count_the_days_after_suspension_up_to_resumption() -> None:
    rule = RULES.get("reconsideration.decision")
    deadline = compute_deadline(
        rule, D("2026-03-03"), CALENDAR, pauses=[(D("2026-03-10"), D("2026-03-20"))]
    )
    paused = [item.day for item in deadline.skipped if item.reason is SkipReason.paused]
    assert paused == [D("2026-03-11") + timedelta(days=n) for n in range(10)]
    assert D("2026-03-10") in deadline.counted_days  # the suspension day counts
    assert D("2026-03-20") not in deadline.counted_days  # the resumption day does not
    # 60 d end May 2; ten paused days -> Tue May 12
    assert deadline.due_date == D("2026-05-12")


def test_a_pause_in_a_working_day_period() -> None:
    # 15 wd from Mon Sep 14, Sep 16-17 paused: 15, 18, Sun 20 调休, 21-24, 28-30,
    # Oct 8, 9, Sat 10 调休 (13), Mon 12, Tue 13
    assert _due(
        "complaint.handling", "2026-09-14", pauses=[(D("2026-09-15"), D("2026-09-17"))]
    ) == D("2026-10-13")


def test_paused_days_are_added_to_a_month_rule_before_the_roll() -> None:
    # Mar 31 + 3 months = Jun 30; + 5 paused days = Sun Jul 5 -> Mon Jul 6
    pauses = [(D("2026-04-10"), D("2026-04-15"))]
    assert _due("litigation.second_instance", "2026-03-31", pauses=pauses) == D("2026-07-06")


def test_a_pause_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidDeadlineInput, match="ends before it starts"):
        _due("complaint.handling", "2026-09-14", pauses=[(D("2026-09-17"), D("2026-09-15"))])


def test_an_extension_adds_to_the_length() -> None:
    # 90 d from Mar 3: Jun 1 (Mon)
    assert _due("reconsideration.decision", "2026-03-03", extension=30) == D("2026-06-01")
    # 90 d from Aug 3: Sun Nov 1 -> Mon Nov 2
    assert _due("petition.handling", "2026-08-03", extension=30) == D("2026-11-02")
    # 15 + 2 wd from Sep 14: Sat Oct 10 (15), Mon 12, Tue 13
    assert _due("complaint.handling", "2026-09-14", extension=2) == D("2026-10-13")


def test_an_extension_beyond_the_statutory_maximum_or_without_a_basis_is_refused() -> None:
    with pytest.raises(InvalidDeadlineInput, match="at most 30"):
        _due("reconsideration.decision", "2026-03-03", extension=31)
    with pytest.raises(InvalidDeadlineInput, match="cannot be extended"):
        _due("reconsideration.reply", "2026-02-05", extension=1)
    with pytest.raises(InvalidDeadlineInput, match="negative"):
        _due("complaint.handling", "2026-02-05", extension=-1)


def test_a_count_into_an_uncovered_year_is_provisional() -> None:
    # 15 wd from Mon Dec 21 2026: Dec 22-25, 28-31 (8), Fri Jan 1 2027 counts (weekends only),
    # Jan 4-8 (14), Mon Jan 11
    deadline = compute_deadline(RULES.get("complaint.handling"), D("2026-12-21"), CALENDAR)
    assert (deadline.due_date, deadline.provisional) == (D("2027-01-11"), True)
    assert (
        compute_deadline(RULES.get("complaint.handling"), D("2026-11-02"), CALENDAR).provisional
        is False
    )


def test_a_deployment_calendar_for_2027_makes_the_count_final_and_changes_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text('[2027.holidays]\n"元旦 New Year\'s Day" = ["2027-01-01/2027-01-03"]\n')
    deadline = compute_deadline(
        RULES.get("complaint.handling"), D("2026-12-21"), load_calendar(path)
    )
    assert (deadline.due_date, deadline.provisional) == (D("2027-01-12"), False)


def test_a_month_rule_into_an_uncovered_year_is_provisional() -> None:
    deadline = compute_deadline(RULES.get("litigation.first_instance"), D("2026-08-10"), CALENDAR)
    assert (deadline.due_date, deadline.provisional) == (D("2027-02-10"), True)


def test_the_start_day_is_taken_in_the_deployment_time_zone() -> None:
    rule = RULES.get("reconsideration.reply")
    start = datetime(2026, 2, 4, 17, 0, tzinfo=UTC)  # 01:00 on Feb 5 in Shanghai
    assert compute_deadline(rule, start, CALENDAR).due_date == D("2026-02-26")
    berlin = compute_deadline(rule, start, CALENDAR, tz="Europe/Berlin")
    assert berlin.start == D("2026-02-04")
    assert berlin.due_at.isoformat() == "2026-02-25T23:59:59+01:00"


def test_an_hour_rule_counts_elapsed_time_through_the_night_and_holidays() -> None:
    rule = _rule(Unit.hours, 24)
    deadline = compute_deadline(rule, datetime(2026, 2, 15, 10, 30), CALENDAR)
    assert deadline.due_at.isoformat() == "2026-02-16T10:30:00+08:00"
    assert (deadline.counted_days, deadline.provisional) == ((), False)
    minutes = compute_deadline(_rule(Unit.minutes, 90), datetime(2026, 2, 15, 23, 0), CALENDAR)
    assert minutes.due_at.isoformat() == "2026-02-16T00:30:00+08:00"


def test_a_working_hours_rule_counts_only_office_hours_of_working_days() -> None:
    rule = _rule(Unit.hours, 2, working_hours=True)
    # Fri Feb 13 16:00: one hour that day, then Sat Feb 14 (调休) from 09:00
    friday = compute_deadline(rule, datetime(2026, 2, 13, 16, 0), CALENDAR)
    assert friday.due_at.isoformat() == "2026-02-14T10:00:00+08:00"
    # Sat Feb 14 16:30: half an hour, then 春节 until Tue Feb 24 09:00
    saturday = compute_deadline(rule, datetime(2026, 2, 14, 16, 30), CALENDAR)
    assert saturday.due_at.isoformat() == "2026-02-24T10:30:00+08:00"
    # before opening time the clock starts at 09:00; ending exactly at closing stays that day
    early = compute_deadline(
        _rule(Unit.hours, 8, working_hours=True), datetime(2026, 3, 2, 7), CALENDAR
    )
    assert early.due_at.isoformat() == "2026-03-02T17:00:00+08:00"


def test_a_due_date_fixed_on_the_event_is_taken_as_given() -> None:
    rule = RULES.get("rectification.completion")
    deadline = compute_deadline(rule, D("2026-01-20"), CALENDAR, fixed_due_date=D("2026-03-15"))
    assert (deadline.due_date, deadline.fixed, deadline.counted_days) == (D("2026-03-15"), True, ())


def test_warnings_breach_and_escalation_instants_of_the_reply_deadline() -> None:
    rule = RULES.get("reconsideration.reply")
    deadline = compute_deadline(rule, D("2026-02-05"), CALENDAR)  # due Thu Feb 26
    warnings = warning_instants(rule, deadline, CALENDAR)
    # 3 wd before: Feb 25, 24, Sat 14 (调休); 1 wd before: Feb 25
    assert [(w.offset, w.at.isoformat()) for w in warnings] == [
        (3, "2026-02-14T00:00:00+08:00"),
        (1, "2026-02-25T00:00:00+08:00"),
    ]
    ladder = escalation_instants(rule, deadline, CALENDAR)
    # level 3: three working days after Feb 26 are Feb 27, Sat 28 (调休), Mar 2 -> end of Mar 2
    assert [(e.level, e.notify, e.at.isoformat()) for e in ladder] == [
        (1, "handler", "2026-02-14T00:00:00+08:00"),
        (2, "department_head", "2026-02-27T00:00:00+08:00"),
        (3, "bureau_leadership", "2026-03-03T00:00:00+08:00"),
    ]
    schedule = alert_schedule(rule, deadline, CALENDAR)
    assert [a.at for a in schedule] == sorted(a.at for a in schedule)
    breach = [a for a in schedule if a.kind is AlertKind.breach]
    assert [b.at for b in breach] == [deadline.due_at + timedelta(seconds=1)]


def test_the_court_period_is_shown_with_warnings_but_never_escalated() -> None:
    rule = RULES.get("litigation.first_instance")
    deadline = compute_deadline(rule, D("2026-04-02"), CALENDAR)
    assert escalation_instants(rule, deadline, CALENDAR) == ()
    kinds = [a.kind for a in alert_schedule(rule, deadline, CALENDAR)]
    assert kinds == [AlertKind.warning, AlertKind.warning, AlertKind.breach]


def test_hour_rule_warnings_are_in_hours() -> None:
    rule = _rule(Unit.hours, 24, warnings=[2])
    deadline = compute_deadline(rule, datetime(2026, 3, 2, 10), CALENDAR)
    assert [w.at.isoformat() for w in warning_instants(rule, deadline, CALENDAR)] == [
        "2026-03-03T08:00:00+08:00"
    ]


# --- properties ------------------------------------------------------------------------

# the package's years and an uncovered one (2027)
starts = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 6, 30))
pause_lists = st.lists(
    st.tuples(st.integers(-10, 120), st.integers(0, 30)).map(
        lambda pair: (pair[0], pair[0] + pair[1])
    ),
    max_size=3,
)
working_day_rules = st.builds(_rule, st.just(Unit.working_days), st.integers(1, 60))
rolled_rules = st.one_of(
    st.builds(_rule, st.just(Unit.calendar_days), st.integers(1, 120)),
    st.builds(_rule, st.just(Unit.months), st.integers(1, 12)),
)
day_rules = st.one_of(working_day_rules, rolled_rules)


def _pauses(start: date, offsets: list[tuple[int, int]]) -> list[tuple[date, date]]:
    return [(start + timedelta(days=p), start + timedelta(days=r)) for p, r in offsets]


@settings(max_examples=300, deadline=None)
@given(rule=working_day_rules, start=starts, offsets=pause_lists)
def test_a_working_day_rule_never_ends_on_a_non_working_day(
    rule: Rule, start: date, offsets: list[tuple[int, int]]
) -> None:
    deadline = compute_deadline(rule, start, CALENDAR, pauses=_pauses(start, offsets))
    assert CALENDAR.is_working_day(deadline.due_date)
    assert all(CALENDAR.is_working_day(day) for day in deadline.counted_days)
    assert len(deadline.counted_days) == rule.length


@settings(max_examples=300, deadline=None)
@given(rule=rolled_rules, start=starts, offsets=pause_lists)
def test_calendar_day_and_month_rules_never_end_on_a_non_working_day(
    rule: Rule, start: date, offsets: list[tuple[int, int]]
) -> None:
    deadline = compute_deadline(rule, start, CALENDAR, pauses=_pauses(start, offsets))
    assert CALENDAR.is_working_day(deadline.due_date)
    assert deadline.due_date > start


@settings(max_examples=300, deadline=None)
@given(
    rule=day_rules,
    start=starts,
    offsets=pause_lists,
    extra=st.tuples(st.integers(-10, 120), st.integers(0, 30)),
)
def test_adding_a_pause_never_makes_a_due_date_earlier(
    rule: Rule, start: date, offsets: list[tuple[int, int]], extra: tuple[int, int]
) -> None:
    before = compute_deadline(rule, start, CALENDAR, pauses=_pauses(start, offsets))
    extra_pause = (extra[0], extra[0] + extra[1])
    after = compute_deadline(rule, start, CALENDAR, pauses=_pauses(start, [*offsets, extra_pause]))
    assert after.due_date >= before.due_date


@settings(max_examples=300, deadline=None)
@given(rule=day_rules, start=starts, offsets=pause_lists, extension=st.integers(0, 60))
def test_an_extension_never_moves_the_due_date_earlier(
    rule: Rule, start: date, offsets: list[tuple[int, int]], extension: int
) -> None:
    pauses = _pauses(start, offsets)
    plain = compute_deadline(rule, start, CALENDAR, pauses=pauses)
    extended = compute_deadline(rule, start, CALENDAR, pauses=pauses, extension=extension)
    assert extended.due_date >= plain.due_date


@settings(max_examples=200, deadline=None)
@given(rule=day_rules, start=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)))
def test_a_deployment_year_replacing_the_package_one_changes_nothing_when_identical(
    rule: Rule, start: date
) -> None:
    same = CALENDAR.with_schedules(
        [YearSchedule(2026, CALENDAR.schedules[2026].holidays, CALENDAR.schedules[2026].workdays)]
    )
    assert compute_deadline(rule, start, same) == compute_deadline(rule, start, CALENDAR)


def test_remembered_periods_are_the_periods_counted_afresh() -> None:
    """Periods in days are remembered by (unit, length, extension, start day, calendar,
    paused days): counting every rule of the book from a year of start days, with and without
    an extension and a pause, gives the same deadlines whatever was counted before."""
    day_rules = [
        rule
        for rule in RULES.rules.values()
        if rule.unit in (Unit.working_days, Unit.calendar_days, Unit.months)
    ]
    starts = [datetime(2026, 1, 1, 9, 30, tzinfo=UTC) + timedelta(days=n) for n in range(0, 365, 3)]
    cases = [
        (rule, start, extension, pauses)
        for rule in day_rules
        for start in starts
        for extension in ((0, 5) if rule.extended_by and rule.max_extension != 0 else (0,))
        for pauses in ((), ((start.date() + timedelta(days=2), start.date() + timedelta(days=6)),))
    ]

    def count(order: list[Any]) -> dict[Any, Any]:
        return {
            (rule.id, start, extension, pauses): compute_deadline(
                rule, start, CALENDAR, pauses=pauses, extension=extension
            )
            for rule, start, extension, pauses in order
        }

    _counted_period.cache_clear()
    forwards = count(cases)
    _counted_period.cache_clear()
    backwards = count(list(reversed(cases)))
    again = count(cases)  # every period from the cache
    assert forwards == backwards == again
    assert _counted_period.cache_info().hits >= len(cases)
