"""Rule-of-law figures (法治指标) for a period.

Every figure counts the cases *received* in the period (received_at in [start, end)), in
one department or all: what each case adds is defined once in figure_columns.py. A period of
whole local days is read from the per-day counters the projector keeps (figure_counts.py);
any other period, or counters not built in this time zone, is a recount of the cases. Rates are
ratios in [0, 1], None when their denominator is zero. The same SQL runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

import sqlalchemy as sa

from casestream.domain.catalog import CaseKind
from casestream.domain.rules import RuleBook

from .enforcement_stats import ENFORCEMENT_KINDS, EnforcementFigures, enforcement_figures
from .figure_columns import kind_figures, summed
from .figure_counts import FigureReader, Period, Totals
from .schema import FIGURES, cases


@dataclass(frozen=True)
class StatsScope:
    """Cases received in [start, end) (aware instants), of one department or all; `now` judges
    clocks still running."""

    start: datetime
    end: datetime
    department: str | None
    now: datetime
    days: tuple[date, date] | None = None  # the local days [start, end) spans, when whole days

    @classmethod
    def of_days(
        cls, first: date, last: date, zone: tzinfo, department: str | None, now: datetime
    ) -> StatsScope:
        """The cases received from local day `first` to `last`, both included."""
        return cls(
            start=datetime.combine(first, time(), zone),
            end=datetime.combine(last + timedelta(days=1), time(), zone),
            department=department,
            now=now,
            days=(first, last),
        )


@dataclass(frozen=True)
class HandlingFigures:
    """Cases received, closed, closed in time, overdue, and the on-time rate."""

    received: int
    closed: int
    closed_on_time: int
    overdue: int
    on_time_rate: float | None


@dataclass(frozen=True)
class SatisfactionFigures:
    visited: int
    average_score: float | None
    satisfied: int
    satisfied_rate: float | None


@dataclass(frozen=True)
class SupervisionFigures:
    """督察 after a poor 回访: complaints flagged at least once, and those under supervision now
    (flagged, neither closed by a supervisor nor reopened)."""

    flagged: int
    open: int


@dataclass(frozen=True)
class ReconsiderationFigures:
    received: int
    decided: int
    corrections: int
    correction_rate: float | None


@dataclass(frozen=True)
class LitigationFigures:
    """Lawsuits filed, judged and lost; hearings held and those the agency head appeared at.

    负责人出庭应诉率 counts hearings, not lawsuits: `hearings_head_appeared / hearings`. `heard`
    and `agency_head_appeared` count lawsuits (with a hearing; with the head at one of them)."""

    filed: int
    judged: int
    losses: int
    loss_rate: float | None
    heard: int
    agency_head_appeared: int
    hearings: int
    hearings_head_appeared: int
    agency_head_appearance_rate: float | None


@dataclass(frozen=True)
class RectificationFigures:
    opened: int
    completed: int
    completed_on_time: int
    overdue: int
    cancelled: int
    on_time_rate: float | None


@dataclass(frozen=True)
class RuleOfLawFigures:
    complaints: HandlingFigures
    enterprise_complaints: HandlingFigures
    enterprise_tips: HandlingFigures
    satisfaction: SatisfactionFigures
    supervision: SupervisionFigures
    reconsiderations: ReconsiderationFigures
    lawsuits: LitigationFigures
    rectifications: RectificationFigures
    enforcement: EnforcementFigures = field(default_factory=EnforcementFigures)  # 执法监督


def departments_in(conn: sa.Connection, scope: StatsScope) -> list[str]:
    """The departments (承办部门) of the cases received in the scope, by name."""
    conditions = [cases.c.received_at >= scope.start, cases.c.received_at < scope.end]
    if scope.department:
        conditions.append(cases.c.department == scope.department)
    query = (
        sa.select(cases.c.department)
        .where(*conditions, cases.c.department.is_not(None))
        .distinct()
        .order_by(cases.c.department)
    )
    return [row.department for row in conn.execute(query)]


FIGURED_KINDS = (
    CaseKind.complaint,
    CaseKind.enterprise_tip,
    CaseKind.reconsideration,
    CaseKind.litigation,
    CaseKind.rectification,
    *ENFORCEMENT_KINDS,
)


def _rate(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def _handling(totals: Totals, prefix: str = "") -> HandlingFigures:
    """Closed on time: closed, a main clock met and none overdue. On-time rate: closed on time /
    (closed on time + overdue), the cases whose deadline is settled."""
    on_time, overdue = totals[f"{prefix}on_time"], totals[f"{prefix}overdue"]
    return HandlingFigures(
        received=totals[f"{prefix}received"],
        closed=totals[f"{prefix}closed"],
        closed_on_time=on_time,
        overdue=overdue,
        on_time_rate=_rate(on_time, on_time + overdue),
    )


def rule_of_law_figures(totals: dict[CaseKind, Totals]) -> RuleOfLawFigures:
    """The figures of the summed per-case figures of each kind (a kind absent counts none)."""

    def of(kind: CaseKind) -> Totals:
        return totals.get(kind) or dict.fromkeys(FIGURES, 0)

    complaints, lawsuits, rectifications = (
        of(CaseKind.complaint),
        of(CaseKind.litigation),
        of(CaseKind.rectification),
    )
    reconsiderations = of(CaseKind.reconsideration)
    visited = complaints["visited"]
    hearings, head_appeared = lawsuits["hearings"], lawsuits["head_appeared"]
    rect_on_time, rect_overdue = rectifications["on_time"], rectifications["overdue"]
    return RuleOfLawFigures(
        complaints=_handling(complaints),
        enterprise_complaints=_handling(complaints, "ent_"),
        enterprise_tips=_handling(of(CaseKind.enterprise_tip)),
        satisfaction=SatisfactionFigures(
            visited=visited,
            average_score=_rate(complaints["score_sum"], visited),
            satisfied=complaints["satisfied"],
            satisfied_rate=_rate(complaints["satisfied"], visited),
        ),
        supervision=SupervisionFigures(
            flagged=complaints["flagged"], open=complaints["supervised"]
        ),
        reconsiderations=ReconsiderationFigures(
            received=reconsiderations["received"],
            decided=reconsiderations["decided"],
            corrections=reconsiderations["corrections"],
            correction_rate=_rate(reconsiderations["corrections"], reconsiderations["decided"]),
        ),
        lawsuits=LitigationFigures(
            filed=lawsuits["received"],
            judged=lawsuits["judged"],
            losses=lawsuits["losses"],
            loss_rate=_rate(lawsuits["losses"], lawsuits["judged"]),
            heard=lawsuits["heard"],
            agency_head_appeared=lawsuits["appeared"],
            hearings=hearings,
            hearings_head_appeared=head_appeared,
            agency_head_appearance_rate=_rate(head_appeared, hearings),
        ),
        rectifications=RectificationFigures(
            opened=rectifications["opened"],
            completed=rectifications["closed"],
            completed_on_time=rect_on_time,
            overdue=rect_overdue,
            cancelled=rectifications["cancelled"],
            on_time_rate=_rate(rect_on_time, rect_on_time + rect_overdue),
        ),
        enforcement=enforcement_figures({kind: of(kind) for kind in ENFORCEMENT_KINDS}),
    )


class StatsQueries:
    """The figures of a period; from the counters when `timezone` (the deployment's) is given
    and they were built in it, else by a recount of the cases."""

    def __init__(self, engine: sa.Engine, rulebook: RuleBook, timezone: str | None = None) -> None:
        self._engine = engine
        self._rulebook = rulebook
        self._reader = None if timezone is None else FigureReader(rulebook, timezone)

    def figures(self, scope: StatsScope) -> RuleOfLawFigures:
        with self._engine.connect() as conn:
            period = self._counted_period(conn, scope)
            if period is None:
                return rule_of_law_figures(self._recount(conn, scope))
            assert self._reader is not None
            return rule_of_law_figures(self._reader.totals(conn, period))

    def by_department(self, scope: StatsScope) -> dict[str, RuleOfLawFigures]:
        """The figures of each department with cases received in the scope (its department's
        alone when it names one), by name; read at once from the counters when they can."""
        with self._engine.connect() as conn:
            period = self._counted_period(conn, scope)
            if period is not None:
                assert self._reader is not None
                found = self._reader.departments(conn, period)
                return {
                    name: rule_of_law_figures(found[name])
                    for name in sorted(found)
                    if name and any(totals["received"] for totals in found[name].values())
                }
            return {
                name: rule_of_law_figures(
                    self._recount(
                        conn, StatsScope(scope.start, scope.end, name, scope.now, scope.days)
                    )
                )
                for name in departments_in(conn, scope)
            }

    def recount(self, scope: StatsScope) -> RuleOfLawFigures:
        """The figures counted from the cases themselves (what the counters must equal)."""
        with self._engine.connect() as conn:
            return rule_of_law_figures(self._recount(conn, scope))

    def _counted_period(self, conn: sa.Connection, scope: StatsScope) -> Period | None:
        if self._reader is None or scope.days is None or not self._reader.ready(conn):
            return None
        first, last = scope.days
        return Period(first, last, scope.department, scope.now)

    def _recount(self, conn: sa.Connection, scope: StatsScope) -> dict[CaseKind, Totals]:
        totals: dict[CaseKind, Totals] = {}
        for kind in FIGURED_KINDS:
            conditions = [
                cases.c.case_kind == kind.value,
                cases.c.received_at >= scope.start,
                cases.c.received_at < scope.end,
            ]
            if scope.department:
                conditions.append(cases.c.department == scope.department)
            figures = kind_figures(kind, self._rulebook, scope.now)
            row = conn.execute(sa.select(*summed(figures)).where(*conditions)).one()
            totals[kind] = {name: int(value) for name, value in row._mapping.items()}
        return totals
