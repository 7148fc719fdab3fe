"""Request latency metrics of the API: labelled by route template, method and status in one
process, and added up over the worker processes of `casestream api --workers 2`."""

from __future__ import annotations

import asyncio
import os
import warnings
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from starlette.types import Message

from casestream.api.app import create_app
from casestream.api.http_metrics import RequestMetrics, RequestTiming
from casestream.settings import Settings
from tests.auth import TEST_SECRET, auth_env, auth_headers, bearer
from tests.processes import Process, free_port, wait_for

with warnings.catch_warnings():  # starlette asks for httpx2, which this project does not use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

REQUEST_COUNT = "casestream_api_request_seconds_count"


def request_counts(exposition: str) -> dict[tuple[str, str, str], float]:
    """(route, method, status) → requests counted, from the text of GET /metrics."""
    return {
        (sample.labels["route"], sample.labels["method"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == REQUEST_COUNT
    }


def test_each_request_is_counted_under_its_route_template_never_its_url(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}",
        kafka_bootstrap=None,
        auth_secret=TEST_SECRET,
    )
    with TestClient(create_app(settings), headers=auth_headers("legal")) as api:
        assert api.get("/cases/NO-SUCH-1").status_code == 404
        assert api.get("/cases/NO-SUCH-2").status_code == 404
        assert api.get("/cases/NO-SUCH-3", headers=bearer("not-a-token")).status_code == 401
        assert api.get("/cases").status_code == 200
        assert api.get("/cases", params={"limit": 0}).status_code == 422
        assert api.delete("/cases/NO-SUCH-1").status_code == 405
        assert api.request("BREW", "/cases").status_code == 405
        assert api.get("/wp-admin/setup.php").status_code == 404
        assert api.get("/wp-admin/install.php").status_code == 404
        exposition = api.get("/metrics").text
        assert request_counts(api.get("/metrics").text)[("/metrics", "GET", "200")] == 1

    line = f'{REQUEST_COUNT}{{method="GET",route="/cases/{{case_id}}",status="404"}} 2.0'
    assert line in exposition.splitlines()
    assert request_counts(exposition) == {
        ("/cases/{case_id}", "GET", "404"): 2,
        ("/cases/{case_id}", "GET", "401"): 1,
        ("/cases", "GET", "200"): 1,
        ("/cases", "GET", "422"): 1,
        ("/cases/{case_id}", "DELETE", "405"): 1,
        ("/cases", "other", "405"): 1,
        ("unmatched", "GET", "404"): 2,
    }


def _timed_app() -> tuple[FastAPI, CollectorRegistry]:
    registry = CollectorRegistry()
    app = FastAPI()

    @app.get("/alerts/stream")
    async def stream() -> StreamingResponse:
        async def frames() -> AsyncIterator[str]:
            yield ": connected\n\n"
            await asyncio.Event().wait()  # like an idle alert stream: never ends by itself

        return StreamingResponse(frames(), media_type="text/event-stream")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a handler bug")

    app.add_middleware(RequestTiming, metrics=RequestMetrics.on(registry))
    return app, registry


def test_an_open_event_stream_is_timed_to_its_start_and_counted_once() -> None:
    app, registry = _timed_app()
    labels = {"route": "/alerts/stream", "method": "GET", "status": "200"}
    counted_while_open: list[float | None] = []

    async def client() -> None:
        requests = [{"type": "http.request", "body": b"", "more_body": False}]
        disconnected = asyncio.Event()

        async def receive() -> Message:
            if requests:
                return requests.pop()
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                counted_while_open.append(registry.get_sample_value(REQUEST_COUNT, labels))
                disconnected.set()  # the client goes away after the first frame

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/alerts/stream",
            "raw_path": b"/alerts/stream",
            "root_path": "",
            "query_string": b"",
            "headers": [],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        await asyncio.wait_for(app(scope, receive, send), timeout=10)

    asyncio.run(client())
    assert counted_while_open == [1.0]
    assert registry.get_sample_value(REQUEST_COUNT, labels) == 1.0


def test_a_handler_that_raises_is_counted_as_the_500_the_client_gets() -> None:
    app, registry = _timed_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/boom").status_code == 500
    labels = {"route": "/boom", "method": "GET", "status": "500"}
    assert registry.get_sample_value(REQUEST_COUNT, labels) == 1.0


def _healthz_count_by_process(directory: Path) -> dict[str, float]:
    """Requests to /healthz each worker process has counted, by pid (from its own file)."""
    found: dict[str, float] = {}
    for path in directory.glob("histogram_*.db"):
        for family in MultiProcessCollector.merge([str(path)]):  # type: ignore[no-untyped-call]
            for sample in family.samples:
                if sample.name == REQUEST_COUNT and sample.labels["route"] == "/healthz":
                    found[path.stem.removeprefix("histogram_")] = sample.value
    return found


def test_metrics_of_an_api_with_two_workers_add_up_the_requests_of_both(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    var_dir = tmp_path / "var"
    metrics_dir = var_dir / "prometheus-multiproc" / f"api-{port}"
    metrics_dir.mkdir(parents=True)
    (metrics_dir / "counter_1.db").write_bytes(b"left over from an earlier run")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CASESTREAM_") and key != "PROMETHEUS_MULTIPROC_DIR"
    }
    env.update(
        CASESTREAM_DATABASE_URL=f"sqlite:///{tmp_path / 'api.db'}",
        CASESTREAM_VAR_DIR=str(var_dir),
        **auth_env(),
    )
    server = Process(["api", "--workers", "2", "--port", str(port)], env, tmp_path / "api.log")

    def healthz() -> int:
        return httpx.get(f"{base}/healthz").status_code  # a new connection each time

    def scraped() -> str | None:
        try:
            response = httpx.get(f"{base}/metrics", headers=auth_headers("leader"))
        except httpx.TransportError:
            return None
        return response.text if response.status_code == 200 else None

    try:
        wait_for(scraped, timeout=60)  # not /healthz: every /healthz below is counted
        assert not (metrics_dir / "counter_1.db").exists()
        sent = 0
        with ThreadPoolExecutor(4) as pool:
            # 20 at a time until both workers have served some (the kernel picks the worker)
            while len(_healthz_count_by_process(metrics_dir)) < 2 and sent < 200:
                assert set(pool.map(lambda _: healthz(), range(20))) == {200}
                sent += 20
        by_process = _healthz_count_by_process(metrics_dir)
        assert len(by_process) == 2, f"one worker served all {sent} requests: {by_process}"
        assert sum(by_process.values()) == sent
        for _ in range(4):  # whichever worker answers the scrape
            exposition = scraped()
            assert exposition is not None
            assert request_counts(exposition)[("/healthz", "GET", "200")] == sent
    except BaseException:
        print(server.output())
        raise
    finally:
        server.stop()
