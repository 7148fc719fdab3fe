"""案件详情 in a real browser (headless chromium): a complaint's page with its clocks and their
explanation, axe-core's accessibility check, and a handler who types another department's
case into the address bar gets the 404 page.

This module's API runs on its own SQLite database, seeded through the real projection writer
(`base_url` below stands in for the folder's, for this module's tests only)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from tests.auth import auth_env
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import HANDLER, LEGAL, Visit, api_process
from tests.browser.test_console_signin import fill_and_submit, on
from tests.conftest import Database
from tests.integration.test_console_case import _scenario
from tests.integration.test_stats import POLICY
from tests.processes import clean_env


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `casestream api` (no Kafka) over a database holding a case of each kind."""
    tmp = tmp_path_factory.mktemp("console-case")
    database = Database(f"sqlite:///{tmp / 'cases.db'}", None)
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    batch = [ConsumedEvent("cases.events", 0, n, item) for n, item in enumerate(_scenario())]
    ProjectionWriter(engine, POLICY).apply_batch(batch)
    engine.dispose()
    env = clean_env(
        **database.env(),
        **auth_env(),
    )
    with api_process(tmp, env, (HANDLER, LEGAL)) as url:
        yield url


def test_a_complaint_page_shows_its_clocks_explained_and_is_accessible(visit: Visit) -> None:
    page = visit.page
    visit.goto("/console/signin", "signin")
    fill_and_submit(visit, HANDLER)
    on(page, "/console/")
    visit.goto("/console/cases/K1", "case-detail")
    expect(page).to_have_title(re.compile("投诉 K1"))
    expect(page.get_by_role("heading", level=1)).to_have_text("投诉 K1（已受理）")
    expect(page.get_by_role("link", name="答复")).to_have_attribute(
        "href", "/console/cases/K1/commands/reply"
    )
    explanation = page.locator("details.explanation").first
    explanation.locator("summary").click()  # opened from the keyboard's element, the summary
    expect(explanation).to_contain_text("调休上班日计入：2026-10-10")
    expect(explanation).to_contain_text("中止3天")
    visit.shot("clock-explained")
    assert_accessible(page)


def test_a_handler_cannot_open_another_departments_case_by_url(visit: Visit) -> None:
    page = visit.page
    visit.goto("/console/signin", "signin")
    fill_and_submit(visit, HANDLER)
    on(page, "/console/")
    answer = visit.goto("/console/cases/H1", "other-department")
    assert answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("未找到案件")
    expect(page.get_by_role("alert")).to_contain_text("不在您可查看的范围内")
    expect(page.get_by_text("户籍迁移")).to_have_count(0)
    assert_accessible(page)
    page.get_by_role("link", name="返回案件列表").click()
    on(page, "/console/cases")
