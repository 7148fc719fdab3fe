"""Grafana dashboards as code: builds casestream's dashboards with grafana-foundation-sdk
and writes them as JSON into infra/grafana/dashboards/, where Grafana's provisioning reads them.

    .venv/bin/python infra/grafana/generate.py           # (re)write the JSON files
    .venv/bin/python infra/grafana/generate.py --check   # exit 1 if a JSON file is stale

The dashboards themselves are built in boards/ (one module each, on boards/panels.py).
Every query names only metrics listed in docs/metrics.md (tests/integration/test_grafana_dashboards.py
checks it), and tests/e2e/test_prometheus_live.py evaluates every query on a real Prometheus
scraping a running worker and API.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

sys.path.insert(0, str(Path(__file__).resolve().parent))  # boards/, beside this script

from boards.leadership import leadership
from boards.operations import operations
from boards.rectification import rectification

DASHBOARDS_DIR = Path(__file__).resolve().parent / "dashboards"


DASHBOARDS: dict[str, Callable[[], dashboard.Dashboard]] = {
    "operations.json": operations,
    "leadership.json": leadership,
    "rectification.json": rectification,
}


def render(build: Callable[[], dashboard.Dashboard]) -> str:
    """The dashboard's JSON as committed: panel ids 1, 2, … in grid order, stable key order,
    non-ASCII kept readable."""
    model = build().build()
    for panel_id, panel in enumerate(model.panels or [], start=1):
        panel.id_val = panel_id
    # decoded once by the SDK's own model, so the file is exactly what the SDK reads back
    # (the decoder fills defaults such as an empty fieldConfig.defaults.custom)
    register_default_plugins()
    decoded = Dashboard.from_json(json.loads(json.dumps(model, cls=JSONEncoder)))
    return json.dumps(decoded, cls=JSONEncoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, build in DASHBOARDS.items():
        path = DASHBOARDS_DIR / name
        wanted = render(build)
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != wanted:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(wanted, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"stale: {stale}; run: .venv/bin/python infra/grafana/generate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
