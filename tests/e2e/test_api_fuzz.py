"""Every route fuzzed with schemathesis against the API's own OpenAPI document: whatever the
input, no 5xx, and every answer has a documented status, content type and body schema.

The API runs in-process on a seeded SQLite file and without Kafka, so nothing generated is
sent anywhere: a command that passes every check answers the documented 503.
"""

from __future__ import annotations

import contextlib
import hashlib
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from casestream.api.app import create_app
from casestream.api.schemas import Refusal, Unsent
from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import parse_event
from casestream.domain.rules import load_rulebook
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.evidence_store import FileStore
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.webhook_deliveries import DeliveryStore, NewDelivery
from casestream.settings import Settings
from tests.auth import TEST_SECRET, auth_headers
from tests.events import raw

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
CONFIG = {
    "seed": 20261130,
    # a documented 503 (no Kafka, a write not projected yet, not ready) is an answer, not a
    # crash: status_code_conformance still fails a 503 that the route does not document
    "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "503"]}},
    # the caller is given below; generated credentials would only be refused with 401
    "generation": {"with-security-parameters": False},
}
EXAMPLES = 25  # generated requests per route and mode (positive, negative), besides coverage
DEPARTMENT = "治安大队"
EVIDENCE = b"%PDF-1.7\n" + b"0" * 100 + b"\n%%EOF\n"  # cited by FZ-R-2's completion
SEEDED_IDS = {  # path parameters naming seeded rows, so detail routes answer with real ones
    "case_id": ["FZ-C-1", "FZ-C-2", "FZ-T-1", "FZ-L-1", "FZ-R-1"],
    "rectification_id": ["FZ-R-1", "FZ-R-2"],
    "decision_ref": ["D-1"],
    "name": ["add_measure", "report_progress", "verify", "open"],  # commands (GET /commands)
    "sha256": [hashlib.sha256(EVIDENCE).hexdigest(), "0" * 64],
}


def _seed_events(start: datetime) -> list[dict[str, Any]]:
    """Cases of every kind, in two departments: paused, anomalous, anonymous, decided, and
    rectifications with every kind of entry, so that lists and details hold real rows."""
    person = {"name": "王小明", "phone": "13812341234", "id_number": "110101199001011234"}
    return [
        raw(
            "ComplaintReceived",
            "FZ-C-1",
            "complaint",
            {
                "channel": "hotline_12345",
                "subject": "出警慢",
                "enterprise": True,
                "enterprise_name": "华星物流",
                "complainant": person,
                "decision_ref": "D-1",
            },
            at=start,
        ),
        raw("ComplaintAccepted", "FZ-C-1", "complaint", at=start, day=1),
        raw(
            "ComplaintAssigned",
            "FZ-C-1",
            "complaint",
            {"department": DEPARTMENT, "handler": "民警101"},
            at=start,
            day=2,
        ),
        raw("CaseSuspended", "FZ-C-1", "complaint", {"reason": "等待鉴定"}, at=start, day=3),
        raw("ComplaintResolved", "FZ-C-2", "complaint", {"outcome": "explained"}, at=start),
        raw(
            "ComplaintReceived",
            "FZ-C-2",
            "complaint",
            {"channel": "letter", "subject": "扣证", "department": "交警大队"},
            at=start,
            day=1,
        ),
        raw(
            "TipReceived",
            "FZ-T-1",
            "enterprise_tip",
            {
                "enterprise": "华星物流",
                "subject": "乱罚款",
                "anonymous": True,
                "informant": {"name": "李四"},
                "department": DEPARTMENT,
            },
            at=start,
        ),
        raw(
            "LawsuitFiled",
            "FZ-L-1",
            "litigation",
            {
                "court": "县人民法院",
                "plaintiff": person,
                "decision_ref": "D-1",
                "department": DEPARTMENT,
            },
            at=start,
        ),
        raw(
            "JudgmentIssued",
            "FZ-L-1",
            "litigation",
            {"instance": "first", "outcome": "revoked"},
            at=start,
            day=5,
        ),
        raw(
            "ReviewTaskOpened",
            "FZ-R-1",
            "rectification",
            {
                "source_case_id": "FZ-L-1",
                "source_case_kind": "litigation",
                "department": DEPARTMENT,
                "decision_ref": "D-1",
            },
            at=start,
            day=6,
        ),
        raw(
            "RectificationOpened",
            "FZ-R-1",
            "rectification",
            {
                "source_case_id": "FZ-L-1",
                "source_case_kind": "litigation",
                "department": DEPARTMENT,
                "responsible_person": "张强",
                "decision_ref": "D-1",
            },
            at=start,
            day=6,
        ),
        raw("MeasureAdded", "FZ-R-1", "rectification", {"measure": "培训"}, at=start, day=7),
        raw(
            "ProgressReported",
            "FZ-R-1",
            "rectification",
            {"progress": "已培训", "percent": 50, "reported_by": "张强"},
            at=start,
            day=8,
        ),
        raw(
            "RectificationOpened",
            "FZ-R-2",
            "rectification",
            {"department": "交警大队", "responsible_person": "赵六"},
            at=start,
            day=6,
        ),
        raw(
            "RectificationCompleted",
            "FZ-R-2",
            "rectification",
            {
                "evidence": ["培训记录"],
                "files": [
                    {
                        "sha256": hashlib.sha256(EVIDENCE).hexdigest(),
                        "name": "培训记录.pdf",
                        "media_type": "application/pdf",
                        "size": len(EVIDENCE),
                    }
                ],
            },
            at=start,
            day=9,
        ),
        raw(
            "RectificationVerified",
            "FZ-R-2",
            "rectification",
            {"supervisor": "督察1", "comment": "通过"},
            at=start,
            day=10,
        ),
    ]


