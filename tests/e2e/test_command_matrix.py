"""Every command of the catalogue answers as the README says, from the outside: a role the
command does not allow gets 403, a handler of another department 404 as for an unknown case, an
unknown field or a string longer than the body's schema allows 422 naming the field; each kind
refuses a command its case's state does not allow with 409, the reason and the version; and each
command no flow gives (tests/e2e/test_case_flows.py) is applied once here.

The cases of the matrix are parametrised by the domain's catalogue and each is checked against
what `GET /commands` lists (roles, body schema): a command added to the catalogue is covered
without touching this file. One running system serves the whole module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from casestream.domain.command_catalogue import COMMANDS
from tests.auth import auth_env, auth_headers
from tests.conftest import Database, fresh_topics
from tests.processes import free_port, running_system, service_env, wait_for

DEPARTMENT, OTHER = "治安大队", "交警大队"
HANDLER = auth_headers("handler", DEPARTMENT)
HEAD = auth_headers("department_head", DEPARTMENT)
LEGAL = auth_headers("legal")
SUPERVISOR = auth_headers("supervisor")
LEADER = auth_headers("leader")
STRANGER = auth_headers("handler", OTHER)  # a handler of another department
DEPARTMENT_ROLES = ("handler", "department_head")
ROLES = ("handler", "department_head", "supervisor", "leader", "legal", "system")
NOTICE_DEADLINE = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()  # 整改期限

# how each kind's case is registered for the matrix: (command, headers, fields)
REGISTRATIONS: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {
    "complaint": (
        "register",
        HANDLER,
        {"channel": "window", "subject": "出警慢", "department": DEPARTMENT},
    ),
    "enterprise_tip": (
        "register",
        HANDLER,
        {"enterprise": "某公司", "subject": "无证经营", "department": DEPARTMENT},
    ),
    "reconsideration": (
        "register",
        LEGAL,
        {
            "applicant": {"name": "王五"},
            "decision_ref": "行罚决字〔2026〕1号",
            "reconsideration_body": "市人民政府",
            "department": DEPARTMENT,
        },
    ),
    "litigation": (
        "register",
        LEGAL,
        {
            "court": "某区人民法院",
            "plaintiff": {"name": "赵六"},
            "decision_ref": "行罚决字〔2026〕2号",
            "department": DEPARTMENT,
        },
    ),
    "rectification": ("open", HEAD, {"department": DEPARTMENT, "responsible_person": "李四"}),
    "enforcement_review": (
        "open_review",
        LEGAL,
        {"decision_ref": "行罚决字〔2026〕3号", "department": DEPARTMENT},
    ),
    "enforcement_notice": (
        "issue_notice",
        LEGAL,
        {
            "notice_no": "公法监字〔2026〕1号",
            "department": DEPARTMENT,
            "matters": ["补正告知程序"],
            "deadline": NOTICE_DEADLINE,
        },
    ),
    "enforcement_decision": (
        "record_decision",
        HANDLER,
        {
            "decision_ref": "不罚决字〔2026〕1号",
            "exemption": "minor",
            "legal_basis": "《行政处罚法》第三十三条第一款",
            "decided_on": "2026-01-05",
            "department": DEPARTMENT,
        },
    ),
}

# per kind, a command the state of a case just registered does not allow: (name, headers, body)
ILLEGAL_NOW: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {
    "complaint": ("resolve", HANDLER, {"outcome": "explained"}),  # not accepted yet
    "enterprise_tip": ("close", HEAD, {}),  # not verified yet
    "reconsideration": ("record_decision", LEGAL, {"decision": "revoked"}),  # not accepted
    "litigation": ("record_effective", LEGAL, {}),  # no judgment yet
    "rectification": ("verify", SUPERVISOR, {}),  # not completed
    "enforcement_review": ("issue_opinion", LEGAL, {"category": "other", "text": "补充"}),
    "enforcement_decision": ("withdraw_publication", HEAD, {"reason": "撤回"}),  # not published
}
# a step that makes ILLEGAL_NOW's command illegal, for a kind whose case just registered allows
# every command (given on a case of its own, so the matrix's shared cases stay just registered)
FIRST: dict[str, tuple[str, dict[str, str], dict[str, Any]]] = {
    "enforcement_review": ("complete_review", LEGAL, {"score": 90}),  # scored: no more opinions
}

CATALOGUE = sorted((kind.value, name) for kind, name in COMMANDS)
OPENING = [key for key in CATALOGUE if COMMANDS[key].model.opens_case]
GIVEN = [key for key in CATALOGUE if not COMMANDS[key].model.opens_case]


def _ids(key: tuple[str, str]) -> str:
    return f"{key[0]}.{key[1]}"


@pytest.fixture(scope="module")
def api(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    topics = fresh_topics(kafka_bootstrap)  # one system for the module
    tmp_path = tmp_path_factory.mktemp("matrix")
    database = Database(f"sqlite:///{tmp_path / 'matrix.db'}", None)
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_API_PORT=str(free_port()),
        CASESTREAM_COMMAND_WAIT_SECONDS="30",
        CASESTREAM_EVIDENCE_DIR=str(tmp_path / "evidence"),
        **auth_env(),
    )
    with running_system(env, tmp_path) as client:
        yield client


@pytest.fixture(scope="module")
def catalogue(api: httpx.Client) -> dict[tuple[str, str], dict[str, Any]]:
    """What GET /commands lists, by (case kind, name)."""
    listed = api.get("/commands", headers=HANDLER)
    assert listed.status_code == 200, listed.text
    return {(item["case_kind"], item["name"]): item for item in listed.json()["items"]}


def _register(api: httpx.Client, kind: str) -> str:
    command, headers, fields = REGISTRATIONS[kind]
    case_id = None if kind == "rectification" else f"MX-{kind}-{uuid.uuid4().hex[:8]}"
    body = {"case_kind": kind, "command": command, "case_id": case_id, "fields": fields}
    registered = api.post("/cases", json=body, headers=headers)
    assert registered.status_code == 201, registered.text
    return str(registered.json()["case_id"])


@pytest.fixture(scope="module")
def cases(api: httpx.Client, catalogue: dict[tuple[str, str], dict[str, Any]]) -> dict[str, str]:
    """One case of each kind the catalogue has, just registered, in DEPARTMENT."""
    return {kind: _register(api, kind) for kind in sorted({kind for kind, _ in catalogue})}


# --- a valid body from a command's JSON Schema (required fields only) -----------------------


def _example(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    if "$ref" in schema:
        return _example(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        return _example(next(s for s in schema["anyOf"] if s.get("type") != "null"), defs)
    if "enum" in schema:
        return schema["enum"][-1]  # the last: the first channel is the 12345 platform's own
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _example(properties[name], defs) for name in schema.get("required", [])}
    if kind == "array":
        return [_example(schema["items"], defs) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "string" and schema.get("format") == "date":
        return datetime.now(UTC).date().isoformat()
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 1))
    raise AssertionError(f"no example for the schema {schema}: teach _example this type")


def _valid_body(entry: dict[str, Any]) -> dict[str, Any]:
    schema = entry["body_schema"]
    body = _example({**schema, "properties": schema.get("properties", {})}, schema.get("$defs", {}))
    body.pop("expected_version", None)
    return dict(body)


def _bounded_string(entry: dict[str, Any]) -> tuple[str, int] | None:
    """A string field of the body and its maxLength (the smallest), if the body has one."""
    bounded = []
    for name, schema in entry["body_schema"].get("properties", {}).items():
        for option in [schema, *schema.get("anyOf", [])]:
            if option.get("type") == "string" and "maxLength" in option:
                bounded.append((option["maxLength"], name))
    if not bounded:
        return None
    length, name = min(bounded)
    return name, length


def _refused_role(entry: dict[str, Any]) -> str | None:
    return next((role for role in ROLES if role not in entry["roles"]), None)


def _headers(role: str, department: str = DEPARTMENT) -> dict[str, str]:
    return auth_headers(role, department if role in DEPARTMENT_ROLES else None)


def _give(
    api: httpx.Client, case_id: str, name: str, body: dict[str, Any], headers: dict[str, str]
) -> httpx.Response:
    return api.post(f"/cases/{case_id}/commands/{name}", json=body, headers=headers)


def _locs(answer: httpx.Response) -> list[list[str]]:
    return [problem["loc"] for problem in answer.json()["detail"]]


def test_the_matrix_covers_every_command_get_commands_lists(
    catalogue: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert set(catalogue) == set(CATALOGUE)
    kinds = {kind for kind, _ in catalogue}
    given = {kind for kind, _ in GIVEN}  # a 执法监督书 takes no command once issued
    assert set(REGISTRATIONS) == kinds and set(ILLEGAL_NOW) == given


# --- commands on a registered case -----------------------------------------------------------


@pytest.mark.parametrize("key", GIVEN, ids=_ids)
def test_a_role_the_command_does_not_allow_is_refused_with_403(
    api: httpx.Client,
    catalogue: dict[tuple[str, str], dict[str, Any]],
    cases: dict[str, str],
    key: tuple[str, str],
) -> None:
    entry = catalogue[key]
    role = _refused_role(entry)
    if role is None:
        pytest.skip(f"every role may give {_ids(key)}")
    answer = _give(api, cases[key[0]], key[1], _valid_body(entry), _headers(role))
    assert answer.status_code == 403, answer.text
    assert role in answer.json()["detail"]


@pytest.mark.parametrize("key", GIVEN, ids=_ids)
def test_a_handler_of_another_department_meets_404_as_for_an_unknown_case(
    api: httpx.Client,
    catalogue: dict[tuple[str, str], dict[str, Any]],
    cases: dict[str, str],
    key: tuple[str, str],
) -> None:
    case_id = cases[key[0]]
    body = _valid_body(catalogue[key])
    hidden = _give(api, case_id, key[1], body, STRANGER)
    unknown = _give(api, f"NO-SUCH-{uuid.uuid4().hex[:6]}", key[1], body, STRANGER)
    assert (hidden.status_code, unknown.status_code) == (404, 404), hidden.text
    assert hidden.json()["detail"] == f"no case {case_id!r}"  # as for a case that is not there


@pytest.mark.parametrize("key", GIVEN, ids=_ids)
def test_an_invalid_body_is_refused_with_422_naming_the_field(
    api: httpx.Client,
    catalogue: dict[tuple[str, str], dict[str, Any]],
    cases: dict[str, str],
    key: tuple[str, str],
) -> None:
    entry, case_id = catalogue[key], cases[key[0]]
    allowed = _headers(sorted(entry["roles"])[0])
    body = _valid_body(entry)
    unknown = _give(api, case_id, key[1], {**body, "colour": "red"}, allowed)
    assert unknown.status_code == 422, unknown.text
    assert _locs(unknown) == [["body", "colour"]]
    bounded = _bounded_string(entry)
    if bounded is not None:
        name, length = bounded
        too_long = _give(api, case_id, key[1], {**body, name: "长" * (length + 1)}, allowed)
        assert too_long.status_code == 422, too_long.text
        assert _locs(too_long) == [["body", name]]
        assert "长" * 20 not in too_long.text  # the input is never echoed back
    history = api.get(f"/cases/{case_id}/events", headers=LEGAL).json()
    assert len(history) == 1  # nothing refused was written


@pytest.mark.parametrize("kind", sorted(ILLEGAL_NOW))
def test_a_command_the_case_s_state_does_not_allow_answers_409_with_reason_and_version(
    api: httpx.Client, cases: dict[str, str], kind: str
) -> None:
    name, headers, body = ILLEGAL_NOW[kind]
    case_id = cases[kind]
    if kind in FIRST:
        case_id = _register(api, kind)
        first, first_headers, first_body = FIRST[kind]
        assert _give(api, case_id, first, first_body, first_headers).status_code == 200
    version = api.get(f"/cases/{case_id}", headers=LEGAL).json()["version"]
    refused = _give(api, case_id, name, body, headers)
    assert refused.status_code == 409, refused.text
    detail = refused.json()["detail"]
    assert detail["reason"] and detail["current_version"] == version
    stale = _give(api, case_id, name, {**body, "expected_version": version + 1}, headers)
    assert stale.status_code == 409, stale.text
    assert stale.json()["detail"]["current_version"] == version
    assert api.get(f"/cases/{case_id}", headers=LEGAL).json()["version"] == version


@pytest.mark.parametrize(
    ("kind", "name", "headers", "body", "field"),
    [
        ("litigation", "schedule_hearing", LEGAL, {"hearing_date": "2999-01-01"}, "hearing_date"),
        ("litigation", "record_hearing", LEGAL, {"held_on": "1901-01-01"}, "held_on"),
        ("rectification", "extend_deadline", LEADER, {"deadline": "2999-01-01"}, "deadline"),
    ],
)
def test_an_implausible_date_is_refused_with_422_naming_it_and_nothing_is_written(
    api: httpx.Client,
    cases: dict[str, str],
    kind: str,
    name: str,
    headers: dict[str, str],
    body: dict[str, Any],
    field: str,
) -> None:
    refused = _give(api, cases[kind], name, body, headers)
    assert refused.status_code == 422, refused.text
    assert _locs(refused) == [["body", field]]
    assert len(api.get(f"/cases/{cases[kind]}/events", headers=LEGAL).json()) == 1


def test_a_nested_field_at_fault_is_named_by_its_path(
    api: httpx.Client, cases: dict[str, str]
) -> None:
    appeared = [{"name": "王局长"}, {"name": "长" * 201}]
    hearing = {"held_on": "2026-01-05", "appeared": appeared, "head_appeared": True}
    refused = _give(api, cases["litigation"], "record_hearing", hearing, LEGAL)
    assert refused.status_code == 422, refused.text
    assert _locs(refused) == [["body", "appeared", "1", "name"]]
    unnamed = {"held_on": "2026-01-05", "head_appeared": True}  # the head, among nobody
    inconsistent = _give(api, cases["litigation"], "record_hearing", unnamed, LEGAL)
    assert inconsistent.status_code == 422, inconsistent.text
    assert _locs(inconsistent) == [["body", "head_appeared"]]
    _, headers, fields = REGISTRATIONS["reconsideration"]
    body = {
        "case_kind": "reconsideration",
        "command": "register",
        "case_id": f"MX-NEW-{uuid.uuid4().hex[:8]}",
        "fields": {**fields, "applicant": {"name": "王五", "phone": "not a phone"}},
    }
    invalid = api.post("/cases", json=body, headers=headers)
    assert invalid.status_code == 422, invalid.text
    assert _locs(invalid) == [["body", "fields", "applicant", "phone"]]


# --- registrations ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", OPENING, ids=_ids)
def test_a_registration_answers_403_422_and_409_as_documented(
    api: httpx.Client,
    catalogue: dict[tuple[str, str], dict[str, Any]],
    cases: dict[str, str],
    key: tuple[str, str],
) -> None:
    kind, name = key
    entry = catalogue[key]
    _, allowed, fields = REGISTRATIONS[kind]

    def register(
        fields: dict[str, Any], headers: dict[str, str], case_id: str | None = None
    ) -> httpx.Response:
        if case_id is None and kind != "rectification":
            case_id = f"MX-NEW-{uuid.uuid4().hex[:8]}"
        body = {"case_kind": kind, "command": name, "case_id": case_id, "fields": fields}
        return api.post("/cases", json=body, headers=headers)

    role = _refused_role(entry)
    if role is not None:
        assert register(fields, _headers(role)).status_code == 403
    department_bound = [role for role in DEPARTMENT_ROLES if role in entry["roles"]]
    if department_bound and "department" in entry["body_schema"]["properties"]:
        elsewhere = register({**fields, "department": OTHER}, _headers(department_bound[0]))
        assert elsewhere.status_code == 403, elsewhere.text  # its own department's cases only
    unknown = register({**fields, "colour": "red"}, allowed)
    assert unknown.status_code == 422 and _locs(unknown) == [["body", "fields", "colour"]]
    bounded = _bounded_string(entry)
    assert bounded is not None
    field, length = bounded
    too_long = register({**fields, field: "长" * (length + 1)}, allowed)
    assert too_long.status_code == 422 and _locs(too_long) == [["body", "fields", field]]
    if kind != "rectification":  # a rectification opened without an id gets a new one
        again = register(fields, allowed, cases[kind])
        assert again.status_code == 409 and "already registered" in again.json()["detail"]["reason"]
        # an id another kind's case holds is taken as well: not "no such case"
        other_kind = next(other for other in sorted(cases) if other != kind)
        taken = register(fields, allowed, cases[other_kind])
        assert taken.status_code == 409, taken.text
        assert "already registered" in taken.json()["detail"]["reason"]


# --- the commands no flow gives, applied --------------------------------------------------------


def _applied(
    api: httpx.Client, case_id: str, name: str, headers: dict[str, str], **body: Any
) -> int:
    answer = _give(api, case_id, name, body, headers)
    assert answer.status_code == 200, f"{name}: {answer.status_code} {answer.text}"
    return int(answer.json()["version"])


def _handling_due(api: httpx.Client, case_id: str) -> str:
    clocks = api.get(f"/cases/{case_id}/clocks", headers=LEGAL).json()
    return str(next(c["due_at"] for c in clocks if c["rule"] == "complaint.handling"))


def test_a_complaint_rejected_reopened_suspended_extended_and_transferred(
    api: httpx.Client,
) -> None:
    case_id = _register(api, "complaint")
    _applied(api, case_id, "reject", HEAD, reason="不属于本局职责")
    _applied(api, case_id, "reopen", SUPERVISOR, reason="督察认为应予受理")
    _applied(api, case_id, "suspend", HEAD, reason="等待鉴定")
    assert api.get(f"/cases/{case_id}", headers=HEAD).json()["paused"] is True
    _applied(api, case_id, "resume", HEAD)
    _applied(api, case_id, "extend_deadline", HEAD, new_length=60, reason="情况复杂")
    version = _applied(api, case_id, "transfer", LEGAL, to_department=OTHER, reason="管辖")
    case = api.get(f"/cases/{case_id}", headers=LEGAL).json()
    assert (case["status"], case["department"], case["paused"]) == ("assigned", OTHER, False)
    assert case["version"] == version == 7
    # the department it left no longer sees it; the one it went to carries it on
    assert api.get(f"/cases/{case_id}", headers=HEAD).status_code == 404
    assert _give(api, case_id, "reply", {"reply": "已答复"}, HANDLER).status_code == 404
    _applied(api, case_id, "reply", auth_headers("handler", OTHER), reply="已答复")


def test_a_complaint_s_extension_moves_its_handling_deadline(api: httpx.Client) -> None:
    case_id = _register(api, "complaint")
    _applied(api, case_id, "accept", HANDLER)
    before = _handling_due(api, case_id)
    _applied(api, case_id, "extend_deadline", LEADER, new_length=60, rule="complaint.handling")
    assert _handling_due(api, case_id) > before


def test_a_tip_off_suspended_resumed_and_extended(api: httpx.Client) -> None:
    case_id = _register(api, "enterprise_tip")
    _applied(api, case_id, "suspend", HEAD, reason="等待调查")
    _applied(api, case_id, "resume", HEAD)
    _applied(api, case_id, "extend_deadline", LEADER, new_length=45)
    events = api.get(f"/cases/{case_id}/events", headers=HEAD).json()
    assert [item["event_type"] for item in events] == [
        "TipReceived",
        "CaseSuspended",
        "CaseResumed",
        "DeadlineExtended",
    ]
    assert events[-1]["event"]["payload"]["approved_by"] == "test-leader"


def test_an_anonymous_tip_off_registered_by_command_shows_its_informant_to_no_role(
    api: httpx.Client,
) -> None:
    secret = {"name": "周秘密", "phone": "13566667777"}
    fields = {**REGISTRATIONS["enterprise_tip"][2], "informant": secret, "anonymous": True}
    case_id = f"MX-ANON-{uuid.uuid4().hex[:8]}"
    body = {"case_kind": "enterprise_tip", "command": "register", "case_id": case_id}
    registered = api.post("/cases", json={**body, "fields": fields}, headers=HANDLER)
    assert registered.status_code == 201, registered.text
    for role in ROLES:
        headers = _headers(role)
        case = api.get(f"/cases/{case_id}", headers=headers)
        history = api.get(f"/cases/{case_id}/events", headers=headers)
        assert case.status_code == history.status_code == 200, role
        assert case.json()["state"]["informant"] is None, role
        assert history.json()[0]["event"]["payload"]["informant"] is None, role
        assert "周" not in case.text + history.text and "1356" not in case.text + history.text


def test_a_reconsideration_heard_given_an_opinion_and_withdrawn(api: httpx.Client) -> None:
    case_id = _register(api, "reconsideration")
    _applied(api, case_id, "record_acceptance", LEGAL)
    today = datetime.now(UTC).date().isoformat()
    _applied(api, case_id, "record_hearing", LEGAL, hearing_date=today, agency_head_appeared=True)
    _applied(
        api,
        case_id,
        "record_opinion",
        LEGAL,
        opinion_no="意见书〔2026〕3号",
        requested_action="纠正",
    )
    _applied(api, case_id, "withdraw", LEGAL, reason="申请人撤回")
    case = api.get(f"/cases/{case_id}", headers=LEGAL).json()
    assert case["status"] == "withdrawn"

    def opinion_rectification() -> list[dict[str, Any]]:
        items = api.get("/rectifications", headers=LEGAL).json()["items"]
        return [item for item in items if item["source_case_id"] == case_id]

    opened = wait_for(opinion_rectification, timeout=60)
    assert [item["rectification_id"].startswith(f"RECT-{case_id}-OP-") for item in opened] == [True]


def test_a_lawsuit_judged_served_and_appealed_to_a_second_instance(api: httpx.Client) -> None:
    case_id = _register(api, "litigation")
    _applied(api, case_id, "record_judgment", LEGAL, instance="first", outcome="claim_dismissed")
    _applied(api, case_id, "record_service", LEGAL)
    _applied(api, case_id, "file_appeal", LEGAL, appellant="plaintiff", court="市中级人民法院")
    assert api.get(f"/cases/{case_id}", headers=LEGAL).json()["status"] == "appealed"
    _applied(api, case_id, "record_judgment", LEGAL, instance="second", outcome="claim_dismissed")
    case = api.get(f"/cases/{case_id}", headers=LEGAL).json()
    assert (case["status"], case["version"]) == ("judged", 5)


def test_a_rectification_rejected_by_the_supervisor_and_reopened(api: httpx.Client) -> None:
    case_id = _register(api, "rectification")
    _applied(api, case_id, "complete", HEAD, evidence=["整改报告"])
    _applied(api, case_id, "reject", SUPERVISOR, reason="证据不足")
    assert api.get(f"/rectifications/{case_id}", headers=HEAD).json()["status"] == "rejected"
    _applied(api, case_id, "reopen", LEGAL, reason="补充证据")
    detail = api.get(f"/rectifications/{case_id}", headers=HEAD).json()
    assert detail["status"] == "in_progress"
    assert [entry["supervisor"] for entry in detail["verifications"]] == ["test-supervisor"]


def test_a_notice_s_rectification_verified_marks_the_notice_rectified(api: httpx.Client) -> None:
    """执法监督书 → its rectification (RECT-<notice id>) opened by the worker, completed by the
    department, verified by 督察 → the notice rectified, derived through the outbox relay."""
    notice_id = _register(api, "enforcement_notice")
    rectification_id = f"RECT-{notice_id}"

    def opened() -> bool:
        return api.get(f"/cases/{rectification_id}", headers=HEAD).status_code == 200

    wait_for(opened, timeout=60)
    rectification = api.get(f"/cases/{rectification_id}", headers=HEAD).json()["state"]
    assert (rectification["deadline"], rectification["source_case_id"]) == (
        NOTICE_DEADLINE,
        notice_id,
    )
    _applied(api, rectification_id, "complete", HEAD, evidence=["重新告知笔录"])
    _applied(api, rectification_id, "verify", SUPERVISOR)

    def rectified() -> bool:
        state = api.get(f"/cases/{notice_id}", headers=HEAD).json()["state"]
        return bool(state["status"] == "rectified")

    wait_for(rectified, timeout=60)


def test_a_review_opined_and_scored_and_a_decision_published_and_withdrawn(
    api: httpx.Client,
) -> None:
    review_id = _register(api, "enforcement_review")
    _applied(api, review_id, "issue_opinion", LEGAL, category="procedure", text="未告知权利")
    _applied(api, review_id, "complete_review", LEGAL, score=85)
    review = api.get(f"/cases/{review_id}", headers=HEAD).json()["state"]
    assert (review["status"], review["score"], len(review["opinions"])) == ("completed", 85, 1)
    decision_id = _register(api, "enforcement_decision")
    _applied(api, decision_id, "publish", HEAD, platform="县政府门户网站")
    _applied(api, decision_id, "withdraw_publication", HEAD, reason="公示期满")
    decision = api.get(f"/cases/{decision_id}", headers=HANDLER).json()["state"]
    assert decision["status"] == "withdrawn" and decision["withdrawn_at"] is not None
