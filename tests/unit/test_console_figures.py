"""What the 统计 page reads from its query (the period, checked as GET /stats checks it, the
field at fault named in Chinese), the six rates it shows of the figures, the months it counts
cases received in, and the Grafana dashboards it links to by uid."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from casestream.api.console_figures import FieldError, Period, rates_of, read_period
from casestream.api.console_stats import DASHBOARDS, dashboard_url
from casestream.read_models.stats import (
    HandlingFigures,
    LitigationFigures,
    ReconsiderationFigures,
    RectificationFigures,
    RuleOfLawFigures,
    SatisfactionFigures,
    SupervisionFigures,
)
from casestream.read_models.stats_breakdown import MAX_MONTHS, Grain, buckets_of
from casestream.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 4, 15)


def test_the_period_defaults_to_this_year_up_to_today() -> None:
    assert read_period({}, TODAY) == Period(date(2026, 1, 1), TODAY, None)
    blank = {"from": " ", "to": "", "department": "  "}
    assert read_period(blank, TODAY) == Period(date(2026, 1, 1), TODAY, None)


def test_the_period_reads_local_days_and_a_department() -> None:
    query = {"from": "2026-03-01", "to": "2026-03-31", "department": " 治安大队 "}
    assert read_period(query, TODAY) == Period(date(2026, 3, 1), date(2026, 3, 31), "治安大队")


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"from": "2026-02-30"}, ["from"]),
        ({"from": "20260301"}, ["from"]),
        ({"to": "2026-W10-1"}, ["to"]),
        ({"from": "x", "to": "y"}, ["from", "to"]),
        ({"from": "1899-12-31"}, ["from"]),
        ({"to": "3000-01-01"}, ["to"]),
        ({"from": "2026-04-16"}, ["to"]),  # after today, the default end
        ({"department": "部" * 201}, ["department"]),
    ],
)
def test_a_bad_period_names_each_field_at_fault_in_chinese(
    query: dict[str, str], fields: list[str]
) -> None:
    errors = read_period(query, TODAY)
    assert isinstance(errors, list)
    assert [error.field for error in errors] == fields
    for error in errors:
        assert isinstance(error, FieldError) and f"（{error.field}）" in error.message


def figures(**lawsuits: int) -> RuleOfLawFigures:
    handling = HandlingFigures(received=5, closed=4, closed_on_time=3, overdue=2, on_time_rate=0.6)
    return RuleOfLawFigures(
        complaints=handling,
        enterprise_complaints=handling,
        enterprise_tips=handling,
        satisfaction=SatisfactionFigures(
            visited=2, average_score=4.0, satisfied=1, satisfied_rate=0.5
        ),
        supervision=SupervisionFigures(flagged=0, open=0),
        reconsiderations=ReconsiderationFigures(
            received=3, decided=2, corrections=1, correction_rate=0.5
        ),
        lawsuits=LitigationFigures(
            filed=0,
            judged=0,
            losses=0,
            loss_rate=None,
            heard=0,
            agency_head_appeared=0,
            hearings=0,
            hearings_head_appeared=0,
            agency_head_appearance_rate=None,
        ),
        rectifications=RectificationFigures(
            opened=2, completed=1, completed_on_time=1, overdue=1, cancelled=0, on_time_rate=0.5
        ),
    )


def test_the_six_rates_with_their_numerators_and_denominators() -> None:
    rates = {rate.label: rate for rate in rates_of(figures())}
    assert list(rates) == [
        "按期办结率",
        "纠错率",
        "败诉率",
        "出庭应诉率",
        "整改按期率",
        "回访满意率",
    ]
    shown = {name: (r.numerator, r.denominator, r.percent) for name, r in rates.items()}
    assert shown == {
        "按期办结率": (3, 5, "60.0%"),
        "纠错率": (1, 2, "50.0%"),
        "败诉率": (0, 0, "—"),  # no judgment yet: nothing to divide, not 0 %
        "出庭应诉率": (0, 0, "—"),
        "整改按期率": (1, 2, "50.0%"),
        "回访满意率": (1, 2, "50.0%"),
    }


def test_a_period_is_counted_by_month_from_its_first_day() -> None:
    buckets = buckets_of(date(2026, 3, 15), date(2026, 5, 2))
    assert buckets.grain is Grain.month
    assert buckets.starts == (date(2026, 3, 15), date(2026, 4, 1), date(2026, 5, 1))
    across = buckets_of(date(2025, 12, 1), date(2026, 1, 31))
    assert across.starts == (date(2025, 12, 1), date(2026, 1, 1))
    assert buckets_of(date(2026, 3, 1), date(2026, 3, 1)).starts == (date(2026, 3, 1),)


def test_a_long_period_is_counted_by_year_and_an_empty_one_not_at_all() -> None:
    first = date(2020, 6, 1)
    last = date(first.year + MAX_MONTHS // 12, 6, 1)
    buckets = buckets_of(first, last)
    assert buckets.grain is Grain.year
    assert buckets.starts == (first, *(date(year, 1, 1) for year in range(2021, last.year + 1)))
    assert buckets_of(date(2026, 3, 2), date(2026, 3, 1)).starts == ()


def test_every_linked_dashboard_is_one_grafana_is_provisioned_with() -> None:
    provisioned = {
        json.loads(path.read_text(encoding="utf-8"))["uid"]
        for path in (ROOT / "infra" / "grafana" / "dashboards").glob("*.json")
    }
    assert {dashboard.uid for dashboard in DASHBOARDS} == provisioned
    assert (
        dashboard_url("http://localhost:3000/", DASHBOARDS[0])
        == "http://localhost:3000/d/casestream-leadership"
    )


@pytest.mark.parametrize("address", ["javascript:alert(1)", "localhost:3000", "http://a b"])
def test_the_grafana_address_must_be_an_http_url(address: str) -> None:
    with pytest.raises(ValidationError, match="grafana_url"):
        Settings(grafana_url=address)
    assert Settings().grafana_url == "http://localhost:3000"
