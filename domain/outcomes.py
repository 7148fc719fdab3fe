"""Whether a decision or judgment went against the bureau (纠错 correction, 败诉 loss)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from .catalog import (
    AlertCleared,
    CaseKind,
    EnforcementNoticeIssued,
    EnforcementNoticeRectified,
    JudgmentIssued,
    JudgmentOutcome,
    Payload,
    ReconsiderationDecided,
    ReconsiderationDecision,
    ReconsiderationOpinionReceived,
    RectificationCancelled,
    RectificationOpened,
    RectificationVerified,
    ReviewTaskOpened,
    SupervisionFlagged,
    SupervisionRequested,
)
from .enforcement import notice_rectification_id
from .envelope import Event, new_event
from .lifecycle import CaseState
from .rectifications import RectificationState
from .supervision_flags import (
    DEFAULT_SATISFACTION_THRESHOLD,
    supervision_alerts,
    supervision_flags,
)
from .words import INSTANCES, JUDGMENT_OUTCOMES, RECONSIDERATION_DECISIONS

CORRECTIONS = frozenset(
    {
        ReconsiderationDecision.revoked,
        ReconsiderationDecision.altered,
        ReconsiderationDecision.confirmed_illegal,
        ReconsiderationDecision.ordered_to_perform,
    }
)
LOSSES = frozenset(
    {
        JudgmentOutcome.revoked,
        JudgmentOutcome.confirmed_illegal,
        JudgmentOutcome.ordered_to_perform,
        JudgmentOutcome.altered,
        JudgmentOutcome.compensation,
    }
)


def is_correction(decision: ReconsiderationDecision) -> bool:
    """A reconsideration decision that corrects the bureau's act (纠错)."""
    return decision in CORRECTIONS


def is_loss(outcome: JudgmentOutcome) -> bool:
    """A judgment the bureau lost (败诉)."""
    return outcome in LOSSES


# the outcome classes reported per kind: 纠错 / 败诉 or neither (metrics, figures)
OUTCOME_CLASSES: dict[CaseKind, tuple[str, ...]] = {
    CaseKind.reconsideration: ("correction", "other"),
    CaseKind.litigation: ("loss", "other"),
}


def outcome_class(payload: Payload) -> str | None:
    """`correction` (纠错), `loss` (败诉) or `other` for a decision or a judgment; None for
    any other event (a withdrawal judged is no outcome either)."""
    against = went_against(payload)
    if against is None:
        return None
    if not against:
        return "other"
    return "correction" if isinstance(payload, ReconsiderationDecided) else "loss"


def case_outcome_class(state: CaseState) -> str | None:
    """The outcome class of a reconsideration with a decision or a lawsuit with a judgment
    (`correction`, `loss` or `other`, as GET /stats counts them); None otherwise."""
    fields = type(state).model_fields  # not getattr's default: a missing field raises inside
    decision = getattr(state, "decision") if "decision" in fields else None  # noqa: B009
    if decision is not None:
        return "correction" if is_correction(decision) else "other"
    judgment = getattr(state, "judgment_outcome") if "judgment_outcome" in fields else None  # noqa: B009
    if judgment is not None:
        return "loss" if is_loss(judgment) else "other"
    return None


# --- consequences: 复盘 review and 整改 rectification of a correction or a loss ------------------

OUTCOME_NAMESPACE = uuid.UUID("5a4f0c3e-9d0b-4e07-8d55-3c1b6f2e7a91")

D = TypeVar(
    "D", ReviewTaskOpened, RectificationOpened, RectificationCancelled, EnforcementNoticeRectified
)


@dataclass(frozen=True)
class OutcomeSettings:
    """Who answers for a rectification when the source case names no department, and the
    highest 回访 satisfaction that flags a complaint for 督察 supervision (0: none)."""

    fallback_department: str = "法制大队"  # legal affairs
    timezone: str = "Asia/Shanghai"
    supervision_satisfaction_threshold: int = DEFAULT_SATISFACTION_THRESHOLD


def rectification_id(source_case_id: str, opinion_no: str | None = None) -> str:
    """One rectification per lost or corrected case (and per 意见书 opinion)."""
    suffix = f"-OP-{uuid.uuid5(OUTCOME_NAMESPACE, opinion_no).hex[:8]}" if opinion_no else ""
    return f"RECT-{source_case_id}{suffix}"


def went_against(payload: Payload) -> bool | None:
    """True for a correction or a loss, False for an outcome that is neither, None: no outcome."""
    match payload:
        case ReconsiderationDecided():
            return is_correction(payload.decision)
        case JudgmentIssued():
            return (
                None if payload.outcome is JudgmentOutcome.withdrawn else is_loss(payload.outcome)
            )
    return None


DERIVED_KINDS = frozenset({CaseKind.rectification, CaseKind.complaint, CaseKind.enforcement_notice})
"""The case kinds of the events `consequences` derives (their topics take the outbox's events)."""

Derived = (
    Event[ReviewTaskOpened]
    | Event[RectificationOpened]
    | Event[RectificationCancelled]
    | Event[EnforcementNoticeRectified]
    | Event[SupervisionFlagged]
    | Event[SupervisionRequested]
    | Event[AlertCleared]
)
"""An event a fact owes: a 复盘 review, a 整改 rectification or its cancellation, a 督察
supervision flag, the alert of a supervision begun or ended (published on alerts.events), or a
执法监督书 carried out."""


