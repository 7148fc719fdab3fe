"""The console's rectification board and a rectification's own page, over real SQLite and
PostgreSQL read models seeded through the projection writer: grouping by status, the overdue
mark, the filters and the column's 更多 page, the department scope (404), the facts of one
rectification and the actions each role may take on it now."""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from casestream.api import console_rectifications
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.staff_accounts import StaffAccounts
from casestream.staff import add_account
from tests.auth import auth_headers
from tests.conftest import Database
from tests.console_app import console_client
from tests.rectification_board import (
    NOW,
    OTHER,
    OWN,
    REPORT_SHA,
    completed,
    opened,
    project,
    seed_board,
)

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
BOARD = "/console/rectifications"
ACCOUNTS = [
    ("li.ming", "handler", OWN),
    ("zhang.head", "department_head", OWN),
    ("du.cha", "supervisor", None),
    ("jiao.jing", "handler", OTHER),
]


@dataclass
class Console:
    client: TestClient
    engine: sa.Engine

    def as_user(self, username: str) -> TestClient:
        self.client.cookies.clear()
        page = self.client.get("/console/signin")
        found = CSRF_FIELD.search(page.text)
        assert found is not None
        form = {"username": username, "password": PASSWORD, "csrf_token": found.group(1)}
        answer = self.client.post("/console/signin", data=form, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        return self.client


@pytest.fixture
def console(database: Database, tmp_path: Path) -> Iterator[Console]:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    accounts = StaffAccounts(engine)
    for username, role, department in ACCOUNTS:
        add_account(
            accounts, username, role=role, department=department, password=PASSWORD, now=NOW
        )
    seed_board(engine)
    with console_client(database, NOW, evidence_dir=tmp_path / "evidence") as client:
        yield Console(client, engine)
    engine.dispose()


def columns(html: str) -> dict[str, list[str]]:
    """The board's columns by status, each with the ids of its rectifications in order."""
    found: dict[str, list[str]] = {}
    for part in html.split('<section class="rect-column"')[1:]:
        status = re.search(r'id="column-([a-z_]+)"', part)
        assert status is not None
        found[status.group(1)] = re.findall(r'data-case-id="([^"]+)"', part)
    return found


def row_of(html: str, case_id: str) -> str:
    found = re.search(rf'<tr class="[^"]*" data-case-id="{case_id}">.*?</tr>', html, re.S)
    assert found is not None, case_id
    return found.group(0)


def test_the_board_groups_the_departments_rectifications_by_status(console: Console) -> None:
    page = console.as_user("zhang.head").get(BOARD)
    assert page.status_code == 200
    assert columns(page.text) == {
        "open": ["R-OPEN"],
        "in_progress": ["R-PROG"],
        "completed": ["R-DONE"],
        "verified": ["R-VER"],
        "rejected": ["R-REJ"],
    }  # 交警大队's R-JZ is not on 治安大队's board
    for heading in ["复盘中", "整改中", "待核验", "已核验", "已退回"]:
        assert f">{heading}（" in page.text
    progress = row_of(page.text, "R-PROG")
    assert "王警官" in progress and "50%" in progress and "2026-07-31" in progress
    assert 'href="/console/rectifications/R-PROG"' in progress
    opened = row_of(page.text, "R-OPEN")
    assert 'href="/console/cases/L-2026-000007"' in opened and OWN in opened
    supervisor = columns(console.as_user("du.cha").get(BOARD).text)
    assert supervisor["in_progress"] == ["R-JZ", "R-PROG"]  # every department, newest first


def test_an_overdue_rectification_is_marked_red_and_in_words(console: Console) -> None:
    page = console.as_user("li.ming").get(BOARD).text
    overdue = row_of(page, "R-OPEN")
    assert 'class="rect-item overdue"' in overdue
    assert '<strong class="error overdue-mark">已超期</strong>' in overdue  # .error: red
    assert "2026-07-01" in overdue  # the completion clock's local date
    for case_id in ["R-PROG", "R-DONE", "R-REJ"]:
        assert "已超期" not in row_of(page, case_id)


def test_the_boards_filters_follow_the_url_contract(console: Console) -> None:
    client = console.as_user("du.cha")
    both = client.get(BOARD, params=[("status", "open"), ("status", "completed")])
    assert columns(both.text) == {"open": ["R-OPEN"], "completed": ["R-DONE"]}
    assert 'value="open" checked' in both.text and 'value="completed" checked' in both.text
    overdue = client.get(BOARD, params={"overdue": "true"})
    assert [ids for ids in columns(overdue.text).values() if ids] == [["R-OPEN"]]
    other = client.get(BOARD, params={"department": OTHER})
    assert [ids for ids in columns(other.text).values() if ids] == [["R-JZ"]]
    person = client.get(BOARD, params={"responsible_person": "李队长"})
    assert columns(person.text)["open"] == ["R-OPEN"]
    assert columns(person.text)["completed"] == ["R-DONE"]
    assert sum(len(ids) for ids in columns(person.text).values()) == 2
    unknown = client.get(BOARD, params={"status": "nonsense"})
    assert unknown.status_code == 200 and "未知的状态已忽略" in unknown.text
    assert len(columns(unknown.text)) == 5


def test_a_full_column_pages_on_through_more(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console_rectifications, "COLUMN_LIMIT", 1)
    client = console.as_user("du.cha")
    board = client.get(BOARD).text
    assert columns(board)["in_progress"] == ["R-JZ"]
    more = re.search(r'<a href="([^"]+)">整改中：更多</a>', board)
    assert more is not None and "status=in_progress" in more.group(1)
    second = client.get(more.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    assert columns(second.text) == {"in_progress": ["R-PROG"]}
    assert "整改中：第一页" in second.text and "整改中：更多" not in second.text
    bad = client.get(BOARD, params={"status": "in_progress", "cursor": "not-a-cursor"})
    assert bad.status_code == 400 and "翻页位置无效" in bad.text
    assert columns(bad.text) == {"in_progress": ["R-JZ"]}


def test_a_rectification_page_shows_its_facts_review_files_and_verifications(
    console: Console,
) -> None:
    page = console.as_user("li.ming").get(f"{BOARD}/R-DONE")
    assert page.status_code == 200
    html = page.text
    assert "<h1>整改 R-DONE</h1>" in html and "待核验" in html
    assert "程序违法、事实不清、证据不足" in html and "未告知陈述申辩权利" in html
    assert "修订告知书模板" in html and "模板已修订" in html and "100%" in html
    assert "培训签到表" in html and "新告知书模板" in html
    assert f'href="/files/{REPORT_SHA}"' in html and "整改报告.pdf" in html
    verifications = re.search(r'<table id="rect-verifications">.*?</table>', html, re.S)
    assert verifications is not None
    assert "督察张" in verifications.group(0) and "退回" in verifications.group(0)
    assert "缺少培训记录" in verifications.group(0)
    assert "2026-06-08 09:00" in verifications.group(0)  # local time of the rejection
    assert "已超期" not in html
    opened = console.client.get(f"{BOARD}/R-OPEN").text
    assert "已超期" in opened and 'href="/console/cases/L-2026-000007"' in opened
    assert "行政诉讼" not in opened  # the source case is not in the read models: no facts of it
    assert "规范处罚告知程序" in opened and "李队长" in opened


def actions(html: str) -> list[str]:
    return re.findall(r'<a href="/console/cases/[^"]+/commands/[^"]+" data-command="([^"]+)"', html)


def test_each_role_is_offered_the_actions_it_may_take_now(console: Console) -> None:
    head = console.as_user("zhang.head").get(f"{BOARD}/R-PROG").text
    assert actions(head) == ["add_measure", "report_progress", "complete", "reassign"]
    assert 'href="/console/cases/R-PROG/commands/complete"' in head and "整改完成" in head
    assert actions(console.client.get(f"{BOARD}/R-DONE").text) == ["reassign"]
    supervisor = console.as_user("du.cha").get(f"{BOARD}/R-DONE").text
    assert actions(supervisor) == ["verify", "reject", "reopen"]
    assert "核验通过" in supervisor and "退回整改" in supervisor
    verified = console.as_user("li.ming").get(f"{BOARD}/R-VER").text
    assert actions(verified) == [] and "当前没有您可办理的操作" in verified
    other = console.as_user("jiao.jing").get(f"{BOARD}/R-PROG")
    assert other.status_code == 404 and actions(other.text) == []


def test_another_departments_or_an_unknown_rectification_is_a_404_page(console: Console) -> None:
    client = console.as_user("li.ming")
    for case_id in ["R-JZ", "R-NONE"]:
        page = client.get(f"{BOARD}/{case_id}")
        assert page.status_code == 404 and "未找到整改" in page.text
        assert "孙警官" not in page.text
    assert console.as_user("du.cha").get(f"{BOARD}/R-JZ").status_code == 200


def test_signed_out_the_pages_send_to_sign_in(console: Console) -> None:
    console.client.cookies.clear()
    for path in [BOARD, f"{BOARD}/R-OPEN"]:
        answer = console.client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/signin"


def test_the_api_lists_rectifications_of_several_statuses(console: Console) -> None:
    console.client.cookies.clear()
    answer = console.client.get(
        "/rectifications",
        params=[("status", "open"), ("status", "rejected")],
        headers=auth_headers("legal"),
    )
    assert answer.status_code == 200, answer.text
    assert sorted(item["rectification_id"] for item in answer.json()["items"]) == [
        "R-OPEN",
        "R-REJ",
    ]
    one = console.client.get(
        "/rectifications",
        params={"status": "in_progress"},
        headers=auth_headers("department_head", OWN),
    )
    assert [item["rectification_id"] for item in one.json()["items"]] == ["R-PROG"]


def test_a_department_role_is_not_offered_a_department_filter(console: Console) -> None:
    assert 'name="department"' not in console.as_user("li.ming").get(BOARD).text
    assert 'name="department"' in console.as_user("du.cha").get(BOARD).text


PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 40 + b"%%EOF\n"


def test_an_evidence_files_link_downloads_it_through_the_files_route(console: Console) -> None:
    client = console.as_user("li.ming")
    home = client.get("/console/").text
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', home)
    assert token is not None
    uploaded = client.post(
        "/files",
        params={"name": "整改报告.pdf"},
        content=PDF,
        headers={"X-CSRF-Token": token.group(1)},
    )
    assert uploaded.status_code == 201, uploaded.text
    sha = hashlib.sha256(PDF).hexdigest()
    cited = {
        "sha256": sha,
        "name": "整改报告.pdf",
        "media_type": "application/pdf",
        "size": len(PDF),
    }
    project(
        console.engine,
        [opened("R-FILE", OWN, "李队长", 35), completed("R-FILE", 36, [cited])],
        first_offset=1000,
    )
    page = client.get(f"{BOARD}/R-FILE").text
    link = re.search(rf'<a href="(/files/{sha})" download>整改报告.pdf</a>', page)
    assert link is not None
    download = client.get(link.group(1))
    assert download.status_code == 200 and download.content == PDF
    stranger = console.as_user("jiao.jing")
    assert stranger.get(link.group(1)).status_code == 404
