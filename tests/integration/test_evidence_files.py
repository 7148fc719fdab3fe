"""Evidence files through the API in-process, on SQLite and PostgreSQL (no Kafka: a command
or event that passes every check answers the documented 503): upload and download, the type
read from the content, the size cap, uploads cut short, department scope, and citing only
files completely uploaded."""

from __future__ import annotations

import asyncio
import hashlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from casestream.api.app import create_app
from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import parse_event
from casestream.domain.rules import load_rulebook
from casestream.read_models import evidence_store
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import case_files, evidence_uploads
from casestream.settings import Settings
from tests.auth import TEST_SECRET, auth_headers
from tests.conftest import Database
from tests.events import raw

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

OWN, OTHER = "治安大队", "交警大队"
CAP = 64 * 1024
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 40 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(300)  # a Windows executable's header


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def setup(database: Database, tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    settings = Settings(
        database_url=database.url,
        database_schema=database.schema,
        kafka_bootstrap=None,
        auth_secret=TEST_SECRET,
        evidence_dir=tmp_path / "evidence",
        max_file_bytes=CAP,
        consistency_wait_seconds=0.05,
    )
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    engine.dispose()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, settings


@pytest.fixture
def client(setup: tuple[TestClient, Settings]) -> TestClient:
    return setup[0]


@pytest.fixture
def settings(setup: tuple[TestClient, Settings]) -> Settings:
    return setup[1]


def _upload(
    client: TestClient, content: bytes, name: str, headers: dict[str, str] | None = None
) -> Any:
    return client.post(
        "/files",
        params={"name": name},
        content=content,
        headers=headers or auth_headers("department_head", OWN),
    )


def _project(settings: Settings, events: list[dict[str, Any]]) -> None:
    engine = create_engine(settings.database_url, settings.database_schema)
    writer = ProjectionWriter(engine, ClockPolicy(load_rulebook(), load_calendar()))
    writer.apply_batch(
        [ConsumedEvent("evidence", 0, n, parse_event(e)) for n, e in enumerate(events)]
    )
    engine.dispose()


def _rows(settings: Settings, table: sa.Table) -> list[Any]:
    engine = create_engine(settings.database_url, settings.database_schema)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.select(table)))
    finally:
        engine.dispose()


def _stored(settings: Settings) -> list[str]:
    """Every file left in the evidence directory (temporary ones too)."""
    root = settings.evidence_dir
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _lawsuit(case_id: str, department: str, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    filed = {"court": "县人民法院", "plaintiff": {"name": "赵敏"}, "decision_ref": "D-9"}
    filed["department"] = department
    return [
        raw("LawsuitFiled", case_id, "litigation", filed),
        raw("DefenceSubmitted", case_id, "litigation", {"summary": "答辩", "files": files}, day=1),
    ]


def test_an_uploaded_file_comes_back_whole_with_its_type_and_a_safe_name(
    client: TestClient, settings: Settings
) -> None:
    answer = _upload(client, PDF, '整改报告 "终稿".pdf')
    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "sha256": digest(PDF),
        "name": '整改报告 "终稿".pdf',
        "media_type": "application/pdf",
        "size": len(PDF),
    }
    assert _stored(settings) == [f"{digest(PDF)[:2]}/{digest(PDF)}"]
    got = client.get(f"/files/{digest(PDF)}", headers=auth_headers("department_head", OWN))
    assert got.status_code == 200
    assert got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert '"' not in disposition.removeprefix("attachment; ")  # the quotes are encoded
    # the same content again: the same digest, the file not rewritten
    again = _upload(client, PDF, "copy.pdf", auth_headers("legal"))
    assert again.status_code == 201 and again.json()["sha256"] == digest(PDF)
    assert len(_rows(settings, evidence_uploads)) == 2  # one row per uploader


