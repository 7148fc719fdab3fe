"""The yearly report (年度报告) over one seeded read model per backend: two simulated years
(2025 and 2026) and the hand-made March 2026 of tests/integration/test_stats.py, projected by
the real ProjectionWriter, the losses' rectifications relayed from the outbox as a worker
would. Its figures are GET /stats's for the same year and department, in every format, and
the cases listed under a figure add up to it."""

from __future__ import annotations

import io
import json
import random
import uuid
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook
from typer.testing import CliRunner

from casestream.cli import app as cli_app
from casestream.domain.envelope import Event, parse_event
from casestream.producers.simulation import simulate
from casestream.read_models.annual_figures import ENFORCEMENT_FIGURES
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.figure_counts import FigureCounter
from casestream.read_models.outbox import Outbox
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.staff_accounts import StaffAccounts
from casestream.staff import add_account
from tests.auth import auth_headers
from tests.conftest import Database
from tests.console_app import console_client
from tests.events import raw
from tests.integration.test_console_signin import PASSWORD, sign_in
from tests.integration.test_stats import POLICY, scenario

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NOW = datetime.fromisoformat("2026-12-01T10:00:00+08:00")
YEAR = {"from": "2026-01-01", "to": "2026-12-31"}
LAST_YEAR = {"from": "2025-01-01", "to": "2025-12-31"}
REPORT = "/ledgers/annual-report"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# the report's figure → where GET /stats has it
STATS_OF = {
    "complaints.received": ("complaints", "received"),
    "complaints.closed": ("complaints", "resolved"),
    "complaints.closed_on_time": ("complaints", "resolved_on_time"),
    "complaints.overdue": ("complaints", "overdue"),
    "complaints.on_time_rate": ("complaints", "on_time_rate"),
    "satisfaction.visited": ("satisfaction", "visited"),
    "satisfaction.average_score": ("satisfaction", "average_score"),
    "satisfaction.satisfied": ("satisfaction", "satisfied"),
    "satisfaction.satisfied_rate": ("satisfaction", "satisfied_rate"),
    "supervision.flagged": ("supervision", "flagged"),
    "enterprise_complaints.received": ("enterprise_complaints", "received"),
    "enterprise_complaints.closed": ("enterprise_complaints", "resolved"),
    "enterprise_complaints.closed_on_time": ("enterprise_complaints", "resolved_on_time"),
    "enterprise_complaints.overdue": ("enterprise_complaints", "overdue"),
    "enterprise_complaints.on_time_rate": ("enterprise_complaints", "on_time_rate"),
    "enterprise_tips.received": ("enterprise_tips", "received"),
    "enterprise_tips.closed": ("enterprise_tips", "verified"),
    "enterprise_tips.closed_on_time": ("enterprise_tips", "verified_on_time"),
    "enterprise_tips.overdue": ("enterprise_tips", "overdue"),
    "enterprise_tips.on_time_rate": ("enterprise_tips", "on_time_rate"),
    "reconsiderations.received": ("reconsiderations", "received"),
    "reconsiderations.decided": ("reconsiderations", "decided"),
    "reconsiderations.corrections": ("reconsiderations", "corrections"),
    "reconsiderations.correction_rate": ("reconsiderations", "correction_rate"),
    "lawsuits.filed": ("lawsuits", "filed"),
    "lawsuits.judged": ("lawsuits", "judged"),
    "lawsuits.losses": ("lawsuits", "losses"),
    "lawsuits.loss_rate": ("lawsuits", "loss_rate"),
    "lawsuits.hearings": ("lawsuits", "hearings"),
    "lawsuits.hearings_head_appeared": ("lawsuits", "hearings_head_appeared"),
    "lawsuits.agency_head_appearance_rate": ("lawsuits", "agency_head_appearance_rate"),
    "rectifications.opened": ("rectifications", "opened"),
    "rectifications.completed": ("rectifications", "completed"),
    "rectifications.completed_on_time": ("rectifications", "completed_on_time"),
    "rectifications.overdue": ("rectifications", "overdue"),
    "rectifications.on_time_rate": ("rectifications", "on_time_rate"),
    "rectifications.cancelled": ("rectifications", "cancelled"),
}
BEYOND_STATS = {"reviews.opened", "reviews.completed", "rectifications.verified"}


