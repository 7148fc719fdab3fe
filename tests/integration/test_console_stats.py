"""The console's 统计 page over real SQLite and PostgreSQL read models: its figures are GET
/stats's for the same period and scope (cases projected by the real ProjectionWriter, "now"
fixed), a department-bound reader sees their own department, a bad period is a 422 page naming
the field, the charts have one bar per department or month, and the 执法监督 block shows GET
/stats's enforcement figures."""

from __future__ import annotations

import html
import io
import itertools
import json
import re
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from casestream.domain.envelope import Event, parse_event
from casestream.read_models.database import create_engine
from casestream.read_models.outbox import Outbox
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import cases
from casestream.read_models.staff_accounts import StaffAccounts
from casestream.staff import add_account
from tests.auth import auth_headers
from tests.conftest import Database
from tests.console_app import console_client
from tests.events import event, local, raw
from tests.integration.test_console_signin import PASSWORD, sign_in
from tests.integration.test_stats import MARCH, NOW, POLICY, project, scenario

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

RATE_ROW = re.compile(
    r'<tr id="rate-(\w+)">\s*<th scope="row">[^<]+</th>\s*<td class="rate">([^<]+)</td>\s*'
    r'<td class="numerator">(\d+)</td>\s*<td class="denominator">(\d+)</td>'
)
SVG = re.compile(r'<svg [^>]*id="([\w-]+)" role="img"[^>]*>(.*?)</svg>', re.DOTALL)
ACCOUNTS = [
    ("fa.zhi", "legal", None),
    ("jiao.jing", "handler", "交警大队"),
    ("zhi.an", "department_head", "治安大队"),
]


def enforcement_march() -> list[Event[Any]]:
    """A March of 执法监督 in 治安大队: two 考评 reviews scored 82 and 91 (three opinions) and
            one still open; two 执法监督书 (the rectification of the first verified by
        project_enforcement); four 不予处罚 decisions of 2 March (公示 due
            within 7 working days): published on 4 March, published (then withdrawn) on 3 March,
            published late on 25 March, and never published; in April, one of 治安大队 not yet due and one
    of 交警大队."""
    unit = {"department": "治安大队"}
    decided = unit | {"legal_basis": "《行政处罚法》第三十三条第一款", "decided_on": "2026-03-02"}
    notice = unit | {"matters": ["规范告知程序"], "deadline": "2026-04-30"}
    review, notice_kind, decision = (
        "enforcement_review",
        "enforcement_notice",
        "enforcement_decision",
    )
    steps: list[tuple[str, str, str, dict[str, Any], str]] = [
        *(
            (
                "EnforcementReviewOpened",
                case_id,
                review,
                unit | {"decision_ref": ref, "reviewer": "张敏"},
                "03-02",
            )
            for case_id, ref in (
                ("KP-1", "公罚〔2026〕1号"),
                ("KP-2", "公罚〔2026〕2号"),
                ("KP-3", "公罚〔2026〕3号"),
            )
        ),
        (
            "ReviewOpinionIssued",
            "KP-1",
            review,
            {"category": "procedure", "text": "未告知"},
            "03-03",
        ),
        (
            "ReviewOpinionIssued",
            "KP-1",
            review,
            {"category": "evidence", "text": "缺照片"},
            "03-03",
        ),
        (
            "ReviewOpinionIssued",
            "KP-2",
            review,
            {"category": "procedure", "text": "超期送达"},
            "03-03",
        ),
        ("EnforcementReviewCompleted", "KP-1", review, {"score": 82}, "03-05"),
        ("EnforcementReviewCompleted", "KP-2", review, {"score": 91}, "03-05"),
        (
            "EnforcementNoticeIssued",
            "JDS-1",
            notice_kind,
            notice | {"notice_no": "监督〔2026〕1号"},
            "03-06",
        ),
        (
            "EnforcementNoticeIssued",
            "JDS-2",
            notice_kind,
            notice | {"notice_no": "监督〔2026〕2号"},
            "03-06",
        ),
        *(
            (
                "EnforcementDecisionRecorded",
                case_id,
                decision,
                decided | {"decision_ref": case_id, "exemption": ground},
                "03-02",
            )
            for case_id, ground in (
                ("BCF-1", "first_offence"),
                ("BCF-2", "minor"),
                ("BCF-3", "minor"),
                ("BCF-4", "no_fault"),
            )
        ),
        (
            "EnforcementDecisionRecorded",
            "BCF-5",
            decision,
            decided | {"decision_ref": "BCF-5", "exemption": "other", "decided_on": "2026-04-14"},
            "04-14",
        ),
        (
            "EnforcementDecisionRecorded",
            "BCF-6",
            decision,
            decided
            | {"decision_ref": "BCF-6", "exemption": "minor", "department": "交警大队"}
            | {"decided_on": "2026-04-13"},
            "04-13",
        ),
        ("EnforcementDecisionPublished", "BCF-1", decision, {"platform": "县政府网站"}, "03-04"),
        ("EnforcementDecisionPublished", "BCF-4", decision, {"platform": "县政府网站"}, "03-03"),
        (
            "EnforcementDecisionPublicationWithdrawn",
            "BCF-4",
            decision,
            {"reason": "决定撤销"},
            "03-05",
        ),
        ("EnforcementDecisionPublished", "BCF-2", decision, {"platform": "县政府网站"}, "03-25"),
    ]
    return [
        parse_event(raw(name, case_id, kind, payload, at=local(f"2026-{day}T10:00")))
        for name, case_id, kind, payload, day in steps
    ]


