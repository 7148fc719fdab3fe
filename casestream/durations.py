"""Durations people type: `30m`, `12h`, `3d`, `1w` (a token's lifetime, a window of clocks due)."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d{1,6})\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_DURATION = timedelta(days=3660)


class BadDuration(ValueError):
    """Not a positive count of minutes, hours, days or weeks."""


def parse_duration(text: str) -> timedelta:
    """`30m`, `12h`, `3d`, `1w` as a timedelta; BadDuration naming the accepted forms."""
    found = _DURATION.match(text)
    if found is None or int(found.group(1)) == 0:
        raise BadDuration(
            f"{text!r} is not a duration; give a positive number and a unit: 30m, 12h, 3d or 1w"
        )
    duration = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    if duration > MAX_DURATION:
        raise BadDuration("give at most 3660d (ten years)")
    return duration