# the report's 执法监督 figure → where GET /stats has it (its "enforcement" part)
ENFORCEMENT_STATS_OF = {
    "enforcement.enforcement_review.received": ("reviews", "reviewed"),
    "enforcement.enforcement_review.closed": ("reviews", "scored"),
    "enforcement.enforcement_review.opinions": ("reviews", "opinions"),
    "enforcement.enforcement_notice.received": ("notices", "issued"),
    "enforcement.enforcement_notice.closed": ("notices", "rectified"),
    "enforcement.enforcement_decision.received": ("decisions", "recorded"),
    "enforcement.enforcement_decision.closed": ("decisions", "published"),
    "enforcement.enforcement_decision.on_time": ("decisions", "published_on_time"),
    "enforcement.enforcement_decision.overdue": ("decisions", "overdue"),
}


def enforcement_2026() -> list[Event[Any]]:
    """A September of 执法监督 in 治安大队: a 考评 review with two opinions, scored; a 执法监督书;
    two 不予处罚 decisions, one published within its 7 working days, one never."""
    at = datetime.fromisoformat("2026-09-14T10:00:00+08:00")
    unit = {"department": "治安大队"}
    review = unit | {"decision_ref": "公罚〔2026〕12号", "reviewer": "张敏"}
    decided = unit | {"legal_basis": "《行政处罚法》第三十三条", "decided_on": "2026-09-14"}
    notice = unit | {"notice_no": "监督〔2026〕1号", "matters": ["规范告知程序"]}
    kinds = ("enforcement_review", "enforcement_notice", "enforcement_decision")
    review_kind, notice_kind, decision_kind = kinds
    steps = [
        ("EnforcementReviewOpened", "KP-1", review_kind, review, 0),
        (
            "ReviewOpinionIssued",
            "KP-1",
            review_kind,
            {"category": "procedure", "text": "未告知"},
            1,
        ),
        ("ReviewOpinionIssued", "KP-1", review_kind, {"category": "evidence", "text": "缺照片"}, 1),
        ("EnforcementReviewCompleted", "KP-1", review_kind, {"score": 82}, 2),
        ("EnforcementNoticeIssued", "JDS-1", notice_kind, notice | {"deadline": "2026-10-30"}, 2),
        *(
            (
                "EnforcementDecisionRecorded",
                case_id,
                decision_kind,
                decided | {"decision_ref": case_id, "exemption": ground},
                0,
            )
            for case_id, ground in (("BCF-1", "first_offence"), ("BCF-2", "minor"))
        ),
        ("EnforcementDecisionPublished", "BCF-1", decision_kind, {"platform": "县政府网站"}, 3),
    ]
    return [
        parse_event(raw(name, case_id, kind, payload, at=at, day=day))
        for name, case_id, kind, payload, day in steps
    ]


def two_years() -> list[Event[Any]]:
    """July–September of 2025 and of 2026, simulated, the March 2026 of test_stats and a
    September 2026 of 执法监督."""
    rng = random.Random(2026)
    events = [
        *simulate(rng, 150, datetime.fromisoformat("2025-10-01T18:00:00+08:00"), prefix="Y25"),
        *simulate(rng, 250, datetime.fromisoformat("2026-10-01T18:00:00+08:00"), prefix="Y26"),
        *scenario(),
        *enforcement_2026(),
    ]
    events.sort(key=lambda item: item.occurred_at)  # stable: a case's steps keep their order
    return events


