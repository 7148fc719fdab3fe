"""The API while its PostgreSQL does not answer: 503 with Retry-After (the service is away for
a while, the request is not at fault), never 500; and it answers again once the database is
back, by itself."""

from __future__ import annotations

import uuid
import warnings

from sqlalchemy.engine import make_url

from casestream.api.app import create_app
from casestream.settings import Settings
from tests.auth import TEST_SECRET, auth_headers
from tests.faults.proxy import proxied
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
        with TestClient(app, headers=auth_headers("legal"), raise_server_exceptions=False) as api:
            assert api.get("/cases").status_code == 200
            proxy.cut()
            complaint = {
                "event_type": "ComplaintReceived",
                "case_id": "AWAY-1",
                "case_kind": "complaint",
                "payload": {"channel": "letter", "subject": "数据库断开时的来信"},
            }
            answers = [
                api.get("/cases", params={"case_kind": "complaint"}),
                api.get("/cases/AWAY-1"),
                api.get("/alerts"),
                api.post("/events", json=complaint, headers=auth_headers("system")),
            ]
            for answer in answers:
                assert answer.status_code == 503, (answer.request.url, answer.text)
                assert answer.headers["Retry-After"] == "5"
                assert "database" in answer.json()["detail"]
                assert str(proxy.port) not in answer.text  # the cause is logged, not sent
            proxy.restore()
            wait_for(lambda: api.get("/cases").status_code == 200, timeout=30, interval=0.5)
            assert api.get("/cases/AWAY-1").status_code == 404
