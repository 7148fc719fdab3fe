"""A dispute (争议): the cases that challenge one administrative act, linked by the number of
its decision (处罚决定书文号 `decision_ref`): the complaint, the reconsideration, the lawsuit and
the rectification that followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .catalog import CaseKind
from .lifecycle import CaseState


@dataclass(frozen=True)
class DisputeLink:
    """A case joining the dispute over the act numbered `decision_ref`."""

    decision_ref: str
    case_id: str
    case_kind: CaseKind
    linked_at: datetime


def joins_dispute(
    before: CaseState | None, after: CaseState, occurred_at: datetime
) -> DisputeLink | None:
    """The link a case makes when it first names a decision, or names another one (None: it
    makes none); linked as of the case's opening."""
    if not after.decision_ref or (before is not None and before.decision_ref == after.decision_ref):
        return None
    return DisputeLink(
        decision_ref=after.decision_ref,
        case_id=after.case_id,
        case_kind=after.case_kind,
        linked_at=after.opened_at or occurred_at,
    )
