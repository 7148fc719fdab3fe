"""The console's 年度报告 page in a real browser (headless chromium), on the folder's API with no
cases: reached from the navigation, its six sections (the 执法监督 one saying there is no
record), the download links, a department-bound reader's own department, and axe-core's
accessibility check; a screenshot of the page. Its figures are held against GET /stats in
tests/integration/test_annual_report.py."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import HANDLER, LEGAL, Visit, sign_in_as


def test_the_yearly_report_is_reached_from_the_navigation_and_shows_its_sections(
    visit: Visit,
) -> None:
    sign_in_as(visit, LEGAL)
    page = visit.page
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="年度报告").click()
    expect(page).to_have_url(re.compile(r"/console/annual-report$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("年度报告（法治政府建设 · 数据部分）")
    for heading in (
        "一、投诉办理与回访满意度",
        "四、行政诉讼",
        "六、执法监督与不予处罚、轻微免罚决定及公示",
    ):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.locator("#section-6 .empty")).to_contain_text("本年度无执法监督")
    expect(page.get_by_role("link", name="Word 文档（.docx）", exact=True)).to_have_attribute(
        "href", re.compile(r"^/ledgers/annual-report\?year=\d{4}&format=docx$")
    )
    visit.shot("annual-report")
    assert_accessible(page)


def test_a_handler_chooses_a_year_and_gets_their_own_department(visit: Visit) -> None:
    sign_in_as(visit, HANDLER)
    visit.goto("/console/annual-report", "annual-report-handler")
    page = visit.page
    expect(page.get_by_text("承办部门：治安大队（本部门）")).to_be_visible()
    page.get_by_label("年度", exact=True).fill("2025")
    page.get_by_label("年度", exact=True).press("Enter")
    expect(page).to_have_url(re.compile(r"year=2025"))
    expect(page.locator("#report-scope-text")).to_contain_text(
        "治安大队；2025年1月1日至2025年12月31日"
    )
    assert_accessible(page)