def _relay(engine: sa.Engine, writer: ProjectionWriter, offsets: Iterator[int]) -> None:
    """Project what the 执法监督书 derived (their rectifications, the notice rectified), as the
    worker's relay would; the scenario's own derived events are in scenario() already."""
    outbox = Outbox(engine)
    pending = [
        (item.event_id, parse_event(json.loads(item.body))) for item in outbox.unpublished(10_000)
    ]
    ours = [(event_id, item) for event_id, item in pending if "JDS-" in item.case_id]
    writer.apply_batch([ConsumedEvent("relayed.events", 0, next(offsets), e) for _, e in ours])
    outbox.mark_published([event_id for event_id, _ in ours])


def project_enforcement(database: Database) -> None:
    """The scenario of test_stats and enforcement_march(); the rectification of 执法监督书 1
    completed and verified on 20 March, so the notice is rectified."""
    project(database, scenario() + enforcement_march())
    engine = create_engine(database.url, database.schema)
    writer, offsets = ProjectionWriter(engine, POLICY), itertools.count()
    _relay(engine, writer, offsets)
    rect = "rectification"
    done = [
        event(
            "RectificationCompleted",
            "RECT-JDS-1",
            rect,
            {"evidence": ["告知书"]},
            at=local("2026-03-18T10:00"),
        ),
        event(
            "RectificationVerified",
            "RECT-JDS-1",
            rect,
            {"supervisor": "李督察"},
            at=local("2026-03-20T10:00"),
        ),
    ]
    writer.apply_batch([ConsumedEvent("relayed.events", 0, next(offsets), item) for item in done])
    _relay(engine, writer, offsets)
    engine.dispose()


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    project_enforcement(database)
    engine = create_engine(database.url, database.schema)
    for username, role, department in ACCOUNTS:
        add_account(
            StaffAccounts(engine),
            username,
            role=role,
            department=department,
            password=PASSWORD,
            now=NOW,
        )
    engine.dispose()
    with console_client(database, NOW, grafana_url="https://grafana.example.org/") as test_client:
        yield test_client


def page_as(client: TestClient, username: str, **params: str) -> httpx.Response:
    client.cookies.clear()  # a new reader: signed out of the last one's session
    assert sign_in(client, username).status_code == 303
    return client.get("/console/stats", params=params)


def api_figures(client: TestClient, role: str, bound_to: str | None, **params: str) -> Any:
    """GET /stats as `role` (of department `bound_to`)."""
    answer = client.get("/stats", params=params, headers=auth_headers(role, bound_to))
    assert answer.status_code == 200, answer.text
    return answer.json()


def expected_rates(body: dict[str, Any]) -> dict[str, tuple[int, int, float | None]]:
    """GET /stats's six rates as (numerator, denominator, rate)."""
    complaints, lawsuits = body["complaints"], body["lawsuits"]
    rects, reconsiderations = body["rectifications"], body["reconsiderations"]
    satisfaction = body["satisfaction"]
    return {
        "on_time": (
            complaints["resolved_on_time"],
            complaints["resolved_on_time"] + complaints["overdue"],
            complaints["on_time_rate"],
        ),
        "correction": (
            reconsiderations["corrections"],
            reconsiderations["decided"],
            reconsiderations["correction_rate"],
        ),
        "loss": (lawsuits["losses"], lawsuits["judged"], lawsuits["loss_rate"]),
        "appearance": (
            lawsuits["hearings_head_appeared"],
            lawsuits["hearings"],
            lawsuits["agency_head_appearance_rate"],
        ),
        "rectification": (
            rects["completed_on_time"],
            rects["completed_on_time"] + rects["overdue"],
            rects["on_time_rate"],
        ),
        "satisfaction": (
            satisfaction["satisfied"],
            satisfaction["visited"],
            satisfaction["satisfied_rate"],
        ),
    }


