"""The read models as a user sees them: an API process, and everything it shows of the cases
(summaries, states, histories, clocks, disputes) and alerts, for tests that compare two
deployments or wait for the worker without looking into the database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tests.auth import auth_env, auth_headers
from tests.processes import Process, free_port, wait_for

READER = "legal"
"""The role the views are read as: every department's cases, personal data unmasked."""


@contextmanager
def api_server(env: dict[str, str], log: Path) -> Iterator[httpx.Client]:
    """An API process on a free port over the database of `env`, and a client reading as
    `READER` once it answers (no worker needed: reads work without one)."""
    port = free_port()
    server = Process(["api"], {**env, **auth_env(), "CASESTREAM_API_PORT": str(port)}, log)
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", timeout=60, headers=auth_headers(READER)
    )

    def answers() -> bool:
        try:
            return client.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answers, timeout=90, interval=0.3)
        yield client
    finally:
        client.close()
        server.stop()


def pages(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated list (`items`, `next_cursor`), first page to last."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        answer = client.get(
            path, params={**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
        )
        answer.raise_for_status()
        page = answer.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items


def projector_lag(client: httpx.Client) -> int | None:
    """Events of the case topics not yet projected, as GET /readyz reports it (None: unknown,
    e.g. while the database or the broker cannot be reached)."""
    try:
        checks = client.get("/readyz").json().get("checks", {})
    except (httpx.TransportError, ValueError):
        return None
    lag = checks.get("projector_lag", "")
    return int(lag.split()[0]) if lag.endswith("events behind") else None


def case_versions(client: httpx.Client, **filters: Any) -> dict[str, int]:
    """Each case's version (events applied), as GET /cases lists them."""
    try:
        return {case["case_id"]: case["version"] for case in pages(client, "/cases", **filters)}
    except (httpx.TransportError, httpx.HTTPStatusError):
        return {}


def _case_view(client: httpx.Client, case_id: str) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for name, path in (
        ("detail", f"/cases/{quote(case_id, safe='')}"),
        ("events", f"/cases/{quote(case_id, safe='')}/events"),
        ("clocks", f"/cases/{quote(case_id, safe='')}/clocks"),
    ):
        answer = client.get(path)
        answer.raise_for_status()
        seen[name] = answer.json()
    return seen


def read_models(
    client: httpx.Client, detailed: Callable[[str], bool] | None = None
) -> dict[str, Any]:
    """Everything the API shows of the read models: every case's summary (status, version,
    dates), and the state, anomalies, history and clocks of every case `detailed` picks (all
    by default), every dispute and every alert. Two databases that show the same are equal for
    every user."""
    summaries = pages(client, "/cases")
    ids = sorted(
        case["case_id"] for case in summaries if detailed is None or detailed(case["case_id"])
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        cases = dict(
            zip(ids, pool.map(lambda case_id: _case_view(client, case_id), ids), strict=True)
        )
    refs = sorted({case["decision_ref"] for case in summaries if case["decision_ref"]})
    disputes: dict[str, Any] = {}
    for ref in refs:
        answer = client.get(f"/disputes/{quote(ref, safe='')}")
        answer.raise_for_status()
        disputes[ref] = answer.json()
    return {
        "summaries": sorted(summaries, key=lambda case: case["case_id"]),
        "cases": cases,
        "disputes": disputes,
        "alerts": sorted(pages(client, "/alerts"), key=lambda alert: alert["alert_id"]),
    }
