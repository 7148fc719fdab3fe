"""The console's command forms and 登记 in-process (TestClient) against a real Kafka broker and a
SQLite read model: every command of the catalogue renders as a form; a posted form is carried
out by the API's own command path, signed by the session's user, and answered as a person
meets it (303 to the case once projected, the form again with the reason for a refusal, the
field's message for a 422, 404 for another department's case, 403 without the CSRF token).

The worker is stood in for by a thread that projects the command's outbox rows through the
real projection writer, so the API's wait for its read models is met as in production."""

from __future__ import annotations

import json
import re
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from casestream.api.app import create_app
from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.command_catalogue import COMMANDS
from casestream.domain.envelope import parse_event
from casestream.domain.rules import load_rulebook
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import outbox
from casestream.read_models.staff_accounts import StaffAccounts
from casestream.settings import Settings
from casestream.staff import add_account
from tests.auth import TEST_SECRET
from tests.conftest import fresh_topics
from tests.events import raw

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
DEPARTMENT = "治安大队"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
BODY_CAP = 64 * 1024  # a JSON body, a form's text
FILE_CAP = 1024 * 1024  # an evidence file
ACCOUNTS = [
    ("li.ming", "handler", DEPARTMENT),
    ("wang.head", "department_head", DEPARTMENT),
    ("fa.zhi", "legal", None),
    ("du.cha", "supervisor", None),
]


# a case of each other kind, for their forms
OTHER_KINDS = [
    ("TipReceived", "JB-ZA-1", "enterprise_tip", {"enterprise": "某公司", "subject": "无证经营"}),
    (
        "ReconsiderationApplied",
        "FY-ZA-1",
        "reconsideration",
        {"applicant": {"name": "赵六"}, "decision_ref": "D-1", "reconsideration_body": "市政府"},
    ),
    (
        "LawsuitFiled",
        "SS-ZA-1",
        "litigation",
        {"court": "县人民法院", "plaintiff": {"name": "王伟"}, "decision_ref": "D-2"},
    ),
    (
        "EnforcementReviewOpened",
        "KP-ZA-1",
        "enforcement_review",
        {"decision_ref": "D-3", "reviewer": "fa.zhi"},
    ),
    (
        "EnforcementNoticeIssued",
        "JDS-ZA-1",
        "enforcement_notice",
        {"notice_no": "公法监字〔2026〕1号", "matters": ["补正告知程序"], "deadline": "2026-12-31"},
    ),
    (
        "EnforcementDecisionRecorded",
        "BCF-ZA-1",
        "enforcement_decision",
        {
            "decision_ref": "D-4",
            "exemption": "minor",
            "legal_basis": "《行政处罚法》第三十三条第一款",
            "decided_on": "2026-03-02",
        },
    ),
]


