"""匿名举报 from the outside: the informant of an anonymous tip is shown to no role in any view
(case state, history, ledgers, a rectification's source case, lists), while a named informant
is still shown as recorded or masked per role.

One worker and one API for the module, seeded through POST /events as a system and one
rectification opened by hand on each tip.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.auth import auth_env, auth_headers
from tests.conftest import Database, fresh_topics
from tests.processes import free_port, running_system, service_env, wait_for

DEPARTMENT = "治安大队"
ANONYMOUS_TIP, NAMED_TIP = "ANON-T1", "NAMED-T1"
SECRET = {"name": "周秘密", "phone": "13566667777", "id_number": "32010219850505123X"}
# neither the identity nor a masked form of it may reach anyone
FORBIDDEN = (*SECRET.values(), "周**", "135****7777", "320102****123X")
NAMED = {"name": "王小明", "phone": "13812341234", "id_number": "110101199001011234"}
NAMED_MASKED = {"name": "王**", "phone": "138****1234", "id_number": "110101****1234"}

ROLES = {
    "handler": auth_headers("handler", DEPARTMENT),
    "department_head": auth_headers("department_head", DEPARTMENT),
    "legal": auth_headers("legal"),
    "supervisor": auth_headers("supervisor"),
    "leader": auth_headers("leader"),
    "system": auth_headers("system"),
}
UNMASKED = {"legal", "supervisor", "system"}


def _tip(case_id: str, informant: dict[str, str], *, anonymous: bool) -> dict[str, Any]:
    return {
        "event_type": "TipReceived",
        "case_id": case_id,
        "case_kind": "enterprise_tip",
        "payload": {
            "enterprise": "恒通建材",
            "subject": "涉嫌违规经营线索",
            "informant": informant,
            "anonymous": anonymous,
            "department": DEPARTMENT,
        },
    }


def _assigned(case_id: str) -> dict[str, Any]:
    payload = {"department": DEPARTMENT, "handler": "民警101"}
    return {
        "event_type": "TipAssigned",
        "case_id": case_id,
        "case_kind": "enterprise_tip",
        "payload": payload,
    }


@pytest.fixture(scope="module")
def seeded(
    kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """The API, and the rectification opened on each tip (by tip id)."""
    tmp = tmp_path_factory.mktemp("anonymous")
    topics = fresh_topics(kafka_bootstrap)
    env = service_env(
        kafka_bootstrap,
        topics,
        Database(f"sqlite:///{tmp / 'anonymous.db'}", None).env(),
        CASESTREAM_API_PORT=str(free_port()),
        CASESTREAM_CONSISTENCY_WAIT_SECONDS="30",
        **auth_env(),
    )
    with running_system(env, tmp) as client:
        for body in (
            _tip(ANONYMOUS_TIP, SECRET, anonymous=True),
            _assigned(ANONYMOUS_TIP),
            _tip(NAMED_TIP, NAMED, anonymous=False),
            _assigned(NAMED_TIP),
        ):
            posted = client.post("/events", json=body, headers=ROLES["system"])
            assert posted.status_code == 202, posted.text
            token = posted.json()["consistency_token"]
        visible = client.get(
            f"/cases/{NAMED_TIP}", params={"consistency_token": token}, headers=ROLES["legal"]
        )
        assert visible.status_code == 200, visible.text
        for tip in (ANONYMOUS_TIP, NAMED_TIP):
            opened = client.post(
                "/rectifications",
                json={
                    "department": DEPARTMENT,
                    "responsible_person": "张强",
                    "source_case_id": tip,
                },
                headers=ROLES["legal"],
            )
            assert opened.status_code == 202, opened.text
        rectifications = wait_for(lambda: _rectifications_by_source(client), timeout=60)
        yield client, rectifications


def _rectifications_by_source(client: httpx.Client) -> dict[str, str] | None:
    listed = client.get("/rectifications", headers=ROLES["legal"]).json()["items"]
    found = {item["source_case_id"]: item["rectification_id"] for item in listed}
    return found if {ANONYMOUS_TIP, NAMED_TIP} <= found.keys() else None


def _get(client: httpx.Client, path: str, role: str, **params: Any) -> httpx.Response:
    response = client.get(path, headers=ROLES[role], params=params)
    assert response.status_code == 200, f"{path} as {role}: {response.text}"
    return response


def _csv_rows(response: httpx.Response) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline=""))
    return list(reader)


def _xlsx_rows(response: httpx.Response) -> list[dict[str, Any]]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    headers, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(headers, row, strict=True)) for row in rows]


def _text(response: httpx.Response) -> str:
    """Everything a caller reads in a response, whatever its format."""
    kind = response.headers["content-type"]
    if kind.startswith("application/json"):
        return json.dumps(response.json(), ensure_ascii=False)
    if kind.startswith("text/csv"):
        return response.content.decode("utf-8-sig")
    return json.dumps(_xlsx_rows(response), ensure_ascii=False, default=str)


def _leaks(response: httpx.Response) -> list[str]:
    text = _text(response)
    return [part for part in FORBIDDEN if part in text]


@pytest.mark.parametrize("role", ROLES)
def test_no_role_sees_an_anonymous_informant_in_case_state_or_history(
    seeded: tuple[httpx.Client, dict[str, str]], role: str
) -> None:
    client, _ = seeded
    case = _get(client, f"/cases/{ANONYMOUS_TIP}", role)
    history = _get(client, f"/cases/{ANONYMOUS_TIP}/events", role)

    assert _leaks(case) == [] and _leaks(history) == []
    state = case.json()["state"]
    assert state["informant"] is None and state["anonymous"] is True
    received = history.json()[0]["event"]
    assert received["event_type"] == "TipReceived"
    assert received["payload"]["informant"] is None and received["payload"]["anonymous"] is True
    assert received["payload"]["enterprise"] == "恒通建材"  # the rest of the event as received


@pytest.mark.parametrize("role", ROLES)
def test_no_role_finds_an_anonymous_informant_in_the_case_ledgers(
    seeded: tuple[httpx.Client, dict[str, str]], role: str
) -> None:
    client, _ = seeded
    as_csv = _get(client, "/cases.csv", role)
    as_xlsx = _get(client, "/cases.xlsx", role)

    assert _leaks(as_csv) == [] and _leaks(as_xlsx) == []
    for rows in (_csv_rows(as_csv), _xlsx_rows(as_xlsx)):
        (row,) = [row for row in rows if row["案件编号"] == ANONYMOUS_TIP]
        assert row["当事人"] == "匿名" and row["联系电话"] in ("", None)


@pytest.mark.parametrize("role", ROLES)
def test_no_role_sees_an_anonymous_informant_through_a_rectifications_source_case(
    seeded: tuple[httpx.Client, dict[str, str]], role: str
) -> None:
    client, rectifications = seeded
    detail = _get(client, f"/rectifications/{rectifications[ANONYMOUS_TIP]}", role)

    assert _leaks(detail) == []
    source = detail.json()["source_case"]
    assert source["case_id"] == ANONYMOUS_TIP
    assert source["state"]["informant"] is None and source["state"]["anonymous"] is True
    for path in ("/rectifications.csv", "/rectifications.xlsx", "/rectifications"):
        assert _leaks(_get(client, path, role)) == [], path


@pytest.mark.parametrize("role", ROLES)
def test_no_role_finds_an_anonymous_informant_in_lists_clocks_alerts_or_figures(
    seeded: tuple[httpx.Client, dict[str, str]], role: str
) -> None:
    client, _ = seeded
    for path, params in (
        ("/cases", {"limit": 500}),
        (f"/cases/{ANONYMOUS_TIP}/clocks", {}),
        ("/clocks/due", {"within": "60d"}),
        ("/cases/overdue", {}),
        ("/alerts", {"limit": 500}),
        ("/stats", {"from": "2020-01-01", "to": "2040-12-31"}),
    ):
        assert _leaks(_get(client, path, role, **params)) == [], path


@pytest.mark.parametrize("role", ROLES)
def test_a_named_informant_is_still_shown_as_recorded_or_masked_per_role(
    seeded: tuple[httpx.Client, dict[str, str]], role: str
) -> None:
    client, rectifications = seeded
    expected = NAMED if role in UNMASKED else NAMED_MASKED
    case = _get(client, f"/cases/{NAMED_TIP}", role).json()
    assert case["state"]["informant"] == expected and case["state"]["anonymous"] is False
    history = _get(client, f"/cases/{NAMED_TIP}/events", role).json()
    assert history[0]["event"]["payload"]["informant"] == expected
    source = _get(client, f"/rectifications/{rectifications[NAMED_TIP]}", role).json()
    assert source["source_case"]["state"]["informant"] == expected
    (row,) = [
        row for row in _csv_rows(_get(client, "/cases.csv", role)) if row["案件编号"] == NAMED_TIP
    ]
    assert (row["当事人"], row["联系电话"]) == (expected["name"], expected["phone"])


def test_a_tip_carries_no_decision_ref_so_no_dispute_chain_holds_one(
    seeded: tuple[httpx.Client, dict[str, str]],
) -> None:
    client, _ = seeded
    body = _tip(f"ANON-D-{uuid.uuid4().hex[:6]}", SECRET, anonymous=True)
    body["payload"]["decision_ref"] = "公决字〔2026〕901号"
    refused = client.post("/events", json=body, headers=ROLES["system"])
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"][-1] == "decision_ref"
    assert _leaks(refused) == []
