"""The 工作台 in a real browser (headless chromium): its counts, and an alert raised while the
page is open appearing in its 实时提醒 list without a reload, through a real broker and the
API's alert stream.

This module runs its own `casestream api` with Kafka (the folder's shared API has none, so its
alert stream is off): `base_url` below overrides the folder's for these tests only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from casestream.domain.envelope import Event, parse_event
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from tests.auth import auth_env, auth_headers
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import (
    ACCOUNTS,
    HANDLER,
    VIEWPORT,
    Visit,
    api_process,
)
from tests.conftest import Database, fresh_topics
from tests.processes import service_env, wait_for

CONSOLE = "/console/"


@pytest.fixture(scope="module")
def alert_topics(kafka_bootstrap: str) -> Topics:
    return fresh_topics(kafka_bootstrap)


@pytest.fixture(scope="module")
def base_url(
    kafka_bootstrap: str, alert_topics: Topics, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A `casestream api` reading alerts.events from the broker, knowing the folder's ACCOUNTS."""
    tmp = tmp_path_factory.mktemp("home")
    env = service_env(
        kafka_bootstrap,
        alert_topics,
        Database(f"sqlite:///{tmp / 'console.db'}", None).env(),
        **auth_env(),
    )
    with api_process(tmp, env, ACCOUNTS) as url:
        yield url


@pytest.fixture(scope="module")
def producer(kafka_bootstrap: str, alert_topics: Topics) -> Iterator[EventProducer]:
    with EventProducer(kafka_bootstrap, alert_topics) as found:
        yield found


def breach(case_id: str, department: str) -> Event[Any]:
    """A DeadlineBreached alert on the complaint's handling clock, as the scanner raises it."""
    alert_id = str(uuid.uuid4())
    return parse_event(
        {
            "event_id": alert_id,
            "event_type": "DeadlineBreached",
            "case_id": case_id,
            "case_kind": "complaint",
            "occurred_at": "2026-03-20T09:00:00+08:00",
            "recorded_at": "2026-03-20T09:00:00+08:00",
            "source": "casestream",
            "actor": "scanner",
            "payload": {
                "alert_id": alert_id,
                "clock_id": f"{case_id}/complaint.handling/0",
                "rule": "complaint.handling",
                "due_at": "2026-03-19T23:59:59+08:00",
                "scheduled_at": "2026-03-20T09:00:00+08:00",
                "department": department,
                "level": 2,
                "notify": "department_head",
            },
        }
    )


def stream_clients(base_url: str) -> int:
    metrics = httpx.get(f"{base_url}/metrics", headers=auth_headers("legal")).text
    found = re.search(r"^casestream_alert_stream_clients (\d+)", metrics, re.MULTILINE)
    return int(found.group(1)) if found else 0


