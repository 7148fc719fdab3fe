"""The Grafana dashboards under infra/grafana/: each JSON file is what infra/grafana/generate.py
builds today, decodes into grafana-foundation-sdk's dashboard model (the schema the generator
uses) unchanged, and every panel query parses as PromQL (checked by the real promtool) and names
only metrics listed in the catalog docs/metrics.md.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

from tests.integration.test_prometheus_rules import (
    PROMETHEUS,
    PROMETHEUS_SERIES,
    catalog_metrics,
    family,
    metric_names,
    registered_metrics,
)

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "infra" / "grafana"
DASHBOARD_FILES = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCE_UID = "casestream-prometheus"

# Grafana's own variables, replaced by a value of their kind before promtool parses the query
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("grafana_generate", GRAFANA / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def promtool() -> str:
    done = subprocess.run(
        ["bash", str(PROMETHEUS / "install.sh")], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, those inside collapsed rows included."""
    found = []
    for panel in dashboard.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def queries() -> list[tuple[str, str]]:
    """(file: panel title, PromQL expression) of every panel target."""
    return [
        (f"{path.name}: {panel['title']}", target["expr"])
        for path in DASHBOARD_FILES
        for panel in panels(load(path))
        for target in panel.get("targets", [])
    ]


def test_the_three_dashboards_are_committed_as_generated(generator: ModuleType) -> None:
    assert [path.name for path in DASHBOARD_FILES] == sorted(generator.DASHBOARDS)
    for path in DASHBOARD_FILES:
        assert path.read_text(encoding="utf-8") == generator.render(
            generator.DASHBOARDS[path.name]
        ), f"{path.name} is stale: run .venv/bin/python infra/grafana/generate.py"


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda path: path.name)
def test_dashboard_decodes_into_the_sdk_model_unchanged(path: Path) -> None:
    register_default_plugins()  # panel options and Prometheus queries decode to their types
    committed = load(path)
    decoded = Dashboard.from_json(committed)
    assert json.loads(json.dumps(decoded, cls=JSONEncoder)) == committed


@pytest.mark.parametrize("path", DASHBOARD_FILES, ids=lambda path: path.name)
def test_dashboard_has_a_uid_unique_panel_ids_and_queries_the_provisioned_datasource(
    path: Path,
) -> None:
    dashboard = load(path)
    assert re.fullmatch(r"casestream-[a-z-]+", dashboard["uid"])
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {ids}"
    for panel in panels(dashboard):
        if panel["type"] in {"row", "text"}:
            continue
        assert panel["targets"], f"{panel['title']} has no query"
        for target in [panel, *panel["targets"]]:
            assert target["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}


def test_every_panel_query_parses_as_promql(promtool: str, tmp_path: Path) -> None:
    expressions = queries()
    assert len(expressions) > 20, "too few queries found: is the walk over panels broken?"
    rules = []
    for number, (_, expr) in enumerate(expressions):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
        rules.append({"record": f"grafana:query_{number}", "expr": expr})
    rules_file = tmp_path / "grafana-queries.rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "grafana", "rules": rules}]}))
    done = subprocess.run(
        [promtool, "check", "rules", str(rules_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_panel_query_names_only_metrics_in_the_catalog() -> None:
    histograms = {name for name, (kind, _) in registered_metrics().items() if kind == "Histogram"}
    catalog = catalog_metrics()
    used = {
        (where, family(series, histograms))
        for where, expr in queries()
        for series in metric_names(expr.replace("$__", "__"))
        if series not in PROMETHEUS_SERIES
    }
    assert used, "no metric found in the dashboards: is the parser broken?"
    unknown = sorted(f"{where}: {name}" for where, name in used if name not in catalog)
    assert not unknown, f"dashboard queries use metrics missing from docs/metrics.md: {unknown}"


def test_provisioning_points_grafana_at_the_dashboards_and_the_datasource_they_use() -> None:
    datasources = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    [datasource] = datasources["datasources"]
    assert (datasource["uid"], datasource["type"]) == (DATASOURCE_UID, "prometheus")
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/casestream.yml").read_text())
    [provider] = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "${CASESTREAM_DASHBOARDS_DIR}"


def test_the_leadership_dashboard_shows_supervision_open_and_flagged_in_the_period() -> None:
    dashboard = load(GRAFANA / "dashboards" / "leadership.json")
    titles = [panel["title"] for panel in panels(dashboard)]
    assert "督察" in titles  # its row
    exprs = {
        panel["title"]: target["expr"]
        for panel in panels(dashboard)
        for target in panel.get("targets", [])
    }
    under = "casestream_complaints_under_supervision"
    flagged = "casestream_supervisions_flagged"
    assert exprs["督察中"] == f"sum (max without (instance) ({under}))"
    assert exprs["督察中（按部门）"] == f"sum by (department) (max without (instance) ({under}))"
    # a count since the read models began: the period's figure is its rise over the range
    assert exprs["期间督察"] == f"sum (max without (instance) (delta({flagged}[$__range])))"
    assert exprs["期间督察（按部门）"] == (
        f"sum by (department) (max without (instance) (delta({flagged}[$__range])))"
    )
    assert {under, flagged} <= catalog_metrics() and {under, flagged} <= set(registered_metrics())
