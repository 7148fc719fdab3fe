"""Plausible dates at intake: an instant or a date far outside the bureau's working life is a
typing error or an attack, and is refused where it enters (API, files), naming the field.

The window is relative to `now` and so is checked at intake only: events already on the
topics are facts and are never re-judged by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from .envelope import Event


@dataclass(frozen=True)
class DateWindow:
    """What intake accepts: instants from `earliest` to `future_days` after now; dates in a
    payload (deadlines, hearings) from `earliest` to `date_years` after now."""

    earliest: date = date(1990, 1, 1)
    future_days: int = 730
    date_years: int = 10

    def latest_instant(self, now: datetime) -> date:
        return date.fromordinal(
            min(now.date().toordinal() + self.future_days, date.max.toordinal())
        )

    def latest_date(self, now: datetime) -> date:
        return date.fromordinal(
            min(now.date().toordinal() + 366 * self.date_years, date.max.toordinal())
        )


def implausible_dates(
    event: Event[Any], now: datetime, window: DateWindow
) -> list[tuple[str, str]]:
    """(dotted field, why) for every instant or date of `event` outside `window`.

    Compared on each value's own calendar date, so extreme offsets cannot overflow the check.
    """
    problems: list[tuple[str, str]] = []
    latest_instant = window.latest_instant(now)
    for name in ("occurred_at", "recorded_at"):
        value: datetime = getattr(event, name)
        if not window.earliest <= value.date() <= latest_instant:
            problems.append((name, f"must lie between {window.earliest} and {latest_instant}"))
    _walk(event.payload, "payload", window, latest_instant, window.latest_date(now), problems)
    return problems


def _walk(
    value: Any,
    path: str,
    window: DateWindow,
    latest_instant: date,
    latest_date: date,
    problems: list[tuple[str, str]],
) -> None:
    if isinstance(value, datetime):
        if not window.earliest <= value.date() <= latest_instant:
            problems.append((path, f"must lie between {window.earliest} and {latest_instant}"))
    elif isinstance(value, date):
        if not window.earliest <= value <= latest_date:
            problems.append((path, f"must lie between {window.earliest} and {latest_date}"))
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _walk(
                getattr(value, name),
                f"{path}.{name}",
                window,
                latest_instant,
                latest_date,
                problems,
            )
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _walk(item, f"{path}.{index}", window, latest_instant, latest_date, problems)