def shown_rates(html: str) -> dict[str, tuple[int, int, str]]:
    return {key: (int(num), int(den), rate) for key, rate, num, den in RATE_ROW.findall(html)}


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def assert_same_figures(html: str, body: dict[str, Any]) -> None:
    shown = shown_rates(html)
    expected = expected_rates(body)
    assert sorted(shown) == sorted(expected)
    for key, (numerator, denominator, rate) in expected.items():
        assert shown[key] == (numerator, denominator, percent(rate)), key


def charts(html: str) -> dict[str, str]:
    return dict(SVG.findall(html))


def bars(svg: str) -> int:
    return len(re.findall(r'<rect class="bar"', svg))


def test_the_page_shows_the_figures_of_get_stats_for_the_same_period(client: TestClient) -> None:
    page = page_as(client, "fa.zhi", **MARCH)
    assert page.status_code == 200, page.text
    assert "2026-03-01 至 2026-03-31" in page.text and "全局（全部部门）" in page.text
    body = api_figures(client, "legal", None, **MARCH)
    assert_same_figures(page.text, body)
    assert shown_rates(page.text)["on_time"] == (3, 5, "60.0%")  # the scenario's complaints
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_each_department_has_its_row_and_a_bar_in_each_rate_chart(client: TestClient) -> None:
    page = page_as(client, "fa.zhi", **MARCH)
    table = page.text.split('id="by-department"')[1].split("</table>")[0]
    departments = re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', table)
    assert departments == ["交警大队", "治安大队"]
    drawn = charts(page.text)
    assert len(drawn) == 7  # six rates by department, the cases received by month
    # 交警大队 has complaints only: its on-time rate has a bar, its loss rate none ("—")
    assert bars(drawn["chart-on_time"]) == 2
    assert bars(drawn["chart-loss"]) == 1
    assert "—" in drawn["chart-loss"]
    for svg in drawn.values():
        assert "<title " in svg and "<desc " in svg and "style=" not in svg
    for name in departments:
        body = api_figures(client, "legal", None, **MARCH, department=name)
        rates = expected_rates(body)
        row = table.split(f">{name}</a></th>")[1].split("</tr>")[0]
        cells = re.findall(r"<td>([^<]+)</td>", row)
        assert cells == [f"{percent(r)}（{n}/{d}）" for n, d, r in rates.values()]


def test_the_cases_received_per_month_add_up_to_the_figures_received(client: TestClient) -> None:
    period = {"from": "2026-01-01", "to": "2026-04-15"}
    page = page_as(client, "fa.zhi", **period)
    drawn = charts(page.text)["chart-received"]
    assert bars(drawn) == 4  # January to April
    table = page.text.split('id="received"')[1].split("</table>")[0]
    months = re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', table)
    assert [month for month, _ in months] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    body = api_figures(client, "legal", None, **period)
    received = (
        body["complaints"]["received"]
        + body["enterprise_tips"]["received"]
        + body["reconsiderations"]["received"]
        + body["lawsuits"]["filed"]
    )
    counts = [int(count) for _, count in months]
    assert sum(counts) == received and counts[0] == counts[1] == 0
    assert counts[3] == 2  # C6 (1 April, local) and T3
    assert '<text class="value" ' in drawn and ">2</text>" in drawn


def test_a_global_reader_may_choose_a_department(client: TestClient) -> None:
    page = page_as(client, "fa.zhi", **MARCH, department="交警大队")
    assert page.status_code == 200
    body = api_figures(client, "legal", None, **MARCH, department="交警大队")
    assert_same_figures(page.text, body)
    assert shown_rates(page.text)["on_time"] == (1, 1, "100.0%")


