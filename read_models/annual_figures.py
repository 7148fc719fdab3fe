"""The figures of the yearly 法治政府建设 report (年度报告): a calendar year's rule-of-law figures
beside the year before's, and the cases each figure counts.

A year is its local days 1 January – 31 December (the deployment's time zone), read exactly as
GET /stats reads that period (`StatsQueries`, the same scope), so the report and /stats agree.
Beside them, the 复盘 reviews and the verified rectifications /stats does not show. The cases
behind a figure are selected by the same per-case SQL the figures are sums of
(figure_columns.py): a list always adds up to its figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from casestream.domain.catalog import CaseKind
from casestream.domain.rectifications import RectificationStatus, ReviewStatus
from casestream.domain.rules import RuleBook

from .figure_columns import KindFigures, kind_figures, per_case, summed
from .schema import cases
from .stats import FIGURED_KINDS, RuleOfLawFigures, StatsQueries, StatsScope

_review = cases.c.state["review_status"].as_string()
REVIEW_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    # 复盘 of a lost or corrected case, opened with its rectification
    "reviews_opened": sa.case((_review.is_not(None), 1), else_=0),
    "reviews_completed": sa.case((_review == ReviewStatus.completed.value, 1), else_=0),
    # 核验通过: a supervisor accepted the completed rectification
    "verified": sa.case((cases.c.status == RectificationStatus.verified.value, 1), else_=0),
}
"""Per-rectification figures of the report that /stats does not count."""


@dataclass(frozen=True)
class EnforcementFigure:
    """A figure of the 执法监督 / 不予处罚、轻微免罚 / 公示 section: the per-case figure `name` of
    `kind` (figure_columns.kind_figures), summed over the cases received in the year."""

    kind: CaseKind
    name: str
    label: str


_REVIEW, _NOTICE, _DECISION = (
    CaseKind.enforcement_review,
    CaseKind.enforcement_notice,
    CaseKind.enforcement_decision,
)
ENFORCEMENT_FIGURES: tuple[EnforcementFigure, ...] = (
    EnforcementFigure(_REVIEW, "received", "执法质量考评案件（件）"),
    EnforcementFigure(_REVIEW, "closed", "完成考评（件）"),
    EnforcementFigure(_REVIEW, "opinions", "评查意见（条）"),
    EnforcementFigure(_REVIEW, "opinions_facts", "其中：事实认定（条）"),
    EnforcementFigure(_REVIEW, "opinions_evidence", "其中：证据（条）"),
    EnforcementFigure(_REVIEW, "opinions_procedure", "其中：程序（条）"),
    EnforcementFigure(_REVIEW, "opinions_law", "其中：法律适用（条）"),
    EnforcementFigure(_REVIEW, "opinions_documents", "其中：文书制作（条）"),
    EnforcementFigure(_REVIEW, "opinions_discretion", "其中：裁量（条）"),
    EnforcementFigure(_REVIEW, "opinions_property", "其中：涉案财物管理（条）"),
    EnforcementFigure(_REVIEW, "opinions_other", "其中：其他（条）"),
    EnforcementFigure(_NOTICE, "received", "制发执法监督书（份）"),
    EnforcementFigure(_NOTICE, "closed", "执法监督书整改完成（份）"),
    EnforcementFigure(_DECISION, "received", "不予处罚、轻微免罚决定（件）"),
    EnforcementFigure(_DECISION, "exemption_minor", "其中：轻微违法不予处罚（件）"),
    EnforcementFigure(_DECISION, "exemption_first_offence", "其中：首违不罚（件）"),
    EnforcementFigure(_DECISION, "exemption_no_fault", "其中：无主观过错不予处罚（件）"),
    EnforcementFigure(_DECISION, "exemption_other", "其中：其他不予处罚（件）"),
    EnforcementFigure(_DECISION, "closed", "已公示（件）"),
    EnforcementFigure(_DECISION, "on_time", "按期公示（件）"),
    EnforcementFigure(_DECISION, "overdue", "逾期公示或超期未公示（件）"),
)
"""Where the enforcement figures plug in: once the case kinds of 执法监督 and of 不予处罚 /
轻微免罚 decisions (and their 公示) are in the catalog and figure_columns.py, list their figures
here, e.g. `EnforcementFigure(CaseKind.<kind>, "received", "执法监督案件（件）")`; the report's
section (casestream/reports/annual_enforcement.py) shows whatever is listed, and "本年度无记录"
while nothing is."""


@dataclass(frozen=True)
class CaseRef:
    """A case a figure counts: its id, the local day it was registered (受理), its department,
    and what it adds to the figure (1, or e.g. its hearings)."""

    case_id: str
    received_on: date
    department: str | None
    adds: int


@dataclass(frozen=True)
class FigureKey:
    """A per-case figure: `name` of the cases of `kind` (figure_columns.py or REVIEW_COLUMNS)."""

    kind: CaseKind
    name: str


@dataclass(frozen=True)
class CountedCases:
    """The cases behind each figure of a year, in the order they were received."""

    by_figure: Mapping[FigureKey, tuple[CaseRef, ...]]

    def of(self, key: FigureKey) -> tuple[CaseRef, ...]:
        return self.by_figure.get(key, ())


@dataclass(frozen=True)
class ReviewFigures:
    """复盘 reviews opened and completed, and rectifications verified (核验通过)."""

    opened: int
    completed: int
    verified: int


@dataclass(frozen=True)
class EnforcementCount:
    figure: EnforcementFigure
    value: int


@dataclass(frozen=True)
class YearFigures:
    """One year's figures; `recorded` is false when no case at all was received in it."""

    year: int
    recorded: bool
    figures: RuleOfLawFigures
    reviews: ReviewFigures
    enforcement: tuple[EnforcementCount, ...]
    cases: CountedCases | None  # None unless the cases were asked for


