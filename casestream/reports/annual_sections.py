"""The sections of the yearly report's figures, one builder each, in the order they appear
(`ANNUAL_SECTIONS`): 投诉 and 回访, 涉企, 行政复议, 行政诉讼, 复盘 and 整改, then 执法监督
(annual_enforcement.py). A figure's numbers are the read model's; a builder only picks them,
names them and says which cases each counts."""

from __future__ import annotations

from datetime import datetime

from casestream.domain.catalog import CaseKind
from casestream.read_models.annual_figures import AnnualFigureQueries, AnnualFigures

from .annual import AnnualReport, Measure, Section, SectionBuilder, build_report
from .annual_enforcement import enforcement_section
from .annual_lines import FigureLines


def complaints_section(figures: AnnualFigures, with_cases: bool) -> Section:
    lines = FigureLines(figures, with_cases)
    complaint = CaseKind.complaint
    return Section(
        title="投诉办理与回访满意度",
        lines=(
            *lines.handling(
                "complaints", ("投诉", "办结"), lambda y: y.figures.complaints, complaint
            ),
            lines.count(
                "satisfaction.visited", "回访（件）",
                lambda y: y.figures.satisfaction.visited, complaint, "visited",
            ),
            lines.line(
                "satisfaction.average_score", "回访满意度平均分（1–5分）", Measure.score,
                lambda y: y.figures.satisfaction.average_score,
                basis="回访评分之和 ÷ 回访件数",
            ),
            lines.count(
                "satisfaction.satisfied", "满意（4–5分，件）",
                lambda y: y.figures.satisfaction.satisfied, complaint, "satisfied",
            ),
            lines.rate(
                "satisfaction.satisfied_rate", "满意率",
                lambda y: y.figures.satisfaction.satisfied_rate, "满意 ÷ 回访",
            ),
            lines.count(
                "supervision.flagged", "回访不满意转督察（件）",
                lambda y: y.figures.supervision.flagged, complaint, "flagged",
            ),
        ),
        notes=("投诉含12345热线、窗口、来信、网上及信访渠道；办结含办结后已回访的投诉。",),
    )  # fmt: skip


def enterprise_section(figures: AnnualFigures, with_cases: bool) -> Section:
    lines = FigureLines(figures, with_cases)
    return Section(
        title="涉企投诉与涉企举报线索",
        lines=(
            *lines.handling(
                "enterprise_complaints", ("涉企投诉", "办结"),
                lambda y: y.figures.enterprise_complaints, CaseKind.complaint, "ent_",
            ),
            *lines.handling(
                "enterprise_tips", ("涉企举报线索", "核查"),
                lambda y: y.figures.enterprise_tips, CaseKind.enterprise_tip,
            ),
        ),
    )  # fmt: skip


def reconsideration_section(figures: AnnualFigures, with_cases: bool) -> Section:
    lines = FigureLines(figures, with_cases)
    kind = CaseKind.reconsideration
    return Section(
        title="行政复议",
        lines=(
            lines.count(
                "reconsiderations.received", "收到复议申请（件）",
                lambda y: y.figures.reconsiderations.received, kind, "received",
            ),
            lines.count(
                "reconsiderations.decided", "审结（件）",
                lambda y: y.figures.reconsiderations.decided, kind, "decided",
            ),
            lines.count(
                "reconsiderations.corrections", "被纠错（件）",
                lambda y: y.figures.reconsiderations.corrections, kind, "corrections",
            ),
            lines.rate(
                "reconsiderations.correction_rate", "纠错率",
                lambda y: y.figures.reconsiderations.correction_rate, "被纠错 ÷ 审结",
            ),
        ),
        notes=("纠错：复议决定撤销、变更、确认违法或责令履行。",),
    )  # fmt: skip


