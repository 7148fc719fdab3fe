"""The enforcement supervision (执法监督) figures of a period, from the summed per-case figures of
its three kinds (figure_columns.py): 考评 reviews and their opinions by category, 执法监督书
issued and rectified, 不予处罚 decisions by ground and their 公示 on time."""

from __future__ import annotations

from dataclasses import dataclass, field

from casestream.domain.catalog import CaseKind, ExemptionType, OpinionCategory

from .figure_counts import Totals


def _rate(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


@dataclass(frozen=True)
class ReviewFigures:
    """执法质量考评: cases reviewed, scored, their mean score and opinions (评查意见)."""

    reviewed: int = 0
    scored: int = 0
    average_score: float | None = None
    opinions: int = 0
    opinions_by_category: tuple[tuple[OpinionCategory, int], ...] = ()


@dataclass(frozen=True)
class NoticeFigures:
    """执法监督书 issued, and rectified (their rectification verified)."""

    issued: int = 0
    rectified: int = 0
    rectified_rate: float | None = None


@dataclass(frozen=True)
class DecisionFigures:
    """不予处罚 / 轻微免罚 decisions: recorded, published (公示), on time or late, by ground."""

    recorded: int = 0
    published: int = 0
    published_on_time: int = 0
    overdue: int = 0
    on_time_rate: float | None = None
    by_exemption: tuple[tuple[ExemptionType, int], ...] = ()

    @property
    def published_late(self) -> int:
        """Published after the publication deadline (a 公示 done and not on time)."""
        return self.published - self.published_on_time

    @property
    def awaiting_overdue(self) -> int:
        """Not published and past the publication deadline (overdue, less those published late)."""
        return self.overdue - self.published_late


@dataclass(frozen=True)
class EnforcementFigures:
    reviews: ReviewFigures = field(default_factory=ReviewFigures)
    notices: NoticeFigures = field(default_factory=NoticeFigures)
    decisions: DecisionFigures = field(default_factory=DecisionFigures)


ENFORCEMENT_KINDS = (
    CaseKind.enforcement_review,
    CaseKind.enforcement_notice,
    CaseKind.enforcement_decision,
)


def enforcement_figures(of: dict[CaseKind, Totals]) -> EnforcementFigures:
    """The figures of the summed per-case figures of the three kinds (all present in `of`)."""
    reviews, notices, decisions = (of[kind] for kind in ENFORCEMENT_KINDS)
    on_time, overdue = decisions["on_time"], decisions["overdue"]
    return EnforcementFigures(
        reviews=ReviewFigures(
            reviewed=reviews["received"],
            scored=reviews["closed"],
            average_score=_rate(reviews["score_sum"], reviews["closed"]),
            opinions=reviews["opinions"],
            opinions_by_category=tuple(
                (category, reviews[f"opinions_{category.value}"]) for category in OpinionCategory
            ),
        ),
        notices=NoticeFigures(
            issued=notices["received"],
            rectified=notices["closed"],
            rectified_rate=_rate(notices["closed"], notices["received"]),
        ),
        decisions=DecisionFigures(
            recorded=decisions["received"],
            published=decisions["closed"],
            published_on_time=on_time,
            overdue=overdue,
            on_time_rate=_rate(on_time, on_time + overdue),
            by_exemption=tuple(
                (kind, decisions[f"exemption_{kind.value}"]) for kind in ExemptionType
            ),
        ),
    )