def _alert(event_type: str, clock: dict[str, Any], level: int, at: datetime) -> dict[str, Any]:
    payload = {
        "alert_id": f"{clock['clock_id']}:{event_type}",
        "clock_id": clock["clock_id"],
        "rule": clock["rule"],
        "due_at": clock["due_at"],
        "scheduled_at": at.isoformat(),
        "department": DEPARTMENT,
        "level": level,
    }
    return raw(event_type, clock["case_id"], clock["case_kind"], payload, at=at)


def _settings(database_url: str, evidence_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap=None,
        auth_secret=TEST_SECRET,
        evidence_dir=evidence_dir,
        consistency_wait_seconds=0.05,  # a wait for a write never made ends at once
    )


def _seed(database_url: str, evidence_dir: Path) -> None:
    with FileStore(evidence_dir, len(EVIDENCE)).receive() as upload:
        upload.write(EVIDENCE)
        upload.finish()
    engine = create_engine(database_url)
    migrate(engine)
    writer = ProjectionWriter(engine, ClockPolicy(load_rulebook(), load_calendar()))
    now = datetime.now(UTC)
    events = _seed_events(now - timedelta(days=40))
    writer.apply_batch([ConsumedEvent("fuzz", 0, n, parse_event(e)) for n, e in enumerate(events)])
    with TestClient(
        create_app(_settings(database_url, evidence_dir))
    ) as client:  # the clock, as users see it
        answer = client.get("/cases/FZ-C-1/clocks", headers=auth_headers("legal"))
        clock = answer.raise_for_status().json()[0]
    alerts = [_alert("DeadlineBreached", clock, 2, now), _alert("Escalated", clock, 3, now)]
    writer.apply_batch(
        [ConsumedEvent("fuzz.alerts", 0, n, parse_event(a)) for n, a in enumerate(alerts)]
    )
    DeliveryStore(engine).record(
        [
            NewDelivery(alert["event_id"], "zhian", alert["event_type"], "FZ-C-1", "c", "{}", now)
            for alert in alerts
        ]
    )
    engine.dispose()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The API in-process on a seeded SQLite file, without Kafka."""
    seeded = tmp_path_factory.mktemp("fuzz")
    database_url = f"sqlite:///{seeded / 'fuzz.db'}"
    _seed(database_url, seeded / "evidence")
    built = create_app(_settings(database_url, seeded / "evidence"))
    with TestClient(built):  # runs the lifespan: the engine is disposed at the end
        yield built


# the SSE stream never ends (a heartbeat every 15 s, no last byte to validate):
# tests/e2e/test_alert_stream.py and tests/e2e/test_access.py drive it
NOT_FUZZED = {"GET /alerts/stream"}


@pytest.fixture(scope="module")
def api_schema(app: FastAPI) -> Any:
    loaded = schemathesis.openapi.from_asgi(
        "/openapi.json", app, config=schemathesis.Config.from_dict(CONFIG)
    )
    return loaded.exclude(path="/alerts/stream")


def _documented_routes(app: FastAPI) -> set[str]:
    """`METHOD /path` of every route in the OpenAPI document."""
    paths = app.openapi()["paths"]
    return {
        f"{method.upper()} {path}" for path, operations in paths.items() for method in operations
    }


def _answers_as_documented(cases: st.SearchStrategy[Any], headers: dict[str, str]) -> None:
    """Hypothesis over `cases`, each sent as the caller of `headers` and checked."""

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    answers_as_documented()


def _with_seeded_ids(operation: Any) -> st.SearchStrategy[Any]:
    """Requests whose path names a seeded row (the rest generated)."""
    return st.one_of(
        [
            operation.as_strategy(path_parameters={parameter.name: value})
            for parameter in operation.path_parameters
            for value in SEEDED_IDS[parameter.name]
        ]
    )


def _caller(operation: Any) -> dict[str, str]:
    """A caller whose role may call `operation`, and who sees every department."""
    if operation.path.endswith(("/verification", "/rejection")):
        return auth_headers("supervisor")
    return auth_headers("legal")


def test_every_route_answers_as_documented_whatever_the_input(
    app: FastAPI, api_schema: Any, subtests: pytest.Subtests
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    fuzzed = {operation.label for operation in operations}
    assert fuzzed == _documented_routes(app) - NOT_FUZZED, "a route escapes the fuzzing"
    for operation in operations:
        with subtests.test(operation.label):
            caller = _caller(operation)
            # schemathesis's coverage cases: boundaries, missing and wrong-typed values
            generation = api_schema.config.generation_for(operation=operation)
            for case in api_schema.iter_coverage_cases(
                operation, generation_modes=list(GenerationMode), generation_config=generation
            ):
                case.call_and_validate(headers=caller, checks=CHECKS)
            examples = operation.get_strategies_from_examples()
            if examples:  # the OpenAPI document's own examples
                _answers_as_documented(st.one_of(examples), caller)
            _answers_as_documented(operation.as_strategy(), caller)
            # (unsatisfiable when nothing of the route can be made invalid: a path takes any text)
            with contextlib.suppress(Unsatisfiable):
                _answers_as_documented(
                    operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), caller
                )
            if operation.path_parameters:
                # rows that exist, seen by a caller of every department and by a handler of one
                # (another department's answer 404)
                for headers in (caller, auth_headers("handler", DEPARTMENT)):
                    _answers_as_documented(_with_seeded_ids(operation), headers)


# --- what the fuzzing found, each as the request that showed it -------------------------------


@pytest.fixture(scope="module")
def client(app: FastAPI) -> TestClient:
    return TestClient(app, headers=auth_headers("legal"))


def documented(app: FastAPI, method: str, path: str) -> set[int]:
    """The statuses the OpenAPI document lists for one route."""
    responses = app.openapi()["paths"][path][method.lower()]["responses"]
    return {int(status) for status in responses}


@pytest.mark.parametrize(
    ("method", "url", "body", "route"),
    [
        ("GET", "/cases/0", None, "/cases/{case_id}"),
        ("GET", "/cases/0/events", None, "/cases/{case_id}/events"),
        ("GET", "/cases/0/clocks", None, "/cases/{case_id}/clocks"),
        ("GET", "/disputes/0", None, "/disputes/{decision_ref}"),
        ("GET", "/rectifications/0", None, "/rectifications/{rectification_id}"),
        (
            "POST",
            "/rectifications/0/review",
            {"lessons": "0", "root_causes": ["law"]},
            "/rectifications/{rectification_id}/review",
        ),
        (
            "POST",
            "/rectifications/0/measures",
            {"measure": "0"},
            "/rectifications/{rectification_id}/measures",
        ),
        (
            "POST",
            "/rectifications/0/progress",
            {"percent": 0, "progress": "0"},
            "/rectifications/{rectification_id}/progress",
        ),
        (
            "POST",
            "/rectifications/0/completion",
            {"evidence": ["0"], "summary": ""},
            "/rectifications/{rectification_id}/completion",
        ),
        (
            "POST",
            "/rectifications/0/reopening",
            {"reason": "0"},
            "/rectifications/{rectification_id}/reopening",
        ),
    ],
)
def test_an_unknown_item_answers_a_404_the_openapi_document_lists(
    app: FastAPI, client: TestClient, method: str, url: str, body: Any, route: str
) -> None:
    response = client.request(method, url, json=body)
    assert response.status_code == 404, response.text
    assert Refusal.model_validate(response.json()).detail.startswith("no ")
    assert 404 in documented(app, method, route)


@pytest.mark.parametrize("url", ["/cases/0?min_version=1", "/cases/0/events?min_version=1"])
def test_a_read_waiting_for_a_version_never_reached_answers_a_documented_503(
    app: FastAPI, client: TestClient, url: str
) -> None:
    response = client.get(url)
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert "retry" in Refusal.model_validate(response.json()).detail
    assert 503 in documented(app, "GET", url.split("?")[0].replace("/0", "/{case_id}"))


@pytest.mark.parametrize(
    ("role", "url"),
    [("legal", "/events"), ("supervisor", "/rectifications/FZ-R-1/verification")],
)
def test_a_body_that_is_not_utf8_answers_422_naming_the_body_not_400(
    client: TestClient, role: str, url: str
) -> None:
    response = client.post(
        url,
        content=b"!\xd3\x04K",
        headers={"Content-Type": "application/json", **auth_headers(role)},
    )
    assert response.status_code == 422, response.text
    assert response.json() == {
        "detail": [
            {
                "loc": ["body"],
                "msg": "the body is not JSON: it is not UTF-8 text",
                "type": "json_invalid",
            }
        ]
    }


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (
            "/rectifications",
            {
                "deadline": "2000-01-01",
                "department": "0",
                "description": "",
                "responsible_person": "0",
                "source_case_id": "0",
                "with_review": False,
            },
        ),
        ("/rectifications/FZ-R-1/measures", {"measure": "培训"}),
        (
            "/events",
            {
                "event_type": "ComplaintReceived",
                "case_id": "FZ-C-9",
                "case_kind": "complaint",
                "payload": {"channel": "letter", "subject": "扣证"},
            },
        ),
    ],
)
def test_a_write_without_kafka_answers_a_documented_503_naming_the_setting_not_500(
    app: FastAPI, client: TestClient, url: str, body: dict[str, Any]
) -> None:
    response = client.post(url, json=body)
    assert response.status_code == 503, response.text
    assert "CASESTREAM_KAFKA_BOOTSTRAP" in Unsent.model_validate(response.json()).detail.reason
    route = url.replace("FZ-R-1", "{rectification_id}")
    assert 503 in documented(app, "POST", route)


def test_a_command_the_rectification_does_not_allow_answers_a_documented_409(
    app: FastAPI, client: TestClient
) -> None:
    response = client.post("/rectifications/FZ-R-2/measures", json={"measure": "0"})
    assert response.status_code == 409, response.text
    assert "as of version" in Refusal.model_validate(response.json()).detail
    assert 409 in documented(app, "POST", "/rectifications/{rectification_id}/measures")
