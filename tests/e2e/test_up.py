"""`casestream up --demo --prometheus`, the README's main job (given a broker): the demo feed
reaches the read models, its own Prometheus scrapes worker and API so the dashboards' figures
fill, and SIGTERM stops every process it started."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx

from casestream.producers.topics import Topics
from tests.processes import free_port, service_env, wait_for


def _value(prometheus_url: str, expr: str) -> float | None:
    try:
        answer = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": expr}, timeout=5)
    except httpx.TransportError:
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
    # nothing it started outlives it
    leftovers = subprocess.run(
        ["pgrep", "-f", f"127.0.0.1:{prometheus_port}|--metrics-port {worker_port}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert leftovers == [], output
