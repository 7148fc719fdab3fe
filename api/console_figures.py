"""What the console's 统计 page reads from its query and shows of GET /stats's figures: the
period asked for (from, to, department, checked as GET /stats checks them, with the field at
fault named in Chinese), the six rule-of-law rates with their numerators and denominators, and
the 执法监督 figures (GET /stats's `enforcement`).

Pure: the page (console_stats.py) runs the queries and renders."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from casestream.read_models.enforcement_stats import EnforcementFigures
from casestream.read_models.stats import RuleOfLawFigures

from .console_labels import EXEMPTIONS, OPINION_CATEGORIES, label
from .params import EARLIEST, LATEST

DEPARTMENT_MAX = 200  # cases.department's length
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
NO_RATE = "—"  # a rate without a denominator: nothing to divide, not 0 %
FIELDS = {"from": "开始日期", "to": "结束日期", "department": "承办部门"}


@dataclass(frozen=True)
class Period:
    """Cases received from `first` to `last` (local days, both included), of `department` or
    (None) of every department the reader may see."""

    first: date
    last: date
    department: str | None


@dataclass(frozen=True)
class FieldError:
    field: str  # the query parameter: from, to or department
    message: str


def _day(name: str, text: str) -> date | FieldError:
    label = f"{FIELDS[name]}（{name}）"
    try:
        day = date.fromisoformat(text) if ISO_DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        return FieldError(name, f"{label}不是有效日期，请按 YYYY-MM-DD 填写，例如 2026-03-01。")
    if not EARLIEST <= day <= LATEST:
        return FieldError(name, f"{label}须在 {EARLIEST} 至 {LATEST} 之间。")
    return day


def read_period(query: Mapping[str, str], today: date) -> Period | list[FieldError]:
    """The period of the page's query: `from` defaults to 1 January of this year, `to` to
    today, an empty `department` to none; the fields at fault otherwise."""
    first = (
        _day("from", text)
        if (text := query.get("from", "").strip())
        else today.replace(month=1, day=1)
    )
    last = _day("to", text) if (text := query.get("to", "").strip()) else today
    department = query.get("department", "").strip() or None
    errors = [day for day in (first, last) if isinstance(day, FieldError)]
    if department is not None and len(department) > DEPARTMENT_MAX:
        errors.append(
            FieldError("department", f"承办部门（department）不能超过 {DEPARTMENT_MAX} 个字符。")
        )
    if errors or isinstance(first, FieldError) or isinstance(last, FieldError):
        return errors
    if first > last:
        return [FieldError("to", f"结束日期（to）{last} 早于开始日期（from）{first}，请对调。")]
    return Period(first, last, department)


@dataclass(frozen=True)
class Rate:
    """A rate (法治指标) as numerator / denominator; `value` is GET /stats's figure (None
    when the denominator is 0)."""

    key: str
    label: str
    numerator: int
    denominator: int
    value: float | None
    numerator_means: str
    denominator_means: str

    @property
    def percent(self) -> str:
        return NO_RATE if self.value is None else f"{self.value * 100:.1f}%"


def rates_of(figures: RuleOfLawFigures) -> tuple[Rate, ...]:
    """The six rates of the figures, in the order the page shows them."""
    complaints, rects = figures.complaints, figures.rectifications
    reconsiderations, lawsuits = figures.reconsiderations, figures.lawsuits
    satisfaction = figures.satisfaction
    return (
        Rate(
            "on_time",
            "按期办结率",
            complaints.closed_on_time,
            complaints.closed_on_time + complaints.overdue,
            complaints.on_time_rate,
            "按期办结的投诉",
            "按期办结与超期的投诉",
        ),
        Rate(
            "correction",
            "纠错率",
            reconsiderations.corrections,
            reconsiderations.decided,
            reconsiderations.correction_rate,
            "被纠错的行政复议",
            "已作出复议决定的",
        ),
        Rate(
            "loss",
            "败诉率",
            lawsuits.losses,
            lawsuits.judged,
            lawsuits.loss_rate,
            "败诉的行政诉讼",
            "已判决或裁定的",
        ),
        Rate(
            "appearance",
            "出庭应诉率",
            lawsuits.hearings_head_appeared,
            lawsuits.hearings,
            lawsuits.agency_head_appearance_rate,
            "负责人出庭的庭审",
            "已开庭的庭审",
        ),
        Rate(
            "rectification",
            "整改按期率",
            rects.completed_on_time,
            rects.completed_on_time + rects.overdue,
            rects.on_time_rate,
            "按期完成的整改",
            "按期完成与超期的整改",
        ),
        Rate(
            "satisfaction",
            "回访满意率",
            satisfaction.satisfied,
            satisfaction.visited,
            satisfaction.satisfied_rate,
            "回访满意（4–5 分）的投诉",
            "已回访评分的投诉",
        ),
    )


@dataclass(frozen=True)
class Line:
    """One figure of the 执法监督 block: its key (the row's id), its label and its value."""

    key: str
    label: str
    value: str


@dataclass(frozen=True)
class EnforcementBlock:
    """执法监督 of GET /stats's `enforcement`: the counts, the 评查意见 by category, the
    不予处罚 decisions by ground and their 公示 (on time, late, overdue, on-time rate)."""

    counts: tuple[Line, ...]
    opinions: tuple[Line, ...]
    grounds: tuple[Line, ...]
    publication: tuple[Line, ...]


def _percent(value: float | None) -> str:
    return NO_RATE if value is None else f"{value * 100:.1f}%"


def enforcement_block(figures: EnforcementFigures) -> EnforcementBlock:
    reviews, notices, decisions = figures.reviews, figures.notices, figures.decisions
    score = reviews.average_score
    return EnforcementBlock(
        counts=(
            Line("reviewed", "考评案件数", str(reviews.reviewed)),
            Line("scored", "已评分", str(reviews.scored)),
            Line("average_score", "平均得分", NO_RATE if score is None else f"{score:.1f}"),
            Line("opinions", "评查意见", str(reviews.opinions)),
            Line("notices_issued", "执法监督书（制发）", str(notices.issued)),
            Line("notices_rectified", "执法监督书（整改已核验）", str(notices.rectified)),
            Line("notices_rectified_rate", "监督书整改率", _percent(notices.rectified_rate)),
            Line("decisions_recorded", "不予处罚决定", str(decisions.recorded)),
            Line("decisions_published", "已公示", str(decisions.published)),
        ),
        opinions=tuple(
            Line(category.value, label(OPINION_CATEGORIES, category), str(count))
            for category, count in reviews.opinions_by_category
        ),
        grounds=tuple(
            Line(ground.value, label(EXEMPTIONS, ground), str(count))
            for ground, count in decisions.by_exemption
        ),
        publication=(
            Line("on_time", "按时公示", str(decisions.published_on_time)),
            Line("late", "逾期公示", str(decisions.published_late)),
            Line("overdue", "超期未公示", str(decisions.awaiting_overdue)),
            Line("on_time_rate", "按时公示率", _percent(decisions.on_time_rate)),
        ),
    )
