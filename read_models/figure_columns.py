"""What one case adds to the rule-of-law figures (法治指标), as SQL over its read-model rows.

Every figure of stats.py is a sum over cases of a per-case number: 1 when the case is received,
closed, closed on time, overdue, …, the score of a 回访, the hearings of a lawsuit. Those numbers
are defined here once, per case kind, as SQL expressions on the `cases` row and its clocks, and
used two ways: summed over the cases of a period (a recount), and evaluated for the cases a
projector batch touched, to keep per-day counters (figure_counts.py).

Deadlines are judged by the kind's main clocks (`RuleRole.main`): a clock is met when it stopped
in time, and late when it was breached (stopped late, or marked by the scanner) or is still
running past its due instant at `now`. With `now=None` only a breached clock is late: what the
counters keep, because it does not move with time; the running clocks past due are added when a
period is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casestream.domain.catalog import CaseKind, ExemptionType, OpinionCategory, SupervisionFlagged
from casestream.domain.clocks import ClockStatus
from casestream.domain.complaints import ComplaintStatus
from casestream.domain.enforcement import (
    EnforcementDecisionStatus,
    EnforcementNoticeStatus,
    EnforcementReviewStatus,
)
from casestream.domain.envelope import event_type_name
from casestream.domain.outcomes import CORRECTIONS, LOSSES
from casestream.domain.rectifications import RectificationStatus
from casestream.domain.rules import RuleBook
from casestream.domain.tips import TipStatus

from .overdue import clock_overdue
from .schema import FIGURES, case_events, cases, clocks

RESOLVED_COMPLAINT = (ComplaintStatus.resolved, ComplaintStatus.followed_up)  # 办结, visited after
VERIFIED_TIP = (TipStatus.verified, TipStatus.closed)  # 核查 done
# 公示 done (a publication withdrawn since was published)
PUBLISHED_DECISION = (EnforcementDecisionStatus.published, EnforcementDecisionStatus.withdrawn)
SATISFIED = 4  # a follow-up score of 4 or 5 (of 1–5) counts as satisfied

TIME_DEPENDENT = ("on_time", "overdue", "ent_on_time", "ent_overdue")
"""The figures that change as running clocks pass their due instants."""

CLOCKED_KINDS = (
    CaseKind.complaint,
    CaseKind.enterprise_tip,
    CaseKind.rectification,
    CaseKind.enforcement_decision,
)
"""The kinds whose figures judge deadlines (the ones TIME_DEPENDENT figures come from)."""


@dataclass(frozen=True)
class KindFigures:
    """The per-case figure expressions of one case kind (figures absent are 0)."""

    kind: CaseKind
    columns: dict[str, sa.ColumnElement[Any]]


def _one(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def _has_clock(rules: tuple[str, ...], condition: sa.ColumnElement[bool]) -> sa.Exists:
    return sa.exists().where(
        clocks.c.case_id == cases.c.case_id, clocks.c.rule_id.in_(rules), condition
    )


def _late(status: Any, due_at: Any, now: datetime | None) -> sa.ColumnElement[bool]:
    if now is None:
        return sa.and_(status == ClockStatus.breached.value)
    return clock_overdue(status, due_at, now)


def _handling(
    prefix: str,
    subset: sa.ColumnElement[bool],
    closed: sa.ColumnElement[bool],
    rules: tuple[str, ...],
    now: datetime | None,
) -> dict[str, sa.ColumnElement[Any]]:
    """received / closed / closed on time / overdue of a case in `subset`.

    Closed on time: closed, a clock of `rules` met and none late (a reopened case has one clock
    per handling). Overdue: a clock of `rules` late.
    """
    met = _has_clock(rules, clocks.c.status == ClockStatus.met.value)
    late = _has_clock(rules, _late(clocks.c.status, clocks.c.due_at, now))
    return {
        f"{prefix}received": _one(subset),
        f"{prefix}closed": _one(sa.and_(subset, closed)),
        f"{prefix}on_time": _one(sa.and_(subset, closed, met, sa.not_(late))),
        f"{prefix}overdue": _one(sa.and_(subset, late)),
    }


def kind_figures(kind: CaseKind, rulebook: RuleBook, now: datetime | None) -> KindFigures:
    """What a case of `kind` adds to each figure, judged at `now` (None: breached only)."""
    rules = rulebook.main_rules(kind)
    if kind is CaseKind.complaint:
        return KindFigures(kind, _complaint(rules, now))
    if kind is CaseKind.enterprise_tip:
        verified = cases.c.status.in_([status.value for status in VERIFIED_TIP])
        return KindFigures(kind, _handling("", sa.true(), verified, rules, now))
    if kind is CaseKind.reconsideration:
        decision = cases.c.state["decision"].as_string()
        return KindFigures(
            kind,
            {
                "received": sa.literal(1),
                "decided": _one(decision.is_not(None)),
                "corrections": _one(decision.in_(sorted(CORRECTIONS))),
            },
        )
    if kind is CaseKind.litigation:
        return KindFigures(kind, _lawsuit())
    if kind is CaseKind.rectification:
        return KindFigures(kind, _rectification(rules, now))
    if kind is CaseKind.enforcement_review:
        return KindFigures(kind, _enforcement_review())
    if kind is CaseKind.enforcement_notice:
        rectified = cases.c.status == EnforcementNoticeStatus.rectified.value
        return KindFigures(kind, {"received": sa.literal(1), "closed": _one(rectified)})
    if kind is CaseKind.enforcement_decision:
        return KindFigures(kind, _enforcement_decision(rules, now))
    return KindFigures(kind, {"received": sa.literal(1)})


def _complaint(rules: tuple[str, ...], now: datetime | None) -> dict[str, sa.ColumnElement[Any]]:
    resolved = cases.c.status.in_([status.value for status in RESOLVED_COMPLAINT])
    score = cases.c.satisfaction
    flagged = sa.exists().where(
        case_events.c.case_id == cases.c.case_id,
        case_events.c.event_type == event_type_name(SupervisionFlagged),
    )
    under_supervision = cases.c.state["supervision"].as_boolean().is_(True)
    return {
        **_handling("", sa.true(), resolved, rules, now),
        **_handling("ent_", cases.c.enterprise.is_(True), resolved, rules, now),
        "visited": _one(score.is_not(None)),
        "score_sum": sa.func.coalesce(score, 0),
        "satisfied": _one(score >= SATISFIED),
        "flagged": _one(flagged),
        "supervised": _one(under_supervision),
    }


def _lawsuit() -> dict[str, sa.ColumnElement[Any]]:
    outcome = cases.c.state["judgment_outcome"].as_string()
    hearings = sa.func.coalesce(cases.c.state["hearings"].as_integer(), 0)
    with_hearing = hearings > 0
    appeared_flag = cases.c.state["agency_head_appeared"].as_boolean()
    # a state stored before hearings were counted one by one has no head_appearances:
    # its lawsuit counts once if the head appeared at any hearing
    head_appearances = sa.func.coalesce(
        cases.c.state["head_appearances"].as_integer(),
        sa.case((sa.and_(with_hearing, appeared_flag.is_(True)), 1), else_=0),
    )
    return {
        "received": sa.literal(1),
        "judged": _one(outcome.is_not(None)),
        "losses": _one(outcome.in_(sorted(LOSSES))),
        "heard": _one(with_hearing),
        "appeared": _one(sa.and_(with_hearing, appeared_flag.is_(True))),
        "hearings": hearings,
        "head_appeared": head_appearances,
    }


def _rectification(
    rules: tuple[str, ...], now: datetime | None
) -> dict[str, sa.ColumnElement[Any]]:
    standing = cases.c.status != RectificationStatus.cancelled.value
    met = _has_clock(rules, clocks.c.status == ClockStatus.met.value)
    late = _has_clock(rules, _late(clocks.c.status, clocks.c.due_at, now))
    return {
        "received": sa.literal(1),
        "opened": _one(sa.and_(standing, _has_clock(rules, sa.true()))),
        "closed": _one(sa.and_(standing, _has_clock(rules, clocks.c.stopped_at.is_not(None)))),
        "on_time": _one(sa.and_(standing, met, sa.not_(late))),
        "overdue": _one(sa.and_(standing, late)),
        "cancelled": _one(sa.not_(standing)),
    }


def _enforcement_review() -> dict[str, sa.ColumnElement[Any]]:
    """A 考评 review: received, scored (closed, its score summed) and its opinions by category."""
    scored = cases.c.status == EnforcementReviewStatus.completed.value
    score = sa.func.coalesce(cases.c.state["score"].as_integer(), 0)
    by_category = {
        f"opinions_{category.value}": sa.func.coalesce(
            cases.c.state[("opinions_by_category", category.value)].as_integer(), 0
        )
        for category in OpinionCategory
    }
    opinions: sa.ColumnElement[Any] = sa.literal(0)
    for count in by_category.values():
        opinions = opinions + count
    return {
        "received": sa.literal(1),
        "closed": _one(scored),
        "score_sum": sa.case((scored, score), else_=0),
        "opinions": opinions,
        **by_category,
    }


def _enforcement_decision(
    rules: tuple[str, ...], now: datetime | None
) -> dict[str, sa.ColumnElement[Any]]:
    """A 不予处罚 decision: published (公示) on time or late, by the ground it was made on."""
    published = cases.c.status.in_([status.value for status in PUBLISHED_DECISION])
    exemption = cases.c.state["exemption"].as_string()
    return {
        **_handling("", sa.true(), published, rules, now),
        **{f"exemption_{kind.value}": _one(exemption == kind.value) for kind in ExemptionType},
    }


def per_case(figures: KindFigures, names: tuple[str, ...] = FIGURES) -> list[sa.Label[Any]]:
    """The figures `names` of one case as labelled columns (0 where the kind has none)."""
    return [figures.columns.get(name, sa.literal(0)).label(name) for name in names]


def summed(figures: KindFigures, names: tuple[str, ...] = FIGURES) -> list[sa.Label[Any]]:
    """The figures `names` summed over the selected cases (0, never NULL, on none)."""
    return [
        sa.func.coalesce(sa.func.sum(figures.columns.get(name, sa.literal(0))), 0).label(name)
        for name in names
    ]
