"""The API and the console while their PostgreSQL does not answer: 503 with Retry-After (the
service is away for a while, the request is not at fault), never 500, as JSON for the API and
as a Chinese page for the console; and both answer again once the database is back, by
themselves."""

from __future__ import annotations

import uuid
import warnings

from sqlalchemy.engine import make_url

from casestream.api.app import create_app
from casestream.read_models.database import create_engine
from casestream.read_models.staff_accounts import StaffAccounts
from casestream.settings import Settings
from casestream.staff import add_account
from tests.auth import TEST_SECRET, auth_headers
from tests.faults.proxy import proxied
from tests.integration.test_console_signin import PASSWORD, START, console_csrf, sign_in
from tests.processes import wait_for

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_requests_answer_503_with_retry_after_while_the_database_is_away(
    postgres_url: str,
) -> None:
    url = make_url(postgres_url)
    with proxied(url.host or "127.0.0.1", url.port or 5432) as proxy:
        settings = Settings(
            database_url=url.set(port=proxy.port).render_as_string(hide_password=False),
            database_schema=f"away_{uuid.uuid4().hex[:10]}",
            kafka_bootstrap=None,
            auth_secret=TEST_SECRET,
        )
        app = create_app(settings)
        legal = auth_headers("legal")
        with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as api:
            assert api.get("/cases", headers=legal).status_code == 200
            accounts = create_engine(postgres_url, settings.database_schema)
            add_account(
                StaffAccounts(accounts),
                "fa.zhi",
                role="legal",
                department=None,
                password=PASSWORD,
                now=START,
            )
            accounts.dispose()
            assert sign_in(api, "fa.zhi").status_code == 303
            csrf = console_csrf(api)
            proxy.cut()
            complaint = {
                "event_type": "ComplaintReceived",
                "case_id": "AWAY-1",
                "case_kind": "complaint",
                "payload": {"channel": "letter", "subject": "数据库断开时的来信"},
            }
            answers = [
                api.get("/cases", params={"case_kind": "complaint"}, headers=legal),
                api.get("/cases/AWAY-1", headers=legal),
                api.get("/alerts", headers=legal),
                api.post("/events", json=complaint, headers=auth_headers("system")),
                api.post("/events", json=complaint),  # the console's session cookie, checked
                # before the body is read
            ]
            for answer in answers:
                assert answer.status_code == 503, (answer.request.url, answer.text)
                assert answer.headers["Retry-After"] == "5"
                assert "database" in answer.json()["detail"]
                assert str(proxy.port) not in answer.text  # the cause is logged, not sent
            pages = [  # the console's pages and forms
                api.get("/console/cases"),
                api.get("/console/"),
                api.post("/console/signout", data={"csrf_token": csrf}, follow_redirects=False),
            ]
            for page in pages:
                assert page.status_code == 503, (page.request.url, page.text)
                assert page.headers["Retry-After"] == "5"
                assert page.headers["content-type"].startswith("text/html")
                assert "暂时无法访问数据库" in page.text
                assert str(proxy.port) not in page.text
            proxy.restore()
            wait_for(
                lambda: api.get("/cases", headers=legal).status_code == 200,
                timeout=30,
                interval=0.5,
            )
            assert api.get("/cases/AWAY-1", headers=legal).status_code == 404
            assert api.get("/console/cases").status_code == 200  # still signed in
