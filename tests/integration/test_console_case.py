"""案件详情 (GET /console/cases/{case_id}) over cases of every kind run through the real
projection writer, on SQLite and PostgreSQL: facts, timeline, clocks with how each deadline was
counted, the dispute chain, evidence files, the commands the role may give now; another
department's case and an unknown id answer the same 404 page; a handler sees parties masked."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest

from casestream.domain.envelope import Event
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.staff_accounts import StaffAccounts
from casestream.staff import add_account
from tests.conftest import Database
from tests.console_app import console_client
from tests.events import event, local
from tests.integration.test_clock_explanations import _complaint
from tests.integration.test_console_signin import PASSWORD, sign_in
from tests.integration.test_stats import POLICY

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NOW = datetime.fromisoformat("2026-10-12T10:00:00+08:00")
REF = "公(治)行罚决字〔2026〕77号"
DIGEST = "ab" * 32
PERSON = {"name": "王小明", "phone": "13812341234"}


def _scenario() -> list[Event[Any]]:
    """One case of each kind in 治安大队 (the complaint, the reconsideration and the lawsuit on
    the same decision), and a complaint of 户政大队."""
    received = {
        "channel": "window",
        "subject": "罚款不当",
        "complainant": PERSON,
        "department": "治安大队",
        "decision_ref": REF,
    }
    lawsuit = {
        "court": "市中级人民法院",
        "plaintiff": {"name": "赵六"},
        "decision_ref": REF,
        "department": "治安大队",
    }
    files = [
        {"sha256": DIGEST, "name": "整改报告.pdf", "media_type": "application/pdf", "size": 2048}
    ]
    return [
        *_complaint(),  # K1: accepted, suspended, resumed, extended over 国庆 2026
        event(
            "ComplaintReceived", "C-DISPUTE", "complaint", received, at=local("2026-09-20T09:00")
        ),
        event(
            "ReconsiderationApplied",
            "R1",
            "reconsideration",
            {
                "applicant": {"name": "李四", "phone": "13900001111"},
                "decision_ref": REF,
                "reconsideration_body": "市人民政府",
                "department": "治安大队",
            },
            at=local("2026-09-21T09:00"),
        ),
        event("ApplicationCopyReceived", "R1", "reconsideration", at=local("2026-09-22T09:00")),
        event("LawsuitFiled", "L1", "litigation", lawsuit, at=local("2026-09-23T09:00")),
        event(
            "TipReceived",
            "T1",
            "enterprise_tip",
            {
                "enterprise": "某某公司",
                "subject": "无证经营",
                "anonymous": True,
                "department": "治安大队",
            },
            at=local("2026-09-24T09:00"),
        ),
        event(
            "RectificationOpened",
            "RECT-1",
            "rectification",
            {"department": "治安大队", "responsible_person": "张三", "deadline": "2026-12-31"},
            at=local("2026-09-25T09:00"),
        ),
        event(
            "MeasureAdded",
            "RECT-1",
            "rectification",
            {"measure": "组织培训"},
            at=local("2026-09-26T09:00"),
        ),
        event(
            "RectificationCompleted",
            "RECT-1",
            "rectification",
            {"evidence": ["培训记录"], "files": files},
            at=local("2026-09-27T09:00"),
        ),
        *_enforcement(),
        event("ComplaintReceived", "A1", "complaint", received | {"decision_ref": None}),
        event("ComplaintFollowUpVisited", "A1", "complaint", {"satisfaction": 4}, day=1),
        event(
            "ComplaintReceived",
            "H1",
            "complaint",
            {"channel": "window", "subject": "户籍迁移", "department": "户政大队"},
            at=local("2026-09-28T09:00"),
        ),
    ]


def _enforcement() -> list[Event[Any]]:
    """执法监督: a review with an opinion, a notice, a 不予处罚 decision published."""
    ref = "公(治)行罚决字〔2026〕90号"
    decision = {
        "decision_ref": "公(治)不罚决字〔2026〕5号",
        "exemption": "first_offence",
        "legal_basis": "《行政处罚法》第三十三条第一款",
        "decided_on": "2026-09-25",
        "department": "治安大队",
    }
    notice = {
        "notice_no": "公法监字〔2026〕4号",
        "department": "治安大队",
        "matters": ["补正告知程序"],
        "deadline": "2026-11-30",
    }
    review = {"decision_ref": ref, "department": "治安大队", "reviewer": "fa.zhi"}
    opinion = {"category": "procedure", "text": "未告知陈述申辩权利"}
    return [
        event(
            "EnforcementReviewOpened",
            "KP1",
            "enforcement_review",
            review,
            at=local("2026-09-28T10:00"),
        ),
        event(
            "ReviewOpinionIssued",
            "KP1",
            "enforcement_review",
            opinion,
            at=local("2026-09-28T11:00"),
        ),
        event(
            "EnforcementNoticeIssued",
            "JDS1",
            "enforcement_notice",
            notice,
            at=local("2026-09-29T10:00"),
        ),
        event(
            "EnforcementDecisionRecorded",
            "BCF1",
            "enforcement_decision",
            decision,
            at=local("2026-09-29T10:00"),
        ),
        event(
            "EnforcementDecisionPublished",
            "BCF1",
            "enforcement_decision",
            {"platform": "县政府门户网站"},
            at=local("2026-09-30T10:00"),
        ),
    ]


def main(text: str) -> str:
    """The page's <main> (the header holds the session's random CSRF token)."""
    return text[text.index("<main") : text.index("</main>")]


@dataclass
class Pages:
    client: TestClient

    def as_(self, username: str) -> TestClient:
        self.client.cookies.clear()
        assert sign_in(self.client, username).status_code == 303
        return self.client


@pytest.fixture
def pages(database: Database) -> Iterator[Pages]:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    batch = [ConsumedEvent("cases.events", 0, n, item) for n, item in enumerate(_scenario())]
    ProjectionWriter(engine, POLICY).apply_batch(batch)
    accounts = StaffAccounts(engine)
    for username, role, department in [
        ("li.ming", "handler", "治安大队"),
        ("fa.zhi", "legal", None),
        ("du.cha", "supervisor", None),
        ("ling.dao", "leader", None),
    ]:
        add_account(
            accounts, username, role=role, department=department, password=PASSWORD, now=NOW
        )
    engine.dispose()
    with console_client(database, NOW) as client:
        yield Pages(client)


@pytest.mark.parametrize(
    ("case_id", "kind", "status", "labels"),
    [
        ("K1", "投诉", "已受理", ["收到投诉", "受理", "中止", "恢复办理", "延期"]),
        ("T1", "涉企举报", "新收", ["收到举报线索"]),
        ("R1", "行政复议", "已申请", ["申请行政复议", "收到申请书副本"]),
        ("L1", "行政诉讼", "已立案", ["行政诉讼立案"]),
        ("RECT-1", "复盘整改", "待核验", ["开启整改", "添加整改措施", "整改完成"]),
        ("KP1", "执法质量考评", "评查中", ["开展执法质量考评", "出具评查意见"]),
        ("JDS1", "执法监督书", "整改中", ["下达执法监督书"]),
        ("BCF1", "不予处罚决定", "已公示", ["登记不予处罚决定", "公示"]),
    ],
)
def test_a_case_of_each_kind_shows_its_facts_and_its_events_in_chinese(
    pages: Pages, case_id: str, kind: str, status: str, labels: list[str]
) -> None:
    page = pages.as_("fa.zhi").get(f"/console/cases/{case_id}")
    assert page.status_code == 200, page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    text = page.text
    assert f"<h1>{kind} {case_id}（{status}）</h1>" in text
    assert "治安大队" in text
    timeline = text[text.index('id="timeline"') :]
    for label in labels:
        assert f"<strong>{label}</strong>" in timeline
    assert "tester" in timeline  # who: the events' actor
    assert "可办理事项" in text


def test_the_clocks_say_how_each_deadline_was_counted(pages: Pages) -> None:
    text = pages.as_("li.ming").get("/console/cases/K1").text
    clocks = text[text.index('id="clocks"') : text.index('id="timeline"')]
    assert "<details" in clocks and "计时中" in clocks
    assert "中止3天" in clocks and "延期5个工作日" in clocks  # the domain's summary
    assert "跳过法定节假日" in clocks and "国庆节" in clocks
    assert "调休上班日计入：2026-10-10" in clocks
    assert "中止：2026-09-28 起，2026-10-01 恢复" in clocks
    assert "由王局长批准" in clocks
    assert "2026-10-02 法定节假日" in clocks  # each day not counted


def test_the_dispute_chain_links_the_other_cases_on_the_same_decision(pages: Pages) -> None:
    text = pages.as_("fa.zhi").get("/console/cases/R1").text
    chain = text[text.index('id="dispute"') :]
    assert REF in chain
    assert 'href="/console/cases/C-DISPUTE"' in chain and 'href="/console/cases/L1"' in chain
    assert "R1（本案）" in chain and 'href="/console/cases/R1"' not in chain
    assert 'href="/console/cases?q=' in chain  # the list, searched by the 文号


def test_another_departments_case_and_an_unknown_one_answer_the_same_404_page(
    pages: Pages,
) -> None:
    client = pages.as_("li.ming")
    other = client.get("/console/cases/H1")
    unknown = client.get("/console/cases/NO-SUCH-CASE")
    for page in (other, unknown):
        assert page.status_code == 404
        assert "未找到案件" in page.text and 'href="/console/cases"' in page.text
    assert "户籍迁移" not in other.text
    assert main(other.text).replace("H1", "X") == main(unknown.text).replace("NO-SUCH-CASE", "X")
    assert pages.as_("fa.zhi").get("/console/cases/H1").status_code == 200


def test_signed_out_goes_to_the_sign_in_page(pages: Pages) -> None:
    pages.client.cookies.clear()
    page = pages.client.get("/console/cases/K1", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/console/signin"


def test_a_handler_sees_the_parties_masked_and_legal_as_recorded(pages: Pages) -> None:
    masked = pages.as_("li.ming").get("/console/cases/C-DISPUTE").text
    assert "王**" in masked and "138****1234" in masked
    assert "王小明" not in masked and "13812341234" not in masked  # facts and timeline alike
    shown = pages.as_("fa.zhi").get("/console/cases/C-DISPUTE").text
    assert "王小明" in shown and "13812341234" in shown
    leader = pages.as_("ling.dao").get("/console/cases/C-DISPUTE").text  # every department
    assert "王**" in leader and "王小明" not in leader
    tip = pages.as_("fa.zhi").get("/console/cases/T1").text
    assert "匿名举报（不显示举报人）" in tip


def test_the_commands_listed_are_those_the_role_may_give_now(pages: Pages) -> None:
    text = pages.as_("li.ming").get("/console/cases/K1").text
    commands = text[text.index('id="commands"') : text.index('id="clocks"')]
    possible = commands[: commands.index("<details")]
    assert 'href="/console/cases/K1/commands/reply">答复</a>' in possible
    assert 'href="/console/cases/K1/commands/resolve">办结</a>' in possible
    assert "/commands/assign" not in commands  # a handler may not: listed without a link
    assert "交办</span>：需由部门负责人、法制员办理" in commands
    assert "受理</span>：案件当前为“已受理”，不可办理" in commands
    rect = pages.as_("du.cha").get("/console/cases/RECT-1").text
    assert 'href="/console/cases/RECT-1/commands/verify">核验通过</a>' in rect
    assert 'href="/console/cases/RECT-1/commands/reject">退回整改</a>' in rect


def test_the_evidence_files_link_to_their_download(pages: Pages) -> None:
    client = pages.as_("li.ming")
    text = client.get("/console/cases/RECT-1").text
    files = text[text.index('id="files"') :]
    assert f'href="/files/{DIGEST}"' in files and "整改报告.pdf" in files
    assert "PDF 文档" in files and "2.0 KB" in files
    assert "本案没有证据材料" in client.get("/console/cases/K1").text


def test_an_event_out_of_order_is_listed_among_the_anomalies(pages: Pages) -> None:
    text = pages.as_("li.ming").get("/console/cases/A1").text
    anomalies = text[text.index('id="anomalies"') :]
    assert "<td>回访</td>" in anomalies and "expected one of" in anomalies
    assert "没有异常记录" in pages.client.get("/console/cases/K1").text
