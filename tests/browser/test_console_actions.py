"""The console's command forms and 登记 in a real browser against the whole system: a Kafka
broker, the faust worker and an API process on SQLite (started once for this module, in place
of the folder's API without Kafka). A handler registers a window complaint and carries it to
办结; a department head completes a lost lawsuit's rectification with an evidence file and a
supervisor verifies it. Each form page is screenshot and checked with axe-core.

After each step the case page (/console/cases/{id}) shows the new status and offers the next
command (可办理事项); GET /cases/{id} with the browser's own session cookie agrees."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from casestream.domain.envelope import parse_event
from casestream.domain.outcomes import rectification_id
from casestream.producers.kafka_producer import EventProducer
from tests.auth import auth_env, auth_headers
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import Staff, Visit, add_account, sign_in_as
from tests.conftest import Database, fresh_topics
from tests.events import raw
from tests.processes import free_port, running_system, service_env, wait_for

DEPARTMENT = "治安大队"
HANDLER = Staff("li.ming", "handler", DEPARTMENT, "correct horse battery")
HEAD = Staff("wang.head", "department_head", DEPARTMENT, "department head password")
SUPERVISOR = Staff("du.cha", "supervisor", None, "supervision desk password")
LOST_CASE = "SS-LOST-1"
RECTIFICATION = rectification_id(LOST_CASE)
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _lost_lawsuit() -> list[dict[str, object]]:
    """A lawsuit of the department lost at first instance: the worker opens its rectification."""
    start = datetime.now(UTC) - timedelta(days=60)
    filed = {
        "court": "县人民法院",
        "plaintiff": {"name": "王伟"},
        "decision_ref": "公(治)决字〔2026〕1号",
        "department": DEPARTMENT,
    }
    judged = {"instance": "first", "outcome": "revoked"}
    return [
        raw("LawsuitFiled", LOST_CASE, "litigation", filed, at=start),
        raw("JudgmentIssued", LOST_CASE, "litigation", judged, at=start + timedelta(days=50)),
    ]


@pytest.fixture(scope="module")
def base_url(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a whole system (broker, worker, API) whose API knows the staff here."""
    tmp = tmp_path_factory.mktemp("console-actions")
    topics = fresh_topics(kafka_bootstrap)
    env = service_env(
        kafka_bootstrap,
        topics,
        Database(f"sqlite:///{tmp / 'actions.db'}", None).env(),
        CASESTREAM_API_PORT=str(free_port()),
        CASESTREAM_VAR_DIR=str(tmp / "var"),
        CASESTREAM_EVIDENCE_DIR=str(tmp / "evidence"),
        CASESTREAM_COMMAND_WAIT_SECONDS="30",
        **auth_env(),
    )
    for staff in (HANDLER, HEAD, SUPERVISOR):
        add_account(env, staff)
    with EventProducer(kafka_bootstrap, topics) as producer:
        producer.send_many([parse_event(item) for item in _lost_lawsuit()])
    with running_system(env, tmp) as api:
        legal = auth_headers("legal")

        def opened() -> bool:
            found = api.get(f"/cases/{RECTIFICATION}", headers=legal)
            return found.status_code == 200 and found.json()["status"] == "open"

        wait_for(opened, timeout=120)
        yield str(api.base_url).rstrip("/")


def case_status(page: Page, case_id: str) -> str:
    """The case's status as GET /cases/{id} answers it to the browser's own session."""
    answer = page.request.get(f"/cases/{case_id}")
    assert answer.ok, answer.text()
    return str(answer.json()["status"])


def submit(visit: Visit, name: str, case_id: str, status_zh: str) -> None:
    """Submit the form on the page: the answer is the case's page (once the command is in the
    read models), showing its new status."""
    visit.page.get_by_role("button", name=re.compile("^提交")).click()
    expect(visit.page).to_have_url(re.compile(re.escape(f"/console/cases/{case_id}") + "$"))
    expect(visit.page.get_by_role("heading", level=1)).to_contain_text(f"（{status_zh}）")
    visit.shot(name)


