"""infra/docker-compose.yml, checked for structure without a Docker engine: the services a
deployment needs, their start order, and that the files it mounts exist (Prometheus's config and
rules unchanged, Grafana's provisioning and dashboards).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "infra" / "docker-compose.yml"
SERVICES = {"kafka", "postgres", "topics", "api", "worker", "prometheus", "grafana"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())  # also resolves the anchors
    return loaded


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path → host path (relative to infra/) of a service's bind mounts."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("."):
            found[target] = source
    return found


def test_compose_runs_every_service_a_deployment_needs(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == SERVICES
    for name, service in compose["services"].items():
        assert "image" in service, f"{name} has no image"


def test_casestream_services_share_one_image_and_configuration(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("topics", "api", "worker"):
        service = services[name]
        assert service["image"] == "casestream:local"
        assert service["build"]["context"] == ".."
        assert service["command"][0] == "casestream"
        environment = service["environment"]
        assert environment["CASESTREAM_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert environment["CASESTREAM_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in environment["CASESTREAM_DATABASE_URL"]
        assert environment["CASESTREAM_AUTH_SECRET"].startswith("${CASESTREAM_AUTH_SECRET:?")
    for package in ("casestream", "domain", "producers", "stream_processors", "read_models", "api"):
        assert f"COPY {package} {package}" in services["api"]["build"]["dockerfile_inline"]
        assert (ROOT / package).is_dir()


def test_services_start_in_order_topics_then_api_then_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "topics": {"condition": "service_completed_successfully"},
    }
    # the API migrates the read models first; the worker waits for it (one migration at a time)
    assert services["worker"]["depends_on"]["api"]["condition"] == "service_healthy"
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"


def test_prometheus_scrapes_worker_and_api_on_loopback_as_its_config_says(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    # the worker binds its metrics to 127.0.0.1: Prometheus shares the API's network namespace
    assert services["worker"]["network_mode"] == "service:api"
    assert services["prometheus"]["network_mode"] == "service:api"
    assert services["api"]["command"][-4:] == ["--host", "0.0.0.0", "--port", "8000"]
    assert services["worker"]["command"][-2:] == ["--metrics-port", "6066"]
    assert mounts(services["prometheus"]) == {"/etc/prometheus": "./prometheus"}
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    assert (COMPOSE.parent / "prometheus" / "prometheus.yml").is_file()
    assert "127.0.0.1:9090:9090" in services["api"]["ports"]


def test_grafana_mounts_the_provisioning_and_the_dashboards(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    environment = grafana["environment"]
    assert environment["PROMETHEUS_URL"] == "http://api:9090"
    assert environment["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    bound = mounts(grafana)
    assert bound["/etc/grafana/provisioning"] == "./grafana/provisioning"
    assert bound[environment["CASESTREAM_DASHBOARDS_DIR"]] == "./grafana/dashboards"
    for source in bound.values():
        assert (COMPOSE.parent / source).is_dir(), f"{source} missing"
    assert sorted(p.name for p in (COMPOSE.parent / "grafana/dashboards").glob("*.json")) == [
        "leadership.json",
        "operations.json",
        "rectification.json",
    ]


def test_published_ports_listen_on_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in declared, f"{name} uses undeclared volume {source}"
