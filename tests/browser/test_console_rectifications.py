"""The console's rectification board and a rectification's page in a real browser (headless
chromium): the columns, the overdue mark, the filters by keyboard and mouse, the actions a
role is offered, screenshots and axe-core's accessibility check (no critical violation).

This module runs its own `casestream api` (the `base_url` it overrides) on a SQLite database
seeded through the projection writer with tests/rectification_board.py's rectifications."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from casestream.read_models.database import create_engine, migrate
from tests.auth import auth_env
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import Staff, Visit, api_process, sign_in_as
from tests.conftest import Database
from tests.processes import clean_env
from tests.rectification_board import OTHER, OWN, seed_board

HEAD = Staff("zhang.head", "department_head", OWN, "head of department password")
SUPERVISOR = Staff("du.cha", "supervisor", None, "supervisor desk password")
STRANGER = Staff("jiao.jing", "handler", OTHER, "another department password")
BOARD = "/console/rectifications"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `casestream api` process (no Kafka) on the board's seeded rectifications."""
    tmp = tmp_path_factory.mktemp("rect-board")
    database = Database(f"sqlite:///{tmp / 'console.db'}", None)
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    seed_board(engine)
    engine.dispose()
    env = clean_env(
        **database.env(),
        **auth_env(),
    )
    with api_process(tmp, env, (HEAD, SUPERVISOR, STRANGER)) as url:
        yield url


def column(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_role("region", name=re.compile(f"^{name}"))


def test_the_board_shows_each_status_in_its_column_and_marks_overdue(visit: Visit) -> None:
    page = visit.page
    sign_in_as(visit, HEAD)
    answer = visit.goto(BOARD, "board")
    assert answer.status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("整改看板")
    for name, case_id in [
        ("复盘中", "R-OPEN"),
        ("整改中", "R-PROG"),
        ("待核验", "R-DONE"),
        ("已核验", "R-VER"),
        ("已退回", "R-REJ"),
    ]:
        expect(column(page, name).get_by_role("link", name=case_id)).to_be_visible()
    expect(page.get_by_role("link", name="R-JZ")).to_have_count(0)  # another department's
    overdue = page.locator('tr[data-case-id="R-OPEN"]')
    expect(overdue.get_by_text("已超期")).to_be_visible()
    color = overdue.locator(".overdue-mark").evaluate("e => getComputedStyle(e).color")
    red, green, blue = (int(part) for part in re.findall(r"\d+", color)[:3])
    assert red > 120 and green < 80 and blue < 80, color  # red
    assert_accessible(page)

    page.get_by_role("checkbox", name="复盘中").check()  # the filters: 复盘中 and 待核验 only
    page.get_by_role("checkbox", name="待核验").check()
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"status=open&status=completed"))
    visit.shot("board-filtered")
    expect(page.get_by_role("region", name=re.compile("^整改中"))).to_have_count(0)
    expect(column(page, "待核验").get_by_role("link", name="R-DONE")).to_be_visible()
    assert_accessible(page)

    column(page, "复盘中").get_by_role("link", name="R-OPEN").click()
    expect(page).to_have_url(re.compile(r"/console/rectifications/R-OPEN$"))
    visit.shot("detail-open")
    expect(page.get_by_role("heading", level=1)).to_have_text("整改 R-OPEN")
    expect(page.locator("#rect-status")).to_contain_text("已超期")
    expect(page.locator("#rect-actions").get_by_role("link", name="完成复盘")).to_have_attribute(
        "href", "/console/cases/R-OPEN/commands/complete_review"
    )
    assert_accessible(page)


def test_a_supervisor_sees_the_history_and_may_verify_or_send_back(visit: Visit) -> None:
    page = visit.page
    sign_in_as(visit, SUPERVISOR)
    answer = visit.goto(f"{BOARD}/R-DONE", "detail-completed")
    assert answer.status == 200
    expect(page.locator("#rect-root-causes")).to_have_text("程序违法、事实不清、证据不足")
    expect(page.locator("#rect-files").get_by_role("link", name="整改报告.pdf")).to_be_visible()
    history = page.locator("#rect-verifications")
    expect(history.get_by_role("cell", name="退回", exact=True)).to_be_visible()
    expect(history.get_by_role("cell", name="缺少培训记录")).to_be_visible()
    actions = page.locator("#rect-actions")
    expect(actions.get_by_role("link", name="核验通过")).to_have_attribute(
        "href", "/console/cases/R-DONE/commands/verify"
    )
    expect(actions.get_by_role("link", name="退回整改")).to_be_visible()
    assert_accessible(page)


def test_another_departments_rectification_is_a_404_page(visit: Visit) -> None:
    page = visit.page
    sign_in_as(visit, STRANGER)
    answer = visit.goto(f"{BOARD}/R-PROG", "not-found")
    assert answer.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("未找到整改")
    expect(page.locator("#rect-actions")).to_have_count(0)
    assert_accessible(page)
