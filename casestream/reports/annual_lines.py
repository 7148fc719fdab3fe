"""The lines of a section of the yearly report, as every section builder makes them: this year's
value beside last year's (none when last year has no records), and with the cases asked for,
the cases behind a count (the read model's, by the per-case figure it sums)."""

from __future__ import annotations

from collections.abc import Callable

from casestream.domain.catalog import CaseKind
from casestream.read_models.annual_figures import AnnualFigures, FigureKey, YearFigures
from casestream.read_models.stats import HandlingFigures

from .annual import FigureLine, Measure, Value

Pick = Callable[[YearFigures], Value]


class FigureLines:
    """Makes the lines of one section from the year's figures and the year before's."""

    def __init__(self, figures: AnnualFigures, with_cases: bool) -> None:
        self._figures = figures
        self._with_cases = with_cases

    def line(
        self,
        key: str,
        label: str,
        measure: Measure,
        pick: Pick,
        counts: FigureKey | None = None,
        basis: str = "",
    ) -> FigureLine:
        current, previous = self._figures.current, self._figures.previous
        counted = current.cases
        return FigureLine(
            key=key,
            label=label,
            measure=measure,
            current=pick(current),
            previous=pick(previous) if previous.recorded else None,
            basis=basis,
            cases=counted.of(counts) if counted and counts and self._with_cases else (),
        )

    def count(self, key: str, label: str, pick: Pick, kind: CaseKind, name: str) -> FigureLine:
        return self.line(key, label, Measure.number, pick, FigureKey(kind, name))

    def rate(self, key: str, label: str, pick: Pick, basis: str) -> FigureLine:
        return self.line(key, label, Measure.rate, pick, basis=basis)

    def handling(
        self,
        key: str,
        words: tuple[str, str],
        pick: Callable[[YearFigures], HandlingFigures],
        kind: CaseKind,
        prefix: str = "",
    ) -> list[FigureLine]:
        """received / closed / closed on time / overdue and the on-time rate; `words` name the
        case and its closing (投诉, 办结)."""
        case, closing = words
        return [
            self.count(
                f"{key}.received", f"受理{case}（件）", lambda y: pick(y).received, kind,
                f"{prefix}received",
            ),
            self.count(
                f"{key}.closed", f"{closing}（件）", lambda y: pick(y).closed, kind,
                f"{prefix}closed",
            ),
            self.count(
                f"{key}.closed_on_time", f"按时{closing}（件）",
                lambda y: pick(y).closed_on_time, kind, f"{prefix}on_time",
            ),
            self.count(
                f"{key}.overdue", "超期（件）", lambda y: pick(y).overdue, kind,
                f"{prefix}overdue",
            ),
            self.rate(
                f"{key}.on_time_rate", f"按时{closing}率", lambda y: pick(y).on_time_rate,
                f"按时{closing} ÷（按时{closing} + 超期）",
            ),
        ]  # fmt: skip
