"""Instants are stored as UTC wall time, whatever zone they were given in."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from casestream.read_models.schema import UTCDateTime, utc_wall

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_same_instant_in_two_zones_is_stored_alike_in_either_order() -> None:
    local = datetime(2026, 3, 2, 8, 30, tzinfo=SHANGHAI)
    utc = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
    assert utc_wall(local) == datetime(2026, 3, 2, 0, 30)
    assert utc_wall(utc) == datetime(2026, 3, 2, 0, 30)
    other = datetime(2026, 3, 3, 0, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert utc_wall(other) == datetime(2026, 3, 3, 5, 0)  # remembered per instant, not per text
    assert utc_wall(datetime(2026, 3, 3, 5, 0, tzinfo=UTC)) == datetime(2026, 3, 3, 5, 0)


def test_a_naive_instant_is_refused_every_time() -> None:
    column = UTCDateTime()
    for _ in range(2):  # a refusal is not remembered as a value
        with pytest.raises(ValueError, match="naive"):
            column.process_bind_param(datetime(2026, 3, 2, 8, 30), None)  # type: ignore[arg-type]


def test_an_instant_reads_back_as_the_instant_stored() -> None:
    column = UTCDateTime()
    given = datetime(2026, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)
    stored = column.process_bind_param(given, None)  # type: ignore[arg-type]
    assert column.process_result_value(stored, None) == given  # type: ignore[arg-type]
    assert column.process_result_value(stored.isoformat() if stored else None, None) == given  # type: ignore[arg-type]