def litigation_section(figures: AnnualFigures, with_cases: bool) -> Section:
    lines = FigureLines(figures, with_cases)
    kind = CaseKind.litigation
    return Section(
        title="行政诉讼",
        lines=(
            lines.count(
                "lawsuits.filed", "被诉立案（件）",
                lambda y: y.figures.lawsuits.filed, kind, "received",
            ),
            lines.count(
                "lawsuits.judged", "审结（件）",
                lambda y: y.figures.lawsuits.judged, kind, "judged",
            ),
            lines.count(
                "lawsuits.losses", "败诉（件）",
                lambda y: y.figures.lawsuits.losses, kind, "losses",
            ),
            lines.rate(
                "lawsuits.loss_rate", "败诉率",
                lambda y: y.figures.lawsuits.loss_rate, "败诉 ÷ 审结",
            ),
            lines.count(
                "lawsuits.hearings", "开庭（次）",
                lambda y: y.figures.lawsuits.hearings, kind, "hearings",
            ),
            lines.count(
                "lawsuits.hearings_head_appeared", "负责人出庭应诉（次）",
                lambda y: y.figures.lawsuits.hearings_head_appeared, kind, "head_appeared",
            ),
            lines.rate(
                "lawsuits.agency_head_appearance_rate", "负责人出庭应诉率",
                lambda y: y.figures.lawsuits.agency_head_appearance_rate,
                "负责人出庭的庭次 ÷ 开庭庭次",
            ),
        ),
        notes=("败诉：判决撤销、确认违法、责令履行、变更或赔偿；以最新审级的裁判为准。",),
    )  # fmt: skip


def rectification_section(figures: AnnualFigures, with_cases: bool) -> Section:
    lines = FigureLines(figures, with_cases)
    kind = CaseKind.rectification
    return Section(
        title="败诉、纠错案件复盘与整改",
        lines=(
            lines.count(
                "reviews.opened", "启动复盘（件）",
                lambda y: y.reviews.opened, kind, "reviews_opened",
            ),
            lines.count(
                "reviews.completed", "完成复盘（件）",
                lambda y: y.reviews.completed, kind, "reviews_completed",
            ),
            lines.count(
                "rectifications.opened", "整改立项（件）",
                lambda y: y.figures.rectifications.opened, kind, "opened",
            ),
            lines.count(
                "rectifications.completed", "整改完成（件）",
                lambda y: y.figures.rectifications.completed, kind, "closed",
            ),
            lines.count(
                "rectifications.completed_on_time", "按期完成（件）",
                lambda y: y.figures.rectifications.completed_on_time, kind, "on_time",
            ),
            lines.count(
                "rectifications.overdue", "超期（件）",
                lambda y: y.figures.rectifications.overdue, kind, "overdue",
            ),
            lines.rate(
                "rectifications.on_time_rate", "整改按期完成率",
                lambda y: y.figures.rectifications.on_time_rate,
                "按期完成 ÷（按期完成 + 超期）",
            ),
            lines.count(
                "rectifications.verified", "核验通过（件）",
                lambda y: y.reviews.verified, kind, "verified",
            ),
            lines.count(
                "rectifications.cancelled", "撤销（件）",
                lambda y: y.figures.rectifications.cancelled, kind, "cancelled",
            ),
        ),
        notes=("整改按立项日期计入年度；撤销：原败诉、纠错结果被改判或撤销。",),
    )  # fmt: skip


ANNUAL_SECTIONS: tuple[SectionBuilder, ...] = (
    complaints_section,
    enterprise_section,
    reconsideration_section,
    litigation_section,
    rectification_section,
    enforcement_section,
)
"""The report's sections in order; a new section is one builder added here."""


def annual_report(
    queries: AnnualFigureQueries,
    year: int,
    department: str | None,
    now: datetime,
    *,
    with_cases: bool = False,
) -> AnnualReport:
    """The report of `year` (local), of one department or (None) the whole bureau."""
    figures = queries.figures(year, department, now, with_cases=with_cases)
    return build_report(figures, ANNUAL_SECTIONS, with_cases=with_cases)