def test_a_department_bound_reader_sees_their_own_department_only(client: TestClient) -> None:
    page = page_as(client, "jiao.jing", **MARCH)
    assert page.status_code == 200
    assert "承办部门：交警大队（本部门）" in page.text
    body = api_figures(client, "handler", "交警大队", **MARCH)
    assert body["department"] == "交警大队"
    assert_same_figures(page.text, body)
    table = page.text.split('id="by-department"')[1].split("</table>")[0]
    assert "治安大队" not in page.text and table.count('<th scope="row">') == 1
    other = client.get("/console/stats", params=MARCH | {"department": "治安大队"})
    assert other.status_code == 403 and "交警大队" in other.text
    named = client.get("/console/stats", params=MARCH | {"department": "交警大队"})
    assert named.status_code == 200 and shown_rates(named.text) == shown_rates(page.text)
    head = page_as(client, "zhi.an", **MARCH)
    assert_same_figures(head.text, api_figures(client, "department_head", "治安大队", **MARCH))


def test_the_default_period_is_this_year_up_to_today(client: TestClient) -> None:
    page = page_as(client, "fa.zhi")
    assert page.status_code == 200
    assert 'value="2026-01-01"' in page.text and 'value="2026-04-15"' in page.text
    body = api_figures(client, "legal", None, **{"from": "2026-01-01", "to": "2026-04-15"})
    assert_same_figures(page.text, body)


def test_a_rate_without_a_denominator_shows_a_dash_not_zero(client: TestClient) -> None:
    page = page_as(client, "fa.zhi", **{"from": "2025-01-01", "to": "2025-12-31"})
    assert page.status_code == 200
    assert {rate for _, _, rate in shown_rates(page.text).values()} == {"—"}
    assert "0.0%" not in page.text and "本期没有收案" in page.text
    drawn = charts(page.text)
    assert list(drawn) == ["chart-received"] and bars(drawn["chart-received"]) == 12


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-13-01", "to": "2026-03-31"}, "from", "开始日期（from）不是有效日期"),
        ({"from": "2026-03-01", "to": "31/03/2026"}, "to", "结束日期（to）不是有效日期"),
        ({"from": "2026-W10-1", "to": "2026-03-31"}, "from", "开始日期（from）不是有效日期"),
        ({"from": "1800-01-01", "to": "2026-03-31"}, "from", "须在 1900-01-01 至 2999-12-31"),
        ({"from": "2026-03-31", "to": "2026-03-01"}, "to", "早于开始日期（from）"),
        ({"department": "部" * 201}, "department", "承办部门（department）不能超过"),
    ],
)
def test_a_bad_period_is_a_422_page_naming_the_field(
    client: TestClient, params: dict[str, str], field: str, message: str
) -> None:
    page = page_as(client, "fa.zhi", **params)
    assert page.status_code == 422
    assert message in page.text and 'role="alert"' in page.text
    assert f'aria-describedby="error-{field}"' in page.text
    assert "<svg" not in page.text  # no figures for a period that is not one
    api = client.get("/stats", params=params, headers=auth_headers("legal"))
    if field != "department":
        assert api.status_code == 422  # GET /stats refuses it too


def test_the_grafana_dashboards_are_linked_by_uid(client: TestClient) -> None:
    page = page_as(client, "fa.zhi", **MARCH)
    links = re.findall(r'<a href="(https://grafana[^"]+)"', page.text)
    assert links == [
        "https://grafana.example.org/d/casestream-leadership",
        "https://grafana.example.org/d/casestream-rectification",
        "https://grafana.example.org/d/casestream-operations",
    ]