def act(visit: Visit, label_zh: str, command: str, status_zh: str) -> None:
    """Open a command's form from the case page's 可办理事项, see the case's status on it and
    check it with axe-core."""
    page = visit.page
    offered = page.get_by_role("region", name="可办理事项")
    offered.get_by_role("link", name=label_zh, exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(f"/commands/{command}") + "$"))
    expect(page.locator("#case-status")).to_have_text(status_zh)
    assert_accessible(page)
    visit.shot(command)


def open_form(visit: Visit, case_id: str, command: str, status_zh: str) -> None:
    """Open a command's form by its address."""
    visit.goto(f"/console/cases/{case_id}/commands/{command}", command)
    expect(visit.page.locator("#case-status")).to_have_text(status_zh)
    assert_accessible(visit.page)


def test_a_handler_registers_a_window_complaint_and_carries_it_to_resolution(
    visit: Visit,
) -> None:
    page = visit.page
    sign_in_as(visit, HANDLER)
    visit.goto("/console/register", "register-choice")
    assert_accessible(page)
    page.get_by_role("link", name="投诉").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登记投诉")
    assert_accessible(page)
    case_id = page.get_by_label("案件编号").input_value()
    assert case_id.startswith("TS-")
    page.get_by_label("来源渠道").select_option(label="窗口")
    page.get_by_label("事由").fill("窗口排队时间过长")
    page.get_by_label("姓名").fill("张三")
    expect(page.get_by_label("承办部门")).to_have_value(DEPARTMENT)
    visit.shot("register-filled")
    submit(visit, "registered", case_id, "新收")
    assert case_status(page, case_id) == "received"

    act(visit, "受理", "accept", "新收")
    submit(visit, "accepted", case_id, "已受理")
    assert case_status(page, case_id) == "accepted"

    act(visit, "答复", "reply", "已受理")
    page.get_by_label("答复内容").fill("已调整窗口排班，并向投诉人说明。")
    submit(visit, "replied", case_id, "已答复")
    assert case_status(page, case_id) == "replied"

    act(visit, "办结", "resolve", "已答复")
    page.get_by_label("办理结果").select_option(label="属实")
    page.get_by_label("情况说明").fill("窗口增开一个，排队时间下降。")
    submit(visit, "resolved", case_id, "已办结")
    assert case_status(page, case_id) == "resolved"


def test_a_form_refused_by_the_cases_state_says_why_in_chinese(visit: Visit) -> None:
    page = visit.page
    sign_in_as(visit, SUPERVISOR)
    visit.goto(f"/console/cases/{RECTIFICATION}/commands/verify", "verify-too-early")
    page.get_by_role("button", name=re.compile("^提交")).click()
    expect(page.get_by_role("alert").first).to_contain_text("不能执行「核验通过」")
    visit.shot("verify-refused")
    assert_accessible(page)


def test_a_supervisor_verifies_a_rectification_a_department_head_completed(
    visit: Visit, tmp_path: Path
) -> None:
    page = visit.page
    report = tmp_path / "整改报告.pdf"
    report.write_bytes(PDF)
    sign_in_as(visit, HEAD)
    open_form(visit, RECTIFICATION, "complete", "复盘中")
    page.get_by_label("整改材料").fill("执法人员培训记录\n执法程序制度修订稿")
    page.get_by_label("情况说明").fill("已完成培训并修订制度。")
    page.get_by_label("证据文件").set_input_files(str(report))
    visit.shot("complete-filled")
    submit(visit, "completed", RECTIFICATION, "待核验")
    assert case_status(page, RECTIFICATION) == "completed"
    cited = page.get_by_role("region", name="证据材料")
    expect(cited.get_by_role("link", name="整改报告.pdf")).to_be_visible()

    visit.goto("/console/", "home")
    page.get_by_role("button", name="退出登录").click()
    expect(page).to_have_url(re.compile(r"/console/signin$"))
    sign_in_as(visit, SUPERVISOR)
    visit.goto(f"/console/cases/{RECTIFICATION}", "rectification")
    act(visit, "核验通过", "verify", "待核验")
    page.get_by_label("意见").fill("材料齐全，核验通过。")
    submit(visit, "verified", RECTIFICATION, "已核验")
    assert case_status(page, RECTIFICATION) == "verified"
