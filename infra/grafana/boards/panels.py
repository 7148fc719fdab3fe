"""The pieces every dashboard is built from: the datasource, queries, panels of one kind,
colour thresholds, and PromQL helpers for the read-model figures (docs/metrics.md)."""

from __future__ import annotations

from grafana_foundation_sdk.builders import (
    bargauge,
    dashboard,
    prometheus,
    stat,
    timeseries,
)
from grafana_foundation_sdk.builders.common import ReduceDataOptions, VizLegendOptions
from grafana_foundation_sdk.models.common import (
    BarGaugeDisplayMode,
    BigValueColorMode,
    BigValueGraphMode,
    LegendDisplayMode,
    LegendPlacement,
    VizOrientation,
)
from grafana_foundation_sdk.models.dashboard import (
    DashboardCursorSync,
    DataSourceRef,
    Threshold,
    ThresholdsMode,
)

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


def risen_in_period(metric: str, by: str = "") -> str:
    """How much a read-model gauge that only rises (a count since the read models began) rose
    over the dashboard's time range: each instance's rise, taken once (they report the same
    figure), then summed."""
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (max without (instance) (delta({metric}[$__range])))"


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


def rectification_rate_figure(width: int = 6) -> stat.Panel:
    """整改完成率, as the leadership dashboard and the rectification board both show it."""
    return figure(
        "整改完成率",
        "已完成或已验收的整改 / 未撤销的整改。",
        rectification_rate(),
        unit="percentunit",
        colours=HIGH_IS_GOOD,
        width=width,
    )


def rectification_rate_bars() -> bargauge.Panel:
    """整改完成率 by responsible department, on both dashboards."""
    return department_bars(
        "整改完成率（按部门）",
        "已完成或已验收 / 未撤销，按整改责任部门。",
        rectification_rate("department"),
        unit="percentunit",
        colours=HIGH_IS_GOOD,
        maximum=1,
    )
