"""Administrative litigation 行政诉讼 lifecycle, the bureau being the defendant."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

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


class ScheduledHearing(BaseModel):
    """开庭 set by the court and not held yet."""

    model_config = ConfigDict(frozen=True)

    hearing_date: date
    court: str | None
    head_expected: bool


class HeldHearing(BaseModel):
    """开庭 held: who appeared for the bureau (出庭人员), the agency head among them or not."""

    model_config = ConfigDict(frozen=True)

    held_on: date | None  # a HearingHeld may leave its date out
    appeared: tuple[ev.BureauAppearance, ...] = ()  # HearingHeld names nobody
    head_appeared: bool = False


class LitigationState(CaseState):
    plaintiff: ev.Person | None = None
    court: str | None = None
    court_case_no: str | None = None
    instance: ev.Instance = ev.Instance.first
    simplified: bool = False
    defence_submitted: bool = False
    hearings: int = 0  # hearings held (HearingHeld or CourtHearingHeld)
    head_appearances: int = 0  # of those, the agency head appeared (负责人出庭应诉)
    agency_head_appeared: bool = False  # 负责人出庭应诉 at any hearing
    next_hearing: ScheduledHearing | None = None
    held_hearings: tuple[HeldHearing, ...] = ()
    judgment_outcome: ev.JudgmentOutcome | None = None
    judgment_form: ev.JudgmentForm | None = None
    appealed_by: str | None = None


_BEFORE_JUDGMENT = (
    LitigationStatus.filed,
    LitigationStatus.served,
    LitigationStatus.defended,
    LitigationStatus.heard,
)
_HEARING_FROM = (*_BEFORE_JUDGMENT, LitigationStatus.appealed)


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
        case ev.CourtHearingScheduled():
            scheduled = ScheduledHearing(
                hearing_date=payload.hearing_date,
                court=payload.court,
                head_expected=payload.head_expected,
            )
            return {"next_hearing": scheduled}
        case ev.HearingHeld():
            held = HeldHearing(
                held_on=payload.hearing_date, head_appeared=payload.agency_head_appeared
            )
            return _held(state, held)
        case ev.CourtHearingHeld():
            held = HeldHearing(
                held_on=payload.held_on,
                appeared=tuple(payload.appeared),
                head_appeared=payload.head_appeared,
            )
            return _held(state, held)
        case ev.JudgmentIssued():
            return {
                "judgment_outcome": payload.outcome,
                "judgment_form": payload.form,
                "instance": payload.instance,
            }
        case ev.AppealFiled():
            return {"appealed_by": payload.appellant, "court": payload.court or state.court}
    return {}


def _held(state: LitigationState, held: HeldHearing) -> Mapping[str, Any]:
    return {
        "hearings": state.hearings + 1,
        "head_appearances": state.head_appearances + int(held.head_appeared),
        "agency_head_appeared": state.agency_head_appeared or held.head_appeared,
        "held_hearings": (*state.held_hearings, held),
        "next_hearing": None,
    }


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
        # a second-instance hearing follows an appeal (the status stays appealed)
        ev.CourtHearingScheduled: step(_HEARING_FROM),
        ev.CourtHearingHeld: step(_HEARING_FROM, LitigationStatus.heard),
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