def seed(database: Database) -> None:
    engine = create_engine(database.url, database.schema)
    migrate(engine, FigureCounter(POLICY.rulebook, POLICY.timezone).ensure)
    writer = ProjectionWriter(engine, POLICY)
    events = two_years()
    writer.apply_batch([ConsumedEvent("cases.events", 0, n, item) for n, item in enumerate(events)])
    # relayed as a worker would: the rectifications of the losses and 督察 flags; those of the
    # hand-made cases are in scenario() already
    by_hand = {item.case_id for item in scenario()}
    pending = [parse_event(json.loads(row.body)) for row in Outbox(engine).unpublished(10_000)]
    relayed = [item for item in pending if item.case_id not in by_hand]
    start = len(events)
    writer.apply_batch(
        [ConsumedEvent("cases.events", 0, start + n, item) for n, item in enumerate(relayed)]
    )
    staff = StaffAccounts(engine)
    add_account(staff, "fa.zhi", role="legal", department=None, password=PASSWORD, now=NOW)
    add_account(
        staff, "zhi.an", role="department_head", department="治安大队", password=PASSWORD, now=NOW
    )
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Database:
    """One read model of the two years per backend, shared by the module's tests."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("annual") / "rm.db"
        database = Database(f"sqlite:///{path}", None)
    else:
        database = Database(request.getfixturevalue("postgres_url"), f"t_{uuid.uuid4().hex[:12]}")
    seed(database)
    return database


@pytest.fixture
def api(seeded: Database) -> Iterator[TestClient]:
    with console_client(seeded, NOW) as client:
        client.headers.update(auth_headers("legal"))
        yield client


def get_json(api: TestClient, path: str, **params: str) -> Any:
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def figures_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        figure["key"]: figure for section in report["sections"] for figure in section["figures"]
    }


def expected(stats: dict[str, Any], key: str) -> Any:
    group, name = STATS_OF[key]
    return stats[group][name]


def test_every_figure_equals_get_stats_for_the_year_and_the_year_before(api: TestClient) -> None:
    for department in (None, "治安大队"):
        scope = {"department": department} if department else {}
        report = get_json(api, REPORT, year="2026", **scope)
        this_year = get_json(api, "/stats", **YEAR, **scope)
        last_year = get_json(api, "/stats", **LAST_YEAR, **scope)
        figures = figures_of(report)
        enforcement = {
            f"enforcement.{figure.kind.value}.{figure.name}" for figure in ENFORCEMENT_FIGURES
        }
        assert set(figures) == set(STATS_OF) | BEYOND_STATS | enforcement
        assert this_year["complaints"]["received"] > 0 and last_year["complaints"]["received"] > 0
        for key in STATS_OF:
            assert figures[key]["current"] == expected(this_year, key), key
            assert figures[key]["previous"] == expected(last_year, key), key
        for key, (group, name) in ENFORCEMENT_STATS_OF.items():
            assert figures[key]["current"] == this_year["enforcement"][group][name], key
            assert figures[key]["previous"] == last_year["enforcement"][group][name], key
        assert report["department"] == department
    loss_rate = figures["lawsuits.loss_rate"]
    if loss_rate["current"] is not None and loss_rate["previous"] is not None:
        shown = [round(loss_rate[name] * 100, 1) for name in ("current", "previous")]
        points = round(shown[0] - shown[1], 1)
        assert loss_rate["change"] == points
        assert loss_rate["change_text"].endswith("个百分点") or loss_rate["change_text"] == "持平"


def test_a_year_without_records_before_it_compares_with_a_dash(api: TestClient) -> None:
    report = get_json(api, REPORT, year="2025")
    received = figures_of(report)["complaints.received"]
    assert isinstance(received["current"], int) and received["current"] > 0
    assert received["previous"] is None and received["previous_text"] == "—"
    assert received["change_text"] == "—"
    enforcement = report["sections"][-1]
    assert enforcement["figures"] == [] and "本年度无" in enforcement["empty_text"]


def test_the_cases_listed_under_a_figure_add_up_to_it(api: TestClient) -> None:
    report = get_json(api, REPORT, year="2026", with_cases="true")
    figures = figures_of(report)
    for key, figure in figures.items():
        if figure["measure"] != "number":
            assert figure["cases"] == []
            continue
        assert sum(case["adds"] for case in figure["cases"]) == figure["current"], key
        assert all(case["received_on"].startswith("2026-") for case in figure["cases"]), key
    rect = {case["case_id"] for case in figures["rectifications.verified"]["cases"]}
    assert "RECT-R2" in rect  # verified by 督察李 on 9 April
    assert {case["case_id"] for case in figures["reviews.completed"]["cases"]} >= {"RECT-R2"}
    # C1 was received at 00:30 on 1 March local time: 28 February in UTC
    c1 = next(c for c in figures["complaints.received"]["cases"] if c["case_id"] == "C1")
    assert c1["received_on"] == "2026-03-01" and c1["department"] == "治安大队"


def docx_tables(content: bytes) -> dict[str, list[str]]:
    """The figure tables of the Word document: label → [本年, 上年, 增减, 口径]."""
    rows: dict[str, list[str]] = {}
    for table in Document(io.BytesIO(content)).tables:
        header = [cell.text for cell in table.rows[0].cells]
        if header[0] != "指标":
            continue
        assert header[1:4] == ["2026年", "2025年", "增减"]
        for row in table.rows[1:]:
            label, *values = [cell.text for cell in row.cells]
            rows.setdefault(label, values)
    return rows


def test_the_word_document_holds_the_figures_of_get_stats(api: TestClient) -> None:
    response = api.get(REPORT, params={"year": "2026", "format": "docx", "with_cases": "true"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == DOCX
    assert 'filename="annual-report-2026.docx"' in response.headers["content-disposition"]
    tables = docx_tables(response.content)
    this_year = get_json(api, "/stats", **YEAR)
    last_year = get_json(api, "/stats", **LAST_YEAR)
    received, previous, change, _ = tables["受理投诉（件）"]
    now_count, then_count = this_year["complaints"]["received"], last_year["complaints"]["received"]
    assert (int(received), int(previous)) == (now_count, then_count)
    assert change == (f"{now_count - then_count:+d}" if now_count != then_count else "持平")
    assert tables["败诉（件）"][:2] == [
        str(this_year["lawsuits"]["losses"]),
        str(last_year["lawsuits"]["losses"]),
    ]
    rate = this_year["lawsuits"]["agency_head_appearance_rate"]
    assert tables["负责人出庭应诉率"][0] == ("—" if rate is None else f"{rate * 100:.1f}%")
    satisfied = this_year["satisfaction"]["satisfied_rate"]
    assert tables["满意率"][0] == ("—" if satisfied is None else f"{satisfied * 100:.1f}%")
    document = Document(io.BytesIO(response.content))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:6] == [
        "一、投诉办理与回访满意度",
        "二、涉企投诉与涉企举报线索",
        "三、行政复议",
        "四、行政诉讼",
        "五、败诉、纠错案件复盘与整改",
        "六、执法监督与不予处罚、轻微免罚决定及公示",
    ]
    assert "附：各项数字所计案件" in headings
    # 执法监督: one review with two opinions, one notice, two decisions, one published on time
    assert tables["执法质量考评案件（件）"][:3] == ["1", "0", "+1"]
    assert tables["评查意见（条）"][0] == "2" and tables["其中：程序（条）"][0] == "1"
    assert tables["制发执法监督书（份）"][0] == "1"
    assert tables["不予处罚、轻微免罚决定（件）"][0] == "2"
    assert tables["其中：首违不罚（件）"][0] == "1"
    assert (tables["已公示（件）"][0], tables["按期公示（件）"][0]) == ("1", "1")
    listed = {
        row.cells[0].text
        for table in document.tables
        if table.rows[0].cells[0].text == "案件编号"
        for row in table.rows[1:]
    }
    assert {"C1", "L1", "RECT-R2"} <= listed


def test_the_workbook_holds_the_figures_as_numbers(api: TestClient) -> None:
    response = api.get(REPORT, params={"year": "2026", "format": "xlsx", "with_cases": "true"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["年度报告", "所计案件"]
    rows: dict[Any, tuple[Any, ...]] = {}
    for row in workbook["年度报告"].iter_rows(values_only=True):
        rows.setdefault(row[0], row[1:])  # a label twice (审结): the first section's
    this_year = get_json(api, "/stats", **YEAR)
    last_year = get_json(api, "/stats", **LAST_YEAR)
    assert rows["被诉立案（件）"][:2] == (
        this_year["lawsuits"]["filed"],
        last_year["lawsuits"]["filed"],
    )
    decided = rows["审结（件）"]  # the first is 行政复议's
    assert decided[0] == this_year["reconsiderations"]["decided"]
    rate = rows["纠错率"][0]
    assert rate == (this_year["reconsiderations"]["correction_rate"] or "—")
    cases = list(workbook["所计案件"].iter_rows(values_only=True))
    assert cases[0] == ("指标编号", "指标", "案件编号", "受理日期", "承办部门", "计数")
    filed = [row for row in cases[1:] if row[0] == "lawsuits.filed"]
    assert len(filed) == this_year["lawsuits"]["filed"]


def test_a_department_head_gets_their_departments_report_only(api: TestClient) -> None:
    head = auth_headers("department_head", "治安大队")
    response = api.get(REPORT, params={"year": "2026", "with_cases": "true"}, headers=head)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["department"] == "治安大队"
    own_stats = api.get("/stats", params=YEAR, headers=head).json()
    figures = figures_of(report)
    assert figures["complaints.received"]["current"] == own_stats["complaints"]["received"]
    departments = {case["department"] for figure in figures.values() for case in figure["cases"]}
    assert departments == {"治安大队"}
    other = api.get(REPORT, params={"year": "2026", "department": "交警大队"}, headers=head)
    assert other.status_code == 403 and "omit department" in other.json()["detail"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"year": "twenty"}, "year"),
        ({"year": "1900"}, "year"),
        ({"year": "2026", "format": "pdf"}, "format"),
        ({"year": "2026", "department": "x" * 201}, "department"),
        ({"year": "2026", "department": "治安\x00大队"}, "department"),
        ({}, "year"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field(
    api: TestClient, params: dict[str, str], field: str
) -> None:
    response = api.get(REPORT, params=params)
    assert response.status_code == 422, response.text
    assert ["query", field] in [error["loc"] for error in response.json()["detail"]]


def test_a_department_no_document_can_hold_still_gets_its_documents(api: TestClient) -> None:
    for document_format in ("docx", "xlsx"):
        params = {"year": "2026", "department": "治安大队\uffff", "format": document_format}
        assert api.get(REPORT, params=params).status_code == 200


def test_the_console_page_shows_the_sections_and_download_links(api: TestClient) -> None:
    api.headers.pop("Authorization")
    assert sign_in(api, "zhi.an").status_code == 303
    page = api.get("/console/annual-report", params={"year": "2026"})
    assert page.status_code == 200, page.text
    assert '<a href="/console/annual-report" aria-current="page">年度报告</a>' in page.text
    assert "六、执法监督与不予处罚、轻微免罚决定及公示" in page.text
    assert "承办部门：治安大队（本部门）" in page.text
    assert f'href="{REPORT}?year=2026&amp;format=docx"' in page.text
    own = get_json(api, REPORT, year="2026")  # the session's cookie is a credential too
    received = figures_of(own)["complaints.received"]
    assert (
        '<tr id="figure-complaints-received">\n        <th scope="row">受理投诉（件）</th>\n'
        f'        <td class="current">{received["current_text"]}</td>'
    ) in page.text
    other = api.get("/console/annual-report", params={"department": "交警大队"})
    assert other.status_code == 403
    bad = api.get("/console/annual-report", params={"year": "20x6"})
    assert bad.status_code == 422 and 'id="error-year"' in bad.text


def test_the_command_writes_the_report_as_markdown_with_the_cases(
    seeded: Database, tmp_path: Path, api: TestClient
) -> None:
    output = tmp_path / "report.md"
    result = CliRunner().invoke(
        cli_app,
        [
            "report",
            "--year",
            "2026",
            "--department",
            "治安大队",
            "--format",
            "md",
            "--output",
            str(output),
            "--with-cases",
        ],
        env={**seeded.env(), "CASESTREAM_KAFKA_BOOTSTRAP": ""},
    )
    assert result.exit_code == 0, result.output
    text = output.read_text()
    assert text.startswith("# 2026年度法治政府建设工作报告（数据部分）")
    for heading in ("## 一、投诉办理与回访满意度", "## 四、行政诉讼", "## 附：各项数字所计案件"):
        assert heading in text
    received = get_json(api, "/stats", **YEAR, department="治安大队")["complaints"]["received"]
    assert f"| 受理投诉（件） | {received} |" in text
    assert "| C1 | 2026-03-01 | 治安大队 | 1 |" in text
