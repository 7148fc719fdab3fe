"""Grafana dashboards as code: builds casestream's dashboards with grafana-foundation-sdk
and writes them as JSON into infra/grafana/dashboards/, where Grafana's provisioning reads them.

    .venv/bin/python infra/grafana/generate.py           # (re)write the JSON files
    .venv/bin/python infra/grafana/generate.py --check   # exit 1 if a JSON file is stale

Every query names only metrics listed in docs/metrics.md (tests/integration/test_grafana_dashboards.py
checks it), and tests/e2e/test_prometheus_live.py evaluates every query on a real Prometheus
scraping a running worker and API.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders import (
    bargauge,
    dashboard,
    prometheus,
    stat,
    text,
    timeseries,
)
from grafana_foundation_sdk.builders.common import ReduceDataOptions, VizLegendOptions
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.common import (
    BarGaugeDisplayMode,
    BigValueColorMode,
    BigValueGraphMode,
    LegendDisplayMode,
    LegendPlacement,
    VizOrientation,
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
                "Consumer lag",
                "Messages in the partitions the workers are assigned, not yet projected (measured "
                "by each worker every CASESTREAM_WORKER_METRICS_INTERVAL_SECONDS).",
                "sum(casestream_consumer_lag_events)",
                colours=thresholds((None, "green"), (100, "orange"), (1000, "red")),
            )
        )
        .with_panel(
            figure(
                "Projection age",
                "How far behind the read models are: now minus the recorded time of the newest "
                "projected event, 0 while caught up (the oldest worker).",
                "max(casestream_projection_age_seconds)",
                unit="s",
                colours=thresholds((None, "green"), (60, "orange"), (600, "red")),
            )
        )
        .with_panel(
            figure(
                "Dead letters (1 h)",
                "Messages copied to the deadletter topic in the last hour.",
                "sum(increase(casestream_deadletter_messages_total[1h])) or vector(0)",
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
                "Consumer lag per partition",
                "casestream_consumer_lag_events: each partition is reported by the worker it is "
                "assigned to.",
                "short",
                query(
                    "sum by (topic, partition) (casestream_consumer_lag_events)",
                    "{{topic}}[{{partition}}]",
                ),
            )
        )
        .with_panel(
            series(
                "Projection age",
                "casestream_projection_age_seconds per worker.",
                "s",
                query("casestream_projection_age_seconds", "{{instance}}"),
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
        .with_row(dashboard.Row("API"))
        .with_panel(
            series(
                "API requests by route and status",
                "Requests per second, per route template and HTTP status.",
                "reqps",
                query(
                    "sum by (route, status) "
                    "(rate(casestream_api_request_seconds_count[$__rate_interval]))",
                    "{{route}} {{status}}",
                ),
            )
        )
        .with_panel(
            series(
                "API latency (p95) by route",
                "95th percentile of request duration per route template.",
                "s",
                query(
                    "histogram_quantile(0.95, sum by (le, route) "
                    "(rate(casestream_api_request_seconds_bucket[$__rate_interval])))",
                    "{{route}}",
                ),
            )
        )
        .with_panel(
            figure(
                "Read-model figures",
                "1 while every API instance could read its business figures from the database "
                "at the last refresh (casestream_read_model_metrics_up).",
                "min(casestream_read_model_metrics_up)",
                colours=thresholds((None, "red"), (1, "green")),
            )
        )
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


# --- figures of the read models (business gauges of the API, docs/metrics.md) --------------------


def shared(metric: str, selector: str = "") -> str:
    """A read-model gauge: every API instance reports the same deployment-wide figure (one
    database), so take it once instead of summing over instances."""
    return f"max without (instance) ({metric}{selector})"


def total(metric: str, selector: str = "", by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} ({shared(metric, selector)})"


def share(numerator: str, denominator: str) -> str:
    """numerator / denominator, no value (not 0 %, not infinity) while the denominator is 0."""
    return f"({numerator}) / (({denominator}) > 0)"


def department_bars(
    title: str,
    description: str,
    expr: str,
    *,
    unit: str = "short",
    colours: dashboard.ThresholdsConfig = OK_THEN_RED,
    width: int = 8,
    legend: str = "{{department}}",
    maximum: float | None = None,
) -> bargauge.Panel:
    """One bar per department (the latest value), coloured by thresholds."""
    panel = (
        bargauge.Panel()
        .title(title)
        .description(description)
        .datasource(PROMETHEUS)
        .unit(unit)
        .height(8)
        .span(width)
        .with_target(query(expr, legend).instant())
        .thresholds(colours)
        .display_mode(BarGaugeDisplayMode.BASIC)
        .orientation(VizOrientation.HORIZONTAL)
        .reduce_options(ReduceDataOptions().calcs(["lastNotNull"]))
        .min(0)
    )
    return panel.max(maximum) if maximum is not None else panel


CORRECTIONS = 'case_kind="reconsideration", outcome="correction"'
RECONSIDERATIONS = 'case_kind="reconsideration"'
LOSSES = 'case_kind="litigation", outcome="loss"'
LAWSUITS = 'case_kind="litigation"'
RECTIFICATIONS_DONE = 'status=~"completed|verified"'
RECTIFICATIONS_LIVE = 'status!="cancelled"'
RECTIFICATIONS_OPEN = 'status=~"open|in_progress|rejected"'
# a share that should stay low (纠错率, 败诉率) and one that should stay high (完成率)
LOW_IS_GOOD = thresholds((None, "green"), (0.1, "orange"), (0.2, "red"))
HIGH_IS_GOOD = thresholds((None, "red"), (0.6, "orange"), (0.9, "green"))
DUE_SOON_COLOURS = thresholds((None, "green"), (1, "orange"), (10, "red"))


def correction_rate(by: str = "") -> str:
    return share(
        total("casestream_disputes_decided", f"{{{CORRECTIONS}}}", by),
        total("casestream_disputes_decided", f"{{{RECONSIDERATIONS}}}", by),
    )


def loss_rate(by: str = "") -> str:
    return share(
        total("casestream_disputes_decided", f"{{{LOSSES}}}", by),
        total("casestream_disputes_decided", f"{{{LAWSUITS}}}", by),
    )


def rectification_rate(by: str = "") -> str:
    return share(
        total("casestream_rectifications", f"{{{RECTIFICATIONS_DONE}}}", by),
        total("casestream_rectifications", f"{{{RECTIFICATIONS_LIVE}}}", by),
    )


DEFINITIONS = """\
**口径**：数字来自读模型（每个 API 实例报告同一数据库的全局数字，约 15 秒刷新）：
**今日新增** 按受理时间（本地时区）当天；**超期未办** 为尚未办结且有期限已超的案件；
**即将到期** 为 3 日内到期、仍在计时的期限；**复议纠错率** = 纠错决定 / 已作出复议决定，
**诉讼败诉率** = 败诉判决 / 已判决诉讼（读模型中全部已决案件，与 `GET /stats` 同一定义）；
**整改完成率** = 已完成或已验收的整改 / 未撤销的整改。部门为案件当前承办部门
（`CASESTREAM_METRICS_DEPARTMENTS` 之外的部门计入 other，未分派计入 none）。
趋势图来自 worker 计数器（投影时计数，多个 worker 相加）。
"""


def leadership() -> dashboard.Dashboard:
    """领导看板 leadership: today's cases, overdue and due soon, the rule-of-law rates, by department."""
    return (
        base("casestream-leadership", "casestream — 领导看板", ["leadership"], "now-30d")
        .with_panel(text.Panel().title("说明").content(DEFINITIONS).height(5).span(24))
        .with_row(dashboard.Row("今日"))
        .with_panel(
            figure(
                "今日新增",
                "今天（本地时区）受理的案件数：投诉、涉企举报、行政复议、行政诉讼（不含整改）。",
                total("casestream_cases_received_today", '{case_kind!="rectification"}'),
                colours=thresholds((None, "blue")),
                width=5,
            )
        )
        .with_panel(
            figure(
                "超期未办",
                "尚未办结、且至少一个期限已超期的投诉、涉企举报、复议与诉讼（整改见整改看板）。",
                total("casestream_cases_overdue", '{case_kind!="rectification"}'),
                width=5,
            )
        )
        .with_panel(
            figure(
                "即将到期",
                "3 日内到期、仍在计时的期限数（全部规则）。",
                total("casestream_clocks_due_soon"),
                colours=DUE_SOON_COLOURS,
                width=5,
            )
        )
        .with_panel(
            figure(
                "今日涉企投诉",
                "今天受理的涉企投诉（enterprise = true）。",
                total(
                    "casestream_cases_received_today", '{case_kind="complaint", enterprise="true"}'
                ),
                colours=thresholds((None, "blue")),
                width=5,
            )
        )
        .with_panel(
            figure(
                "在办案件",
                "尚未办结的投诉、涉企举报、复议与诉讼。",
                total("casestream_cases_open", '{case_kind!="rectification"}'),
                colours=thresholds((None, "blue")),
                width=4,
            )
        )
        .with_row(dashboard.Row("法治指标"))
        .with_panel(
            figure(
                "复议纠错率",
                "纠错（撤销、变更、确认违法、责令履行）的复议决定 / 已作出的复议决定。",
                correction_rate(),
                unit="percentunit",
                colours=LOW_IS_GOOD,
            )
        )
        .with_panel(
            figure(
                "诉讼败诉率",
                "败诉判决 / 已判决的行政诉讼（含二审）。",
                loss_rate(),
                unit="percentunit",
                colours=LOW_IS_GOOD,
            )
        )
        .with_panel(
            figure(
                "整改完成率",
                "已完成或已验收的整改 / 未撤销的整改。",
                rectification_rate(),
                unit="percentunit",
                colours=HIGH_IS_GOOD,
            )
        )
        .with_panel(
            figure(
                "回访满意率",
                "回访满意度 4–5 分（满分 5）的投诉 / 已回访的投诉。",
                share(
                    "sum(max without (instance) (casestream_followup_satisfaction_count))"
                    " - sum(max without (instance) "
                    '(casestream_followup_satisfaction_bucket{le="3.0"}))',
                    "sum(max without (instance) (casestream_followup_satisfaction_count))",
                ),
                unit="percentunit",
                colours=HIGH_IS_GOOD,
            )
        )
        .with_row(dashboard.Row("按部门"))
        .with_panel(
            department_bars(
                "超期未办（按部门）",
                "尚未办结且已超期的案件（不含整改），按承办部门。",
                total("casestream_cases_overdue", '{case_kind!="rectification"}', "department"),
            )
        )
        .with_panel(
            department_bars(
                "即将到期（按部门）",
                "3 日内到期的期限，按部门。",
                total("casestream_clocks_due_soon", by="department"),
                colours=DUE_SOON_COLOURS,
            )
        )
        .with_panel(
            department_bars(
                "涉企投诉在办（按部门）",
                "尚未办结的涉企投诉，按部门。",
                total(
                    "casestream_cases_open",
                    '{case_kind="complaint", enterprise="true"}',
                    by="department",
                ),
                colours=thresholds((None, "blue")),
            )
        )
        .with_panel(
            department_bars(
                "复议纠错率（按部门）",
                "按作出原行政行为的部门。",
                correction_rate("department"),
                unit="percentunit",
                colours=LOW_IS_GOOD,
                maximum=1,
            )
        )
        .with_panel(
            department_bars(
                "诉讼败诉率（按部门）",
                "按作出被诉行政行为的部门。",
                loss_rate("department"),
                unit="percentunit",
                colours=LOW_IS_GOOD,
                maximum=1,
            )
        )
        .with_panel(
            department_bars(
                "整改完成率（按部门）",
                "按整改责任部门。",
                rectification_rate("department"),
                unit="percentunit",
                colours=HIGH_IS_GOOD,
                maximum=1,
            )
        )
        .with_row(dashboard.Row("趋势"))
        .with_panel(
            series(
                "每日新增，按案件类型",
                "近 24 小时受理的案件（worker 投影时计数）。",
                "short",
                query(
                    "sum by (case_kind) (increase(casestream_cases_received_total[1d]))",
                    "{{case_kind}}",
                ),
            )
        )
        .with_panel(
            series(
                "超期未办与即将到期",
                "随时间变化的超期未办案件数与 3 日内到期的期限数。",
                "short",
                query(
                    total("casestream_cases_overdue", '{case_kind!="rectification"}'), "超期未办"
                ),
                query(total("casestream_clocks_due_soon"), "即将到期", "B"),
            )
        )
        .with_panel(
            series(
                "升级督办，按级别",
                "近 24 小时的升级告警：1 承办人、2 部门负责人、3 局领导。",
                "short",
                query(
                    f'sum by (level) (increase({ALERTS}{{event_type="Escalated"}}[1d]))',
                    "{{level}} 级",
                ),
            )
        )
        .with_panel(
            series(
                "复议决定与判决，按结果",
                "近 24 小时的复议决定与一审、二审判决：纠错、败诉、其他。",
                "short",
                query(
                    "sum by (case_kind, outcome) "
                    "(increase(casestream_dispute_decisions_total[1d]))",
                    "{{case_kind}} {{outcome}}",
                ),
            )
        )
    )


