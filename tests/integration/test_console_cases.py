"""案件列表 (/console/cases) and its export, over the real projection writer on SQLite and
PostgreSQL: each filter lists what GET /cases lists for the same account, the orders and the
下一页 links walk every case once, another department's cases never show, personal data is
masked for the roles the API masks it for, and the export holds the page's rows."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any

import pytest
from openpyxl import load_workbook

from casestream.api import console_cases
from casestream.read_models.database import create_engine
from casestream.read_models.staff_accounts import StaffAccounts
from casestream.staff import add_account
from tests.auth import auth_headers
from tests.case_list_scenario import DECISION, HOME, NOW, OTHER, project
from tests.conftest import Database
from tests.console_app import console_client
from tests.integration.test_console_signin import PASSWORD, sign_in

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ROW_LINK = re.compile(r'<th scope="row"><a href="/console/cases/([^"]+)">')
NEXT_LINK = re.compile(r'<a href="([^"]+)" rel="next" id="next-page">')
EXPORT_LINK = re.compile(r'<a href="([^"]+)" id="export-link">')
ACCOUNTS = {  # username: (role, department, API credentials of the same role and scope)
    "fa.zhi": ("legal", None),
    "ling.dao": ("leader", None),
    "li.ming": ("handler", HOME),
}


@dataclass
class Console:
    client: TestClient

    def as_user(self, username: str) -> None:
        self.client.cookies.clear()  # a browser of its own
        assert sign_in(self.client, username).status_code == 303

    def page(self, **params: Any) -> str:
        response = self.client.get("/console/cases", params=params)
        assert response.status_code == 200, response.text
        return response.text

    def listed(self, **params: Any) -> list[str]:
        return ROW_LINK.findall(self.page(**params))

    def api(self, username: str, **params: Any) -> list[str]:
        role, department = ACCOUNTS[username]
        response = self.client.get(
            "/cases", params=params, headers=auth_headers(role, department=department)
        )
        assert response.status_code == 200, response.text
        return [item["case_id"] for item in response.json()["items"]]


@pytest.fixture
def console(database: Database) -> Iterator[Console]:
    project(database)
    engine = create_engine(database.url, database.schema)
    accounts = StaffAccounts(engine)
    for username, (role, department) in ACCOUNTS.items():
        add_account(
            accounts, username, role=role, department=department, password=PASSWORD, now=NOW
        )
    engine.dispose()
    with console_client(database, NOW) as client:
        yield Console(client)


def test_the_list_sends_an_unsigned_in_visitor_to_sign_in(console: Console) -> None:
    for path in ("/console/cases", "/console/cases.xlsx"):
        answer = console.client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/console/signin"


def test_the_page_shows_each_case_with_chinese_labels_local_times_and_overdue_in_words(
    console: Console,
) -> None:
    console.as_user("fa.zhi")
    page = console.page(q="K-OVER")
    assert ROW_LINK.findall(page) == ["K-OVER"]
    row = page[page.index('<th scope="row">') :]
    row = row[: row.index("</tr>")]
    for shown in ("投诉", "已受理", HOME, "窗口", "张三", "2026-03-02 10:00", "2026-03-23"):
        assert shown in row, shown
    assert '<strong class="badge overdue">已超期</strong>' in row
    assert "已超期" not in console.page(q="K-SOON").split("<tbody>")[1]
    ent = console.page(q="K-ENT")
    assert "<strong>涉企</strong>" in ent and "来信" in ent
    for label in ("案件编号或文号", "案件类型", "来源渠道", "受理日期（起）", "督察关注"):
        assert label in page
    assert 'type="date"' in page and '<th scope="col">最近时限</th>' in page


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"channel": "window"},
        {"case_kind": "complaint", "status": "accepted"},
        {"enterprise_only": "true"},
        {"overdue": "true"},
        {"overdue": "false"},
        {"due_within": "3d"},
        {"due_within": "1w"},
        {"supervised": "true"},
        {"q": DECISION},
        {"q": "K-SOON"},
        {"department": HOME},
        {"sort": "due"},
        {"sort": "due", "overdue": "false", "case_kind": "complaint"},
    ],
)
def test_each_filter_lists_what_the_api_lists_for_the_same_account(
    console: Console, params: dict[str, str]
) -> None:
    for username in ("fa.zhi", "li.ming"):
        console.as_user(username)
        assert console.listed(**params) == console.api(username, **params), (username, params)


def test_the_filters_pick_out_the_expected_cases(console: Console) -> None:
    console.as_user("ling.dao")
    assert set(console.listed(overdue="true")) == {"K-OVER", "J-OVER"}
    assert console.listed(due_within="3d") == ["K-ENT"]
    assert console.listed(supervised="true") == ["K-SUP"]
    assert console.listed(channel="petition") == ["K-SUP"]
    assert console.listed(q=DECISION) == ["L-1", "R-1"]
    assert console.listed(q="  K-ENT ", case_kind="", status="") == ["K-ENT"]  # blanks: no filter
    assert console.listed(sort="due")[:2] == ["K-OVER", "J-OVER"]
    assert console.listed(sort="due")[-2:] == ["K-SUP", "R-1"]  # no open clock: last


def test_received_dates_are_whole_local_days(console: Console) -> None:
    console.as_user("fa.zhi")
    # K-DONE was received 2026-04-14 09:00 local (01:00 UTC), K-ENT on 10 April, L-1 on 8 April
    assert console.listed(received_from="2026-04-14", received_to="2026-04-14") == ["K-DONE"]
    assert console.listed(received_from="2026-04-08", received_to="2026-04-13") == ["K-ENT", "L-1"]
    assert console.listed(received_to="2026-03-02") == ["K-OVER"]


@pytest.mark.parametrize("sort", ["received", "due"])
def test_next_page_links_keep_the_filters_and_walk_every_case_once(
    console: Console, sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    console.as_user("fa.zhi")
    whole = console.listed(sort=sort, case_kind="complaint")
    assert len(whole) == 6
    monkeypatch.setattr(console_cases, "PAGE_SIZE", 2)
    page = console.page(sort=sort, case_kind="complaint")
    walked = ROW_LINK.findall(page)
    for _ in range(10):
        found = NEXT_LINK.search(page)
        if found is None:
            break
        link = unescape(found.group(1))
        assert "case_kind=complaint" in link and "cursor=" in link
        assert ("sort=due" in link) is (sort == "due")
        response = console.client.get(link)
        assert response.status_code == 200
        page = response.text
        walked += ROW_LINK.findall(page)
        assert "第一页" in page
    assert walked == whole


def test_another_departments_cases_never_show_and_department_cannot_widen_the_scope(
    console: Console,
) -> None:
    console.as_user("li.ming")
    assert "J-OVER" not in console.listed()
    assert "J-OVER" not in console.listed(overdue="true", sort="due")
    for params in ({"department": OTHER}, {"q": "J-OVER"}, {"department": OTHER, "sort": "due"}):
        page = console.page(**params)
        assert ROW_LINK.findall(page) == [] and "没有符合条件的案件" in page
    export = console.client.get("/console/cases.xlsx", params={"department": OTHER})
    assert export.status_code == 200 and sheet_ids(export.content) == []


def test_personal_data_is_masked_for_the_roles_the_api_masks_it_for(console: Console) -> None:
    for username, shown in (("fa.zhi", "张三"), ("ling.dao", "张*"), ("li.ming", "张*")):
        console.as_user(username)
        page = console.page(q="K-OVER")
        assert shown in page, username
        if shown != "张三":
            assert "张三" not in page
        export = console.client.get("/console/cases.xlsx", params={"q": "K-OVER"})
        assert shown in [cell for row in sheet_rows(export.content) for cell in row]


def sheet_rows(content: bytes) -> list[tuple[Any, ...]]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return list(sheet.iter_rows(min_row=2, values_only=True))


def sheet_ids(content: bytes) -> list[str]:
    return [str(row[0]) for row in sheet_rows(content)]


@pytest.mark.parametrize(
    "params",
    [{}, {"sort": "due"}, {"overdue": "true"}, {"q": DECISION}, {"received_from": "2026-04-01"}],
)
def test_the_export_link_downloads_the_rows_of_the_page(
    console: Console, params: dict[str, str]
) -> None:
    console.as_user("li.ming")
    page = console.page(**params)
    found = EXPORT_LINK.search(page)
    assert found is not None
    link = unescape(found.group(1))
    assert link.startswith("/console/cases.xlsx")
    export = console.client.get(link)
    assert export.status_code == 200, export.text
    assert export.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert sheet_ids(export.content) == ROW_LINK.findall(page)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"due_within": "soon"}, "due_within"),
        ({"received_from": "2026-02-30"}, "received_from"),
        ({"channel": "fax"}, "channel"),
        ({"q": "K" * 201}, "q"),
        ({"sort": "name"}, "sort"),
        ({"overdue": "maybe"}, "overdue"),
        ({"colour": "red"}, "colour"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"sort": "due", "cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_a_bad_query_shows_the_form_with_the_field_named(
    console: Console, params: dict[str, str], field: str
) -> None:
    console.as_user("fa.zhi")
    response = console.client.get("/console/cases", params=params)
    assert response.status_code == 422
    assert 'role="alert"' in response.text and f"（{field}）" in response.text
    assert ROW_LINK.findall(response.text) == []
    assert "Input should" not in response.text  # told in Chinese
    if field != "cursor":
        assert console.client.get("/console/cases.xlsx", params=params).status_code == 422


CARD = re.compile(
    r'<a id="count-(\w+)" href="(/console/cases[^"]*)">.*?data-count="(\d+)"', re.DOTALL
)


@pytest.mark.parametrize("username", ["li.ming", "fa.zhi"])
def test_each_workbench_count_of_cases_is_the_number_of_cases_its_link_lists(
    console: Console, username: str
) -> None:
    console.as_user(username)
    home = console.client.get("/console/")
    assert home.status_code == 200
    cards = CARD.findall(home.text)
    assert {key for key, _, _ in cards} >= {"overdue", "supervised"}
    for key, link, count in cards:
        page = console.client.get(unescape(link))
        assert page.status_code == 200, (key, link)
        assert len(ROW_LINK.findall(page.text)) == int(count), (key, link)
