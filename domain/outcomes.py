"""Whether a decision or judgment went against the bureau (纠错 correction, 败诉 loss)."""

from __future__ import annotations

from .catalog import JudgmentOutcome, ReconsiderationDecision

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
