"""Grafana dashboards as code: builds casestream's dashboards with grafana-foundation-sdk
and writes them as JSON into infra/grafana/dashboards/, where Grafana's provisioning reads them.

    .venv/bin/python infra/grafana/generate.py           # (re)write the JSON files
    .venv/bin/python infra/grafana/generate.py --check   # exit 1 if a JSON file is stale

Every query names only metrics listed in docs/metrics.md (tests/integration/test_grafana_dashboards.py
checks it). Department is never a metric label, so nothing here is "by department" yet.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, text, timeseries
from grafana_foundation_sdk.builders.common import ReduceDataOptions, VizLegendOptions
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.common import (
    BigValueColorMode,
    BigValueGraphMode,
    LegendDisplayMode,
    LegendPlacement,
)
from grafana_foundation_sdk.models.dashboard import (
    Dashboard,
    DashboardCursorSync,
    DataSourceRef,
    Threshold,
    ThresholdsMode,
)

DASHBOARDS_DIR = Path(__file__).resolve().parent / "dashboards"
# the datasource infra/grafana/provisioning/datasources/prometheus.yml provisions, by uid
PROMETHEUS = DataSourceRef(type_val="prometheus", uid="casestream-prometheus")

# 期限告警 sent by the escalation scanner (counts of sends: several workers may send one alert)
ALERTS = "casestream_alerts_emitted_total"


def query(expr: str, legend: str = "", ref_id: str = "A") -> prometheus.Dataquery:
    return (
        prometheus.Dataquery()
        .expr(expr)
        .legend_format(legend or "__auto")
        .ref_id(ref_id)
        .datasource(PROMETHEUS)
    )


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    """Colour steps: (None, base colour), then (value, colour from that value up)."""
    return (
        dashboard.ThresholdsConfig()
        .mode(ThresholdsMode.ABSOLUTE)
        .steps([Threshold(value=value, color=color) for value, color in steps])
    )


OK_THEN_RED = thresholds((None, "green"), (1, "red"))
OK_THEN_AMBER = thresholds((None, "green"), (1, "orange"))


def series(
    title: str, description: str, unit: str, *targets: prometheus.Dataquery, width: int = 12
) -> timeseries.Panel:
    return (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .height(8)
        .span(width)
        .targets(list(targets))
        .legend(
            VizLegendOptions()
            .show_legend(True)
            .display_mode(LegendDisplayMode.LIST)
            .placement(LegendPlacement.BOTTOM)
        )
    )


def figure(
    title: str,
    description: str,
    expr: str,
    *,
    unit: str = "short",
    colours: dashboard.ThresholdsConfig = OK_THEN_RED,
    width: int = 6,
) -> stat.Panel:
    """One big number (the latest value), coloured by its thresholds."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .height(5)
        .span(width)
        .with_target(query(expr).instant())
        .thresholds(colours)
        .color_mode(BigValueColorMode.BACKGROUND)
        .graph_mode(BigValueGraphMode.NONE)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]))
    )


def base(uid: str, title: str, tags: list[str], time_from: str) -> dashboard.Dashboard:
    return (
        dashboard.Dashboard(title)
        .uid(uid)
        .tags(["casestream", *tags])
        .timezone("browser")
        .time(time_from, "now")
        .refresh("1m")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .readonly()
    )