@dataclass(frozen=True)
class AnnualFigures:
    year: int
    department: str | None  # None: the whole bureau
    timezone: str
    as_of: datetime  # the instant open deadlines were judged at
    current: YearFigures
    previous: YearFigures


class AnnualFigureQueries:
    """The report's figures of a year and the year before, in one department or all."""

    def __init__(self, engine: sa.Engine, rulebook: RuleBook, timezone: str) -> None:
        self._engine = engine
        self._rulebook = rulebook
        self._timezone = timezone
        self._zone = ZoneInfo(timezone)
        self._stats = StatsQueries(engine, rulebook, timezone)

    def figures(
        self, year: int, department: str | None, now: datetime, *, with_cases: bool = False
    ) -> AnnualFigures:
        return AnnualFigures(
            year=year,
            department=department,
            timezone=self._timezone,
            as_of=now,
            current=self.year(year, department, now, with_cases=with_cases),
            previous=self.year(year - 1, department, now, with_cases=False),
        )

    def scope(self, year: int, department: str | None, now: datetime) -> StatsScope:
        """The cases received in local `year`: GET /stats?from=YYYY-01-01&to=YYYY-12-31."""
        return StatsScope.of_days(date(year, 1, 1), date(year, 12, 31), self._zone, department, now)

    def year(
        self, year: int, department: str | None, now: datetime, *, with_cases: bool
    ) -> YearFigures:
        scope = self.scope(year, department, now)
        figures = self._stats.figures(scope)
        with self._engine.connect() as conn:
            reviews = _sums(conn, KindFigures(CaseKind.rectification, REVIEW_COLUMNS), scope)
            enforcement = tuple(
                EnforcementCount(
                    figure,
                    _sums(conn, kind_figures(figure.kind, self._rulebook, now), scope).get(
                        figure.name, 0
                    ),
                )
                for figure in ENFORCEMENT_FIGURES
            )
            recorded = _any_received(conn, scope)
            counted = self._counted(conn, scope) if with_cases else None
        return YearFigures(
            year=year,
            recorded=recorded,
            figures=figures,
            reviews=ReviewFigures(
                opened=reviews["reviews_opened"],
                completed=reviews["reviews_completed"],
                verified=reviews["verified"],
            ),
            enforcement=enforcement,
            cases=counted,
        )

    def _counted(self, conn: sa.Connection, scope: StatsScope) -> CountedCases:
        """Each case received in the scope under every figure it adds to."""
        found: dict[FigureKey, list[CaseRef]] = {}
        kinds = {kind: kind_figures(kind, self._rulebook, scope.now) for kind in FIGURED_KINDS}
        for figure in ENFORCEMENT_FIGURES:
            kinds.setdefault(figure.kind, kind_figures(figure.kind, self._rulebook, scope.now))
        rectification = kinds[CaseKind.rectification]
        kinds[CaseKind.rectification] = KindFigures(
            CaseKind.rectification, {**rectification.columns, **REVIEW_COLUMNS}
        )
        for kind, figures in kinds.items():
            names = tuple(figures.columns)
            query = (
                sa.select(
                    cases.c.case_id,
                    cases.c.received_at,
                    cases.c.department,
                    *per_case(figures, names),
                )
                .where(cases.c.case_kind == kind.value, *_in_scope(scope))
                .order_by(cases.c.received_at, cases.c.case_id)
            )
            for row in conn.execute(query):
                values = row._mapping
                received_on = values["received_at"].astimezone(self._zone).date()
                for name in names:
                    adds = int(values[name])
                    if adds:
                        ref = CaseRef(row.case_id, received_on, row.department, adds)
                        found.setdefault(FigureKey(kind, name), []).append(ref)
        return CountedCases({key: tuple(refs) for key, refs in found.items()})


def _in_scope(scope: StatsScope) -> list[sa.ColumnElement[bool]]:
    conditions = [cases.c.received_at >= scope.start, cases.c.received_at < scope.end]
    if scope.department:
        conditions.append(cases.c.department == scope.department)
    return conditions


def _sums(conn: sa.Connection, figures: KindFigures, scope: StatsScope) -> dict[str, int]:
    names = tuple(figures.columns)
    query = sa.select(*summed(figures, names)).where(
        cases.c.case_kind == figures.kind.value, *_in_scope(scope)
    )
    row = conn.execute(query).one()
    return {name: int(value) for name, value in row._mapping.items()}


def _any_received(conn: sa.Connection, scope: StatsScope) -> bool:
    query = sa.select(cases.c.case_id).where(*_in_scope(scope)).limit(1)
    return conn.execute(query).first() is not None
