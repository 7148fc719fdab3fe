"""Evidence files from the outside: a department head uploads a file, completes a rectification
citing it; once projected, the supervisor who checks the rectification downloads it, while a
handler of another department gets 404 as for an unknown file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from casestream.producers.topics import Topics
from tests.auth import auth_env, auth_headers
from tests.conftest import Database
from tests.processes import free_port, running_system, service_env, wait_for

OWN, OTHER = "治安大队", "交警大队"
PDF = b"%PDF-1.7\n" + "整改报告".encode() * 500 + b"\n%%EOF\n"


@pytest.fixture
def api(kafka_bootstrap: str, topics: Topics, tmp_path: Path) -> Iterator[httpx.Client]:
    database = Database(f"sqlite:///{tmp_path / 'evidence.db'}", None)
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_API_PORT=str(free_port()),
        CASESTREAM_EVIDENCE_DIR=str(tmp_path / "evidence"),
        CASESTREAM_CONSISTENCY_WAIT_SECONDS="30",
        **auth_env(),
    )
    with running_system(env, tmp_path) as client:
        yield client


def test_a_completion_citing_an_uploaded_file_serves_it_to_the_supervisor(
    api: httpx.Client,
) -> None:
    head, supervisor = auth_headers("department_head", OWN), auth_headers("supervisor")
    opened = api.post(
        "/rectifications",
        json={"department": OWN, "responsible_person": "张强"},
        headers=head,
    )
    assert opened.status_code == 202, opened.text

    def listed() -> list[dict[str, Any]] | None:
        return api.get("/rectifications", headers=head).json()["items"] or None

    rect = wait_for(listed, timeout=60)[0]["rectification_id"]

    refused = api.post(
        f"/rectifications/{rect}/completion",
        json={"evidence": ["整改报告"], "files": ["e" * 64]},
        headers=head,
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "files", "0"]

    uploaded = api.post("/files", params={"name": "整改报告.pdf"}, content=PDF, headers=head)
    assert uploaded.status_code == 201, uploaded.text
    sha256 = uploaded.json()["sha256"]
    # not cited yet: the uploader's only
    assert api.get(f"/files/{sha256}", headers=supervisor).status_code == 404

    completed = api.post(
        f"/rectifications/{rect}/completion",
        json={"evidence": ["整改报告"], "files": [sha256]},
        headers=head,
    )
    assert completed.status_code == 202, completed.text
    history = api.get(
        f"/cases/{rect}/events",
        params={"consistency_token": completed.json()["consistency_token"]},
        headers=supervisor,
    )
    assert history.status_code == 200
    assert history.json()[-1]["event"]["payload"]["files"] == [uploaded.json()]

    served = api.get(f"/files/{sha256}", headers=supervisor)
    assert served.status_code == 200
    assert served.content == PDF
    assert served.headers["content-type"] == "application/pdf"
    assert api.get(f"/files/{sha256}", headers=head).status_code == 200
    assert api.get(f"/files/{sha256}", headers=auth_headers("handler", OTHER)).status_code == 404