def operations() -> dashboard.Dashboard:
    """运维 operations: is the pipeline keeping up, and is anything being lost or late."""
    return (
        base("casestream-operations", "casestream — operations", ["operations"], "now-6h")
        .with_row(dashboard.Row("Throughput"))
        .with_panel(
            series(
                "Case events projected",
                "casestream_projector_events_total: case events taken by the projector, per "
                "case kind and outcome (applied, duplicate, skipped).",
                "ops",
                query(
                    "sum by (case_kind, outcome) "
                    "(rate(casestream_projector_events_total[$__rate_interval]))",
                    "{{case_kind}} {{outcome}}",
                ),
            )
        )
        .with_panel(
            series(
                "Events via the API",
                "Events accepted by POST /events and the rectification commands, and those "
                "refused with 422.",
                "ops",
                query(
                    "sum by (event_type) "
                    "(rate(casestream_api_events_posted_total[$__rate_interval]))",
                    "{{event_type}}",
                ),
                query(
                    "sum(rate(casestream_api_events_rejected_total[$__rate_interval]))",
                    "rejected (422)",
                    "B",
                ),
            )
        )
        .with_row(dashboard.Row("Lag and dead letters"))
        .with_panel(
            figure(
                "Projection lag",
                "Messages in the case topics not yet projected. Measured only when the API's "
                "/readyz runs: give the API a readiness probe.",
                "max(casestream_projector_lag_events)",
                colours=thresholds((None, "green"), (100, "orange"), (1000, "red")),
            )
        )
        .with_panel(
            figure(
                "Dead letters (1 h)",
                "Messages copied to the deadletter topic in the last hour.",
                "sum(increase(casestream_deadletter_messages_total[1h]))",
                colours=OK_THEN_AMBER,
            )
        )
        .with_panel(
            figure(
                "Targets down",
                "API and worker processes Prometheus could not scrape.",
                'count(up{job=~"casestream-.*"} == 0) or vector(0)',
            )
        )
        .with_panel(
            figure(
                "Anomalies (1 h)",
                "Out-of-order or mismatched events recorded on their case in the last hour.",
                "sum(increase(casestream_projector_anomalies_total[1h]))",
                colours=OK_THEN_AMBER,
            )
        )
        .with_panel(
            series(
                "Projection lag",
                "casestream_projector_lag_events per API instance.",
                "short",
                query("casestream_projector_lag_events", "{{instance}}"),
            )
        )
        .with_panel(
            series(
                "Dead letters",
                "Dead letters per source topic and reason.",
                "short",
                query(
                    "sum by (topic, reason) "
                    "(increase(casestream_deadletter_messages_total[$__rate_interval]))",
                    "{{topic}} {{reason}}",
                ),
            )
        )
        .with_row(dashboard.Row("Batches"))
        .with_panel(
            series(
                "Batch write latency",
                "Time to write one batch and its offsets, retries included.",
                "s",
                *(
                    query(
                        f"histogram_quantile({q}, sum by (le) "
                        "(rate(casestream_projector_batch_seconds_bucket[$__rate_interval])))",
                        f"p{round(q * 100)}",
                        ref,
                    )
                    for q, ref in ((0.5, "A"), (0.95, "B"), (0.99, "C"))
                ),
            )
        )
        .with_panel(
            series(
                "Batches and batch size",
                "Batches written per second (flat: the projection stalls) and the 95th "
                "percentile of messages per batch.",
                "short",
                query(
                    "sum(rate(casestream_projector_batch_seconds_count[$__rate_interval]))",
                    "batches/s",
                ),
                query(
                    "histogram_quantile(0.95, sum by (le) "
                    "(rate(casestream_projector_batch_events_bucket[$__rate_interval])))",
                    "p95 messages per batch",
                    "B",
                ),
            )
        )
        .with_row(dashboard.Row("Escalation scanner"))
        .with_panel(
            series(
                "Scanner pass duration",
                "95th percentile of one escalation-scanner pass, per worker.",
                "s",
                query(
                    "histogram_quantile(0.95, sum by (le, instance) "
                    "(rate(casestream_scanner_pass_seconds_bucket[$__rate_interval])))",
                    "p95 {{instance}}",
                ),
            ),
        )
        .with_panel(
            series(
                "Scanner passes and due clocks",
                "Passes per second (flat: the scanner is not running) and the clocks owing an "
                "alert at the last pass.",
                "short",
                query(
                    "sum by (instance) "
                    "(rate(casestream_scanner_pass_seconds_count[$__rate_interval]))",
                    "passes/s {{instance}}",
                ),
                query("casestream_scanner_due_clocks", "due clocks {{instance}}", "B"),
            )
        )
        .with_panel(
            series(
                "Alerts emitted",
                "Alerts the scanner sent to alerts.events, per type.",
                "short",
                query(
                    f"sum by (event_type) (increase({ALERTS}[$__rate_interval]))",
                    "{{event_type}}",
                ),
            ),
        )
        .with_panel(
            series(
                "Webhook deliveries",
                "Webhook POST attempts by webhook and outcome (only with webhooks configured).",
                "short",
                query(
                    "sum by (webhook, outcome) "
                    "(increase(casestream_webhook_deliveries_total[$__rate_interval]))",
                    "{{webhook}} {{outcome}}",
                ),
            ),
        )
    )