def consequences(
    event: Event[Any], before: CaseState | None, after: CaseState, settings: OutcomeSettings
) -> list[Derived]:
    """The events a decision owes (deterministic ids: causation = the decision).

    - a correction (纠错) or a loss (败诉) opens one ReviewTaskOpened and one RectificationOpened;
    - a loss overturned on appeal (a later judgment that is not a loss) cancels the
      rectification: the loss no longer stands; its review stays, as a lesson;
    - a loss upheld on appeal changes nothing: the rectification already runs;
    - a 行政复议意见书 opens one rectification (no review: the body has named the fix);
    - a 执法监督书 opens one rectification with the notice's deadline, and that rectification's
      first verification (核验) marks the notice rectified (`notice_consequences`);
    - a poor 回访 flags the complaint for 督察 supervision, and a supervision begun or ended
      raises or clears the supervisors' alert (domain/supervision_flags.py).
    """
    supervision: list[Derived] = [
        *supervision_flags(event, after, settings.supervision_satisfaction_threshold),
        *supervision_alerts(event, before, after),
    ]
    if supervision:
        return supervision
    notice = notice_consequences(event, before, after, settings)
    if notice:
        return notice
    payload = event.payload
    department = after.department or settings.fallback_department
    person = after.handler or f"{department}负责人"
    if isinstance(payload, ReconsiderationOpinionReceived):
        rect = rectification_id(after.case_id, payload.opinion_no)
        return [
            _derived(
                event,
                rect,
                RectificationOpened(
                    source_case_id=after.case_id,
                    source_case_kind=after.case_kind,
                    department=department,
                    responsible_person=person,
                    description=f"行政复议意见书 {payload.opinion_no}: {payload.requested_action}",
                    decision_ref=after.decision_ref,
                ),
            )
        ]
    against = went_against(payload)
    if against is None:
        return []
    earlier_loss = before is not None and _stood_against(before)
    rect = rectification_id(after.case_id)
    if against and not earlier_loss:
        return [
            _derived(
                event,
                rect,
                ReviewTaskOpened(
                    source_case_id=after.case_id,
                    source_case_kind=after.case_kind,
                    department=department,
                    responsible_person=person,
                    decision_ref=after.decision_ref,
                ),
            ),
            _derived(
                event,
                rect,
                RectificationOpened(
                    source_case_id=after.case_id,
                    source_case_kind=after.case_kind,
                    department=department,
                    responsible_person=person,
                    description=f"{_describe(payload)}：案件{after.case_id}整改",
                    decision_ref=after.decision_ref,
                ),
            ),
        ]
    if not against and earlier_loss:
        return [
            _derived(
                event, rect, RectificationCancelled(reason=f"overturned: {_describe(payload)}")
            )
        ]
    return []


NOTICE_DESCRIPTION_LIMIT = 10000  # RectificationOpened.description's bound


def notice_consequences(
    event: Event[Any], before: CaseState | None, after: CaseState, settings: OutcomeSettings
) -> list[Derived]:
    """A 执法监督书 issued opens its rectification (整改 by the notice's deadline, the notice's
    department responsible); the first verification of that rectification marks the notice
    rectified. A verification after a reopening changes nothing more: the notice stays
    rectified. Ids are derived from the causing event, so a redelivery derives the same."""
    payload = event.payload
    if isinstance(payload, EnforcementNoticeIssued):
        department = payload.department or settings.fallback_department
        matters = "；".join(payload.matters)
        description = f"执法监督书 {payload.notice_no}：{matters}"[:NOTICE_DESCRIPTION_LIMIT]
        return [
            _derived(
                event,
                notice_rectification_id(after.case_id),
                RectificationOpened(
                    source_case_id=after.case_id,
                    source_case_kind=CaseKind.enforcement_notice,
                    department=department,
                    responsible_person=payload.responsible_person or f"{department}负责人",
                    deadline=payload.deadline,
                    description=description,
                    decision_ref=payload.decision_ref,
                ),
            )
        ]
    if (
        isinstance(payload, RectificationVerified)
        and isinstance(after, RectificationState)
        and after.source_case_kind is CaseKind.enforcement_notice
        and after.source_case_id is not None
        and not (isinstance(before, RectificationState) and _was_verified(before))
    ):
        return [
            _derived(
                event,
                after.source_case_id,
                EnforcementNoticeRectified(
                    rectification_id=after.case_id, supervisor=payload.supervisor
                ),
                CaseKind.enforcement_notice,
            )
        ]
    return []


def _was_verified(state: RectificationState) -> bool:
    return any(check.verified for check in state.verifications)


def _stood_against(state: CaseState) -> bool:
    decision = getattr(state, "decision", None)
    outcome = getattr(state, "judgment_outcome", None)
    return (decision is not None and is_correction(decision)) or (
        outcome is not None and is_loss(outcome)
    )


def _describe(payload: Payload) -> str:
    if isinstance(payload, ReconsiderationDecided):
        return f"行政复议决定{RECONSIDERATION_DECISIONS[payload.decision]}（纠错）"
    if isinstance(payload, JudgmentIssued):
        outcome = JUDGMENT_OUTCOMES[payload.outcome]
        return f"行政诉讼{INSTANCES[payload.instance]}判决{outcome}（败诉）"
    return type(payload).__name__


def _derived(
    event: Event[Any], case_id: str, payload: D, case_kind: CaseKind = CaseKind.rectification
) -> Event[D]:
    """The event `payload` makes on the case `case_id` (a rectification unless told), caused by
    `event`; its id is derived from the cause, its type and the case, so a redelivery is the
    same."""
    event_type = type(payload).__name__
    return new_event(
        payload,
        event_id=uuid.uuid5(OUTCOME_NAMESPACE, f"{event.event_id}|{event_type}|{case_id}"),
        case_id=case_id,
        case_kind=case_kind,
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        source="casestream.outcomes",
        actor="system",
        correlation_id=event.correlation_id or str(event.event_id),
        causation_id=str(event.event_id),
    )
