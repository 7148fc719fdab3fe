"""The Prometheus files under infra/prometheus/, checked with the real promtool: the scrape
config and alerting rules are valid, the rules' unit tests pass, and every metric a rule uses
is registered by the code and listed in the catalog docs/metrics.md (a renamed metric fails here).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from casestream.local import prometheus_config

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "infra" / "prometheus"
RULES = PROMETHEUS / "rules" / "casestream.rules.yml"
RULE_TESTS = PROMETHEUS / "tests" / "casestream.rules.test.yml"
CONFIG = PROMETHEUS / "prometheus.yml"
CATALOG = ROOT / "docs" / "metrics.md"
PRODUCT_CODE = ["api", "casestream", "domain", "producers", "read_models", "stream_processors"]

# series Prometheus writes itself for every target, not registered by our code
PROMETHEUS_SERIES = {"up"}
HISTOGRAM_SERIES = ("_bucket", "_count", "_sum")

# `Counter(\n    "casestream_…",` as the code registers metrics: (kind, name); the families a
# custom collector yields (read_models/business_metrics.py) are declared as GaugeSpec(…) and
# HistogramMetricFamily(…)
REGISTRATION = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary|Info|Enum|GaugeSpec|HistogramMetricFamily)"
    r"\(\s*\"([a-zA-Z_:][\w:]*)\""
)
KINDS = {"GaugeSpec": "Gauge", "HistogramMetricFamily": "Histogram"}
# a catalog row starts with the metric's name (lower case; alert names are CamelCase)
CATALOG_ROW = re.compile(r"^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|", re.MULTILINE)

PROMQL_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan",
}  # fmt: skip


@pytest.fixture(scope="module")
def promtool() -> str:
    """promtool's path, installing Debian's prometheus package on a fresh machine."""
    done = subprocess.run(
        ["bash", str(PROMETHEUS / "install.sh")], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, *args], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )


def test_alerting_rules_are_valid(promtool: str) -> None:
    done = run(promtool, "check", "rules", str(RULES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_alerting_rule_fires_and_stays_quiet_as_its_unit_tests_say(promtool: str) -> None:
    done = run(promtool, "test", "rules", str(RULE_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_scrape_config_with_its_rules_is_valid(promtool: str, tmp_path: Path) -> None:
    """The configuration `casestream up --prometheus` writes from infra/prometheus/prometheus.yml
    (rules by absolute path, the API scraped with the token `up` generates)."""
    token = tmp_path / "metrics-token"
    token.write_text("t" * 40)
    written = tmp_path / "prometheus.yml"
    config = prometheus_config(["127.0.0.1:8000"], ["127.0.0.1:6066"], api_token_file=token)
    written.write_text(yaml.safe_dump(config))
    done = run(promtool, "check", "config", str(written))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "casestream.rules.yml" in done.stdout + done.stderr  # the rule files were found
    static = yaml.safe_load(CONFIG.read_text())
    api_job = next(job for job in static["scrape_configs"] if job["job_name"] == "casestream-api")
    assert api_job["authorization"]["credentials_file"].endswith("var/metrics-token")


def test_scrape_config_scrapes_api_and_worker_where_casestream_up_runs_them() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    targets = {
        job["job_name"]: [t for group in job["static_configs"] for t in group["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets == {
        "casestream-api": ["127.0.0.1:8000"],
        "casestream-worker": ["127.0.0.1:6066"],
    }


def rule_expressions() -> Iterator[tuple[str, str]]:
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            yield rule.get("alert") or rule["record"], rule["expr"]


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression selects."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # strings (label values)
    expr = re.sub(r"#.*", "", expr)  # comments
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    expr = re.sub(
        r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr
    )  # label lists
    expr = re.sub(r"\boffset\s+\w+", "", expr)  # offset durations
    expr = re.sub(r"\b[a-zA-Z_]\w*\s*\(", "(", expr)  # function and aggregation names
    names = set(re.findall(r"(?<![\w.])[a-zA-Z_:][\w:]*", expr))
    return {name for name in names if name.lower() not in PROMQL_KEYWORDS}


def family(series: str, histograms: set[str]) -> str:
    """The registered metric a series belongs to (a histogram's _bucket, _count, _sum)."""
    for suffix in HISTOGRAM_SERIES:
        if series.endswith(suffix) and series.removesuffix(suffix) in histograms:
            return series.removesuffix(suffix)
    return series


def registered_metrics() -> dict[str, tuple[str, str]]:
    """Metric name → (kind, file registering it), from the product code."""
    found: dict[str, tuple[str, str]] = {}
    for package in PRODUCT_CODE:
        for path in (ROOT / package).rglob("*.py"):
            for kind, name in REGISTRATION.findall(path.read_text()):
                found[name] = (KINDS.get(kind, kind), str(path.relative_to(ROOT)))
    return found


def catalog_metrics() -> set[str]:
    return set(CATALOG_ROW.findall(CATALOG.read_text()))


def test_metric_name_parser_finds_selected_series_only() -> None:
    expr = """sum by (topic, reason) (
      (increase(casestream_a_total{outcome="failed"}[15m]) > 0)
      or ((casestream_a_total unless casestream_a_total offset 15m) and on (job) (up offset 15m))
    ) / ignoring (le) histogram_quantile(0.95, rate(casestream_b_bucket[5m])) > 1e3"""
    assert metric_names(expr) == {"casestream_a_total", "up", "casestream_b_bucket"}


def test_every_metric_in_the_rules_is_registered_by_the_code_and_in_the_catalog() -> None:
    registered = registered_metrics()
    histograms = {name for name, (kind, _) in registered.items() if kind == "Histogram"}
    catalog = catalog_metrics()
    used = {
        (alert, family(series, histograms))
        for alert, expr in rule_expressions()
        for series in metric_names(expr)
        if series not in PROMETHEUS_SERIES
    }
    assert used, "no metric found in the rules: is the parser broken?"
    not_in_code = sorted(f"{alert}: {name}" for alert, name in used if name not in registered)
    not_in_catalog = sorted(f"{alert}: {name}" for alert, name in used if name not in catalog)
    assert not not_in_code, f"rules use metrics no code registers: {not_in_code}"
    assert not not_in_catalog, f"rules use metrics missing from docs/metrics.md: {not_in_catalog}"


def test_catalog_lists_exactly_the_metrics_the_code_registers() -> None:
    registered = registered_metrics()
    catalog = catalog_metrics()
    assert len(registered) > 10, "no metric registration found: is the pattern broken?"
    missing = {name: path for name, path in registered.items() if name not in catalog}
    assert not missing, f"registered but not in docs/metrics.md: {missing}"
    assert catalog <= set(registered), (
        f"in docs/metrics.md but registered nowhere: {sorted(catalog - set(registered))}"
    )