def test_the_page_needs_a_signed_in_reader(client: TestClient) -> None:
    answer = client.get("/console/stats", params=MARCH, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/signin"


def test_department_names_are_escaped_in_tables_and_charts(
    client: TestClient, database: Database
) -> None:
    engine = create_engine(database.url, database.schema)
    moved = {"to_department": "<b>交警</b>", "reason": "转办"}
    transfer = event("ComplaintTransferred", "C4", "complaint", moved, at=local("2026-03-31T09:00"))
    ProjectionWriter(engine, POLICY).apply_batch([ConsumedEvent("cases.events", 0, 999, transfer)])
    with engine.connect() as conn:
        department = sa.select(cases.c.department).where(cases.c.case_id == "C4")
        assert conn.execute(department).scalar() == "<b>交警</b>"
    engine.dispose()
    page = page_as(client, "fa.zhi", **MARCH)
    assert "<b>交警</b>" not in page.text and "&lt;b&gt;交警&lt;/b&gt;" in page.text


ENFORCEMENT_ROW = re.compile(
    r'<tr id="enforcement-(\w+)-(\w+)"><th scope="row">([^<]+)</th><td>([^<]+)</td></tr>'
)


def shown_enforcement(html: str) -> dict[str, dict[str, tuple[str, str]]]:
    """The 执法监督 block's tables: {table: {row: (label, value)}}."""
    tables: dict[str, dict[str, tuple[str, str]]] = {}
    for table, key, name, value in ENFORCEMENT_ROW.findall(html):
        tables.setdefault(table, {})[key] = (name, value)
    return tables


def test_the_enforcement_block_shows_the_enforcement_figures_of_get_stats(
    client: TestClient,
) -> None:
    page = page_as(client, "fa.zhi", **MARCH)
    shown = shown_enforcement(page.text)
    body = api_figures(client, "legal", None, **MARCH)["enforcement"]
    reviews, notices, decisions = body["reviews"], body["notices"], body["decisions"]
    counts = {key: value for key, (_, value) in shown["counts"].items()}
    assert counts == {
        "reviewed": str(reviews["reviewed"]),
        "scored": str(reviews["scored"]),
        "average_score": f"{reviews['average_score']:.1f}",
        "opinions": str(reviews["opinions"]),
        "notices_issued": str(notices["issued"]),
        "notices_rectified": str(notices["rectified"]),
        "notices_rectified_rate": percent(notices["rectified_rate"]),
        "decisions_recorded": str(decisions["recorded"]),
        "decisions_published": str(decisions["published"]),
    }
    # the scenario's March, by hand
    assert counts["reviewed"] == "3" and counts["scored"] == "2"
    assert counts["average_score"] == "86.5" and counts["opinions"] == "3"
    assert (counts["notices_issued"], counts["notices_rectified"]) == ("2", "1")
    assert counts["notices_rectified_rate"] == "50.0%"
    opinions = shown["opinions"]
    assert {key: int(value) for key, (_, value) in opinions.items()} == reviews[
        "opinions_by_category"
    ]
    assert opinions["procedure"] == ("程序", "2") and opinions["evidence"] == ("证据", "1")
    grounds = shown["grounds"]
    assert {key: int(value) for key, (_, value) in grounds.items()} == decisions["by_exemption"]
    assert grounds["minor"] == ("轻微不罚", "2") and grounds["first_offence"] == ("首违不罚", "1")
    publication = {key: value for key, (_, value) in shown["publication"].items()}
    assert publication == {"on_time": "2", "late": "1", "overdue": "1", "on_time_rate": "50.0%"}
    assert int(publication["on_time"]) == decisions["published_on_time"]
    late, overdue = int(publication["late"]), int(publication["overdue"])
    assert late + overdue == decisions["overdue"]
    assert publication["on_time_rate"] == percent(decisions["on_time_rate"])


def test_another_departments_enforcement_figures_are_not_shown(client: TestClient) -> None:
    page = page_as(client, "jiao.jing", **MARCH)
    shown = shown_enforcement(page.text)
    assert shown["counts"]["reviewed"] == ("考评案件数", "0")
    assert shown["publication"]["on_time_rate"] == ("按时公示率", "—")
    body = api_figures(client, "handler", "交警大队", **MARCH)["enforcement"]
    assert body["decisions"]["recorded"] == 0


def test_the_enforcement_ledgers_of_the_period_download_with_the_session(
    client: TestClient,
) -> None:
    page = page_as(client, "fa.zhi", **MARCH)
    links = re.findall(r'<ul id="enforcement-ledgers">(.*?)</ul>', page.text, re.DOTALL)[0]
    hrefs = [html.unescape(href) for href in re.findall(r'<a href="([^"]+)"', links)]
    assert [href.split("?")[0] for href in hrefs] == [
        "/enforcement/decisions.xlsx",
        "/enforcement/notices.xlsx",
    ]
    decisions = client.get(hrefs[0])  # the console's session signs the download in
    assert decisions.status_code == 200, decisions.text
    sheet = load_workbook(io.BytesIO(decisions.content)).active
    ids = sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert ids == ["BCF-1", "BCF-2", "BCF-3", "BCF-4"]  # March's: not April's BCF-5, BCF-6
    own = page_as(client, "jiao.jing", **{"from": "2026-04-01", "to": "2026-04-30"})
    links = re.findall(r'<ul id="enforcement-ledgers">(.*?)</ul>', own.text, re.DOTALL)[0]
    href = html.unescape(re.findall(r'<a href="([^"]+)"', links)[0])
    sheet = load_workbook(io.BytesIO(client.get(href).content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["BCF-6"]
