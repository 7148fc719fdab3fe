"""`casestream up`, the README's main job: given a broker, the demo feed reaches the read models
and its own Prometheus scrapes worker and API so the dashboards' figures fill; with a broker of
its own, a token issued afterwards is accepted, and SIGTERM stops every process it started, the
broker too, within 15 s."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from casestream.local import stop_kafka
from casestream.producers.topics import Topics
from tests.processes import (
    children_of,
    clean_env,
    free_port,
    running,
    service_env,
    wait_for,
    wait_until_answers,
)


def _value(prometheus_url: str, expr: str) -> float | None:
    try:
        answer = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": expr}, timeout=5)
    except httpx.TransportError:
        return None
    if answer.status_code != 200:  # 503 in plain text while Prometheus is starting
        return None
    result = answer.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def test_up_runs_worker_api_demo_feed_and_a_prometheus_that_sees_them(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    api_port, worker_port, prometheus_port = free_port(), free_port(), free_port()
    env = service_env(
        kafka_bootstrap,
        topics,
        {"CASESTREAM_DATABASE_URL": f"sqlite:///{tmp_path / 'up.db'}"},
        CASESTREAM_VAR_DIR=str(tmp_path / "var"),
        CASESTREAM_API_PORT=str(api_port),
        CASESTREAM_WORKER_WEB_PORT=str(worker_port),
        CASESTREAM_PROMETHEUS_PORT=str(prometheus_port),
        CASESTREAM_METRICS_CACHE_SECONDS="1",
    )
    log = (tmp_path / "up.log").open("wb")
    up = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "casestream.cli",
            "up",
            "--demo",
            "--demo-cases",
            "40",
            "--prometheus",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    prometheus = f"http://127.0.0.1:{prometheus_port}"
    try:
        targets_up = 'sum(up{job=~"casestream-(api|worker)"})'
        assert wait_for(lambda: _value(prometheus, targets_up) == 2, timeout=90)
        # the demo's cases, counted by the worker and read back by the API from the read models
        wait_for(lambda: (_value(prometheus, "sum(casestream_cases_received_total)") or 0) >= 40)
        open_cases = "sum(max without (instance) (casestream_cases_open))"
        assert wait_for(lambda: _value(prometheus, open_cases), timeout=60) > 0
        assert (tmp_path / "var" / "prometheus" / "prometheus.yml").exists()
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=60)
        log.close()
    output = (tmp_path / "up.log").read_text(errors="replace")
    assert f"Prometheus http://127.0.0.1:{prometheus_port}" in output
    for account in ("demo-handler", "demo-department-head", "demo-legal", "demo-system"):
        assert account in output  # the console's demo accounts, with their passwords
    # nothing it started outlives it
    leftovers = subprocess.run(
        ["pgrep", "-f", f"127.0.0.1:{prometheus_port}|--metrics-port {worker_port}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert leftovers == [], output


@dataclass(frozen=True)
class RunningUp:
    """`casestream up` with a Kafka broker of its own, its API ready (projector running)."""

    process: subprocess.Popen[bytes]
    env: dict[str, str]
    api: str
    var_dir: Path
    log: Path


@pytest.fixture(scope="module")
def up_with_its_own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningUp]:
    root = tmp_path_factory.mktemp("up-own-broker")
    api_port = free_port()
    env = clean_env(  # no CASESTREAM_KAFKA_BOOTSTRAP, no CASESTREAM_AUTH_SECRET: as on a new server
        CASESTREAM_VAR_DIR=str(root / "var"),
        CASESTREAM_DATABASE_URL=f"sqlite:///{root / 'up.db'}",
        CASESTREAM_API_PORT=str(api_port),
        CASESTREAM_WORKER_WEB_PORT=str(free_port()),
    )
    log = root / "up.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "casestream.cli", "up"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    started = RunningUp(process, env, f"http://127.0.0.1:{api_port}", root / "var", log)

    def still_running() -> None:
        assert process.poll() is None, log.read_text(errors="replace")

    try:
        wait_until_answers(started.api, "/readyz", timeout=180, interval=0.5, check=still_running)
        yield started
    finally:
        for pid in [*_descendants(process.pid), process.pid]:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)
        stop_kafka(started.var_dir / "kafka", timeout_seconds=5)


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for child in children_of(pid):
        found += [child, *_descendants(child)]
    return found


def test_a_token_issued_after_up_is_accepted_by_its_api(up_with_its_own_broker: RunningUp) -> None:
    issued = subprocess.run(
        [sys.executable, "-m", "casestream.cli", "token", "issue", "--role", "legal"],
        env=up_with_its_own_broker.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert issued.returncode == 0, issued.stderr
    answer = httpx.get(
        f"{up_with_its_own_broker.api}/cases",
        headers={"Authorization": f"Bearer {issued.stdout.strip()}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def test_an_account_added_after_up_signs_in_to_the_console_and_reads_the_api_by_cookie(
    up_with_its_own_broker: RunningUp,
) -> None:
    added = subprocess.run(
        [sys.executable, "-m", "casestream.cli", "user", "add", "zhi.an", "--role", "handler",
         "--department", "治安大队", "--password-stdin"],
        env=up_with_its_own_broker.env,
        input="a long enough password\n",
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    with httpx.Client(base_url=up_with_its_own_broker.api, timeout=10) as browser:
        page = browser.get("/console/signin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None, page.text
        form = {"username": "zhi.an", "password": "a long enough password"}
        signed_in = browser.post("/console/signin", data={**form, "csrf_token": token.group(1)})
        assert signed_in.status_code == 303, signed_in.text
        console = browser.get("/console/")
        assert console.status_code == 200 and "zhi.an" in console.text
        assert browser.get("/cases").status_code == 200
        with browser.stream("GET", "/alerts/stream") as stream:  # as a browser's EventSource
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")


def test_sigterm_stops_up_its_worker_api_and_kafka_broker_within_15_s(
    up_with_its_own_broker: RunningUp,
) -> None:
    up = up_with_its_own_broker.process
    children = _descendants(up.pid)
    commands = " ".join(Path(f"/proc/{pid}/cmdline").read_text() for pid in children)
    assert "worker" in commands and "api" in commands, commands
    broker = int((up_with_its_own_broker.var_dir / "kafka" / "kafka.pid").read_text().split()[0])
    everything = [up.pid, *children, broker]
    assert all(running(pid) for pid in everything)

    up.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    while (left := [pid for pid in everything if running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)

    output = up_with_its_own_broker.log.read_text(errors="replace")
    assert left == [], f"still running 15 s after SIGTERM: {left} (broker {broker})\n{output}"
    assert up.wait(timeout=1) == 0
