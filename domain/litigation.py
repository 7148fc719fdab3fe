"""Administrative litigation 行政诉讼 lifecycle, the bureau being the defendant."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from . import catalog as ev
from .lifecycle import CaseState, Lifecycle, step


class LitigationStatus(StrEnum):
    """The statuses of a lawsuit (行政诉讼), in lifecycle order."""

    filed = "filed"
    served = "served"
    defended = "defended"  # 答辩
    heard = "heard"  # 开庭
    judged = "judged"  # 判决
    appealed = "appealed"
    effective = "effective"  # 生效


class LitigationState(CaseState):
    plaintiff: ev.Person | None = None
    court: str | None = None
    court_case_no: str | None = None
    instance: ev.Instance = ev.Instance.first
    simplified: bool = False
    defence_submitted: bool = False
    hearings: int = 0
    agency_head_appeared: bool = False  # 负责人出庭应诉 at any hearing
    judgment_outcome: ev.JudgmentOutcome | None = None
    judgment_form: ev.JudgmentForm | None = None
    appealed_by: str | None = None


_BEFORE_JUDGMENT = (
    LitigationStatus.filed,
    LitigationStatus.served,
    LitigationStatus.defended,
    LitigationStatus.heard,
)


def _apply(state: LitigationState, payload: ev.Payload, at: datetime) -> Mapping[str, Any]:
    match payload:
        case ev.LawsuitFiled():
            return {
                "plaintiff": payload.plaintiff,
                "court": payload.court,
                "court_case_no": payload.court_case_no,
                "instance": payload.instance,
                "simplified": payload.simplified,
                "decision_ref": payload.decision_ref,
                "department": payload.department or state.department,
            }
        case ev.DefenceSubmitted():
            return {"defence_submitted": True}
        case ev.HearingHeld():
            return {
                "hearings": state.hearings + 1,
                "agency_head_appeared": state.agency_head_appeared or payload.agency_head_appeared,
            }
        case ev.JudgmentIssued():
            return {
                "judgment_outcome": payload.outcome,
                "judgment_form": payload.form,
                "instance": payload.instance,
            }
        case ev.AppealFiled():
            return {"appealed_by": payload.appellant, "court": payload.court or state.court}
    return {}


LITIGATION = Lifecycle(
    kind=ev.CaseKind.litigation,
    state_type=LitigationState,
    statuses=tuple(status.value for status in LitigationStatus),
    transitions={
        ev.ComplaintCopyServed: step(LitigationStatus.filed, LitigationStatus.served),
        ev.DefenceSubmitted: step(
            (LitigationStatus.filed, LitigationStatus.served), LitigationStatus.defended
        ),
        ev.HearingHeld: step(_BEFORE_JUDGMENT, LitigationStatus.heard),
        # a second-instance judgment follows an appeal
        ev.JudgmentIssued: step(
            (*_BEFORE_JUDGMENT, LitigationStatus.appealed), LitigationStatus.judged, reopens=True
        ),
        ev.JudgmentServed: step(LitigationStatus.judged),
        ev.AppealFiled: step(LitigationStatus.judged, LitigationStatus.appealed),
        ev.JudgmentEffective: step(LitigationStatus.judged, LitigationStatus.effective),
    },
    apply=_apply,
)
