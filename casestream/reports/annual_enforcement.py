"""The yearly report's section on 执法监督, 不予处罚/轻微免罚 decisions and their 公示.

Its figures are those read_models/annual_figures.py lists in ENFORCEMENT_FIGURES (the place
they plug in); while none is listed, or none has a case in either year, the section says so
("本年度无记录") instead of showing a table of zeros."""

from __future__ import annotations

from casestream.read_models.annual_figures import AnnualFigures, EnforcementCount, FigureKey

from .annual import FigureLine, Measure, Section

TITLE = "执法监督与不予处罚、轻微免罚决定及公示"
NO_RECORDS = "本年度无执法监督、不予处罚或轻微免罚决定及公示记录。"


def _value(counts: tuple[EnforcementCount, ...], index: int) -> int:
    return counts[index].value


def enforcement_section(figures: AnnualFigures, with_cases: bool) -> Section:
    current, previous = figures.current, figures.previous
    lines = tuple(
        FigureLine(
            key=f"enforcement.{count.figure.kind.value}.{count.figure.name}",
            label=count.figure.label,
            measure=Measure.number,
            current=count.value,
            previous=_value(previous.enforcement, index) if previous.recorded else None,
            cases=current.cases.of(_key(count)) if current.cases and with_cases else (),
        )
        for index, count in enumerate(current.enforcement)
    )
    if not any(line.current or line.previous for line in lines):
        return Section(title=TITLE, lines=(), empty_text=NO_RECORDS)
    return Section(title=TITLE, lines=lines)


def _key(count: EnforcementCount) -> FigureKey:
    return FigureKey(count.figure.kind, count.figure.name)