class OutboxProjector:
    """Projects every outbox row through the projection writer, as the worker would project
    the events from Kafka (the API waits for its read models before it answers)."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._writer = ProjectionWriter(engine, ClockPolicy(load_rulebook(), load_calendar()))
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.offset = 1000

    def apply(self, *bodies: dict[str, Any]) -> None:
        batch = []
        for body in bodies:
            self.offset += 1
            batch.append(ConsumedEvent("console-actions", 0, self.offset, parse_event(body)))
        self._writer.apply_batch(batch)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            with self._engine.connect() as conn:
                rows = conn.execute(
                    sa.select(outbox.c.event_id, outbox.c.body).order_by(
                        outbox.c.occurred_at, outbox.c.event_id
                    )
                ).all()
            fresh = [row for row in rows if row.event_id not in self._seen]
            if fresh:
                self.apply(*(json.loads(row.body) for row in fresh))
                self._seen.update(row.event_id for row in fresh)

    def __enter__(self) -> OutboxProjector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Console:
    client: TestClient
    engine: sa.Engine
    projector: OutboxProjector
    evidence_dir: Path

    def sign_in(self, username: str) -> str:
        """Sign in as `username` (the client's cookie); the session's CSRF token."""
        self.client.cookies.clear()  # a signed-in browser is sent home by the sign-in page
        page = self.client.get("/console/signin")
        token = CSRF_FIELD.search(page.text)
        assert token is not None
        form = {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
        signed = self.client.post("/console/signin", data=form, follow_redirects=False)
        assert signed.status_code == 303, signed.text
        home = self.client.get("/console/")
        found = CSRF_FIELD.search(home.text)
        assert found is not None
        return found.group(1)

    def post(
        self,
        path: str,
        fields: dict[str, str | list[str]],
        files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    ) -> httpx.Response:
        """Post a form as the browser does: multipart (a file input always sends a part)."""
        parts = files or [("files", ("", b"", "application/octet-stream"))]
        return self.client.post(path, data=fields, files=parts, follow_redirects=False)

    def status(self, case_id: str) -> tuple[str, int]:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT status, version FROM cases WHERE case_id = :id"), {"id": case_id}
            ).one()
        return str(row.status), int(row.version)


def _complaint(case_id: str, department: str) -> dict[str, Any]:
    at = datetime.now(UTC)
    payload = {"channel": "window", "subject": "窗口办事慢", "department": department}
    return raw("ComplaintReceived", case_id, "complaint", payload, at=at)


@pytest.fixture
def console(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Console]:
    engine = create_engine(f"sqlite:///{tmp_path / 'console.db'}")
    migrate(engine)
    accounts = StaffAccounts(engine)
    for username, role, department in ACCOUNTS:
        add_account(
            accounts,
            username,
            role=role,
            department=department,
            password=PASSWORD,
            now=datetime.now(UTC),
        )
    topics = fresh_topics(kafka_bootstrap)
    settings = Settings(
        database_url=str(engine.url),
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topics.prefix,
        auth_secret=TEST_SECRET,
        command_wait_seconds=10,
        var_dir=tmp_path / "var",
        evidence_dir=tmp_path / "evidence",
        max_body_bytes=BODY_CAP,
        max_file_bytes=FILE_CAP,
    )
    with OutboxProjector(engine) as projector:
        projector.apply(
            _complaint("TS-ZA-1", DEPARTMENT),
            _complaint("TS-HZ-1", "户政大队"),
            raw(
                "RectificationOpened",
                "RECT-ZA-1",
                "rectification",
                {"department": DEPARTMENT, "responsible_person": "王五"},
                at=datetime.now(UTC),
            ),
            *(
                raw(event_type, case_id, kind, {**payload, "department": DEPARTMENT})
                for event_type, case_id, kind, payload in OTHER_KINDS
            ),
        )
        with TestClient(create_app(settings), base_url="https://testserver") as client:
            yield Console(client, engine, projector, tmp_path / "evidence")
    engine.dispose()


def test_every_command_of_the_catalogue_renders_as_a_form(console: Console) -> None:
    console.sign_in("fa.zhi")  # legal: sees every department
    cases = {"complaint": "TS-ZA-1", "rectification": "RECT-ZA-1"}
    cases |= {kind: case_id for _, case_id, kind, _ in OTHER_KINDS}
    rendered = 0
    for (kind, name), handler in sorted(COMMANDS.items()):
        model = handler.model
        if model.opens_case:
            continue
        case_id = cases[kind.value]
        rendered += 1
        page = console.client.get(f"/console/cases/{case_id}/commands/{name}")
        assert page.status_code in (200, 403), (name, page.text)
        assert f"<h1>{model.label_zh}</h1>" in page.text
        for field in model.model_fields:
            assert f'name="{field}' in page.text, (kind, name, field)
    assert rendered == sum(not h.model.opens_case for h in COMMANDS.values())


def test_forms_of_every_kind_map_each_field_to_its_input() -> None:
    """The form of every command, of every kind, offers an input for each of its fields."""
    from casestream.api.console_forms import Widget, command_fields

    widgets = set()
    for handler in COMMANDS.values():
        fields = command_fields(handler.model)
        names = {field.name.split(".")[0] for field in fields}
        assert names == set(handler.model.model_fields), handler.model.name
        widgets |= {field.widget for field in fields}
    # the catalogue has no datetime field today; every other input is used
    assert widgets == set(Widget) - {Widget.datetime}


def test_the_form_shows_labels_in_chinese_with_bounds_and_choices(console: Console) -> None:
    console.sign_in("li.ming")
    page = console.client.get("/console/cases/TS-ZA-1/commands/resolve")
    assert page.status_code == 200, page.text
    text = page.text
    assert "<h1>办结</h1>" in text and "办理结果" in text
    assert '<option value="substantiated">属实</option>' in text
    assert 'maxlength="10000"' in text and "<textarea" in text
    assert 'name="expected_version" value="1"' in text
    follow_up = console.client.get("/console/cases/TS-ZA-1/commands/record_follow_up").text
    assert 'type="number"' in follow_up and 'min="1"' in follow_up and 'max="5"' in follow_up


def test_a_posted_form_is_carried_out_and_redirects_to_the_case(console: Console) -> None:
    token = console.sign_in("li.ming")
    answer = console.post("/console/cases/TS-ZA-1/commands/accept", {"csrf_token": token})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/console/cases/TS-ZA-1"
    assert console.status("TS-ZA-1") == ("accepted", 2)
    with console.engine.connect() as conn:
        body = json.loads(conn.execute(sa.select(outbox.c.body)).scalars().all()[-1])
    assert body["actor"] == "li.ming"  # the signed-in user
    answer = console.post(
        "/console/cases/TS-ZA-1/commands/reply",
        {"csrf_token": token, "reply": "已整改窗口流程", "expected_version": "2"},
    )
    assert answer.status_code == 303, answer.text
    assert console.status("TS-ZA-1") == ("replied", 3)


def test_a_refusal_by_state_shows_the_form_again_with_the_reason(console: Console) -> None:
    token = console.sign_in("li.ming")
    answer = console.post(
        "/console/cases/TS-ZA-1/commands/reply", {"csrf_token": token, "reply": "答复内容"}
    )
    assert answer.status_code == 409, answer.text
    assert "案件当前状态为「新收」，不能执行「答复」：仅在「" in answer.text
    assert ">答复内容</textarea>" in answer.text  # what was typed is kept
    assert console.status("TS-ZA-1") == ("received", 1)


def test_a_stale_form_is_refused_as_the_api_refuses_a_stale_version(console: Console) -> None:
    token = console.sign_in("li.ming")
    accepted = console.post("/console/cases/TS-ZA-1/commands/accept", {"csrf_token": token})
    assert accepted.status_code == 303
    stale = console.post(
        "/console/cases/TS-ZA-1/commands/reply",
        {"csrf_token": token, "reply": "答复", "expected_version": "1"},
    )
    assert stale.status_code == 409, stale.text
    assert "案件已被更新（当前版本 2）" in stale.text
    assert 'name="expected_version" value="2"' in stale.text


def test_a_role_the_command_does_not_name_is_refused_with_the_roles_that_may(
    console: Console,
) -> None:
    token = console.sign_in("li.ming")  # a handler may not 交办
    page = console.client.get("/console/cases/TS-ZA-1/commands/assign")
    assert page.status_code == 403
    assert "您的角色（承办人）不能执行「交办」" in page.text
    answer = console.post(
        "/console/cases/TS-ZA-1/commands/assign", {"csrf_token": token, "department": "户政大队"}
    )
    assert answer.status_code == 403, answer.text
    assert "可执行的角色：" in answer.text and "部门负责人" in answer.text
    assert console.status("TS-ZA-1") == ("received", 1)


def test_a_field_at_fault_is_named_next_to_it_with_the_typed_values_kept(
    console: Console,
) -> None:
    token = console.sign_in("li.ming")
    console.post("/console/cases/TS-ZA-1/commands/accept", {"csrf_token": token})
    too_long = "长" * 2500
    answer = console.post(
        "/console/cases/TS-ZA-1/commands/reply", {"csrf_token": token, "reply": too_long}
    )
    assert answer.status_code == 422, answer.text
    assert 'id="f-reply-error">不能超过 2000 个字。' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert "长" * 2001 not in answer.text and "长" * 2000 in answer.text  # at most its bound
    missing = console.post("/console/cases/TS-ZA-1/commands/resolve", {"csrf_token": token})
    assert missing.status_code == 422
    assert 'id="f-outcome-error">此项必填。' in missing.text


def test_another_departments_case_is_a_404_page(console: Console) -> None:
    token = console.sign_in("li.ming")
    page = console.client.get("/console/cases/TS-HZ-1/commands/accept")
    assert page.status_code == 404 and "未找到" in page.text
    unknown = console.client.get("/console/cases/NOPE-1/commands/accept")
    assert unknown.status_code == 404
    answer = console.post("/console/cases/TS-HZ-1/commands/accept", {"csrf_token": token})
    assert answer.status_code == 404
    assert console.status("TS-HZ-1") == ("received", 1)
    assert console.client.get("/console/cases/TS-ZA-1/commands/no_such").status_code == 404
    assert console.client.get("/console/cases/TS-ZA-1/commands/register").status_code == 404


def test_a_post_without_the_sessions_csrf_token_is_refused(console: Console) -> None:
    console.sign_in("li.ming")
    for fields in ({}, {"csrf_token": "forged"}):
        answer = console.post("/console/cases/TS-ZA-1/commands/accept", fields)
        assert answer.status_code == 403, answer.text
        assert "CSRF" in answer.text
    urlencoded = console.client.post(
        "/console/cases/TS-ZA-1/commands/accept", data={}, follow_redirects=False
    )
    assert urlencoded.status_code == 403
    assert console.status("TS-ZA-1") == ("received", 1)


def test_without_a_session_the_form_sends_to_the_sign_in_page(console: Console) -> None:
    page = console.client.get("/console/cases/TS-ZA-1/commands/accept", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/console/signin"


def test_evidence_files_are_uploaded_through_the_form_and_cited(console: Console) -> None:
    token = console.sign_in("wang.head")
    answer = console.post(
        "/console/cases/RECT-ZA-1/commands/complete",
        {"csrf_token": token, "evidence": "培训记录\n制度文件", "summary": "已完成"},
        files=[("files", ("整改报告.pdf", PDF, "application/pdf"))],
    )
    assert answer.status_code == 303, answer.text
    assert console.status("RECT-ZA-1")[0] == "completed"
    with console.engine.connect() as conn:
        body = json.loads(conn.execute(sa.select(outbox.c.body)).scalars().all()[-1])
    assert body["payload"]["evidence"] == ["培训记录", "制度文件"]
    [cited] = body["payload"]["files"]
    assert cited["name"] == "整改报告.pdf" and cited["media_type"] == "application/pdf"
    assert cited["size"] == len(PDF)


def test_a_file_of_no_evidence_type_is_refused_next_to_the_file_input(console: Console) -> None:
    token = console.sign_in("wang.head")
    answer = console.post(
        "/console/cases/RECT-ZA-1/commands/complete",
        {"csrf_token": token, "evidence": "培训记录"},
        files=[("files", ("run.sh", b"#!/bin/sh\necho hi\n", "text/plain"))],
    )
    assert answer.status_code == 422, answer.text
    assert "文件「run.sh」的类型不受支持" in answer.text
    assert console.status("RECT-ZA-1")[0] == "open"


def test_the_register_page_offers_each_kind_and_its_registering_form(console: Console) -> None:
    console.sign_in("li.ming")
    choice = console.client.get("/console/register")
    assert choice.status_code == 200
    for kind in ("complaint", "enterprise_tip", "reconsideration", "litigation"):
        assert f"/console/register/{kind}" in choice.text or "仅" in choice.text
    assert 'href="/console/register/complaint"' in choice.text
    assert "仅法制员可登记" in choice.text  # a handler may not register a lawsuit
    form = console.client.get("/console/register/complaint")
    assert form.status_code == 200 and "<h1>登记投诉</h1>" in form.text
    assert f'name="department" value="{DEPARTMENT}"' in form.text
    assert '<option value="window">窗口</option>' in form.text
    assert console.client.get("/console/register/rectification").status_code == 404
    console.sign_in("fa.zhi")
    for kind in (
        "enterprise_tip",
        "reconsideration",
        "litigation",
        "enforcement_review",
        "enforcement_notice",
        "enforcement_decision",
    ):
        page = console.client.get(f"/console/register/{kind}")
        assert page.status_code == 200, (kind, page.text)


def test_registering_a_window_complaint_redirects_to_the_new_case(console: Console) -> None:
    token = console.sign_in("li.ming")
    fields = {
        "csrf_token": token,
        "case_id": "TS-NEW-1",
        "channel": "window",
        "subject": "窗口排队时间长",
        "complainant.name": "张三",
        "complainant.phone": "13800000000",
        "department": DEPARTMENT,
    }
    answer = console.post("/console/register/complaint", fields)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/console/cases/TS-NEW-1"
    assert console.status("TS-NEW-1") == ("received", 1)
    again = console.post("/console/register/complaint", fields)
    assert again.status_code == 409
    assert "该案件编号已被使用" in again.text


def test_registering_for_another_department_or_with_a_bad_id_is_refused(console: Console) -> None:
    token = console.sign_in("li.ming")
    fields = {"csrf_token": token, "channel": "window", "subject": "事由"}
    other = console.post(
        "/console/register/complaint", {**fields, "case_id": "TS-X-1", "department": "户政大队"}
    )
    assert other.status_code == 403, other.text
    assert "您只能登记本部门（治安大队）的案件" in other.text
    bad = console.post(
        "/console/register/complaint", {**fields, "case_id": "含空格 的编号", "department": ""}
    )
    assert bad.status_code == 422
    assert 'id="f-case_id-error">请填写案件编号' in bad.text
    hotline = console.post(
        "/console/register/complaint",
        {**fields, "case_id": "TS-X-2", "channel": "hotline_12345", "department": DEPARTMENT},
    )
    assert hotline.status_code == 422
    assert 'id="f-channel-error">填写有误' in hotline.text


def test_a_file_larger_than_a_json_body_but_within_the_file_cap_is_taken(
    console: Console,
) -> None:
    token = console.sign_in("wang.head")
    scan = PDF + b"0" * (4 * BODY_CAP)  # a scanned report: larger than any JSON body
    answer = console.post(
        "/console/cases/RECT-ZA-1/commands/complete",
        {"csrf_token": token, "evidence": "扫描件"},
        files=[("files", ("扫描件.pdf", scan, "application/pdf"))],
    )
    assert answer.status_code == 303, answer.text
    assert console.status("RECT-ZA-1")[0] == "completed"


def test_a_file_over_the_file_cap_is_refused_next_to_the_file_input(console: Console) -> None:
    token = console.sign_in("wang.head")
    answer = console.post(
        "/console/cases/RECT-ZA-1/commands/complete",
        {"csrf_token": token, "evidence": "扫描件"},
        files=[("files", ("大文件.pdf", PDF + b"0" * FILE_CAP, "application/pdf"))],
    )
    assert answer.status_code == 422, answer.text
    assert "文件「大文件.pdf」超过 1 MB 的上限" in answer.text
    assert console.status("RECT-ZA-1")[0] == "open"


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[tuple[sa.Engine, Path]]:
    """A read model with one complaint and a handler, for an API without a broker."""
    engine = create_engine(f"sqlite:///{tmp_path / 'offline.db'}")
    migrate(engine)
    add_account(
        StaffAccounts(engine),
        "li.ming",
        role="handler",
        department=DEPARTMENT,
        password=PASSWORD,
        now=datetime.now(UTC),
    )
    OutboxProjector(engine).apply(_complaint("TS-ZA-1", DEPARTMENT))
    yield engine, tmp_path
    engine.dispose()


@pytest.mark.parametrize(
    ("kafka", "status", "words"),
    [
        (None, 503, "消息服务（Kafka）暂时不可用，本次操作未执行"),
        ("127.0.0.1:1", 202, "操作已提交"),
    ],
    ids=["without-kafka", "broker-away"],
)
def test_without_kafka_the_form_says_so_and_with_the_broker_away_it_is_kept_for_the_relay(
    offline: tuple[sa.Engine, Path], kafka: str | None, status: int, words: str
) -> None:
    engine, tmp_path = offline
    settings = Settings(
        database_url=str(engine.url),
        kafka_bootstrap=kafka,
        auth_secret=TEST_SECRET,
        command_wait_seconds=0.3,
        var_dir=tmp_path / "var",
    )
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        console = Console(client, engine, OutboxProjector(engine), tmp_path)
        token = console.sign_in("li.ming")
        answer = console.post("/console/cases/TS-ZA-1/commands/accept", {"csrf_token": token})
    assert answer.status_code == status, answer.text
    assert words in answer.text
    with engine.connect() as conn:
        kept = conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar()
    assert kept == (0 if kafka is None else 1)


def test_too_many_files_or_a_form_that_does_not_parse_is_said_so(console: Console) -> None:
    token = console.sign_in("wang.head")
    many = [("files", (f"报告{n}.pdf", PDF, "application/pdf")) for n in range(21)]
    answer = console.post(
        "/console/cases/RECT-ZA-1/commands/complete",
        {"csrf_token": token, "evidence": "材料"},
        files=many,
    )
    assert answer.status_code == 422, answer.text
    assert 'id="f-files-error">最多上传 20 个文件。' in answer.text
    fields: dict[str, str | list[str]] = {"csrf_token": token, "evidence": "材料"}
    broken = console.post(  # more inputs than any form has
        "/console/cases/RECT-ZA-1/commands/complete",
        {**fields, **{f"x{n}": "1" for n in range(250)}},
    )
    assert broken.status_code == 400, broken.text
    assert "无法读取提交的表单" in broken.text
    assert console.status("RECT-ZA-1")[0] == "open"


def test_an_extension_offers_the_cases_deadline_rules_and_moves_the_chosen_one(
    console: Console,
) -> None:
    token = console.sign_in("wang.head")
    form = console.client.get("/console/cases/TS-ZA-1/commands/extend_deadline")
    assert form.status_code == 200, form.text
    assert '<select id="f-rule" name="rule"' in form.text
    offered = re.findall(r'<option value="([a-z_.]+)">([^<]+)</option>', form.text)
    assert offered and all("工作日" in text or "日" in text for _, text in offered), offered
    rule = next(rule_id for rule_id, text in offered if "投诉办理" in text)
    answer = console.post(
        "/console/cases/TS-ZA-1/commands/extend_deadline",
        {"csrf_token": token, "rule": rule, "new_length": "30", "reason": "案情复杂"},
    )
    assert answer.status_code == 303, answer.text
    unknown = console.post(
        "/console/cases/TS-ZA-1/commands/extend_deadline",
        {"csrf_token": token, "rule": "no.such_rule", "new_length": "30"},
    )
    assert unknown.status_code == 422, unknown.text
    assert 'id="f-rule-error">填写有误：no deadline rule' in unknown.text


def test_the_legal_office_registers_a_lawsuit_with_its_plaintiff(console: Console) -> None:
    token = console.sign_in("fa.zhi")
    fields: dict[str, str | list[str]] = {
        "csrf_token": token,
        "case_id": "SS-NEW-1",
        "court": "县人民法院",
        "decision_ref": "公(治)决字〔2026〕9号",
        "department": DEPARTMENT,
    }
    missing = console.post("/console/register/litigation", fields)
    assert missing.status_code == 422, missing.text
    assert 'id="f-plaintiff-name-error">此项必填。' in missing.text
    answer = console.post("/console/register/litigation", {**fields, "plaintiff.name": "王伟"})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/console/cases/SS-NEW-1"
    assert console.status("SS-NEW-1") == ("filed", 1)