RECTIFICATION_RULES = r"rectification\\..+"
RECTIFICATION_COMMANDS = "Rectification(Completed|Verified|Rejected|Reopened)"


def rectification() -> dashboard.Dashboard:
    """整改看板 rectification board: reviews and rectifications after a correction or a loss."""
    return (
        base(
            "casestream-rectification",
            "casestream — 整改看板 rectification",
            ["rectification"],
            "now-30d",
        )
        .with_row(dashboard.Row("现状"))
        .with_panel(
            figure(
                "在办整改",
                "已开启、整改中或被退回、尚未完成的整改。",
                total("casestream_rectifications", f"{{{RECTIFICATIONS_OPEN}}}"),
                colours=thresholds((None, "blue")),
                width=5,
            )
        )
        .with_panel(
            figure(
                "整改超期",
                "未完成且已过整改期限的整改。",
                total("casestream_rectifications_overdue"),
                width=5,
            )
        )
        .with_panel(
            figure(
                "待验收",
                "已完成、等待督察验收的整改。",
                total("casestream_rectifications", '{status="completed"}'),
                colours=OK_THEN_AMBER,
                width=5,
            )
        )
        .with_panel(
            figure(
                "已验收",
                "验收通过的整改。",
                total("casestream_rectifications", '{status="verified"}'),
                colours=thresholds((None, "green")),
                width=4,
            )
        )
        .with_panel(
            figure(
                "整改完成率",
                "已完成或已验收的整改 / 未撤销的整改。",
                rectification_rate(),
                unit="percentunit",
                colours=HIGH_IS_GOOD,
                width=5,
            )
        )
        .with_row(dashboard.Row("按部门"))
        .with_panel(
            department_bars(
                "整改超期（按部门）",
                "未完成且已过期限的整改，按责任部门。",
                total("casestream_rectifications_overdue", by="department"),
            )
        )
        .with_panel(
            department_bars(
                "整改状态（按部门）",
                "每个责任部门的整改，按状态。",
                total("casestream_rectifications", by="department, status"),
                colours=thresholds((None, "blue")),
                legend="{{department}} {{status}}",
            )
        )
        .with_panel(
            department_bars(
                "整改完成率（按部门）",
                "已完成或已验收 / 未撤销，按责任部门。",
                rectification_rate("department"),
                unit="percentunit",
                colours=HIGH_IS_GOOD,
                maximum=1,
            )
        )
        .with_row(dashboard.Row("趋势"))
        .with_panel(
            series(
                "整改进展（每日）",
                "近 24 小时进入各状态的整改：开启、完成、退回、验收、撤销。",
                "short",
                query(
                    "sum by (status) (increase(casestream_rectification_transitions_total[1d]))",
                    "{{status}}",
                ),
            )
        )
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
