"""The public form of each case kind's state, as GET /cases/{case_id} and a rectification's
source case show it: the domain state's own fields (a key the stored state holds but the state
does not declare is never shown), with its persons as `PersonView`, which a masked value fits."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from casestream.domain.catalog import CaseKind, Person, PersonalData
from casestream.domain.complaints import ComplaintState
from casestream.domain.enforcement import (
    EnforcementDecisionState,
    EnforcementNoticeState,
    EnforcementReviewState,
)
from casestream.domain.litigation import LitigationState
from casestream.domain.reconsiderations import ReconsiderationState
from casestream.domain.rectifications import RectificationState
from casestream.domain.tips import TipState


class PersonView(Person):
    """A person as shown (personal data as recorded, or masked: 王** fits no input pattern)."""

    name: Annotated[str, PersonalData("name")]
    phone: Annotated[str, PersonalData("phone")] | None = None
    id_number: Annotated[str, PersonalData("id_number")] | None = None


class ComplaintView(ComplaintState):
    case_kind: Literal[CaseKind.complaint]
    complainant: PersonView | None = None


class TipView(TipState):
    case_kind: Literal[CaseKind.enterprise_tip]
    informant: PersonView | None = None  # None when anonymous


class ReconsiderationView(ReconsiderationState):
    case_kind: Literal[CaseKind.reconsideration]
    applicant: PersonView | None = None


class LitigationView(LitigationState):
    case_kind: Literal[CaseKind.litigation]
    plaintiff: PersonView | None = None


class RectificationView(RectificationState):
    case_kind: Literal[CaseKind.rectification]


class EnforcementReviewView(EnforcementReviewState):
    case_kind: Literal[CaseKind.enforcement_review]


class EnforcementNoticeView(EnforcementNoticeState):
    case_kind: Literal[CaseKind.enforcement_notice]


class EnforcementDecisionView(EnforcementDecisionState):
    case_kind: Literal[CaseKind.enforcement_decision]


AnyStateView = (
    ComplaintView
    | TipView
    | ReconsiderationView
    | LitigationView
    | RectificationView
    | EnforcementReviewView
    | EnforcementNoticeView
    | EnforcementDecisionView
)

StateView = Annotated[AnyStateView, Field(discriminator="case_kind")]
"""The state of a case of any kind, told apart by its `case_kind`."""

_state_views: TypeAdapter[AnyStateView] = TypeAdapter(StateView)


def state_view(stored: Any) -> AnyStateView:
    """The public view of a state as the read model stores it (its JSON form)."""
    return _state_views.validate_python(stored)