def test_a_breached_complaint_appears_live_on_the_workbench(
    visit: Visit, base_url: str, producer: EventProducer, alert_topics: Topics
) -> None:
    page = visit.page
    visit.goto("/console/signin", "signin")
    page.get_by_label("用户名").fill(HANDLER.username)
    page.get_by_label("密码").fill(HANDLER.password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(re.escape(CONSOLE) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    for card in ("新收", "即将到期", "已超期", "待整改", "待核验", "督察关注"):
        expect(page.get_by_role("link", name=re.compile(card))).to_be_visible()
    expect(page.locator("#count-overdue")).to_have_attribute("href", "/console/cases?overdue=true")
    alerts = page.locator("#alerts")
    expect(alerts).to_have_attribute("aria-live", "polite")
    expect(alerts).to_contain_text("暂无提醒")
    expect(page.locator("#alerts-status")).to_contain_text("实时提醒已连接")
    wait_for(lambda: stream_clients(base_url) >= 1, timeout=10)  # subscribed on the server
    page.evaluate("() => { window.sameDocument = true; }")  # gone if the page reloads
    visit.shot("workbench-connected")

    elsewhere = breach("JJ-LIVE-1", "交警大队")  # another department's: never shown
    mine = breach("ZA-LIVE-1", HANDLER.department or "")
    for alert in (elsewhere, mine):
        producer.send_raw(alert_topics.alerts, alert.case_id.encode(), alert.to_json_bytes())

    item = alerts.locator(f'li[data-alert-id="{mine.event_id}"]')
    expect(item).to_be_visible(timeout=10_000)
    expect(item).to_have_class(re.compile(r"\bfresh\b"))  # highlighted while new
    expect(item).to_have_class(re.compile(r"\boverdue\b"))
    expect(item).to_contain_text("已超期")
    expect(item).to_contain_text("投诉办理")
    expect(item).to_contain_text("二级（部门负责人）")
    expect(item).to_contain_text("期限：2026-03-19 23:59")
    expect(item).to_contain_text("提醒时间：2026-03-20 09:00")
    expect(item.get_by_role("link", name="ZA-LIVE-1")).to_have_attribute(
        "href", "/console/cases/ZA-LIVE-1"
    )
    expect(alerts).not_to_contain_text("暂无提醒")
    assert page.evaluate("() => window.sameDocument === true"), "the page was reloaded"
    assert alerts.locator(f'li[data-alert-id="{elsewhere.event_id}"]').count() == 0
    assert alerts.locator("li").count() == 1
    visit.shot("workbench-live-alert")
    assert_accessible(page)

    second = breach("ZA-LIVE-2", HANDLER.department or "")  # newest first
    producer.send_raw(alert_topics.alerts, second.case_id.encode(), second.to_json_bytes())
    expect(alerts.locator("li").first).to_have_attribute("data-alert-id", str(second.event_id))
    expect(alerts.locator("li")).to_have_count(2)
    expect(item).not_to_have_class(re.compile(r"\bfresh\b"), timeout=15_000)  # faded
    visit.shot("workbench-two-alerts")


def signed_in_page(browser: Browser, base_url: str, **options: Any) -> tuple[BrowserContext, Page]:
    """A new tab signed in as the handler, on the 工作台, with the page's own CSP (no bypass)."""
    context = browser.new_context(
        base_url=base_url,
        viewport=VIEWPORT,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        **options,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/console/signin")
    page.get_by_label("用户名").fill(HANDLER.username)
    page.get_by_label("密码").fill(HANDLER.password)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(CONSOLE) + "$"))
    return context, page


def test_under_its_own_csp_the_script_runs_and_keeps_the_latest_fifty_alerts(
    browser: Browser, base_url: str, producer: EventProducer, alert_topics: Topics
) -> None:
    context, page = signed_in_page(browser, base_url)
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text))
    try:
        page.reload()  # with the console listener from the start
        expect(page.locator("#alerts-status")).to_contain_text("实时提醒已连接")
        sent = [breach(f"ZA-MANY-{n}", HANDLER.department or "") for n in range(55)]
        for alert in sent:
            producer.send_raw(alert_topics.alerts, alert.case_id.encode(), alert.to_json_bytes())
        items = page.locator("#alerts li")
        expect(items.first).to_have_attribute("data-alert-id", str(sent[-1].event_id))
        expect(items).to_have_count(50)  # the oldest five dropped from the bottom
        expect(items.last).to_have_attribute("data-alert-id", str(sent[5].event_id))
        assert not [text for text in refused if "Content Security Policy" in text], refused
    finally:
        context.close()


def test_without_script_the_workbench_still_shows_its_counts_and_latest_alerts(
    browser: Browser, base_url: str
) -> None:
    context, page = signed_in_page(browser, base_url, java_script_enabled=False)
    try:
        expect(page.locator("#count-received")).to_contain_text("新收")
        expect(page.locator("#count-received .card-count")).to_have_text("0")
        expect(page.locator("#alerts-status")).to_contain_text("启用浏览器脚本后")
    finally:
        context.close()
