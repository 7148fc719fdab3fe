"""案件列表 in a real browser (headless chromium): a member of staff filters the list with the
form, reads the table, re-sorts it and finds the export link keeping the filters; axe-core
finds no critical violation. Its own `casestream api` process serves a database the scenario
was projected into (the package's API has no cases)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.auth import auth_env
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import (
    HANDLER,
    LEGAL,
    Visit,
    api_process,
    sign_in_as,
)
from tests.case_list_scenario import DECISION, project
from tests.conftest import Database
from tests.processes import clean_env


@pytest.fixture(scope="module")
def cases_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `casestream api` (no Kafka) over the case-list scenario, knowing HANDLER and LEGAL."""
    tmp = tmp_path_factory.mktemp("case-list")
    database = Database(f"sqlite:///{tmp / 'cases.db'}", None)
    project(database)
    env = clean_env(
        **database.env(),
        **auth_env(),
    )
    with api_process(tmp, env, (HANDLER, LEGAL)) as url:
        yield url


def listed(visit: Visit) -> list[str]:
    return visit.page.locator("#case-table tbody th[scope=row]").all_inner_texts()


def test_a_handler_filters_the_list_to_overdue_complaints_and_sorts_by_due(
    visit: Visit, cases_url: str
) -> None:
    page = visit.page
    sign_in_as(visit, HANDLER, cases_url)
    visit.goto(f"{cases_url}/console/cases", "list")
    expect(page.get_by_role("heading", level=1)).to_have_text("案件列表")
    assert "J-OVER" not in listed(visit)  # another department's case
    assert set(listed(visit)) >= {"K-OVER", "K-SOON", "R-1", "L-1"}
    assert_accessible(page)

    page.get_by_label("案件类型").select_option(label="投诉")
    page.get_by_label("已超期").select_option(label="仅已超期")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"overdue=true"))
    visit.shot("overdue-complaints")
    # the API's "now" is the real one: every accepted complaint of the scenario is overdue
    assert set(listed(visit)) == {"K-OVER", "K-SOON", "K-ENT"}
    expect(page.locator("#case-table .badge.overdue").first).to_have_text("已超期")
    expect(page.get_by_label("案件类型")).to_have_value("complaint")
    row = page.locator("#case-table tbody tr", has_text="K-OVER")
    expect(row).to_contain_text("张*")  # a handler sees the complainant masked
    expect(row).to_contain_text("窗口")
    assert_accessible(page)

    page.get_by_role("link", name="最近时限（近→远）").click()
    visit.shot("sorted-by-due")
    assert listed(visit) == ["K-OVER", "K-ENT", "K-SOON"]  # due 23 March, 17 and 20 April
    export = page.locator("#export-link").get_attribute("href")
    assert export is not None and export.startswith("/console/cases.xlsx?")
    query = parse_qs(urlsplit(export).query)
    assert query == {"case_kind": ["complaint"], "overdue": ["true"], "sort": ["due"]}
    with page.expect_download() as download:
        page.locator("#export-link").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("link", name="K-OVER").focus()
    assert page.evaluate("() => document.activeElement.textContent") == "K-OVER"


def test_legal_searches_by_decision_number_and_sees_names_unmasked(
    visit: Visit, cases_url: str
) -> None:
    page = visit.page
    sign_in_as(visit, LEGAL, cases_url)
    visit.goto(f"{cases_url}/console/cases", "list")
    page.get_by_label("案件编号或文号").fill(DECISION)
    page.get_by_role("button", name="筛选").click()
    visit.shot("by-decision")
    assert listed(visit) == ["L-1", "R-1"]
    expect(page.locator("#case-table")).to_contain_text("赵六")
    page.get_by_label("案件编号或文号").fill("K-OVER")
    page.get_by_label("受理日期（起）").fill("2026-04-01")  # K-OVER came in on 2 March
    page.get_by_role("button", name="筛选").click()
    visit.shot("nothing-found")
    expect(page.locator("#no-cases")).to_have_text("没有符合条件的案件。")
    assert_accessible(page)
