"""The 复盘 review and 整改 rectification events of the catalog."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from .shared import (
    CaseKind,
    CitesFiles,
    Evidence,
    NonEmpty,
    Origin,
    Payload,
    RootCauses,
    ShortText,
)

_RECT = frozenset({CaseKind.rectification})


class ReviewTaskOpened(Payload):
    """复盘 task for a lost or corrected case."""

    case_kinds = _RECT
    origin = Origin.command
    opens_case = True

    source_case_id: ShortText
    source_case_kind: CaseKind
    department: ShortText
    responsible_person: ShortText | None = None
    decision_ref: ShortText | None = None


class ReviewCompleted(Payload):
    case_kinds = _RECT
    origin = Origin.command

    root_causes: RootCauses
    lessons: NonEmpty


class RectificationOpened(Payload):
    """整改 with a responsible department, person and deadline (时限)."""

    case_kinds = _RECT
    origin = Origin.command
    opens_case = True

    source_case_id: ShortText | None = None
    source_case_kind: CaseKind | None = None
    department: ShortText
    responsible_person: ShortText
    deadline: date | None = None
    description: str = Field(default="", max_length=10000)
    decision_ref: ShortText | None = None


class MeasureAdded(Payload):
    case_kinds = _RECT
    origin = Origin.command

    measure: NonEmpty


class ProgressReported(Payload):
    case_kinds = _RECT
    origin = Origin.command

    progress: NonEmpty
    reported_by: ShortText | None = None
    percent: Annotated[int, Field(ge=0, le=100)] | None = None


class RectificationCompleted(CitesFiles):
    case_kinds = _RECT
    origin = Origin.command

    evidence: Evidence
    summary: str = Field(default="", max_length=10000)


class RectificationVerified(Payload):
    """督办 check passed."""

    case_kinds = _RECT
    origin = Origin.command

    supervisor: ShortText
    comment: str = Field(default="", max_length=2000)


class RectificationRejected(Payload):
    case_kinds = _RECT
    origin = Origin.command

    supervisor: ShortText
    reason: NonEmpty


class RectificationReopened(Payload):
    case_kinds = _RECT
    origin = Origin.command

    reason: NonEmpty


class RectificationDeadlineExtended(Payload):
    """延期: leadership approved a new 整改时限; the completion clock counts to it."""

    case_kinds = _RECT
    origin = Origin.command

    deadline: date
    approved_by: ShortText
    reason: str = Field(default="", max_length=2000)


class ResponsiblePersonChanged(Payload):
    """Another person is made responsible for the rectification (责任人变更)."""

    case_kinds = _RECT
    origin = Origin.command

    responsible_person: ShortText
    reason: str = Field(default="", max_length=2000)


class RectificationCancelled(Payload):
    """The loss behind the rectification no longer stands (e.g. overturned on appeal)."""

    case_kinds = _RECT
    origin = Origin.casestream  # derived by the outcomes processor

    reason: NonEmpty
