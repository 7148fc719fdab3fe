"""Signing in to the web console with a staff account, over real SQLite and PostgreSQL read
models: the session cookie and its attributes, CSRF, the lock-out on an injected clock, the
sign-in record, sign-out and disabling, and the session cookie as a credential of the API."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from casestream.api import sessions
from casestream.api.app import create_app
from casestream.domain.cases import fold
from casestream.domain.staff import SignInOutcome
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.schema import cases, staff_sessions
from casestream.read_models.staff_accounts import StaffAccounts
from casestream.settings import Settings
from casestream.staff import add_account
from tests.auth import TEST_SECRET, auth_headers
from tests.conftest import Database
from tests.events import complaint_lifecycle

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

START = datetime.fromisoformat("2026-03-20T10:00:00+08:00")
PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
REFUSED = "用户名或密码错误"


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def case_row(case_id: str, department: str) -> dict[str, Any]:
    """A complaint assigned to `department`, as the projector would store it."""
    events = complaint_lifecycle(case_id)[:3]
    state = fold(events)
    assert state is not None and state.opened_at is not None
    stored = state.model_dump(mode="json")
    return {
        "case_id": case_id,
        "case_kind": "complaint",
        "status": state.status,
        "version": state.version,
        "received_at": state.opened_at,
        "last_occurred_at": state.last_occurred_at,
        "department": department,
        "enterprise": False,
        "paused": False,
        "anomaly_count": 0,
        "state": {**stored, "department": department},
    }


@dataclass
class Console:
    client: TestClient
    accounts: StaffAccounts
    engine: sa.Engine
    clock: Clock


@pytest.fixture
def console(database: Database) -> Iterator[Console]:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    accounts = StaffAccounts(engine)
    for username, role, department in [
        ("li.ming", "handler", "治安大队"),
        ("fa.zhi", "legal", None),
    ]:
        add_account(
            accounts, username, role=role, department=department, password=PASSWORD, now=START
        )
    with engine.begin() as conn:
        conn.execute(
            sa.insert(cases), [case_row("C-ZA-1", "治安大队"), case_row("C-HZ-1", "户政大队")]
        )
    settings = Settings(
        database_url=database.url,
        database_schema=database.schema,
        kafka_bootstrap=None,
        auth_secret=TEST_SECRET,
    )
    clock = Clock()
    with TestClient(create_app(settings, now=clock), base_url="https://testserver") as client:
        yield Console(client, accounts, engine, clock)
    engine.dispose()


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/console/signin")
    assert page.status_code == 200
    found = CSRF_FIELD.search(page.text)
    assert found is not None
    form = {"username": username, "password": password, "csrf_token": found.group(1)}
    return client.post("/console/signin", data=form, follow_redirects=False)


def console_csrf(client: TestClient) -> str:
    page = client.get("/console/", follow_redirects=False)
    assert page.status_code == 200, page.text
    found = CSRF_FIELD.search(page.text)
    assert found is not None
    return found.group(1)


def outcomes(console: Console, username: str) -> list[SignInOutcome]:
    return [record.outcome for record in console.accounts.signins(username)]


def test_signing_in_sets_an_httponly_lax_secure_session_cookie_and_opens_the_console(
    console: Console,
) -> None:
    answer = sign_in(console.client, "li.ming")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/"
    cookie = next(
        value
        for value in answer.headers.get_list("set-cookie")
        if value.startswith(f"{sessions.SESSION_COOKIE}=")
    )
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "path", "max-age"} <= attributes
    assert "samesite=lax" in cookie.lower() and "max-age=43200" in cookie.lower()
    session_id = cookie.split(";")[0].split("=", 1)[1]
    with console.engine.connect() as conn:
        stored = conn.execute(sa.select(staff_sessions)).one()
    assert stored.session_sha256 == sessions.session_sha256(session_id)
    assert session_id not in stored  # only its hash is kept
    page = console.client.get("/console/")
    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.text and "<main" in page.text
    assert "li.ming" in page.text and "承办人" in page.text and "治安大队" in page.text
    assert "退出登录" in page.text
    assert outcomes(console, "li.ming") == [SignInOutcome.signed_in]


def test_the_session_cookie_is_not_secure_on_plain_http_unless_configured(
    database: Database,
) -> None:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    add_account(StaffAccounts(engine), "fa.zhi", role="legal", department=None, password=PASSWORD, now=START)  # fmt: skip
    for secure in (False, True):
        settings = Settings(
            database_url=database.url,
            database_schema=database.schema,
            kafka_bootstrap=None,
            auth_secret=TEST_SECRET,
            cookie_secure=secure,
        )
        with TestClient(create_app(settings, now=Clock())) as client:
            page = client.get("/console/signin")
            assert ("; secure" in page.headers["set-cookie"].lower()) is secure
            if not secure:  # a Secure cookie would not come back over plain http
                answer = sign_in(client, "fa.zhi")
                assert answer.status_code == 303
                assert "; secure" not in answer.headers["set-cookie"].lower()
    engine.dispose()


def test_the_console_sends_an_unsigned_in_visitor_to_the_sign_in_page(console: Console) -> None:
    answer = console.client.get("/console/", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/signin"
    page = console.client.get("/console/signin")
    assert "工作人员登录" in page.text and '<label for="username">' in page.text
    assert "http" not in re.sub(r'action="/console/signin"', "", page.text)  # no external asset


def test_five_wrong_passwords_lock_the_account_until_the_lock_expires(console: Console) -> None:
    for _ in range(5):
        answer = sign_in(console.client, "li.ming", "wrong password!")
        assert answer.status_code == 401 and REFUSED in answer.text
    locked = sign_in(console.client, "li.ming")  # the right password, while locked
    assert locked.status_code == 401 and REFUSED in locked.text
    console.clock.advance(minutes=14, seconds=59)
    assert sign_in(console.client, "li.ming").status_code == 401
    console.clock.advance(seconds=1)
    assert sign_in(console.client, "li.ming").status_code == 303
    assert outcomes(console, "li.ming") == [
        *[SignInOutcome.wrong_password] * 5,
        SignInOutcome.locked,
        SignInOutcome.locked,
        SignInOutcome.signed_in,
    ]
    found = console.accounts.find("li.ming")
    assert found is not None and found.failed_attempts == 0


def test_a_right_password_ends_a_run_of_wrong_ones(console: Console) -> None:
    for _ in range(4):
        sign_in(console.client, "li.ming", "wrong password!")
    assert sign_in(console.client, "li.ming").status_code == 303
    console.client.cookies.clear()
    for _ in range(4):
        sign_in(console.client, "li.ming", "wrong password!")
    assert sign_in(console.client, "li.ming").status_code == 303  # not locked: 4 in a row


def test_an_unknown_username_gets_the_same_answer_after_checking_a_dummy_hash(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = sessions.no_account_matches

    def spy(password: str) -> bool:
        checked.append(password)
        return real(password)

    monkeypatch.setattr(sessions, "no_account_matches", spy)
    unknown = sign_in(console.client, "no.such.user", "some password")
    wrong = sign_in(console.client, "li.ming", "some password")
    assert checked == ["some password"]
    assert (unknown.status_code, wrong.status_code) == (401, 401)
    assert CSRF_FIELD.sub("", unknown.text).replace("no.such.user", "") == CSRF_FIELD.sub(
        "", wrong.text
    ).replace("li.ming", "")
    assert outcomes(console, "no.such.user") == [SignInOutcome.unknown_user]


def test_signing_out_ends_the_session_even_for_a_replayed_cookie(console: Console) -> None:
    sign_in(console.client, "li.ming")
    session_id = console.client.cookies[sessions.SESSION_COOKIE]
    token = console_csrf(console.client)
    answer = console.client.post(
        "/console/signout", data={"csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/console/signin"
    console.client.cookies.set(sessions.SESSION_COOKIE, session_id)  # replayed
    assert console.client.get("/console/", follow_redirects=False).status_code == 303
    assert console.client.get("/cases").status_code == 401


def test_disabling_an_account_ends_its_session_at_once(console: Console) -> None:
    sign_in(console.client, "li.ming")
    assert console.client.get("/cases").status_code == 200
    console.accounts.set_disabled("li.ming", True, now=START)
    assert console.client.get("/console/", follow_redirects=False).status_code == 303
    assert console.client.get("/cases").status_code == 401
    console.accounts.set_disabled("li.ming", False, now=START)
    assert console.client.get("/cases").status_code == 401  # enabling opens no old session
    assert sign_in(console.client, "li.ming").status_code == 303
    sign_in(console.client, "fa.zhi")  # a disabled account cannot sign in
    console.accounts.set_disabled("fa.zhi", True, now=START)
    console.client.cookies.clear()
    assert sign_in(console.client, "fa.zhi").status_code == 401
    assert outcomes(console, "fa.zhi")[-1] is SignInOutcome.disabled


def test_a_session_ends_after_the_idle_time_and_at_the_absolute_end(console: Console) -> None:
    sign_in(console.client, "fa.zhi")
    console.clock.advance(hours=7, minutes=59)
    assert console.client.get("/cases").status_code == 200
    console.clock.advance(hours=3, minutes=59)  # active, but 11 h 58 after signing in
    assert console.client.get("/cases").status_code == 200
    console.clock.advance(minutes=2)
    assert console.client.get("/cases").status_code == 401
    sign_in(console.client, "fa.zhi")
    console.clock.advance(hours=8)
    assert console.client.get("/cases").status_code == 401


def test_a_console_form_post_without_its_csrf_token_is_refused_403(console: Console) -> None:
    sign_in(console.client, "li.ming")
    answer = console.client.post("/console/signout", data={}, follow_redirects=False)
    assert answer.status_code == 403 and "CSRF" in answer.text
    answer = console.client.post(
        "/console/signout", data={"csrf_token": "forged"}, follow_redirects=False
    )
    assert answer.status_code == 403
    assert console.client.get("/console/").status_code == 200  # still signed in


def test_a_sign_in_post_without_the_pre_session_csrf_cookie_is_refused_and_recorded(
    console: Console,
) -> None:
    form = {"username": "li.ming", "password": PASSWORD, "csrf_token": "anything"}
    answer = console.client.post("/console/signin", data=form, follow_redirects=False)
    assert answer.status_code == 403
    assert sessions.SESSION_COOKIE not in console.client.cookies
    assert outcomes(console, "li.ming") == [SignInOutcome.bad_form]


def test_every_attempt_is_recorded_with_its_remote_address(console: Console) -> None:
    sign_in(console.client, "li.ming", "wrong password!")
    sign_in(console.client, "nobody")
    sign_in(console.client, "fa.zhi")
    records = console.accounts.signins()
    assert [(r.username, r.outcome) for r in records] == [
        ("li.ming", SignInOutcome.wrong_password),
        ("nobody", SignInOutcome.unknown_user),
        ("fa.zhi", SignInOutcome.signed_in),
    ]
    assert {r.remote_address for r in records} == {"testclient"}
    assert all(r.attempted_at == START for r in records)


def test_the_session_cookie_reads_the_api_within_the_accounts_department(console: Console) -> None:
    sign_in(console.client, "li.ming")
    listed = console.client.get("/cases")
    assert listed.status_code == 200, listed.text
    assert [item["case_id"] for item in listed.json()["items"]] == ["C-ZA-1"]
    assert console.client.get("/cases/C-ZA-1").status_code == 200
    assert console.client.get("/cases/C-HZ-1").status_code == 404


def test_a_state_changing_api_request_by_cookie_needs_the_csrf_header(console: Console) -> None:
    sign_in(console.client, "fa.zhi")
    without = console.client.post("/events", json=[])
    assert without.status_code == 403 and "X-CSRF-Token" in without.json()["detail"]
    token = console_csrf(console.client)
    wrong = console.client.post("/events", json=[], headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    right = console.client.post("/events", json=[], headers={"X-CSRF-Token": token})
    assert right.status_code not in (401, 403), right.text


def test_a_bearer_token_request_needs_no_csrf_header(console: Console) -> None:
    answer = console.client.post("/events", json=[], headers=auth_headers("legal"))
    assert answer.status_code not in (401, 403), answer.text


def test_the_account_is_the_actor_of_what_it_sends(console: Console) -> None:
    sign_in(console.client, "fa.zhi")
    token = console_csrf(console.client)
    answer = console.client.post(
        "/events", json={"actor": "someone.else"}, headers={"X-CSRF-Token": token}
    )
    assert answer.status_code == 422
    assert "the actor is the authenticated caller (fa.zhi)" in answer.text


def test_signing_in_again_replaces_the_browsers_old_session(console: Console) -> None:
    sign_in(console.client, "li.ming")
    old = console.client.cookies[sessions.SESSION_COOKIE]
    form = {"username": "fa.zhi", "password": PASSWORD}
    page = console.client.get("/console/signin", follow_redirects=False)
    assert page.status_code == 303  # signed in already: to the console
    console.client.cookies.set(sessions.SIGNIN_CSRF_COOKIE, "t" * 43, path="/console/signin")
    answer = console.client.post(
        "/console/signin", data={**form, "csrf_token": "t" * 43}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert console.client.cookies[sessions.SESSION_COOKIE] != old
    with console.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(staff_sessions)).scalar() == 1
