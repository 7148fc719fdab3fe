"""Rule-of-law figures (法治指标) for a period: GET /stats?from=YYYY-MM-DD&to=YYYY-MM-DD.

The definitions of every figure are in README.md ("Rule-of-law figures").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from casestream.domain.catalog import ExemptionType, OpinionCategory
from casestream.read_models.enforcement_stats import EnforcementFigures
from casestream.read_models.stats import HandlingFigures, StatsQueries, StatsScope

from .auth import PrincipalDep, visible_department
from .deps import ReadModelEngineDep, ServicesDep
from .params import Day
from .problems import query_problem

router = APIRouter(prefix="/stats", tags=["figures"])

Count = Annotated[int, Field(ge=0, description="number of cases")]


def _rate(text: str) -> Any:
    return Field(description=f"{text}; a ratio in [0, 1], null when the denominator is 0")


class Figures(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


class ComplaintsOut(Figures):
    """Complaints (投诉) and their handling deadline (complaint.handling*, petition.handling)."""

    received: Count
    resolved: Count = Field(description="办结 (resolved, and perhaps visited since)")
    resolved_on_time: Count = Field(description="resolved, every handling deadline met")
    overdue: Count = Field(description="handling deadline missed: resolved late or open past due")
    on_time_rate: float | None = _rate("按时办结率 resolved_on_time / (resolved_on_time + overdue)")

    @classmethod
    def of(cls, figures: HandlingFigures) -> ComplaintsOut:
        return cls(
            received=figures.received,
            resolved=figures.closed,
            resolved_on_time=figures.closed_on_time,
            overdue=figures.overdue,
            on_time_rate=figures.on_time_rate,
        )


class TipsOut(Figures):
    """Enterprise tip-offs (涉企举报线索) and their verification deadline (enterprise_tip.handling)."""

    received: Count
    verified: Count = Field(description="核查 done (verified, and perhaps closed since)")
    verified_on_time: Count = Field(description="verified within the deadline")
    overdue: Count = Field(description="verified late, or not verified and past due")
    on_time_rate: float | None = _rate("按时核查率 verified_on_time / (verified_on_time + overdue)")

    @classmethod
    def of(cls, figures: HandlingFigures) -> TipsOut:
        return cls(
            received=figures.received,
            verified=figures.closed,
            verified_on_time=figures.closed_on_time,
            overdue=figures.overdue,
            on_time_rate=figures.on_time_rate,
        )


class SatisfactionOut(Figures):
    """Follow-up visits (回访) of complaints."""

    visited: Count = Field(description="complaints with a satisfaction score")
    average_score: float | None = Field(description="mean score, 1 (worst) to 5 (best)")
    satisfied: Count = Field(description="scored 4 or 5")
    satisfied_rate: float | None = _rate("满意率 satisfied / visited")


class SupervisionOut(Figures):
    """督察 of complaints after a poor follow-up visit (回访)."""

    flagged: Count = Field(description="complaints flagged for supervision at least once")
    open: Count = Field(description="under supervision now: neither closed nor reopened")


class ReconsiderationOut(Figures):
    received: Count
    decided: Count = Field(description="with a decision (any kind)")
    corrections: Count = Field(
        description="纠错: decided revoked, altered, confirmed_illegal or ordered_to_perform"
    )
    correction_rate: float | None = _rate("纠错率 corrections / decided")


class LitigationOut(Figures):
    filed: Count
    judged: Count = Field(description="with a judgment or ruling (the latest instance)")
    losses: Count = Field(
        description="败诉: revoked, confirmed_illegal, ordered_to_perform, altered, compensation"
    )
    loss_rate: float | None = _rate("败诉率 losses / judged")
    heard: Count = Field(description="lawsuits with at least one hearing")
    agency_head_appeared: Count = Field(
        description="heard, the agency head appeared (出庭应诉) at one hearing at least"
    )
    hearings: Count = Field(description="hearings held (开庭) in those lawsuits")
    hearings_head_appeared: Count = Field(description="hearings the agency head appeared at")
    agency_head_appearance_rate: float | None = _rate(
        "负责人出庭应诉率 hearings_head_appeared / hearings"
    )


class RectificationOut(Figures):
    opened: Count = Field(description="整改 opened (with a completion deadline), not cancelled")
    completed: Count
    completed_on_time: Count = Field(description="completed by the 整改时限")
    overdue: Count = Field(description="completed late, or still open past the 整改时限")
    cancelled: Count = Field(description="cancelled: the loss behind them was overturned")
    on_time_rate: float | None = _rate(
        "整改按期完成率 completed_on_time / (completed_on_time + overdue)"
    )


class ReviewsOut(Figures):
    """执法质量考评 of enforcement cases."""

    reviewed: Count = Field(description="enforcement cases reviewed (reviews opened)")
    scored: Count = Field(description="reviews completed with a score")
    average_score: float | None = Field(description="mean score of those scored, 0 to 100")
    opinions: Count = Field(description="评查意见 issued, in all")
    opinions_by_category: dict[OpinionCategory, int] = Field(
        description="评查意见 by category (事实认定, 证据, 程序, 法律适用, 文书制作, 裁量, 涉案财物管理, 其他)"
    )


class NoticesOut(Figures):
    """执法监督书 issued to departments."""

    issued: Count
    rectified: Count = Field(description="their rectification verified (核验)")
    rectified_rate: float | None = _rate("整改率 rectified / issued")


class DecisionsOut(Figures):
    """不予处罚 / 轻微免罚 decisions and their publication (公示, enforcement_decision.publication)."""

    recorded: Count
    published: Count = Field(description="公示 done (withdrawn since included)")
    published_on_time: Count = Field(description="published within the publication deadline")
    overdue: Count = Field(description="published late, or not published and past due")
    on_time_rate: float | None = _rate(
        "按时公示率 published_on_time / (published_on_time + overdue)"
    )
    by_exemption: dict[ExemptionType, int] = Field(
        description="by ground: minor 轻微不罚, first_offence 首违不罚, no_fault 无过错不罚, other"
    )


class EnforcementOut(Figures):
    """执法监督 of the bureau's own enforcement."""

    reviews: ReviewsOut
    notices: NoticesOut
    decisions: DecisionsOut

    @classmethod
    def of(cls, figures: EnforcementFigures) -> EnforcementOut:
        reviews, notices, decisions = figures.reviews, figures.notices, figures.decisions
        return cls(
            reviews=ReviewsOut(
                reviewed=reviews.reviewed,
                scored=reviews.scored,
                average_score=reviews.average_score,
                opinions=reviews.opinions,
                opinions_by_category=dict(reviews.opinions_by_category),
            ),
            notices=NoticesOut.model_validate(notices),
            decisions=DecisionsOut(
                recorded=decisions.recorded,
                published=decisions.published,
                published_on_time=decisions.published_on_time,
                overdue=decisions.overdue,
                on_time_rate=decisions.on_time_rate,
                by_exemption=dict(decisions.by_exemption),
            ),
        )


