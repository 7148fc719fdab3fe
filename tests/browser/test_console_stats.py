"""The console's 统计 page in a real browser (headless chromium): the figures of a seeded March,
its SVG charts beside their tables, a department-bound reader's own department, a bad period,
the keyboard alone, and axe-core's accessibility check; a screenshot of each page.

Its own `casestream api` (module scope) on a SQLite database whose cases were projected from
events by the real ProjectionWriter (tests/integration/test_stats.py's scenario)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.auth import auth_env
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import (
    HANDLER,
    LEGAL,
    Visit,
    api_process,
    sign_in_as,
)
from tests.conftest import Database
from tests.integration.test_stats import project, scenario
from tests.processes import clean_env

MARCH = "/console/stats?from=2026-03-01&to=2026-03-31"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An API whose read models hold the scenario's cases and that knows the browser tests'
    accounts (this module's tests visit it rather than the folder's empty one)."""
    tmp = tmp_path_factory.mktemp("stats-browser")
    database = Database(f"sqlite:///{tmp / 'stats.db'}", None)
    project(database, scenario())
    env = clean_env(
        **database.env(),
        **auth_env(),
    )
    with api_process(tmp, env, (HANDLER, LEGAL)) as url:
        yield url


def rate_cells(page: Page, key: str) -> list[str]:
    return page.locator(f"#rate-{key} td").all_inner_texts()


def test_a_legal_officer_sees_the_rates_of_march_with_charts_beside_their_tables(
    visit: Visit,
) -> None:
    sign_in_as(visit, LEGAL)
    answer = visit.goto(MARCH, "stats-march")
    assert answer.status == 200
    page = visit.page
    expect(page).to_have_title(re.compile("统计"))
    expect(page.get_by_role("heading", level=1)).to_have_text("统计（法治指标）")
    assert rate_cells(page, "on_time")[:3] == ["60.0%", "3", "5"]
    assert rate_cells(page, "loss")[:3] == ["50.0%", "1", "2"]
    expect(page.get_by_role("table", name=re.compile("各部门法治指标"))).to_be_visible()
    charts = page.locator("svg[role=img]")
    expect(charts).to_have_count(7)
    expect(page.get_by_role("img", name="各部门按期办结率")).to_be_visible()
    expect(page.locator("#chart-on_time rect.bar")).to_have_count(2)
    expect(page.locator("#chart-received rect.bar")).to_have_count(1)
    links = page.locator("#grafana-links a")
    expect(links).to_have_count(3)
    assert links.first.get_attribute("href") == "http://localhost:3000/d/casestream-leadership"
    assert_accessible(page)


def test_a_handler_sees_their_own_departments_figures(visit: Visit) -> None:
    sign_in_as(visit, HANDLER)
    visit.goto(MARCH, "stats-own-department")
    page = visit.page
    expect(page.get_by_text("承办部门：治安大队（本部门）")).to_be_visible()
    assert rate_cells(page, "on_time")[:3] == ["50.0%", "2", "4"]
    expect(page.locator("#by-department tbody tr")).to_have_count(1)
    assert_accessible(page)


def test_a_bad_period_shows_the_form_again_with_the_field_named(visit: Visit) -> None:
    sign_in_as(visit, LEGAL)
    answer = visit.goto("/console/stats?from=2026-03-31&to=2026-03-01", "stats-bad-period")
    assert answer.status == 422
    page = visit.page
    expect(page.get_by_role("alert")).to_contain_text("结束日期（to）")
    expect(page.get_by_label("结束日期（含当日）")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("svg")).to_have_count(0)
    assert_accessible(page)


def test_the_keyboard_alone_chooses_a_period_and_a_department(visit: Visit) -> None:
    sign_in_as(visit, LEGAL)
    visit.goto("/console/stats", "stats-this-year")
    page = visit.page
    page.get_by_label("开始日期（收案）").fill("2026-03-01")
    page.get_by_label("结束日期（含当日）").fill("2026-03-31")
    department = page.get_by_label("承办部门（留空为全局）")
    department.fill("交警大队")
    department.press("Tab")
    expect(page.get_by_role("button", name="查询")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"from=2026-03-01&to=2026-03-31&department="))
    visit.shot("stats-department")
    assert rate_cells(page, "on_time")[:3] == ["100.0%", "1", "1"]