def test_the_type_is_read_from_the_content_not_the_name(
    client: TestClient, settings: Settings
) -> None:
    pdf_as_exe = _upload(client, PDF, "report.exe")
    assert pdf_as_exe.status_code == 201
    assert pdf_as_exe.json()["media_type"] == "application/pdf"
    exe_as_pdf = _upload(client, EXE, "report.pdf")
    assert exe_as_pdf.status_code == 415
    assert "application/x-msdownload" in exe_as_pdf.json()["detail"]
    empty = _upload(client, b"", "empty.pdf")
    assert empty.status_code == 415
    assert _stored(settings) == [f"{digest(PDF)[:2]}/{digest(PDF)}"]
    assert [row.sha256 for row in _rows(settings, evidence_uploads)] == [digest(PDF)]


def test_office_documents_are_recognised_by_their_container(client: TestClient) -> None:
    import io
    import zipfile

    import openpyxl

    workbook = io.BytesIO()
    openpyxl.Workbook().save(workbook)
    document = io.BytesIO()
    with zipfile.ZipFile(document, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("notes.txt", "not an office document")
    assert _upload(client, workbook.getvalue(), "台账.xlsx").json()["media_type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert _upload(client, document.getvalue(), "报告.docx").json()["media_type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    refused = _upload(client, plain_zip.getvalue(), "报告.docx")
    assert refused.status_code == 415 and "application/zip" in refused.json()["detail"]


def test_a_file_over_the_cap_is_413_and_nothing_is_kept(
    client: TestClient, settings: Settings
) -> None:
    big = PDF + bytes(CAP)
    declared = _upload(client, big, "big.pdf")
    assert declared.status_code == 413
    assert "CASESTREAM_MAX_FILE_BYTES" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap holds while streaming
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    streamed = client.post(
        "/files",
        params={"name": "big.pdf"},
        content=chunks(),
        headers=auth_headers("department_head", OWN),
    )
    assert streamed.status_code == 413
    assert _stored(settings) == []
    assert _rows(settings, evidence_uploads) == []
    # every other route keeps the body cap of CASESTREAM_MAX_BODY_BYTES
    other = client.post(
        "/events", content=b"{" + b" " * (2 * 1024 * 1024) + b"}", headers=auth_headers("legal")
    )
    assert other.status_code == 413 and "CASESTREAM_MAX_BODY_BYTES" in other.json()["detail"]


def test_an_upload_cut_short_by_the_client_leaves_nothing(
    client: TestClient, settings: Settings
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]  # TestClient types it as an ASGI app
    sent: list[dict[str, Any]] = []
    parts = [
        {"type": "http.request", "body": PDF[:100], "more_body": True},
        {"type": "http.request", "body": PDF[100:200], "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return parts.pop(0) if parts else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(k.lower().encode(), v.encode()) for k, v in auth_headers("legal").items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/files",
        "raw_path": b"/files",
        "root_path": "",
        "query_string": b"name=cut.pdf",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    assert not parts, "the whole body was read"
    assert _stored(settings) == []
    assert _rows(settings, evidence_uploads) == []


def test_an_upload_failing_midway_in_the_store_leaves_nothing(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(evidence_store.os, "fsync", disk_full)
    answer = _upload(client, PDF, "report.pdf")
    assert answer.status_code == 500
    assert _stored(settings) == []
    assert _rows(settings, evidence_uploads) == []


def test_a_file_is_served_to_whoever_sees_a_case_citing_it(
    client: TestClient, settings: Settings
) -> None:
    head, other = auth_headers("department_head", OWN), auth_headers("handler", OTHER)
    cited = _upload(client, PDF, "答辩状.pdf", head).json()
    _project(settings, _lawsuit("EV-L1", OWN, [cited]))
    assert [(row.case_id, row.sha256) for row in _rows(settings, case_files)] == [
        ("EV-L1", digest(PDF))
    ]
    for headers, status in (
        (head, 200),
        (auth_headers("handler", OWN), 200),
        (auth_headers("supervisor"), 200),
        (auth_headers("legal"), 200),
        (other, 404),  # only another department's case cites it
    ):
        answer = client.get(f"/files/{digest(PDF)}", headers=headers)
        assert answer.status_code == status, (headers, answer.text)
    unknown = client.get(f"/files/{'0' * 64}", headers=auth_headers("legal"))
    assert unknown.status_code == 404
    assert client.get("/files/not-a-digest", headers=head).status_code == 422


def test_an_uncited_file_is_its_uploaders_only_until_a_case_cites_it(
    client: TestClient, settings: Settings
) -> None:
    uploader, colleague = auth_headers("handler", OTHER), auth_headers("legal")
    uploaded = _upload(client, PNG, "现场照片.png", uploader).json()
    assert uploaded["media_type"] == "image/png"
    assert client.get(f"/files/{digest(PNG)}", headers=uploader).status_code == 200
    assert client.get(f"/files/{digest(PNG)}", headers=colleague).status_code == 404
    _project(settings, _lawsuit("EV-L2", OWN, [uploaded]))  # cited by the other department
    assert client.get(f"/files/{digest(PNG)}", headers=uploader).status_code == 404
    assert client.get(f"/files/{digest(PNG)}", headers=colleague).status_code == 200


def test_a_completion_cites_only_files_completely_uploaded(
    client: TestClient, settings: Settings
) -> None:
    head = auth_headers("department_head", OWN)
    opened = {"department": OWN, "responsible_person": "张强"}
    _project(settings, [raw("RectificationOpened", "EV-R1", "rectification", opened)])
    unknown = client.post(
        "/rectifications/EV-R1/completion",
        json={"evidence": ["培训记录"], "files": ["0" * 64]},
        headers=head,
    )
    assert unknown.status_code == 422
    assert [problem["loc"] for problem in unknown.json()["detail"]] == [["body", "files", "0"]]
    uploaded = _upload(client, PDF, "培训记录.pdf", head).json()
    cited = client.post(
        "/rectifications/EV-R1/completion",
        json={"evidence": ["培训记录"], "files": [uploaded["sha256"]]},
        headers=head,
    )
    assert cited.status_code == 503, cited.text  # every check passed; no Kafka to send to


def test_a_raw_event_cites_only_files_completely_uploaded_as_they_were(
    client: TestClient, settings: Settings
) -> None:
    legal = auth_headers("legal")
    _project(settings, _lawsuit("EV-L3", OWN, [])[:1])
    uploaded = _upload(client, PDF, "答辩状.pdf", legal).json()

    def defence(files: list[dict[str, Any]]) -> Any:
        body = {
            "event_type": "DefenceSubmitted",
            "case_id": "EV-L3",
            "case_kind": "litigation",
            "payload": {"summary": "答辩", "files": files},
        }
        return client.post("/events", json=body, headers=legal)

    unknown = defence([{**uploaded, "sha256": "f" * 64}])
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "payload", "files", "0"]
    lying = defence([uploaded, {**uploaded, "size": uploaded["size"] + 1}])
    assert lying.status_code == 422
    assert [p["loc"] for p in lying.json()["detail"]] == [["body", "payload", "files", "1"]]
    assert defence([uploaded]).status_code == 503  # every check passed; no Kafka to send to


def test_the_files_a_case_cites_are_written_with_the_case_once(database: Database) -> None:
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    writer = ProjectionWriter(engine, ClockPolicy(load_rulebook(), load_calendar()))
    cited = {"sha256": digest(PDF), "name": "答辩状.pdf", "media_type": "application/pdf"}
    events = [parse_event(e) for e in _lawsuit("EV-L9", OWN, [{**cited, "size": len(PDF)}])]
    batch = [ConsumedEvent("evidence", 0, n, e) for n, e in enumerate(events)]

    def written() -> list[tuple[Any, ...]]:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(sa.select(case_files))]

    try:
        writer.apply_batch(batch, commit=False)  # the case not written: nor its files
        assert written() == []
        writer.apply_batch(batch)
        writer.apply_batch([ConsumedEvent("evidence", 1, n, e) for n, e in enumerate(events)])
        assert written() == [("EV-L9", digest(PDF), "答辩状.pdf", "application/pdf", len(PDF))]
    finally:
        engine.dispose()
