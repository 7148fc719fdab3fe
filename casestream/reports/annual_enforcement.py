"""The yearly report's section on 执法监督, 不予处罚/轻微免罚 decisions and their 公示.

Its figures are those read_models/annual_figures.py lists in ENFORCEMENT_FIGURES (the place
they plug in); while none is listed, or none has a case in either year, the section says so
("本年度无记录") instead of showing a table of zeros."""

from __future__ import annotations

from casestream.read_models.annual_figures import AnnualFigures, YearFigures

from .annual import Section
from .annual_lines import FigureLines, Pick

TITLE = "执法监督与不予处罚、轻微免罚决定及公示"
NO_RECORDS = "本年度无执法监督、不予处罚或轻微免罚决定及公示记录。"


def _nth(index: int) -> Pick:
    def pick(year: YearFigures) -> int:
        return year.enforcement[index].value

    return pick


def enforcement_section(figures: AnnualFigures, with_cases: bool) -> Section:
    lines = FigureLines(figures, with_cases)
    built = tuple(
        lines.count(
            f"enforcement.{count.figure.kind.value}.{count.figure.name}",
            count.figure.label,
            _nth(index),
            count.figure.kind,
            count.figure.name,
        )
        for index, count in enumerate(figures.current.enforcement)
    )
    if not any(line.current or line.previous for line in built):
        return Section(title=TITLE, lines=(), empty_text=NO_RECORDS)
    return Section(title=TITLE, lines=built)
