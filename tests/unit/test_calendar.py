"""The working-day calendar: official 2026 schedule, uncovered years, deployment files."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import pytest

from casestream.domain.calendar import (
    CalendarFileError,
    DayKind,
    WorkingCalendar,
    YearSchedule,
    load_calendar,
    load_calendar_file,
    package_calendar,
)

CALENDAR = package_calendar()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_spring_festival_2026_is_nine_named_holidays_with_two_adjusted_saturdays() -> None:
    for day in _days(date(2026, 2, 15), date(2026, 2, 23)):
        assert CALENDAR.day_kind(day) is DayKind.holiday
        assert CALENDAR.day_name(day) == "春节 Spring Festival"
    for saturday in (date(2026, 2, 14), date(2026, 2, 28)):
        assert CALENDAR.day_kind(saturday) is DayKind.adjusted_workday
        assert CALENDAR.is_working_day(saturday)
    assert CALENDAR.is_working_day(date(2026, 2, 24))


@pytest.mark.parametrize(
    ("first", "last", "adjusted"),
    [
        (date(2026, 1, 1), date(2026, 1, 3), [date(2026, 1, 4)]),  # 元旦, Sunday worked
        (date(2026, 5, 1), date(2026, 5, 5), [date(2026, 5, 9)]),  # 劳动节
        (date(2026, 6, 19), date(2026, 6, 21), []),  # 端午节
        (date(2026, 10, 1), date(2026, 10, 7), [date(2026, 9, 20), date(2026, 10, 10)]),  # 国庆节
    ],
)
def test_2026_holiday_blocks_and_their_adjusted_working_days(
    first: date, last: date, adjusted: list[date]
) -> None:
    assert all(not CALENDAR.is_working_day(day) for day in _days(first, last))
    assert CALENDAR.is_working_day(last + timedelta(days=1))
    assert all(CALENDAR.day_kind(day) is DayKind.adjusted_workday for day in adjusted)


def test_an_ordinary_weekend_is_not_a_holiday() -> None:
    assert CALENDAR.day_kind(date(2026, 3, 7)) is DayKind.weekend
    assert CALENDAR.day_name(date(2026, 3, 7)) is None
    assert CALENDAR.day_kind(date(2026, 3, 9)) is DayKind.workday


def test_the_package_covers_2004_to_2026_and_not_2027() -> None:
    assert CALENDAR.covered_years == tuple(range(2004, 2027))
    assert CALENDAR.covers(2026)
    assert not CALENDAR.covers(2027)
    assert not CALENDAR.covers(2003)


def test_an_uncovered_year_has_weekends_only() -> None:
    assert CALENDAR.is_working_day(date(2027, 1, 1))  # a Friday; 元旦 unknown yet
    assert CALENDAR.day_kind(date(2027, 1, 2)) is DayKind.weekend


def test_working_days_are_stepped_over_holidays_and_onto_adjusted_days() -> None:
    assert CALENDAR.working_day_before(date(2026, 2, 24), 1) == date(2026, 2, 14)
    assert CALENDAR.working_day_before(date(2026, 2, 24), 3) == date(2026, 2, 12)
    assert CALENDAR.working_day_after(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CALENDAR.working_day_after(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert CALENDAR.next_working_day(date(2026, 10, 3)) == date(2026, 10, 8)
    assert CALENDAR.next_working_day(date(2026, 10, 10)) == date(2026, 10, 10)


def test_the_calendar_cannot_be_changed_in_place() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        CALENDAR.schedules = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        CALENDAR.schedules[2027] = YearSchedule(2027)  # type: ignore[index]
    with pytest.raises(TypeError):
        CALENDAR.schedules[2026].holidays[date(2026, 3, 2)] = "x"  # type: ignore[index]


def test_a_calendar_can_be_built_from_data_alone() -> None:
    calendar = WorkingCalendar({2030: YearSchedule(2030, {date(2030, 1, 1): "元旦"})})
    assert not calendar.is_working_day(date(2030, 1, 1))
    assert calendar.covers(2030) and not calendar.covers(2026)


DEPLOYMENT_2027 = """
# hypothetical 2027 schedule, as a deployment would add it before the package does
[2027.holidays]
"元旦 New Year's Day" = ["2027-01-01/2027-01-03"]
"春节 Spring Festival" = ["2027-02-06/2027-02-12"]
[2027.workdays]
"春节 Spring Festival" = [2027-02-13, "2027-02-14"]
"""


def test_a_deployment_file_adds_a_year(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text(DEPLOYMENT_2027, encoding="utf-8")
    calendar = load_calendar(path)
    assert calendar.covers(2027)
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.day_name(date(2027, 2, 9)) == "春节 Spring Festival"
    assert calendar.day_kind(date(2027, 2, 14)) is DayKind.adjusted_workday
    assert calendar.covers(2026) and not calendar.is_working_day(date(2026, 2, 16))


def test_a_deployment_year_replaces_the_package_schedule_of_that_year(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_text('[2026.holidays]\n"元旦" = [2026-01-01]\n', encoding="utf-8")
    calendar = load_calendar(path)
    assert calendar.is_working_day(date(2026, 2, 16))
    assert not calendar.is_working_day(date(2026, 1, 1))
    assert not calendar.is_working_day(date(2026, 2, 14))  # no longer an adjusted Saturday


def test_without_a_deployment_file_the_package_calendar_is_used() -> None:
    assert load_calendar(None) == CALENDAR


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[2027.holidays]\n"元旦" = [2026-12-31]\n', "2026-12-31 is not in 2027"),
        ('[2027.workdays]\n"x" = [2027-02-10]\n', "2027-02-10 is a weekday"),
        ('[2027.holidays]\n"x" = ["2027-13-01"]\n', "holidays.x"),
        ('[2027.holidays]\n"x" = ["2027-01-05/2027-01-01"]\n', "ends before it starts"),
        ("[2027]\nholiday = {}\n", "holiday"),
        ('[holidays]\n"x" = [2027-01-01]\n', "must be years"),
        ('[2027.holidays]\n"a" = [2027-02-13]\n[2027.workdays]\n"b" = [2027-02-13]\n', "both"),
        ("[2027\n", "not valid TOML"),
    ],
)
def test_an_invalid_calendar_file_names_the_file_year_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "bad-calendar.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileError) as caught:
        load_calendar_file(path)
    message = str(caught.value)
    assert str(path) in message
    assert expected in message
    if "TOML" not in expected and "years" not in expected:
        assert "[2027]" in message