class RuleOfLawStats(Figures):
    """Figures of the cases received from `from` to `to` (local dates, both included)."""

    period_from: date
    period_to: date
    timezone: str
    department: str | None = Field(description="null: the whole bureau")
    as_of: datetime = Field(description="the instant open deadlines were judged at")
    complaints: ComplaintsOut = Field(description="投诉, all channels incl. 12345 and 信访")
    enterprise_complaints: ComplaintsOut = Field(description="涉企投诉 (enterprise: true)")
    enterprise_tips: TipsOut = Field(description="涉企举报线索")
    satisfaction: SatisfactionOut
    supervision: SupervisionOut = Field(description="督察 after a poor 回访")
    reconsiderations: ReconsiderationOut = Field(description="行政复议, bureau as respondent")
    lawsuits: LitigationOut = Field(description="行政诉讼, bureau as defendant")
    rectifications: RectificationOut = Field(description="整改 of lost or corrected cases")
    enforcement: EnforcementOut = Field(description="执法监督: 考评, 执法监督书, 不予处罚")


@router.get("", response_model=RuleOfLawStats)
def rule_of_law_stats(
    services: ServicesDep,
    engine: ReadModelEngineDep,
    principal: PrincipalDep,
    period_from: Annotated[
        Day, Query(alias="from", description="first day received (local date, YYYY-MM-DD)")
    ],
    period_to: Annotated[
        Day, Query(alias="to", description="last day received, included (YYYY-MM-DD)")
    ],
    department: Annotated[str | None, Query(description="承办部门; omit for the bureau")] = None,
) -> RuleOfLawStats:
    """Rule-of-law figures (法治指标) of the cases received in the period.

    A department-bound caller (handler, department head) gets their own department's figures.
    """
    if period_from > period_to:
        raise query_problem("to", f"'to' ({period_to}) is before 'from' ({period_from}); swap them")
    own = visible_department(principal)
    if own is not None:
        if department not in (None, own):
            raise HTTPException(
                403, f"role {principal.role.value} sees the figures of {own} only; omit department"
            )
        department = own
    zone = ZoneInfo(services.settings.timezone)
    now = services.now()
    scope = StatsScope.of_days(period_from, period_to, zone, department, now)
    figures = StatsQueries(engine, services.rulebook, services.settings.timezone).figures(scope)
    return RuleOfLawStats(
        period_from=period_from,
        period_to=period_to,
        timezone=services.settings.timezone,
        department=department,
        as_of=now,
        complaints=ComplaintsOut.of(figures.complaints),
        enterprise_complaints=ComplaintsOut.of(figures.enterprise_complaints),
        enterprise_tips=TipsOut.of(figures.enterprise_tips),
        satisfaction=SatisfactionOut.model_validate(figures.satisfaction),
        supervision=SupervisionOut.model_validate(figures.supervision),
        reconsiderations=ReconsiderationOut.model_validate(figures.reconsiderations),
        lawsuits=LitigationOut.model_validate(figures.lawsuits),
        rectifications=RectificationOut.model_validate(figures.rectifications),
        enforcement=EnforcementOut.of(figures.enforcement),
    )
