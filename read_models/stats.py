"""Rule-of-law figures (法治指标) for a period, computed in SQL on the read models.

Every figure counts the cases *received* in the period (received_at in [start, end)), in
one department or all. Deadlines are judged by the cases' clocks: a clock is met when it
stopped in time, and overdue when it was breached (stopped late, or marked by the scanner)
or is still running past its due instant at `now`. Rates are ratios in [0, 1], NULL (None)
when their denominator is zero. The clocks that judge a kind's cases are its main rules in
the rule book (`RuleRole.main`). The same SQL runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa

from casestream.domain.catalog import CaseKind, SupervisionFlagged
from casestream.domain.clocks import ClockStatus
from casestream.domain.complaints import ComplaintStatus
from casestream.domain.envelope import event_type_name
from casestream.domain.outcomes import CORRECTIONS, LOSSES
from casestream.domain.rectifications import RectificationStatus
from casestream.domain.rules import RuleBook
from casestream.domain.tips import TipStatus

from .overdue import clock_overdue
from .schema import case_events, cases, clocks

RESOLVED_COMPLAINT = (ComplaintStatus.resolved, ComplaintStatus.followed_up)  # 办结, visited after
VERIFIED_TIP = (TipStatus.verified, TipStatus.closed)  # 核查 done
SATISFIED = 4  # a follow-up score of 4 or 5 (of 1–5) counts as satisfied


@dataclass(frozen=True)
class StatsScope:
    """Cases received in [start, end) (aware instants), of one department or all; `now` judges
    clocks still running."""

    start: datetime
    end: datetime
    department: str | None
    now: datetime

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


def _count(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    """COUNT of the rows meeting `condition` (0, never NULL, on an empty set)."""
    return sa.func.count(sa.case((condition, 1)))


def _ratio(numerator: Any, denominator: Any) -> sa.ColumnElement[Any]:
    """numerator / denominator as a real number; NULL when the denominator is 0."""
    return sa.cast(numerator, sa.Float) / sa.func.nullif(denominator, 0)


def _has_clock(rules: tuple[str, ...], condition: sa.ColumnElement[bool]) -> sa.Exists:
    return sa.exists().where(
        clocks.c.case_id == cases.c.case_id, clocks.c.rule_id.in_(rules), condition
    )


def _handling(
    subset: sa.ColumnElement[bool],
    closed: sa.ColumnElement[bool],
    rules: tuple[str, ...],
    now: datetime,
    label: str,
) -> list[sa.Label[Any]]:
    """received / closed / closed on time / overdue / on-time rate of the rows in `subset`.

    Closed on time: closed, a clock of `rules` met and none overdue (a reopened case has one
    clock per handling). Overdue: a clock of `rules` overdue. On-time rate: closed on time /
    (closed on time + overdue), the cases whose deadline is settled.
    """
    met = _has_clock(rules, clocks.c.status == ClockStatus.met.value)
    late = _has_clock(rules, clock_overdue(clocks.c.status, clocks.c.due_at, now))
    on_time = _count(sa.and_(subset, closed, met, sa.not_(late)))
    overdue = _count(sa.and_(subset, late))
    return [
        _count(subset).label(f"{label}_received"),
        _count(sa.and_(subset, closed)).label(f"{label}_closed"),
        on_time.label(f"{label}_closed_on_time"),
        overdue.label(f"{label}_overdue"),
        _ratio(on_time, on_time + overdue).label(f"{label}_on_time_rate"),
    ]


def _handling_figures(row: sa.Row[Any], label: str) -> HandlingFigures:
    values = row._mapping
    return HandlingFigures(
        received=values[f"{label}_received"],
        closed=values[f"{label}_closed"],
        closed_on_time=values[f"{label}_closed_on_time"],
        overdue=values[f"{label}_overdue"],
        on_time_rate=_real(values[f"{label}_on_time_rate"]),
    )


def _real(value: Any) -> float | None:
    """PostgreSQL answers NUMERIC (Decimal) for some quotients and averages."""
    return None if value is None else float(value)


class StatsQueries:
    def __init__(self, engine: sa.Engine, rulebook: RuleBook) -> None:
        self._engine = engine
        self._rulebook = rulebook

    def figures(self, scope: StatsScope) -> RuleOfLawFigures:
        with self._engine.connect() as conn:
            complaints = conn.execute(self._complaints(scope)).one()
            tips = conn.execute(self._tips(scope)).one()
            reconsiderations = conn.execute(self._reconsiderations(scope)).one()
            lawsuits = conn.execute(self._lawsuits(scope)).one()
            rectifications = conn.execute(self._rectifications(scope)).one()
        return RuleOfLawFigures(
            complaints=_handling_figures(complaints, "all"),
            enterprise_complaints=_handling_figures(complaints, "enterprise"),
            enterprise_tips=_handling_figures(tips, "tips"),
            satisfaction=SatisfactionFigures(
                visited=complaints.visited,
                average_score=_real(complaints.average_score),
                satisfied=complaints.satisfied,
                satisfied_rate=_real(complaints.satisfied_rate),
            ),
            supervision=SupervisionFigures(
                flagged=complaints.supervision_flagged, open=complaints.under_supervision
            ),
            reconsiderations=ReconsiderationFigures(
                received=reconsiderations.received,
                decided=reconsiderations.decided,
                corrections=reconsiderations.corrections,
                correction_rate=_real(reconsiderations.correction_rate),
            ),
            lawsuits=LitigationFigures(
                filed=lawsuits.filed,
                judged=lawsuits.judged,
                losses=lawsuits.losses,
                loss_rate=_real(lawsuits.loss_rate),
                heard=lawsuits.heard,
                agency_head_appeared=lawsuits.appeared,
                hearings=lawsuits.hearings,
                hearings_head_appeared=lawsuits.hearings_head_appeared,
                agency_head_appearance_rate=_real(lawsuits.appearance_rate),
            ),
            rectifications=RectificationFigures(
                opened=rectifications.opened,
                completed=rectifications.completed,
                completed_on_time=rectifications.completed_on_time,
                overdue=rectifications.overdue,
                cancelled=rectifications.cancelled,
                on_time_rate=_real(rectifications.on_time_rate),
            ),
        )

    @staticmethod
    def _of_kind(kind: CaseKind, scope: StatsScope, *columns: Any) -> sa.Select[Any]:
        conditions = [
            cases.c.case_kind == kind.value,
            cases.c.received_at >= scope.start,
            cases.c.received_at < scope.end,
        ]
        if scope.department:
            conditions.append(cases.c.department == scope.department)
        return sa.select(*columns).select_from(cases).where(*conditions)

    def _complaints(self, scope: StatsScope) -> sa.Select[Any]:
        resolved = cases.c.status.in_([status.value for status in RESOLVED_COMPLAINT])
        score = cases.c.satisfaction
        visited = _count(score.is_not(None))
        satisfied = _count(score >= SATISFIED)
        rules, now = self._rulebook.main_rules(CaseKind.complaint), scope.now
        flagged = sa.exists().where(
            case_events.c.case_id == cases.c.case_id,
            case_events.c.event_type == event_type_name(SupervisionFlagged),
        )
        under_supervision = cases.c.state["supervision"].as_boolean().is_(True)
        return self._of_kind(
            CaseKind.complaint,
            scope,
            *_handling(sa.true(), resolved, rules, now, "all"),
            *_handling(cases.c.enterprise.is_(True), resolved, rules, now, "enterprise"),
            visited.label("visited"),
            sa.func.avg(score).label("average_score"),
            satisfied.label("satisfied"),
            _ratio(satisfied, visited).label("satisfied_rate"),
            _count(flagged).label("supervision_flagged"),
            _count(under_supervision).label("under_supervision"),
        )

    def _tips(self, scope: StatsScope) -> sa.Select[Any]:
        verified = cases.c.status.in_([status.value for status in VERIFIED_TIP])
        rules = self._rulebook.main_rules(CaseKind.enterprise_tip)
        return self._of_kind(
            CaseKind.enterprise_tip,
            scope,
            *_handling(sa.true(), verified, rules, scope.now, "tips"),
        )

    def _reconsiderations(self, scope: StatsScope) -> sa.Select[Any]:
        decision = cases.c.state["decision"].as_string()
        decided = _count(decision.is_not(None))
        corrections = _count(decision.in_(sorted(CORRECTIONS)))
        return self._of_kind(
            CaseKind.reconsideration,
            scope,
            sa.func.count().label("received"),
            decided.label("decided"),
            corrections.label("corrections"),
            _ratio(corrections, decided).label("correction_rate"),
        )

    def _lawsuits(self, scope: StatsScope) -> sa.Select[Any]:
        outcome = cases.c.state["judgment_outcome"].as_string()
        hearings = cases.c.state["hearings"].as_integer()
        with_hearing = hearings > 0
        appeared_flag = cases.c.state["agency_head_appeared"].as_boolean()
        # a state stored before hearings were counted one by one has no head_appearances:
        # its lawsuit counts once if the head appeared at any hearing
        head_appearances = sa.func.coalesce(
            cases.c.state["head_appearances"].as_integer(),
            sa.case((sa.and_(with_hearing, appeared_flag.is_(True)), 1), else_=0),
        )
        judged = _count(outcome.is_not(None))
        losses = _count(outcome.in_(sorted(LOSSES)))
        heard = _count(with_hearing)
        appeared = _count(sa.and_(with_hearing, appeared_flag.is_(True)))
        held = sa.func.coalesce(sa.func.sum(hearings), 0)
        head_appeared = sa.func.coalesce(sa.func.sum(head_appearances), 0)
        return self._of_kind(
            CaseKind.litigation,
            scope,
            sa.func.count().label("filed"),
            judged.label("judged"),
            losses.label("losses"),
            _ratio(losses, judged).label("loss_rate"),
            heard.label("heard"),
            appeared.label("appeared"),
            held.label("hearings"),
            head_appeared.label("hearings_head_appeared"),
            _ratio(head_appeared, held).label("appearance_rate"),
        )

    def _rectifications(self, scope: StatsScope) -> sa.Select[Any]:
        rules = self._rulebook.main_rules(CaseKind.rectification)
        standing = cases.c.status != RectificationStatus.cancelled.value
        opened = sa.and_(standing, _has_clock(rules, sa.true()))
        completed = _has_clock(rules, clocks.c.stopped_at.is_not(None))
        met = _has_clock(rules, clocks.c.status == ClockStatus.met.value)
        late = _has_clock(rules, clock_overdue(clocks.c.status, clocks.c.due_at, scope.now))
        on_time = _count(sa.and_(standing, met, sa.not_(late)))
        overdue = _count(sa.and_(standing, late))
        return self._of_kind(
            CaseKind.rectification,
            scope,
            _count(opened).label("opened"),
            _count(sa.and_(standing, completed)).label("completed"),
            on_time.label("completed_on_time"),
            overdue.label("overdue"),
            _count(sa.not_(standing)).label("cancelled"),
            _ratio(on_time, on_time + overdue).label("on_time_rate"),
        )
