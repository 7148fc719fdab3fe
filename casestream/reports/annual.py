"""The yearly 法治政府建设 report (年度报告), figures section: a list of sections, each a table of
figures of the year beside the year before's and the change, built by one section builder each
(annual_sections.py, annual_enforcement.py) from the read model's `AnnualFigures`.

Pure: the renderers (annual_docx.py, annual_xlsx.py, annual_md.py) and the JSON of the ledger
endpoint take the `AnnualReport` as it is; every text a reader sees is spelled here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from zoneinfo import ZoneInfo

from casestream.read_models.annual_figures import AnnualFigures, CaseRef

NONE = "—"  # no value: a rate without a denominator, a year without records
YEAR_MIN, YEAR_MAX = 1901, 2999  # a year that can be asked for (the year before is one too)
DEPARTMENT_MAX = 200  # cases.department's length
DEPARTMENT_PATTERN = r"^[^\x00-\x1f\x7f]+$"  # a name: no control characters (nor NUL)
CHINESE_NUMBERS = "一二三四五六七八九十"


class Measure(StrEnum):
    number = "number"  # a count: 件, 次
    rate = "rate"  # a ratio in [0, 1], shown as a percentage; changes in percentage points
    score = "score"  # a mean score (回访 1–5)


Value = int | float | None


@dataclass(frozen=True)
class FigureLine:
    """One figure of a section: this year's value, last year's, and how it is formed.

    `previous` is None when last year has no value (no records, or a rate without a
    denominator); `cases` are this year's cases the figure counts (with --with-cases)."""

    key: str  # stable name, e.g. "lawsuits.losses"
    label: str
    measure: Measure
    current: Value
    previous: Value
    basis: str = ""  # 口径: how the figure is counted, e.g. "败诉 ÷ 审结"
    cases: tuple[CaseRef, ...] = ()

    @property
    def current_text(self) -> str:
        return value_text(self.measure, self.current)

    @property
    def previous_text(self) -> str:
        return value_text(self.measure, self.previous)

    @property
    def change(self) -> float | None:
        """The change from last year (for a rate, in percentage points); None without both.

        Taken between the values as shown (a rate to 0.1 point, a score to 0.01), so the
        table adds up for its reader."""
        if self.current is None or self.previous is None:
            return None
        if self.measure is Measure.rate:
            return round(round(self.current * 100, 1) - round(self.previous * 100, 1), 1)
        if self.measure is Measure.score:
            return round(round(self.current, 2) - round(self.previous, 2), 2)
        return self.current - self.previous

    @property
    def change_text(self) -> str:
        return change_text(self.measure, self.change)


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[FigureLine, ...]
    empty_text: str = ""  # shown instead of the table when the section has no figures
    notes: tuple[str, ...] = ()
    number: int = 0  # its place in the report, from 1 (set by `build_report`)

    @property
    def heading(self) -> str:
        return f"{CHINESE_NUMBERS[self.number - 1]}、{self.title}"

    @property
    def empty(self) -> bool:
        return not self.lines


@dataclass(frozen=True)
class AnnualReport:
    year: int
    department: str | None
    timezone: str
    generated_at: str  # local, YYYY-MM-DD HH:MM
    sections: tuple[Section, ...]
    with_cases: bool

    @property
    def title(self) -> str:
        return f"{self.year}年度法治政府建设工作报告（数据部分）"

    @property
    def scope_text(self) -> str:
        return self.department or "全局（全部部门）"

    @property
    def period_text(self) -> str:
        return period_text(self.year)

    @property
    def previous_period_text(self) -> str:
        return period_text(self.year - 1)

    @property
    def current_header(self) -> str:
        return f"{self.year}年"

    @property
    def previous_header(self) -> str:
        return f"{self.year - 1}年"

    @property
    def explanation(self) -> str:
        return (
            f"统计范围：{self.scope_text}；{self.period_text}受理（收案）的案件，日期按本地时间"
            f"（{self.timezone}）计算，与上年（{self.previous_period_text}）同口径比较；"
            f"在办案件的期限截至 {self.generated_at} 判定。比率的增减以百分点计；"
            f"上年无数据或比率无分母时显示“{NONE}”。"
        )

    def lines(self) -> list[tuple[Section, FigureLine]]:
        return [(section, line) for section in self.sections for line in section.lines]


TABLE_HEADERS = ("指标", "本年", "上年", "增减", "口径")
CASE_HEADERS = ("案件编号", "受理日期", "承办部门", "计数")


def department_name(text: str) -> bool:
    """`text` may name a department: 1 to DEPARTMENT_MAX characters, no control character."""
    return len(text) <= DEPARTMENT_MAX and re.fullmatch(DEPARTMENT_PATTERN, text) is not None


def period_text(year: int) -> str:
    return f"{year}年1月1日至{year}年12月31日"


def value_text(measure: Measure, value: Value) -> str:
    if value is None:
        return NONE
    if measure is Measure.rate:
        return f"{value * 100:.1f}%"
    if measure is Measure.score:
        return f"{value:.2f}"
    return str(int(value))


def change_text(measure: Measure, change: float | None) -> str:
    if change is None:
        return NONE
    if measure is Measure.rate:
        return f"{change:+.1f}个百分点" if change else "持平"
    if measure is Measure.score:
        return f"{change:+.2f}" if round(change, 2) else "持平"
    return f"{int(change):+d}" if change else "持平"


def day_text(day: date) -> str:
    return day.isoformat()


SectionBuilder = Callable[[AnnualFigures, bool], Section]
"""Builds one section from the figures (with the cases behind them when the flag is set)."""


def build_report(
    figures: AnnualFigures, builders: Sequence[SectionBuilder], *, with_cases: bool = False
) -> AnnualReport:
    zone = ZoneInfo(figures.timezone)
    return AnnualReport(
        year=figures.year,
        department=figures.department,
        timezone=figures.timezone,
        generated_at=f"{figures.as_of.astimezone(zone):%Y-%m-%d %H:%M}",
        sections=tuple(
            replace(build(figures, with_cases), number=number)
            for number, build in enumerate(builders, start=1)
        ),
        with_cases=with_cases,
    )
