"""The working-day calendar (工作日历): which days are official holidays (法定节假日) and which
weekend days are adjusted working days (调休), year by year.

The official schedule comes from the `chinese-calendar` package; a deployment file may add a
year the package does not cover yet, or correct one. A year defined in neither is uncovered:
only weekends are non-working days there, and deadlines touching it are provisional.

Deployment calendar file (TOML; `CASESTREAM_CALENDAR_FILE`). Each top-level table is one
year and replaces that year's schedule completely (a correction repeats the whole year)::

    # 国务院办公厅关于2027年部分节假日安排的通知
    [2027.holidays]               # name = dates; a date or an inclusive range "first/last"
    "元旦 New Year's Day" = ["2027-01-01/2027-01-03"]
    [2027.workdays]               # adjusted weekend working days 调休
    "春节 Spring Festival" = [2027-02-07]

Only `load_calendar_file` and `load_calendar` read files; everything else is pure.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

_CHINESE_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


class DayKind(StrEnum):
    """What a day is for counting."""

    workday = "workday"  # an ordinary weekday
    adjusted_workday = "adjusted_workday"  # 调休: a weekend day worked in lieu of a holiday
    weekend = "weekend"
    holiday = "holiday"  # 法定节假日, including the weekend days inside a holiday block


def _frozen(mapping: Mapping[date, str]) -> Mapping[date, str]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class YearSchedule:
    """One year's official schedule: holidays and adjusted working days, each with its name."""

    year: int
    holidays: Mapping[date, str] = field(default_factory=dict, hash=False)
    workdays: Mapping[date, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", _frozen(self.holidays))
        object.__setattr__(self, "workdays", _frozen(self.workdays))


@dataclass(frozen=True)
class WorkingCalendar:
    """Official schedules by year; immutable. Build with `package_calendar()` and
    `with_schedules(...)`, or directly from `YearSchedule`s."""

    schedules: Mapping[int, YearSchedule] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "schedules", MappingProxyType(dict(self.schedules)))

    def with_schedules(self, schedules: Iterable[YearSchedule]) -> WorkingCalendar:
        """A calendar where each given year replaces this calendar's schedule of that year."""
        merged = dict(self.schedules)
        merged.update({schedule.year: schedule for schedule in schedules})
        return WorkingCalendar(merged)

    @property
    def covered_years(self) -> tuple[int, ...]:
        return tuple(sorted(self.schedules))

    def covers(self, year: int) -> bool:
        """Whether the official schedule of `year` is known."""
        return year in self.schedules

    def day_kind(self, day: date) -> DayKind:
        schedule = self.schedules.get(day.year)
        if schedule is not None:
            if day in schedule.workdays:
                return DayKind.adjusted_workday
            if day in schedule.holidays:
                return DayKind.holiday
        return DayKind.weekend if day.weekday() >= 5 else DayKind.workday

    def is_working_day(self, day: date) -> bool:
        return self.day_kind(day) in (DayKind.workday, DayKind.adjusted_workday)

    def day_name(self, day: date) -> str | None:
        """The holiday a holiday or adjusted working day belongs to, e.g. "春节 Spring Festival"."""
        schedule = self.schedules.get(day.year)
        if schedule is None:
            return None
        return schedule.workdays.get(day) or schedule.holidays.get(day)

    def next_working_day(self, day: date) -> date:
        """`day` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def working_day_before(self, day: date, count: int) -> date:
        """The `count`-th working day before `day` (`day` itself when count is 0)."""
        return self._step_working_days(day, count, -1)

    def working_day_after(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (`day` itself when count is 0)."""
        return self._step_working_days(day, count, 1)

    def _step_working_days(self, day: date, count: int, direction: int) -> date:
        if count < 0:
            raise ValueError(f"a count of working days cannot be negative, got {count}")
        found = 0
        while found < count:
            day += timedelta(days=direction)
            if self.is_working_day(day):
                found += 1
        return day


def _with_chinese_name(name: str) -> str:
    chinese = _CHINESE_HOLIDAY_NAMES.get(name)
    return f"{chinese} {name}" if chinese else name


