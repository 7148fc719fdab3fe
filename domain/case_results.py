"""办理结果: the outcome a case ended with, per kind (a complaint's outcome, a tip-off's 核查
result, a 复议决定, a 判决), and whether it went against the bureau (纠错 / 败诉)."""

from __future__ import annotations

from .complaints import ComplaintState
from .lifecycle import CaseState
from .litigation import LitigationState
from .outcomes import case_outcome_class
from .reconsiderations import ReconsiderationState
from .tips import TipState


def case_result(state: CaseState) -> str | None:
    """The code of the case's outcome so far (None: none yet, or a kind without one)."""
    match state:
        case ComplaintState():
            return state.outcome
        case TipState():
            return state.verification_result
        case ReconsiderationState():
            return state.decision
        case LitigationState():
            return state.judgment_outcome
    return None


def went_against_bureau(state: CaseState) -> bool | None:
    """True for a decision that corrected the bureau (纠错) or a judgment it lost (败诉), False
    for another decision or judgment, None while there is none (or for another kind)."""
    outcome = case_outcome_class(state)
    return None if outcome is None else outcome != "other"