NOT_YET_LEADERSHIP = """\
**尚未提供的指标（Not yet）** — 以下数字需要业务指标，casestream 目前没有导出，
本看板不以其他指标冒充：

- **今日新增**（按案件类型、按部门）
- **超期未办**（当前仍在办且已超期的案件数，按部门）
- **涉企投诉**（涉企投诉件数；目前期限告警只区分 `complaint.handling_enterprise` 规则）
- **复议纠错率**、**诉讼败诉率**（需要按结果统计的决定/判决数）
- **整改完成率**（需要已开启、已完成、已验收的整改数）
- **按部门** 的任何统计（部门不是指标标签）

见 `docs/metrics.md` 的 “Not yet” 一节。下面的数字均来自期限告警
（`casestream_alerts_emitted_total`）：是告警的**发送次数**，多个 worker 可能重复发送同一告警。
"""


def alert_figure(title: str, description: str, event_type: str, rules: str) -> stat.Panel:
    return figure(
        title,
        description,
        f'sum(increase({ALERTS}{{event_type="{event_type}", rule=~"{rules}"}}[1d])) or vector(0)',
        colours=OK_THEN_RED if event_type == "DeadlineBreached" else OK_THEN_AMBER,
        width=8,
    )


def alerts_by_rule(title: str, description: str, rules: str) -> timeseries.Panel:
    return series(
        title,
        description,
        "short",
        *(
            query(
                f'sum by (rule) (increase({ALERTS}{{event_type="{event_type}", '
                f'rule=~"{rules}"}}[1d]))',
                f"{label} {{{{rule}}}}",
                ref,
            )
            for event_type, label, ref in (
                ("DeadlineBreached", "超期", "A"),
                ("DeadlineApproaching", "即将到期", "B"),
            )
        ),
        width=24,
    )


