"""GET /cases filters of the console's case list (channel, overdue, due_within, supervised, q)
and its `due` order with keyset pages, through the real projection writer on SQLite and
PostgreSQL; the ledger GET /cases.xlsx takes the same filters and order."""

from __future__ import annotations

import io
import random
import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from casestream.api.app import create_app
from casestream.read_models.database import create_engine
from casestream.read_models.queries import CaseFilter, CaseOrder, CaseQueries
from casestream.settings import Settings
from tests.auth import TEST_SECRET, auth_headers
from tests.case_list_scenario import DECISION, HOME, NOW, OTHER, complaint, project, scenario
from tests.conftest import Database

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

EVERY_CASE = {"K-OVER", "K-SOON", "K-DONE", "K-SUP", "K-ENT", "R-1", "L-1", "J-OVER"}
DUE_ORDER = ["K-OVER", "J-OVER", "K-ENT", "K-SOON", "L-1", "K-DONE", "K-SUP", "R-1"]


@pytest.fixture
def api(database: Database) -> Iterator[TestClient]:
    project(database)
    settings = Settings(
        database_url=database.url,
        database_schema=database.schema,
        kafka_bootstrap=None,
        auth_secret=TEST_SECRET,
    )
    with TestClient(create_app(settings, now=lambda: NOW), headers=auth_headers("legal")) as client:
        yield client


def listed(api: TestClient, **params: Any) -> list[str]:
    response = api.get("/cases", params=params)
    assert response.status_code == 200, response.text
    return [item["case_id"] for item in response.json()["items"]]


