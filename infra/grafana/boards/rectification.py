"""整改看板 rectification board."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from .panels import (
    OK_THEN_AMBER,
    RECTIFICATIONS_OPEN,
    alerts_by_rule,
    base,
    department_bars,
    figure,
    query,
    rectification_rate_bars,
    rectification_rate_figure,
    series,
    thresholds,
    total,
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
        .with_panel(rectification_rate_figure(width=5))
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
        .with_panel(rectification_rate_bars())
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
