"""Intake refuses instants and dates the read models could not hold or a bureau never meant."""

from __future__ import annotations

from datetime import UTC, datetime

import pydantic
import pytest

from casestream.domain.envelope import field_errors
from casestream.domain.plausibility import DateWindow, implausible_dates
from casestream.producers.intake import validate_record
from tests.events import event, raw

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "occurred_at",
    ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-12:00", "1989-12-31T23:59:59+08:00"],
)
def test_an_instant_at_the_edge_of_the_calendar_is_refused_naming_occurred_at(
    occurred_at: str,
) -> None:
    record = raw("ComplaintReceived", "P-1", "complaint", {"channel": "letter", "subject": "s"})
    record["occurred_at"] = occurred_at
    with pytest.raises(pydantic.ValidationError) as refused:
        validate_record(record, now=NOW, timezone="Asia/Shanghai")
    assert [field for field, _ in field_errors(refused.value)] == ["occurred_at"]


@pytest.mark.parametrize("deadline", ["9999-12-31", "0001-01-01", "2037-01-01"])
def test_a_deadline_beyond_ten_years_or_before_1990_is_refused_naming_it(deadline: str) -> None:
    opened = event(
        "RectificationOpened",
        "RECT-1",
        "rectification",
        {"department": "治安大队", "responsible_person": "李四", "deadline": deadline},
        at=NOW,
    )
    assert [field for field, _ in implausible_dates(opened, NOW, DateWindow())] == [
        "payload.deadline"
    ]


def test_plausible_instants_and_dates_pass_and_the_window_is_configurable() -> None:
    opened = event(
        "RectificationOpened",
        "RECT-1",
        "rectification",
        {"department": "治安大队", "responsible_person": "李四", "deadline": "2027-03-01"},
        at=NOW,
    )
    assert implausible_dates(opened, NOW, DateWindow()) == []
    tight = DateWindow(future_days=30, date_years=0)
    assert [field for field, _ in implausible_dates(opened, NOW, tight)] == ["payload.deadline"]


def test_a_hearing_date_nested_in_the_payload_is_checked() -> None:
    hearing = event("HearingHeld", "L-1", "litigation", {"hearing_date": "9999-12-25"}, at=NOW)
    assert [field for field, _ in implausible_dates(hearing, NOW, DateWindow())] == [
        "payload.hearing_date"
    ]
