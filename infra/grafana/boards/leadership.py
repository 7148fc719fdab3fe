"""领导看板 leadership dashboard, in Chinese."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard, text

from .panels import (
    ALERTS,
    DUE_SOON_COLOURS,
    HIGH_IS_GOOD,
    LOW_IS_GOOD,
    OK_THEN_AMBER,
    base,
    correction_rate,
    department_bars,
    figure,
    loss_rate,
    query,
    rectification_rate_bars,
    rectification_rate_figure,
    risen_in_period,
    series,
    share,
    thresholds,
    total,
)

# the cases the 今日 and trend figures count: not 整改 (the rectification board's) nor 执法监督
# (its own row)
DISPUTES = '{case_kind=~"complaint|enterprise_tip|reconsideration|litigation"}'
ENFORCEMENT = "casestream_enforcement_cases"
PUBLICATION = 'rule="enforcement_decision.publication"'

DEFINITIONS = """\
**口径**：数字来自读模型（每个 API 实例报告同一数据库的全局数字，约 15 秒刷新）：
**今日新增** 按受理时间（本地时区）当天；**超期未办** 为尚未办结且有期限已超的案件；
**即将到期** 为 3 日内到期、仍在计时的期限；**复议纠错率** = 纠错决定 / 已作出复议决定，
**诉讼败诉率** = 败诉判决 / 已判决诉讼（读模型中全部已决案件，与 `GET /stats` 同一定义）；
**整改完成率** = 已完成或已验收的整改 / 未撤销的整改。部门为案件当前承办部门
（`CASESTREAM_METRICS_DEPARTMENTS` 之外的部门计入 other，未分派计入 none）；
**督察中** 为回访不满意（满意度不高于阈值）后仍在督察、未经督察办结或重办的投诉，
**期间督察** 为所选时间范围内新开启的督察（部门为标记督察时投诉的承办部门）。
**执法监督** 为读模型中全部考评、执法监督书与不予处罚决定的当前状态；**公示超期** 为决定之日起
7 个工作日内仍未公示的不予处罚决定（公示时限已过、尚未公示）。
趋势图来自 worker 计数器（投影时计数，多个 worker 相加）。
"""


def count_of(metric: str, selector: str) -> str:
    """A read-model count that is 0, not "no data", where nothing has that label set yet."""
    return f"{total(metric, selector)} or vector(0)"


def leadership() -> dashboard.Dashboard:
    """领导看板 leadership: today's cases, overdue and due soon, the rule-of-law rates, 督察
    supervision after a poor 回访, 执法监督 (reviews, notices, decisions awaiting 公示), by
    department."""
    return (
        base("casestream-leadership", "casestream — 领导看板", ["leadership"], "now-30d")
        .with_panel(text.Panel().title("说明").content(DEFINITIONS).height(6).span(24))
        .with_row(dashboard.Row("今日"))
        .with_panel(
            figure(
                "今日新增",
                "今天（本地时区）受理的案件数：投诉、涉企举报、行政复议、行政诉讼（不含整改与执法监督）。",
                total("casestream_cases_received_today", DISPUTES),
                colours=thresholds((None, "blue")),
                width=5,
            )
        )
        .with_panel(
            figure(
                "超期未办",
                "尚未办结、且至少一个期限已超期的投诉、涉企举报、复议与诉讼（整改见整改看板）。",
                total("casestream_cases_overdue", DISPUTES),
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
                total("casestream_cases_open", DISPUTES),
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
        .with_panel(rectification_rate_figure())
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
                total("casestream_cases_overdue", DISPUTES, "department"),
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
        .with_panel(rectification_rate_bars())
        .with_row(dashboard.Row("督察"))
        .with_panel(
            figure(
                "督察中",
                "回访不满意后仍在督察的投诉：督察员尚未办结（close_supervision），投诉也未重办。",
                total("casestream_complaints_under_supervision"),
                colours=OK_THEN_AMBER,
                width=4,
            )
        )
        .with_panel(
            figure(
                "期间督察",
                "所选时间范围内因回访不满意新开启的督察（同一投诉督察办结后再次标记的另计）。",
                risen_in_period("casestream_supervisions_flagged"),
                colours=thresholds((None, "blue")),
                width=4,
            )
        )
        .with_panel(
            department_bars(
                "督察中（按部门）",
                "仍在督察的投诉，按标记督察时的承办部门。",
                total("casestream_complaints_under_supervision", by="department"),
                colours=OK_THEN_AMBER,
            )
        )
        .with_panel(
            department_bars(
                "期间督察（按部门）",
                "所选时间范围内新开启的督察，按标记督察时的承办部门。",
                risen_in_period("casestream_supervisions_flagged", by="department"),
                colours=thresholds((None, "blue")),
            )
        )
        .with_row(dashboard.Row("执法监督"))
        .with_panel(
            figure(
                "考评中",
                "已开始、尚未评分的执法质量考评（评查）。",
                count_of(ENFORCEMENT, '{case_kind="enforcement_review", status="opened"}'),
                colours=thresholds((None, "blue")),
                width=4,
            )
        )
        .with_panel(
            figure(
                "已评分考评",
                "已评分的执法质量考评（平均得分与评查意见见控制台“统计”）。",
                count_of(ENFORCEMENT, '{case_kind="enforcement_review", status="completed"}'),
                colours=thresholds((None, "blue")),
                width=4,
            )
        )
        .with_panel(
            figure(
                "监督书整改中",
                "已制发、整改尚未核验的执法监督书。",
                count_of(ENFORCEMENT, '{case_kind="enforcement_notice", status="issued"}'),
                colours=OK_THEN_AMBER,
                width=4,
            )
        )
        .with_panel(
            figure(
                "监督书已整改",
                "整改已核验的执法监督书。",
                count_of(ENFORCEMENT, '{case_kind="enforcement_notice", status="rectified"}'),
                colours=thresholds((None, "blue")),
                width=4,
            )
        )
        .with_panel(
            figure(
                "待公示",
                "已作出、尚未公示的不予处罚（轻微免罚）决定。",
                count_of(ENFORCEMENT, '{case_kind="enforcement_decision", status="recorded"}'),
                colours=OK_THEN_AMBER,
                width=4,
            )
        )
        .with_panel(
            figure(
                "公示超期",
                "公示时限（决定之日起 7 个工作日）已过、仍未公示的不予处罚决定。",
                count_of("casestream_clocks_open", f'{{{PUBLICATION}, status="overdue"}}'),
                width=4,
            )
        )
        .with_panel(
            department_bars(
                "待公示（按部门）",
                "尚未公示的不予处罚决定，按作出决定的部门。",
                total(
                    ENFORCEMENT,
                    '{case_kind="enforcement_decision", status="recorded"}',
                    "department",
                ),
                colours=OK_THEN_AMBER,
                width=12,
            )
        )
        .with_panel(
            department_bars(
                "公示超期（按部门）",
                "公示时限已过、仍未公示的不予处罚决定，按作出决定的部门。",
                total(
                    "casestream_clocks_open", f'{{{PUBLICATION}, status="overdue"}}', "department"
                ),
                width=12,
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
                query(total("casestream_cases_overdue", DISPUTES), "超期未办"),
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
