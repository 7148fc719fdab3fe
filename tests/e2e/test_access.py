"""Access control from the outside: every endpoint × role × own / other department.

One API and one worker for the module, seeded through POST /events (as a system) with cases
in two departments and one not yet assigned; then a table of expected statuses, checks that
nothing of another department leaks, and masking of personal data per role.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from casestream.producers.intake import validate_record
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from tests.auth import TEST_SECRET, auth_env, bearer, sha256_hex, token_for
from tests.conftest import Database, fresh_topics
from tests.processes import Process, free_port, service_env, wait_for, wait_until_answers
from tests.sse import Listener

OWN, OTHER = "治安大队", "交警大队"
THIS_YEAR = datetime.now(UTC).year  # the seeded cases are received in the last days
PREFIX = {OWN: "ACC-Z", OTHER: "ACC-J"}  # every seeded case id names its department
SHARED_REF, OTHER_REF = "公决字〔2026〕101号", "公决字〔2026〕102号"
WANG = {"name": "王小明", "phone": "13812341234", "id_number": "110101199001011234"}
WANG_MASKED = {"name": "王**", "phone": "138****1234", "id_number": "110101****1234"}
SYSTEM_KEY, HANDLER_KEY = "sys-key-" + "x7" * 16, "desk-key-" + "q3" * 16

HEADERS: dict[str, dict[str, str]] = {
    "anonymous": {},
    "handler": bearer(token_for("handler", OWN)),
    "head": bearer(token_for("department_head", OWN)),
    "other_handler": bearer(token_for("handler", OTHER)),
    "legal": bearer(token_for("legal")),
    "supervisor": bearer(token_for("supervisor")),
    "leader": bearer(token_for("leader")),
    "system": bearer(token_for("system")),
    "key_system": {"X-API-Key": SYSTEM_KEY},  # API keys act as their role in the keys file
    "key_handler": bearer(HANDLER_KEY),
}
COLUMNS = ("anonymous", "handler", "head", "other_handler", "legal", "supervisor", "leader")
COLUMNS += ("system",)
SAME_AS = {"key_system": "system", "key_handler": "handler"}
SCOPED = {"handler": OWN, "head": OWN, "other_handler": OTHER, "key_handler": OWN}


def _complaint(
    case_id: str, department: str | None, *, days_ago: int = 0, **extra: Any
) -> list[dict[str, Any]]:
    """A complaint received (and, with a department, accepted) `days_ago`: its clock runs."""
    at = datetime.now(UTC) - timedelta(days=days_ago)
    payload = {"channel": "hotline_12345", "subject": "出警慢", "department": department, **extra}
    received = {"event_type": "ComplaintReceived", "case_id": case_id, "case_kind": "complaint"}
    received |= {"occurred_at": (at - timedelta(hours=1)).isoformat(), "payload": payload}
    if department is None:
        return [received]
    accepted = {"event_type": "ComplaintAccepted", "case_id": case_id, "case_kind": "complaint"}
    return [received, accepted | {"occurred_at": at.isoformat(), "payload": {}}]


SEED = [
    *_complaint("ACC-Z1", OWN, days_ago=30, complainant=WANG, decision_ref=SHARED_REF),
    *_complaint("ACC-Z2", OWN),
    *_complaint(
        "ACC-J1", OTHER, days_ago=30, complainant={"name": "李建国", "phone": "13900001111"}
    ),
    *_complaint("ACC-J2", OTHER, decision_ref=OTHER_REF),
    {
        "event_type": "LawsuitFiled",
        "case_id": "ACC-J3",
        "case_kind": "litigation",
        "payload": {
            "court": "县人民法院",
            "plaintiff": {"name": "赵六"},
            "decision_ref": SHARED_REF,
            "department": OTHER,
        },
    },
    *_complaint("ACC-U1", None, complainant={"name": "孙七", "phone": "13700002222"}),
    *(
        {
            "event_type": "RectificationOpened",
            "case_id": case_id,
            "case_kind": "rectification",
            "payload": {"department": department, "responsible_person": person},
        }
        for case_id, department, person in (("ACC-ZR1", OWN, "张强"), ("ACC-JR1", OTHER, "刘军"))
    ),
]
# what a caller bound to one department must never read about the others
FOREIGN = {
    OWN: ("ACC-J", "ACC-U", "ACC-P", OTHER, "李建国", "13900001111", "赵六", "孙七"),
    OTHER: ("ACC-Z", "ACC-U", "ACC-P", OWN, "王小明", "13812341234", "孙七"),
}


def _get(client: httpx.Client, path: str, who: str, **params: Any) -> httpx.Response:
    return client.get(path, headers=HEADERS[who], params=params)


@pytest.fixture(scope="module")
def api(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    tmp = tmp_path_factory.mktemp("access")
    topics = fresh_topics(kafka_bootstrap)
    keys = tmp / "api-keys.toml"
    keys.write_text(
        f'[[key]]\nid = "hotline"\nkey_sha256 = "{sha256_hex(SYSTEM_KEY)}"\nrole = "system"\n\n'
        f'[[key]]\nid = "zhian-desk"\nkey_sha256 = "{sha256_hex(HANDLER_KEY)}"\n'
        f'role = "handler"\ndepartment = "{OWN}"\n'
    )
    port = free_port()
    env = service_env(
        kafka_bootstrap,
        topics,
        Database(f"sqlite:///{tmp / 'access.db'}", None).env(),
        CASESTREAM_API_PORT=str(port),
        CASESTREAM_API_KEYS_FILE=str(keys),
        CASESTREAM_CONSISTENCY_WAIT_SECONDS="1",
        CASESTREAM_SCANNER_INTERVAL_SECONDS="0.2",
        **auth_env(),
    )
    worker = Process(["worker"], env, tmp / "worker.log")
    server = Process(["api"], env, tmp / "api.log")
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        wait_until_answers(client.base_url)
        _seed(client, SEED, kafka_bootstrap, topics)
        wait_for(lambda: {"ACC-Z1", "ACC-J1"} <= _case_ids(_get(client, "/alerts", "legal")), 60)
        yield client
    finally:
        client.close()
        server.stop()
        worker.stop()


def _seed(
    client: httpx.Client,
    bodies: list[dict[str, Any]],
    bootstrap: str | None = None,
    topics: Topics | None = None,
) -> None:
    """Post as a system (rectifications, which only staff commands and casestream itself
    open, straight onto their topic) and wait until every case is readable."""
    last: dict[str, str] = {}
    rectifications = [body for body in bodies if body["case_kind"] == "rectification"]
    if rectifications:
        assert bootstrap is not None and topics is not None
        with EventProducer(bootstrap, topics) as producer:
            for body in rectifications:
                record = {"source": "casestream.outcomes", "actor": "system", **body}
                producer.send(
                    validate_record(record, now=datetime.now(UTC), timezone="Asia/Shanghai")
                )
    for body in bodies:
        if body["case_kind"] != "rectification":
            posted = client.post("/events", json=body, headers=HEADERS["system"])
            assert posted.status_code == 202, posted.text
            last[body["case_id"]] = posted.json()["consistency_token"]
    for body in rectifications:
        wait_for(
            lambda case_id=body["case_id"]: (
                _get(client, f"/rectifications/{case_id}", "legal").status_code == 200
            ),
            timeout=60,
        )
    for case_id, token in last.items():
        wait_for(
            lambda case_id=case_id, token=token: (
                _get(client, f"/cases/{case_id}", "legal", consistency_token=token).status_code
                == 200
            ),
            timeout=60,
        )


def _case_ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return set(_values(response.json(), "case_id"))


def _values(found: Any, key: str) -> Iterator[Any]:
    """Every value of `key` anywhere in a JSON document."""
    if isinstance(found, dict):
        for name, value in found.items():
            if name == key:
                yield value
            yield from _values(value, key)
    elif isinstance(found, list):
        for item in found:
            yield from _values(item, key)


def _new_complaint() -> dict[str, Any]:
    return _complaint(f"ACC-P-{uuid.uuid4().hex[:8]}", None)[0]


BODIES: dict[str, Any] = {
    "valid": _new_complaint,
    "invalid": lambda: {"event_type": "Nope", "payload": {}},
    "open": lambda: {"department": OWN, "responsible_person": "张强"},
    "measure": lambda: {"measure": "组织执法程序培训"},
    "verify": lambda: {"comment": "ok"},
}

# request                         anonymous handler head other legal supervisor leader system
TABLE = [
    ("GET /cases", "401 200 200 200 200 200 200 200"),
    ("GET /cases/ACC-Z1", "401 200 200 404 200 200 200 200"),
    ("GET /cases/ACC-J1", "401 404 404 200 200 200 200 200"),
    ("GET /cases/ACC-U1", "401 404 404 404 200 200 200 200"),
    ("GET /cases/ACC-NONE", "401 404 404 404 404 404 404 404"),
    ("GET /cases/ACC-J1?min_version=1", "401 503 503 200 200 200 200 200"),  # as if unknown
    ("GET /cases/ACC-Z1/events", "401 200 200 404 200 200 200 200"),
    ("GET /cases/ACC-J1/events", "401 404 404 200 200 200 200 200"),
    ("GET /cases/ACC-Z1/clocks", "401 200 200 404 200 200 200 200"),
    ("GET /cases/ACC-J1/clocks", "401 404 404 200 200 200 200 200"),
    ("GET /cases/overdue", "401 200 200 200 200 200 200 200"),
    ("GET /clocks/due?within=60d", "401 200 200 200 200 200 200 200"),
    ("GET /alerts", "401 200 200 200 200 200 200 200"),
    ("GET /alerts/stream", "401 200 200 200 200 200 200 200"),
    (f"GET /disputes/{SHARED_REF}", "401 200 200 200 200 200 200 200"),
    (f"GET /disputes/{OTHER_REF}", "401 404 404 200 200 200 200 200"),
    ("GET /webhooks/deliveries", "401 403 403 403 200 200 200 200"),
    ("POST /events valid", "401 403 403 403 202 403 403 202"),
    ("POST /events invalid", "401 403 403 403 422 403 403 422"),  # the role first
    ("GET /rectifications", "401 200 200 200 200 200 200 200"),
    ("GET /rectifications/ACC-ZR1", "401 200 200 404 200 200 200 200"),
    ("GET /rectifications/ACC-JR1", "401 404 404 200 200 200 200 200"),
    ("POST /rectifications open", "401 403 202 403 202 202 202 202"),  # a head: own department
    ("POST /rectifications/ACC-ZR1/measures measure", "401 202 202 404 202 202 202 202"),
    ("POST /rectifications/ACC-JR1/measures measure", "401 404 404 202 202 202 202 202"),
    ("POST /rectifications/ACC-ZR1/verification verify", "401 403 403 403 403 409 403 403"),
    ("GET /rectifications.xlsx", "401 200 200 200 200 200 200 200"),
    ("GET /rectifications.csv", "401 200 200 200 200 200 200 200"),
    ("GET /enforcement/decisions.xlsx", "401 200 200 200 200 200 200 200"),
    ("GET /enforcement/decisions.csv", "401 200 200 200 200 200 200 200"),
    ("GET /enforcement/notices.xlsx", "401 200 200 200 200 200 200 200"),
    ("GET /enforcement/notices.csv", "401 200 200 200 200 200 200 200"),
    ("GET /cases.xlsx", "401 200 200 200 200 200 200 200"),
    ("GET /cases.csv", "401 200 200 200 200 200 200 200"),
    ("GET /stats?from=2026-01-01&to=2026-12-31", "401 200 200 200 200 200 200 200"),
    (
        f"GET /ledgers/annual-report?year={THIS_YEAR}&with_cases=true",
        "401 200 200 200 200 200 200 200",
    ),
    (
        f"GET /ledgers/annual-report?year={THIS_YEAR}&department={OWN}&format=md",
        "401 200 200 403 200 200 200 200",
    ),
    ("GET /healthz", "200 200 200 200 200 200 200 200"),
    ("GET /readyz", "200 200 200 200 200 200 200 200"),
    ("GET /metrics", "401 403 403 403 200 200 200 200"),  # every department's figures
    ("GET /docs", "200 200 200 200 200 200 200 200"),
    ("GET /openapi.json", "200 200 200 200 200 200 200 200"),
]
OPEN = ("/healthz", "/readyz", "/metrics", "/docs", "/openapi.json")
CELLS = [
    (request, who, int(codes.split()[COLUMNS.index(SAME_AS.get(who, who))]))
    for request, codes in TABLE
    for who in HEADERS
]


def _call(client: httpx.Client, request: str, who: str) -> httpx.Response:
    method, target, *body = request.split()
    if method == "POST":
        return client.post(target, json=BODIES[body[0]](), headers=HEADERS[who])
    if target == "/alerts/stream":
        with client.stream("GET", target, headers=HEADERS[who]) as response:
            if response.status_code == 200:
                assert response.headers["content-type"].startswith("text/event-stream")
            else:
                response.read()
            return response
    return client.get(target, headers=HEADERS[who])


@pytest.mark.parametrize(("request_line", "who", "expected"), CELLS)
def test_each_endpoint_answers_each_role_as_the_table_says(
    api: httpx.Client, request_line: str, who: str, expected: int
) -> None:
    response = _call(api, request_line, who)
    assert response.status_code == expected, response.text
    if expected == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    target = request_line.split()[1]
    if who not in SCOPED or target in OPEN or target == "/alerts/stream":
        return
    if expected == 200:
        for marker in FOREIGN[SCOPED[who]]:
            assert marker not in response.text, f"{marker} leaked to {who}"
    if expected == 404:  # word for word the answer about a case that does not exist
        assert response.json()["detail"].startswith(("no case", "no rectification"))


LISTS = [
    ("/cases", {"limit": 500}, {"ACC-Z1", "ACC-Z2"}, {"ACC-J1", "ACC-J2", "ACC-J3"}),
    ("/cases/overdue", {}, {"ACC-Z1"}, {"ACC-J1"}),
    ("/clocks/due", {"within": "60d"}, {"ACC-Z2"}, {"ACC-J2"}),
    ("/alerts", {"limit": 500}, {"ACC-Z1"}, {"ACC-J1"}),
    (f"/disputes/{SHARED_REF}", {}, {"ACC-Z1"}, {"ACC-J3"}),
]


@pytest.mark.parametrize(("path", "params", "own", "other"), LISTS)
@pytest.mark.parametrize("who", ["handler", "head", "other_handler", "key_handler", "legal"])
def test_lists_hold_only_the_callers_department_and_everything_for_legal(
    api: httpx.Client, path: str, params: dict[str, Any], own: set[str], other: set[str], who: str
) -> None:
    response = _get(api, path, who, **params)
    found = _case_ids(response)
    if who not in SCOPED:
        assert own | other <= found
        return
    department = SCOPED[who]
    assert (own if department == OWN else other) <= found
    # seeded cases name their department; rectifications opened by hand above are checked below
    assert all(case_id.startswith((PREFIX[department], "RECT-M-")) for case_id in found), found
    assert set(_values(response.json(), "department")) == {department}


def test_a_department_filter_naming_another_department_finds_nothing(api: httpx.Client) -> None:
    for path in ("/cases", "/cases/overdue", "/alerts"):
        response = _get(api, path, "handler", department=OTHER)
        assert response.status_code == 200 and response.json()["items"] == [], path


MASKED_FOR = {"handler": True, "head": True, "leader": True}
MASKED_FOR |= {"legal": False, "supervisor": False, "system": False}


@pytest.mark.parametrize("who", MASKED_FOR)
def test_personal_data_is_masked_for_roles_that_do_not_need_it(api: httpx.Client, who: str) -> None:
    expected = WANG_MASKED if MASKED_FOR[who] else WANG
    case = _get(api, "/cases/ACC-Z1", who).json()
    assert case["state"]["complainant"] == expected
    history = _get(api, "/cases/ACC-Z1/events", who).json()
    assert history[0]["event"]["payload"]["complainant"] == expected
    listed = _get(api, "/cases", who, limit=500)
    assert "complainant" not in listed.json()["items"][0]
    assert WANG["phone"] not in listed.text and "王小明" not in listed.text


def _forged(claims: dict[str, Any], secret: str = TEST_SECRET) -> dict[str, str]:
    return bearer(jwt.encode(claims, secret, algorithm="HS256"))


def _claims(**changes: Any) -> dict[str, Any]:
    base = {"sub": "u1", "role": "legal", "exp": int(datetime.now(UTC).timestamp()) + 600}
    return {key: value for key, value in (base | changes).items() if value is not None}


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({}, "authentication required"),
        (bearer("not-a-token"), "neither a token nor a known API key"),
        (bearer(token_for("legal", ttl=timedelta(hours=-1))), "expired"),
        (bearer(token_for("legal", secret="another-" + TEST_SECRET)), "not valid"),
        (_forged(_claims(role="admin")), "role"),
        (_forged(_claims(role="handler")), "department"),
        (_forged(_claims(exp=None)), "exp"),
        (bearer(jwt.encode(_claims(), key=None, algorithm="none")), "not valid"),
        ({"Authorization": "Basic dTpw"}, "Bearer scheme"),
        ({"X-API-Key": "no-such-key"}, "unknown API key"),
        ({"X-API-Key": SYSTEM_KEY, **HEADERS["legal"]}, "one credential"),
    ],
)
def test_missing_invalid_and_expired_credentials_answer_401_with_a_bearer_challenge(
    api: httpx.Client, headers: dict[str, str], says: str
) -> None:
    response = api.get("/cases", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="casestream"')
    assert says in response.json()["detail"]


def test_posted_events_name_the_caller_as_actor(api: httpx.Client) -> None:
    body = _new_complaint()
    posted = api.post("/events", json=body, headers=HEADERS["key_system"]).json()
    history = _get(
        api,
        f"/cases/{body['case_id']}/events",
        "legal",
        consistency_token=posted["consistency_token"],
    )
    assert history.json()[0]["event"]["actor"] == "api-key:hotline"


def test_the_alert_stream_carries_only_the_callers_department(api: httpx.Client) -> None:
    url = str(api.base_url)
    own = Listener(url, {}, HEADERS["handler"])
    asks_other = Listener(url, {"department": OTHER}, HEADERS["head"])
    everyone = Listener(url, {}, HEADERS["legal"])
    listeners = [own, asks_other, everyone]
    try:
        for listener in listeners:
            assert listener.connected.wait(10)
        _seed(
            api,
            [*_complaint("ACC-Z3", OWN, days_ago=30), *_complaint("ACC-J4", OTHER, days_ago=30)],
        )
        seen: set[str] = set()
        while not {"ACC-Z3", "ACC-J4"} <= seen:
            seen.add(json.loads(everyone.next(timeout=30).fields["data"])["case_id"])
        own_cases: set[str] = set()
        while "ACC-Z3" not in own_cases:
            own_cases.add(json.loads(own.next(timeout=10).fields["data"])["case_id"])
        assert all(case_id.startswith("ACC-Z") for case_id in own_cases), own_cases
        with pytest.raises(queue.Empty):
            asks_other.next(timeout=0.5)
    finally:
        for listener in listeners:
            listener.close()


def test_the_api_refuses_to_start_without_a_strong_secret(tmp_path: Path) -> None:
    from casestream.api.app import create_app
    from casestream.credentials import AuthConfigError
    from casestream.settings import Settings

    database = f"sqlite:///{tmp_path / 'refused.db'}"
    for secret, says in ((None, "needs CASESTREAM_AUTH_SECRET"), ("changeme", "too short")):
        with pytest.raises(AuthConfigError, match=says) as refused:
            create_app(Settings(database_url=database, auth_secret=secret, kafka_bootstrap=None))
        assert "casestream up" in str(refused.value)
    weak = "changeme-changeme-changeme-changeme"
    with pytest.raises(AuthConfigError, match="placeholder"):
        create_app(Settings(database_url=database, auth_secret=weak, kafka_bootstrap=None))


def test_a_token_from_the_cli_is_accepted_and_a_wrong_role_is_refused(api: httpx.Client) -> None:
    def issue(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "casestream.cli", "token", "issue", *args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CASESTREAM_")}
        env.update(auth_env())
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    issued = issue("--role", "handler", "--department", OWN, "--subject", "民警101")
    assert issued.returncode == 0, issued.stderr
    token = bearer(issued.stdout.strip())
    assert api.get("/cases/ACC-Z1", headers=token).status_code == 200
    assert api.get("/cases/ACC-J1", headers=token).status_code == 404
    wrong = issue("--role", "admin")
    assert wrong.returncode == 2 and "handler, department_head, legal" in wrong.stderr