def leadership() -> dashboard.Dashboard:
    """领导看板 leadership: deadline figures of the last 24 h, in Chinese."""
    return (
        base("casestream-leadership", "casestream — 领导看板", ["leadership"], "now-7d")
        .with_panel(text.Panel().title("说明").content(NOT_YET_LEADERSHIP).height(9).span(24))
        .with_row(dashboard.Row("近 24 小时期限告警"))
        .with_panel(
            alert_figure(
                "近 24 小时新增超期",
                "扫描器在近 24 小时内发出的超期告警（DeadlineBreached）次数，全部期限规则。"
                "不是当前超期未办件数。",
                "DeadlineBreached",
                ".+",
            )
        )
        .with_panel(
            alert_figure(
                "近 24 小时即将到期提醒",
                "扫描器在近 24 小时内发出的到期前提醒（DeadlineApproaching）次数，全部期限规则。",
                "DeadlineApproaching",
                ".+",
            )
        )
        .with_panel(
            alert_figure(
                "近 24 小时升级督办",
                "扫描器在近 24 小时内发出的升级（Escalated）次数：承办人、部门负责人、局领导三级合计。",
                "Escalated",
                ".+",
            )
        )
        .with_row(dashboard.Row("涉企"))
        .with_panel(
            alert_figure(
                "涉企投诉超期（24 小时）",
                "规则 complaint.handling_enterprise 的超期告警次数。",
                "DeadlineBreached",
                "complaint.handling_enterprise",
            )
        )
        .with_panel(
            alert_figure(
                "涉企举报超期（24 小时）",
                "规则 enterprise_tip.* 的超期告警次数。",
                "DeadlineBreached",
                r"enterprise_tip\\..+",
            )
        )
        .with_panel(
            alert_figure(
                "涉企即将到期（24 小时）",
                "规则 complaint.handling_enterprise 与 enterprise_tip.* 的到期前提醒次数。",
                "DeadlineApproaching",
                r"complaint\\.handling_enterprise|enterprise_tip\\..+",
            )
        )
        .with_row(dashboard.Row("复议、诉讼、整改"))
        .with_panel(
            alert_figure(
                "复议超期（24 小时）",
                "规则 reconsideration.* 的超期告警次数（答复、决定、意见书报告）。",
                "DeadlineBreached",
                r"reconsideration\\..+",
            )
        )
        .with_panel(
            alert_figure(
                "诉讼超期（24 小时）",
                "规则 litigation.* 的超期告警次数（答辩等）。",
                "DeadlineBreached",
                r"litigation\\..+",
            )
        )
        .with_panel(
            alert_figure(
                "整改超期（24 小时）",
                "规则 rectification.* 的超期告警次数（复盘、整改、验收）。",
                "DeadlineBreached",
                r"rectification\\..+",
            )
        )
        .with_row(dashboard.Row("按期限规则（每日）"))
        .with_panel(
            alerts_by_rule("超期与即将到期，按期限规则", "每条期限规则近 24 小时的告警次数。", ".+")
        )
    )


RECTIFICATION_RULES = r"rectification\\..+"
RECTIFICATION_COMMANDS = "Rectification(Completed|Verified|Rejected|Reopened)"


def rectification() -> dashboard.Dashboard:
    """整改看板 rectification board: the deadlines of reviews and rectifications after a loss."""
    return (
        base(
            "casestream-rectification",
            "casestream — 整改看板 rectification",
            ["rectification"],
            "now-30d",
        )
        .with_row(dashboard.Row("近 24 小时"))
        .with_panel(
            alert_figure(
                "复盘超期",
                "规则 rectification.review（15 个工作日）的超期告警次数。",
                "DeadlineBreached",
                "rectification.review",
            )
        )
        .with_panel(
            alert_figure(
                "整改超期",
                "规则 rectification.completion 的超期告警次数。",
                "DeadlineBreached",
                "rectification.completion",
            )
        )
        .with_panel(
            alert_figure(
                "验收超期",
                "规则 rectification.verification（完成后 5 个工作日）的超期告警次数。",
                "DeadlineBreached",
                "rectification.verification",
            )
        )
        .with_row(dashboard.Row("趋势"))
        .with_panel(
            alerts_by_rule(
                "整改期限告警，按规则", "复盘、整改、验收每日的告警次数。", RECTIFICATION_RULES
            )
        )
        .with_panel(
            series(
                "整改操作（经 API）",
                "经 API 提交的整改命令：完成、验收通过、退回、重新打开（每日）。",
                "short",
                query(
                    "sum by (event_type) (increase(casestream_api_events_posted_total"
                    f'{{event_type=~"{RECTIFICATION_COMMANDS}"}}[1d]))',
                    "{{event_type}}",
                ),
            )
        )
        .with_panel(
            series(
                "整改事件投影",
                "投影器处理的整改事件（含派生的 RectificationOpened、ReviewTaskOpened）。",
                "short",
                query(
                    "sum by (outcome) (increase(casestream_projector_events_total"
                    '{case_kind="rectification"}[1d]))',
                    "{{outcome}}",
                ),
            )
        )
    )


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