def every_page(api: TestClient, **params: Any) -> list[str]:
    found: list[str] = []
    cursor: str | None = None
    for _ in range(20):
        response = api.get("/cases", params={**params, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        found += [item["case_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("paging did not end")


def test_each_new_filter_picks_out_its_cases(api: TestClient) -> None:
    assert set(listed(api)) == EVERY_CASE
    assert listed(api, channel="window") == ["K-OVER"]
    assert set(listed(api, channel="hotline_12345")) == {"K-SOON", "J-OVER"}
    assert set(listed(api, overdue="true")) == {"K-OVER", "J-OVER"}
    assert set(listed(api, overdue="false")) == EVERY_CASE - {"K-OVER", "J-OVER"}
    assert set(listed(api, due_within="1w")) == {"K-ENT", "K-SOON"}  # due 17 and 20 April
    assert listed(api, due_within="3d") == ["K-ENT"]
    assert listed(api, supervised="true") == ["K-SUP"]
    assert "K-SUP" not in listed(api, supervised="false")
    assert listed(api, q="K-SOON") == ["K-SOON"]
    assert listed(api, q=f"  {DECISION} ") == ["L-1", "R-1"]  # newest first
    assert listed(api, q="K-SOO") == []  # exact, not a prefix
    assert listed(api, q=DECISION, case_kind="litigation") == ["L-1"]


def test_a_listed_case_reads_as_its_own_page_says_without_the_state(api: TestClient) -> None:
    items = api.get("/cases", params={"limit": 500}).json()["items"]
    assert {item["case_id"] for item in items} == EVERY_CASE
    for item in items:
        whole = api.get(f"/cases/{item['case_id']}").json()
        assert whole["state"] and "state" not in item
        assert item == {name: value for name, value in whole.items() if name in item}
        assert set(whole) - set(item) == {"state", "anomalies"}


def test_overdue_means_what_get_cases_overdue_lists(api: TestClient) -> None:
    overdue = api.get("/cases/overdue").json()["items"]
    assert set(listed(api, overdue="true")) == {item["case_id"] for item in overdue}


def test_sort_due_puts_the_nearest_due_first_and_cases_without_a_clock_last(
    api: TestClient,
) -> None:
    assert listed(api, sort="due") == DUE_ORDER
    assert listed(api, sort="received")[0] == "K-DONE"  # received 14 April, the newest


@pytest.mark.parametrize("sort", ["received", "due"])
def test_pages_of_either_order_add_up_to_the_whole_list(api: TestClient, sort: str) -> None:
    whole = listed(api, sort=sort)
    for limit in (1, 2, 3, 7):
        assert every_page(api, sort=sort, limit=limit) == whole
    assert every_page(api, sort=sort, limit=1, department=HOME) == [
        case for case in whole if case != "J-OVER"
    ]


def test_a_cursor_of_one_order_is_refused_by_the_other(api: TestClient) -> None:
    by_due = api.get("/cases", params={"sort": "due", "limit": 2}).json()["next_cursor"]
    by_received = api.get("/cases", params={"limit": 2}).json()["next_cursor"]
    for sort, cursor in (("received", by_due), ("due", by_received), ("due", "xyz")):
        response = api.get("/cases", params={"sort": sort, "cursor": cursor})
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["query", "cursor"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("due_within", "soon"),
        ("due_within", "0d"),
        ("due_within", "3" * 30),
        ("channel", "fax"),
        ("q", "K" * 201),
        ("status", "s" * 201),
        ("department", "d" * 201),
        ("overdue", "maybe"),
        ("supervised", "perhaps"),
        ("sort", "name"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(api: TestClient, name: str, value: str) -> None:
    for path in ("/cases", "/cases.xlsx"):
        response = api.get(path, params={name: value})
        assert response.status_code == 422, response.text
        assert [problem["loc"] for problem in response.json()["detail"]] == [["query", name]]


def test_a_department_bound_caller_sees_only_their_department_whatever_the_filters(
    api: TestClient,
) -> None:
    handler = auth_headers("handler", department=HOME)
    response = api.get("/cases", params={"overdue": "true"}, headers=handler)
    assert [item["case_id"] for item in response.json()["items"]] == ["K-OVER"]
    for params in ({"department": OTHER}, {"q": "J-OVER"}, {"sort": "due", "department": OTHER}):
        response = api.get("/cases", params=params, headers=handler)
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []


def test_the_ledger_lists_the_filtered_cases_in_the_chosen_order(api: TestClient) -> None:
    response = api.get("/cases.xlsx", params={"sort": "due", "department": HOME})
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids == [case for case in DUE_ORDER if case != "J-OVER"]
    overdue = api.get("/cases.xlsx", params={"overdue": "true", "channel": "window"})
    sheet = load_workbook(io.BytesIO(overdue.content)).active
    assert sheet is not None
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["K-OVER"]


def test_cases_due_at_the_same_instant_page_by_case_id_without_loss_or_repeat(
    database: Database,
) -> None:
    twins = [
        event
        for number in range(5)
        for event in complaint(f"K-TWIN-{number}", "2026-03-27T10:00")  # all due 20 April
    ]
    project(database, [*scenario(), *twins])
    settings = Settings(
        database_url=database.url,
        database_schema=database.schema,
        kafka_bootstrap=None,
        auth_secret=TEST_SECRET,
    )
    with TestClient(create_app(settings, now=lambda: NOW), headers=auth_headers("legal")) as api:
        whole = listed(api, sort="due")
        assert whole[3:9] == ["K-SOON", *(f"K-TWIN-{number}" for number in range(5))]
        for limit in (1, 2, 4):
            assert every_page(api, sort="due", limit=limit) == whole


def test_a_list_statement_kept_for_its_shape_answers_as_one_built_afresh(
    database: Database, chance: random.Random
) -> None:
    """GET /cases builds its statement once per shape and runs it with each request's values.
    300 times: random filters, each with a value, listed first with other values of the same
    filters (which keeps a statement of that shape), then with their own; paged to its end
    through that long-lived CaseQueries and through a new one each page, they list the same
    cases with the same nearest due instant and `overdue` (judged, or NULL without `now`)."""
    project(database)
    engine = create_engine(database.url, database.schema)
    kept = CaseQueries(engine)
    choices: dict[str, list[Any]] = {
        "case_kind": ["complaint", "litigation", "reconsideration"],
        "status": ["accepted", "received"],
        "department": [HOME, OTHER],
        "enterprise": [True, False],
        "received_from": [NOW - timedelta(days=20), NOW - timedelta(days=4)],
        "received_to": [NOW - timedelta(days=3), NOW],
        "channel": ["window", "hotline_12345"],
        "overdue": [True, False],
        "due_until": [NOW + timedelta(days=3), NOW + timedelta(weeks=1)],
        "supervised": [True, False],
        "search": [DECISION, "K-SOON"],
        "visible_department": [HOME, OTHER],
    }

    def listed(
        queries: CaseQueries | None, where: CaseFilter, sort: CaseOrder, limit: int
    ) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        cursor: str | None = None
        for _ in range(20):
            page = (queries or CaseQueries(engine)).list_cases(
                where, limit=limit, cursor=cursor, sort=sort, with_state=False
            )
            found += [(row.case_id, row.next_due_at, row.overdue) for row in page.rows]
            cursor = page.next_cursor
            if cursor is None:
                return found
        raise AssertionError("paging did not end")

    try:
        for _ in range(300):
            names = chance.sample(sorted(choices), chance.choice([0, 1, 1, 2, 2, 3]))
            sort = chance.choice(list(CaseOrder))
            limit = chance.choice([1, 2, 50])
            # `now` judges the clock filters; without them a list may leave `overdue` unjudged
            nows = [NOW] if {"overdue", "due_until"} & set(names) else [NOW, None]
            before, where = (
                CaseFilter(
                    now=chance.choice(nows),
                    **{name: chance.choice(choices[name]) for name in names},
                )
                for _ in range(2)
            )
            listed(kept, before, sort, limit)
            assert listed(kept, where, sort, limit) == listed(None, where, sort, limit), (
                where,
                sort,
                limit,
            )
    finally:
        engine.dispose()
