"""The console's sign-in in a real browser (headless chromium): the form, the pages a member of
staff sees, the lock-out, CSRF, the keyboard alone, and axe-core's accessibility check."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import HANDLER, LEGAL, LOCKED, Staff, Visit

SIGN_IN = "/console/signin"
CONSOLE = "/console/"
REFUSED = "用户名或密码错误，或账号暂时无法登录。"


def on(page: Page, path: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def fill_and_submit(visit: Visit, staff: Staff, password: str | None = None) -> None:
    page = visit.page
    page.get_by_label("用户名").fill(staff.username)
    page.get_by_label("密码").fill(password or staff.password)
    page.get_by_role("button", name="登录").click()


def sign_in(visit: Visit, staff: Staff) -> None:
    visit.goto(SIGN_IN, "signin")
    fill_and_submit(visit, staff)
    on(visit.page, CONSOLE)
    visit.shot("console")


def test_a_handler_signs_in_sees_who_they_are_and_signs_out(visit: Visit) -> None:
    page = visit.page
    visit.goto(SIGN_IN, "signin")
    expect(page).to_have_title(re.compile("登录"))
    expect(page.get_by_role("heading", level=1)).to_have_text("工作人员登录")
    fill_and_submit(visit, HANDLER)
    on(page, CONSOLE)
    visit.shot("console")
    expect(page.locator("#who-username")).to_have_text(HANDLER.username)
    expect(page.locator("#who-role")).to_contain_text("承办人")
    expect(page.locator("#who-department")).to_have_text("治安大队")
    page.get_by_role("button", name="退出登录").click()
    on(page, SIGN_IN)
    visit.shot("signed-out")
    expect(page.get_by_label("用户名")).to_be_visible()
    visit.goto(CONSOLE, "console-after-sign-out")  # the session is over
    on(page, SIGN_IN)


def test_five_wrong_passwords_lock_the_account_and_the_right_one_is_then_refused(
    visit: Visit,
) -> None:
    page = visit.page
    visit.goto(SIGN_IN, "signin")
    for attempt in range(1, 6):
        fill_and_submit(visit, LOCKED, "not the password")
        visit.shot(f"wrong-password-{attempt}")
        on(page, SIGN_IN)
        expect(page.get_by_role("alert")).to_have_text(REFUSED)
        expect(page.get_by_label("用户名")).to_have_value(LOCKED.username)  # kept, not the password
        expect(page.get_by_label("密码")).to_have_value("")
    fill_and_submit(visit, LOCKED)  # the right password, while locked
    visit.shot("locked")
    on(page, SIGN_IN)
    expect(page.get_by_role("alert")).to_have_text(REFUSED)  # the same message
    visit.goto(CONSOLE, "console-refused")
    on(page, SIGN_IN)


def test_a_console_form_posted_without_its_csrf_token_is_refused_403(visit: Visit) -> None:
    page = visit.page
    sign_in(visit, HANDLER)
    page.evaluate("() => document.querySelector('input[name=csrf_token]').remove()")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="退出登录").click()
    assert posted.value.status == 403
    visit.shot("signout-refused")
    expect(page.get_by_role("heading", level=1)).to_have_text("请求被拒绝")
    expect(page.get_by_role("alert")).to_contain_text("CSRF")
    visit.goto(CONSOLE, "console-still-signed-in")
    on(page, CONSOLE)
    expect(page.locator("#who-username")).to_have_text(HANDLER.username)


def test_the_sign_in_form_posted_without_its_csrf_token_is_refused_403(visit: Visit) -> None:
    page = visit.page
    visit.goto(SIGN_IN, "signin")
    page.evaluate("() => document.querySelector('input[name=csrf_token]').remove()")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        fill_and_submit(visit, HANDLER)
    assert posted.value.status == 403
    visit.shot("signin-refused")
    expect(page.get_by_role("alert")).to_contain_text("CSRF")
    visit.goto(CONSOLE, "console-not-signed-in")
    on(page, SIGN_IN)


def test_the_console_without_a_session_sends_the_browser_to_sign_in(visit: Visit) -> None:
    answer = visit.goto(CONSOLE, "console-redirected")
    on(visit.page, SIGN_IN)
    assert answer.status == 200
    redirected = answer.request.redirected_from
    assert redirected is not None and redirected.url.endswith(CONSOLE)
    assert "casestream_session" not in {cookie["name"] for cookie in visit.page.context.cookies()}


def focused_id(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement && document.activeElement.id"))


def test_the_keyboard_alone_signs_in_and_out(visit: Visit) -> None:
    page = visit.page
    visit.goto(SIGN_IN, "signin")
    assert focused_id(page) == "username"  # autofocus
    page.keyboard.type(LEGAL.username)
    page.keyboard.press("Tab")
    assert focused_id(page) == "password"
    page.keyboard.type(LEGAL.password)
    page.keyboard.press("Enter")
    on(page, CONSOLE)
    visit.shot("console")
    expect(page.locator("#who-role")).to_contain_text("法制员")
    expect(page.locator("#who-department")).to_have_text("全局（不限部门）")
    page.keyboard.press("Tab")  # the first stop on the console: its sign-out button
    expect(page.get_by_role("button", name="退出登录")).to_be_focused()
    page.keyboard.press("Enter")
    on(page, SIGN_IN)
    visit.shot("signed-out")


def test_the_labels_name_and_focus_the_sign_in_fields(visit: Visit) -> None:
    page = visit.page
    visit.goto(SIGN_IN, "signin")
    for label, field in (("密码", "password"), ("用户名", "username")):
        page.locator("label", has_text=label).click()
        assert focused_id(page) == field
    page.keyboard.press("Tab")
    assert focused_id(page) == "password"
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="登录")).to_be_focused()


def test_the_sign_in_page_and_the_console_have_no_critical_accessibility_violation(
    visit: Visit,
) -> None:
    page = visit.page
    visit.goto(SIGN_IN, "signin")
    assert_accessible(page)
    fill_and_submit(visit, HANDLER, "not the password")  # the page with its error message
    visit.shot("signin-refused")
    assert_accessible(page)
    fill_and_submit(visit, HANDLER)
    on(page, CONSOLE)
    visit.shot("console")
    assert_accessible(page)
    page.evaluate("() => document.querySelector('input[name=csrf_token]').remove()")
    page.get_by_role("button", name="退出登录").click()
    visit.shot("refused")
    assert_accessible(page)


def test_the_accessibility_check_fails_on_a_critical_violation(visit: Visit) -> None:
    page = visit.page
    visit.goto(SIGN_IN, "signin")
    page.evaluate(
        """() => {
          document.getElementById("username").removeAttribute("id");  // the label names nothing
          const picture = document.createElement("img");  // and an image without alt text
          picture.src = "data:image/gif;base64,R0lGODlhAQABAAAAACw=";
          document.querySelector("main").append(picture);
        }"""
    )
    visit.shot("broken")
    with pytest.raises(AssertionError) as failed:
        assert_accessible(page)
    assert "[critical] image-alt" in str(failed.value)
    assert "[critical] label" in str(failed.value)