def package_calendar() -> WorkingCalendar:
    """The official schedules the `chinese-calendar` package knows.

    The package covers every year from its first to its last holiday key (its own
    `is_workday` raises NotImplementedError outside that range); we read its tables
    directly so that the covered range is explicit.
    """
    from chinese_calendar import constants  # type: ignore[import-untyped]

    holidays: Mapping[date, Any] = constants.holidays
    workdays: Mapping[date, Any] = constants.workdays
    first, last = min(holidays).year, max(holidays).year
    by_year: dict[int, tuple[dict[date, str], dict[date, str]]] = {
        year: ({}, {}) for year in range(first, last + 1)
    }
    for day, name in holidays.items():
        by_year[day.year][0][day] = _with_chinese_name(str(name))
    for day, name in workdays.items():
        if day.year in by_year:
            by_year[day.year][1][day] = _with_chinese_name(str(name))
    return WorkingCalendar(
        {year: YearSchedule(year, hols, works) for year, (hols, works) in by_year.items()}
    )


# --- deployment calendar files ---------------------------------------------------------


class CalendarFileError(ValueError):
    """A deployment calendar file that cannot be used; the message names file, year, field."""


def _dates_or_ranges(value: Any) -> Any:
    if isinstance(value, date | str):
        return [value]
    return value


DateList = Annotated[list[date | str], BeforeValidator(_dates_or_ranges)]


class _YearEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    holidays: dict[Annotated[str, Field(min_length=1)], DateList] = Field(default_factory=dict)
    workdays: dict[Annotated[str, Field(min_length=1)], DateList] = Field(default_factory=dict)


def _expand(item: date | str) -> list[date]:
    if isinstance(item, date):
        return [item]
    first_text, sep, last_text = item.partition("/")
    first = date.fromisoformat(first_text.strip())
    last = date.fromisoformat(last_text.strip()) if sep else first
    if last < first:
        raise ValueError(f"range {item!r} ends before it starts")
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def _named_days(year: int, where: str, named: Mapping[str, list[date | str]]) -> dict[date, str]:
    days: dict[date, str] = {}
    for name, items in named.items():
        for item in items:
            try:
                expanded = _expand(item)
            except ValueError as exc:
                raise ValueError(
                    f"{where}.{name}: {item!r} is not YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD ({exc})"
                ) from exc
            for day in expanded:
                if day.year != year:
                    raise ValueError(f"{where}.{name}: {day} is not in {year}")
                days[day] = name
    return days


def parse_calendar_document(document: Mapping[str, Any], source: str) -> tuple[YearSchedule, ...]:
    """The year schedules of a parsed calendar file; `source` names the file in errors."""
    schedules: list[YearSchedule] = []
    for key, raw in document.items():
        if not key.isdigit() or not 1900 <= int(key) <= 2200:
            raise CalendarFileError(
                f"{source}: [{key}]: top-level tables must be years such as [2027]"
            )
        year = int(key)
        try:
            entry = _YearEntry.model_validate(raw)
            holidays = _named_days(year, "holidays", entry.holidays)
            workdays = _named_days(year, "workdays", entry.workdays)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in detail['loc']) or 'year'}: {detail['msg']}"
                for detail in exc.errors()
            )
            raise CalendarFileError(f"{source}: [{year}]: {problems}") from exc
        except ValueError as exc:
            raise CalendarFileError(f"{source}: [{year}]: {exc}") from exc
        both = sorted(holidays.keys() & workdays.keys())
        if both:
            raise CalendarFileError(
                f"{source}: [{year}]: {both[0]} is both a holiday and an adjusted working day"
            )
        weekdays = [day for day in sorted(workdays) if day.weekday() < 5]
        if weekdays:
            raise CalendarFileError(
                f"{source}: [{year}]: workdays: {weekdays[0]} is a weekday; only a weekend day "
                "can be an adjusted working day (调休)"
            )
        schedules.append(YearSchedule(year, holidays, workdays))
    return tuple(schedules)


def load_calendar_file(path: Path) -> tuple[YearSchedule, ...]:
    """Read a deployment calendar file (the only I/O of this module, with `load_calendar`)."""
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except OSError as exc:
        raise CalendarFileError(f"{path}: cannot read the calendar file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CalendarFileError(f"{path}: not valid TOML: {exc}") from exc
    return parse_calendar_document(document, str(path))


def load_calendar(deployment_file: Path | None = None) -> WorkingCalendar:
    """The package's calendar, with the deployment file's years (if any) replacing its own."""
    calendar = package_calendar()
    if deployment_file is None:
        return calendar
    return calendar.with_schedules(load_calendar_file(deployment_file))
