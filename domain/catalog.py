"""The event catalog: every event type of casestream and the shape of its payload.

This module is the only place an event type is spelled. Payloads are frozen pydantic
models; each carries its `schema_version` and the case kinds it may belong to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)


class CaseKind(StrEnum):
    """The five kinds of case casestream tracks."""

    complaint = "complaint"  # 投诉 (incl. 12345 hotline, 信访)
    enterprise_tip = "enterprise_tip"  # 涉企举报线索
    reconsideration = "reconsideration"  # 行政复议, bureau as respondent
    litigation = "litigation"  # 行政诉讼, bureau as defendant
    rectification = "rectification"  # 复盘 review and 整改 rectification of a lost case


class Channel(StrEnum):
    """How a complaint reached the bureau."""

    hotline_12345 = "hotline_12345"
    window = "window"
    letter = "letter"
    online = "online"
    petition = "petition"  # 信访


class ComplaintOutcome(StrEnum):
    substantiated = "substantiated"
    partly_substantiated = "partly_substantiated"
    unsubstantiated = "unsubstantiated"
    explained = "explained"  # 解释说明
    other = "other"


class VerificationResult(StrEnum):
    """核查 result of an enterprise tip-off."""

    substantiated = "substantiated"
    unsubstantiated = "unsubstantiated"
    partly = "partly"


class ReconsiderationDecision(StrEnum):
    maintained = "maintained"  # 维持
    rejected = "rejected"  # 驳回
    revoked = "revoked"  # 撤销
    altered = "altered"  # 变更
    confirmed_illegal = "confirmed_illegal"  # 确认违法
    ordered_to_perform = "ordered_to_perform"  # 责令履行
    mediated = "mediated"  # 调解
    terminated = "terminated"  # 终止


class JudgmentOutcome(StrEnum):
    claim_dismissed = "claim_dismissed"  # 驳回诉讼请求
    revoked = "revoked"  # 撤销
    confirmed_illegal = "confirmed_illegal"  # 确认违法
    ordered_to_perform = "ordered_to_perform"  # 判决履行
    altered = "altered"  # 变更
    compensation = "compensation"  # 赔偿
    mediated = "mediated"
    withdrawn = "withdrawn"


class Instance(StrEnum):
    first = "first"
    second = "second"
    retrial = "retrial"  # 再审


class JudgmentForm(StrEnum):
    judgment = "judgment"  # 判决
    ruling = "ruling"  # 裁定


class RootCause(StrEnum):
    """Root causes found by a 复盘 review."""

    procedure = "procedure"  # 程序违法
    facts = "facts"  # 事实不清、证据不足
    law = "law"  # 适用法律错误
    authority = "authority"  # 超越职权
    unreasonable = "unreasonable"  # 明显不当
    other = "other"


class Origin(StrEnum):
    """Who may put an event of a type on the topics (see README, "Who may post what").

    `outside`: a fact from outside the bureau's staff decisions (the 12345 platform, a court,
    the reconsideration office, a case registered at a window): posted raw (`POST /events`) by
    a `system` or `legal` caller. `command`: a staff decision inside the bureau, made only
    through its command endpoint with the right role, never posted raw. `casestream`: derived
    by casestream itself (alerts; a rectification cancelled when its loss is overturned),
    never posted by anyone."""

    outside = "outside"
    command = "command"
    casestream = "casestream"


NonEmpty = Annotated[str, Field(min_length=1, max_length=2000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
RootCauses = Annotated[list[RootCause], Field(min_length=1, max_length=len(RootCause))]
Evidence = Annotated[list[ShortText], Field(min_length=1, max_length=100)]  # 整改 evidence items


class EvidenceMediaType(StrEnum):
    """The kinds of evidence file (证据材料) casestream keeps, as found in the file's content
    (never its name): documents, scans and photos, office documents."""

    pdf = "application/pdf"
    png = "image/png"
    jpeg = "image/jpeg"
    gif = "image/gif"
    webp = "image/webp"
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    pptx = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    doc = "application/msword"
    xls = "application/vnd.ms-excel"
    ppt = "application/vnd.ms-powerpoint"
    odt = "application/vnd.oasis.opendocument.text"
    ods = "application/vnd.oasis.opendocument.spreadsheet"
    odp = "application/vnd.oasis.opendocument.presentation"


Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest in lower-case hex: the name of a stored file."""

FileName = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f/\\]+$")]
"""A file's name as its uploader gave it: no folders, no control characters."""

MAX_CITED_FILES = 20


class EvidenceFile(BaseModel):
    """An evidence file an event cites: its content is stored under its digest
    (`POST /files`), the event carries only what identifies and describes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: Sha256
    name: FileName
    media_type: EvidenceMediaType
    size: Annotated[int, Field(ge=1)]


EvidenceFiles = Annotated[list[EvidenceFile], Field(max_length=MAX_CITED_FILES)]


@dataclass(frozen=True)
class PersonalData:
    """Marks a field as personal data (个人信息) in its type, `Annotated[str, PersonalData(...)]`:
    every view of a model holding it masks it for the roles that may not see it (api/masking.py
    walks the model's fields, so a newly marked field is masked without naming it anywhere).

    `kind` says what it is, and so how it is masked: `name`, `phone`, `id_number`; anything else
    is masked whole."""

    kind: str


class Person(BaseModel):
    """A complainant, applicant, plaintiff or informant. Personal data: mask when listing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[ShortText, PersonalData("name")]
    phone: Annotated[str, Field(pattern=r"^[0-9+\-() ]{3,30}$"), PersonalData("phone")] | None = (
        None
    )
    id_number: (
        Annotated[str, Field(pattern=r"^[0-9]{17}[0-9Xx]$"), PersonalData("id_number")] | None
    ) = None


class Payload(BaseModel):
    """Base of every event payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: ClassVar[int] = 1
    case_kinds: ClassVar[frozenset[CaseKind]] = frozenset()
    opens_case: ClassVar[bool] = False
    derived: ClassVar[bool] = False  # produced by casestream itself, never by outsiders
    origin: ClassVar[Origin] = Origin.outside


class CitesFiles(Payload):
    """A payload that may cite evidence files (证据材料), uploaded first (`POST /files`).

    `files` was added to these types after events of them were published: an older event reads
    with none, and an event citing none is published without the field, exactly as before
    (docs/events.md, "Versions and upcasting")."""

    files: EvidenceFiles = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _without_empty_files(self, handler: SerializerFunctionWrapHandler) -> Any:
        dumped = handler(self)
        if isinstance(dumped, dict) and not dumped.get("files"):
            dumped.pop("files", None)
        return dumped


_COMPLAINT = frozenset({CaseKind.complaint})
_TIP = frozenset({CaseKind.enterprise_tip})
_RECON = frozenset({CaseKind.reconsideration})
_LIT = frozenset({CaseKind.litigation})
_RECT = frozenset({CaseKind.rectification})
_CLOCKED = frozenset({CaseKind.complaint, CaseKind.enterprise_tip})
_ALL = frozenset(CaseKind)


# --- complaint 投诉 -------------------------------------------------------------------


class ComplaintReceived(Payload):
    case_kinds = _COMPLAINT
    opens_case = True

    channel: Channel
    subject: ShortText
    description: str = Field(default="", max_length=10000)
    complainant: Person | None = None
    enterprise: bool = False  # 涉企投诉: handled first
    enterprise_name: ShortText | None = None
    department: ShortText | None = None
    decision_ref: ShortText | None = None  # 处罚决定书文号 the complaint is about
    work_order_no: ShortText | None = None  # 12345 工单号


class ComplaintAccepted(Payload):
    case_kinds = _COMPLAINT

    department: ShortText | None = None


class ComplaintRejected(Payload):
    """不予受理."""

    case_kinds = _COMPLAINT

    reason: NonEmpty


class ComplaintAssigned(Payload):
    case_kinds = _COMPLAINT

    department: ShortText
    handler: ShortText | None = None


class ComplaintTransferred(Payload):
    case_kinds = _COMPLAINT

    to_department: ShortText
    reason: str = Field(default="", max_length=2000)


class ComplaintReplied(Payload):
    case_kinds = _COMPLAINT

    reply: NonEmpty


class ComplaintResolved(Payload):
    """办结."""

    case_kinds = _COMPLAINT

    outcome: ComplaintOutcome
    summary: str = Field(default="", max_length=10000)


class ComplaintFollowUpVisited(Payload):
    """回访."""

    case_kinds = _COMPLAINT

    satisfaction: Annotated[int, Field(ge=1, le=5)]
    comment: str = Field(default="", max_length=2000)


class ComplaintReopened(Payload):
    case_kinds = _COMPLAINT

    reason: NonEmpty


class DeadlineExtended(Payload):
    """An approved extension of a case's deadline (延期)."""

    case_kinds = _CLOCKED

    approved_by: ShortText
    new_length: Annotated[int, Field(ge=1, le=3650)]  # in the rule's unit
    rule: ShortText | None = None
    reason: str = Field(default="", max_length=2000)


class CaseSuspended(Payload):
    """中止: pauses the case's clocks."""

    case_kinds = _CLOCKED

    reason: NonEmpty


class CaseResumed(Payload):
    case_kinds = _CLOCKED

    reason: str = Field(default="", max_length=2000)


class SupervisionFlagged(Payload):
    """督察: a poor 回访 puts the complaint under the supervision office's eye.

    Derived by casestream from a ComplaintFollowUpVisited whose satisfaction is at or below
    the deployment's threshold (domain/supervision_flags.py); never posted by anyone."""

    case_kinds = _COMPLAINT
    origin = Origin.casestream

    satisfaction: Annotated[int, Field(ge=1, le=5)]
    threshold: Annotated[int, Field(ge=1, le=5)]  # the highest score that is flagged
    reason: NonEmpty


class SupervisionClosed(Payload):
    """督察 closed by a supervisor: the poor 回访 has been looked into."""

    case_kinds = _COMPLAINT
    origin = Origin.command

    supervisor: ShortText
    conclusion: NonEmpty


# --- enterprise tip 涉企举报线索 -----------------------------------------------------


class TipReceived(Payload):
    case_kinds = _TIP
    opens_case = True

    enterprise: ShortText
    subject: ShortText
    description: str = Field(default="", max_length=10000)
    informant: Person | None = None
    anonymous: bool = False
    department: ShortText | None = None


class TipAssigned(Payload):
    case_kinds = _TIP

    department: ShortText
    handler: ShortText | None = None


class TipVerified(Payload):
    """核查 result."""

    case_kinds = _TIP

    result: VerificationResult
    findings: str = Field(default="", max_length=10000)


class TipClosed(Payload):
    case_kinds = _TIP

    summary: str = Field(default="", max_length=10000)


class TipFeedbackGiven(Payload):
    """反馈 to the informant."""

    case_kinds = _TIP

    method: ShortText = "phone"
    summary: str = Field(default="", max_length=2000)


# --- reconsideration 行政复议 --------------------------------------------------------


class ReconsiderationApplied(Payload):
    case_kinds = _RECON
    opens_case = True

    applicant: Person
    decision_ref: ShortText
    reconsideration_body: ShortText  # 复议机关
    matter: str = Field(default="", max_length=10000)
    department: ShortText | None = None  # the department whose act is challenged


class ReconsiderationAccepted(Payload):
    case_kinds = _RECON

    simplified: bool = False  # 简易程序


class ApplicationCopyReceived(Payload):
    """The bureau received the application copy: starts the reply clock."""

    case_kinds = _RECON

    simplified: bool = False


class ReplySubmitted(CitesFiles):
    """答复 with evidence.

    Version 2 calls the number of evidence items `evidence_count` (version 1:
    `evidence_items`, read through domain/upcasting.py)."""

    schema_version = 2
    case_kinds = _RECON

    summary: str = Field(default="", max_length=10000)
    evidence_count: Annotated[int, Field(ge=0)] = 0  # how many evidence items the reply lists


class HearingHeld(Payload):
    case_kinds = frozenset({CaseKind.reconsideration, CaseKind.litigation})

    hearing_date: date | None = None
    agency_head_appeared: bool = False  # 负责人出庭应诉
    notes: str = Field(default="", max_length=10000)


class ReconsiderationExtended(Payload):
    case_kinds = _RECON

    extension_days: Annotated[int, Field(ge=1, le=30)]
    approved_by: ShortText | None = None
    reason: str = Field(default="", max_length=2000)


class ReconsiderationSuspended(Payload):
    case_kinds = _RECON

    reason: NonEmpty


class ReconsiderationResumed(Payload):
    case_kinds = _RECON

    reason: str = Field(default="", max_length=2000)


class ReconsiderationDecided(Payload):
    case_kinds = _RECON

    decision: ReconsiderationDecision
    decision_no: ShortText | None = None
    summary: str = Field(default="", max_length=10000)


class ReconsiderationWithdrawn(Payload):
    case_kinds = _RECON

    reason: str = Field(default="", max_length=2000)


class ReconsiderationOpinionReceived(Payload):
    """行政复议意见书: correct the act and report within 60 days."""

    case_kinds = _RECON

    opinion_no: ShortText
    requested_action: NonEmpty


# --- litigation 行政诉讼 -------------------------------------------------------------


class LawsuitFiled(Payload):
    case_kinds = _LIT
    opens_case = True

    court: ShortText
    instance: Instance = Instance.first
    plaintiff: Person
    decision_ref: ShortText
    court_case_no: ShortText | None = None
    simplified: bool = False
    department: ShortText | None = None


class ComplaintCopyServed(Payload):
    """起诉状副本 served on the bureau: starts the defence clock."""

    case_kinds = _LIT


class DefenceSubmitted(CitesFiles):
    case_kinds = _LIT

    summary: str = Field(default="", max_length=10000)


class BureauAppearance(BaseModel):
    """Someone who appeared in court for the bureau (出庭人员): a leader, the legal office, a
    handler of the department whose act is disputed, or an agent (委托代理人)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: ShortText
    title: ShortText | None = None  # 职务 or role: 副局长, 法制大队, 委托代理律师


class CourtHearingScheduled(Payload):
    """开庭 notice: the court set a hearing. With the agency head expected (负责人出庭应诉,
    行政诉讼法 Art 3 ¶3) it starts a reminder clock due on the hearing date; a later notice
    replaces it (rescheduled)."""

    case_kinds = _LIT

    hearing_date: date
    court: ShortText | None = None  # the court or courtroom, when not the case's court
    head_expected: bool = False  # 行政机关负责人 expected to appear


class CourtHearingHeld(Payload):
    """开庭 held: who appeared for the bureau and whether the agency head was among them; each
    one counts once in the 出庭应诉率 (head_appeared / hearings held)."""

    case_kinds = _LIT

    held_on: date
    appeared: Annotated[list[BureauAppearance], Field(max_length=20)] = Field(default_factory=list)
    head_appeared: bool = False  # 负责人出庭应诉
    notes: str = Field(default="", max_length=10000)


class JudgmentIssued(Payload):
    case_kinds = _LIT

    instance: Instance
    outcome: JudgmentOutcome
    form: JudgmentForm = JudgmentForm.judgment
    judgment_no: ShortText | None = None


class JudgmentServed(Payload):
    """Starts the appeal window."""

    case_kinds = _LIT

    form: JudgmentForm = JudgmentForm.judgment


class AppealFiled(Payload):
    case_kinds = _LIT

    appellant: Literal["bureau", "plaintiff"]
    court: ShortText | None = None


class JudgmentEffective(Payload):
    """生效."""

    case_kinds = _LIT


# --- rectification 复盘 / 整改 -------------------------------------------------------


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


# --- alerts (derived) ----------------------------------------------------------------


class _AlertPayload(Payload):
    case_kinds = _ALL
    derived = True
    origin = Origin.casestream

    alert_id: ShortText
    clock_id: ShortText
    rule: ShortText
    due_at: datetime
    scheduled_at: datetime  # when the rule's schedule said this alert was due
    department: ShortText | None = None
    enterprise: bool = False
    notify: ShortText | None = None  # escalation: handler / department_head / bureau_leadership


class DeadlineApproaching(_AlertPayload):
    level: Annotated[int, Field(ge=1, le=3)] = 1


class DeadlineBreached(_AlertPayload):
    level: Annotated[int, Field(ge=1, le=3)] = 2


class Escalated(_AlertPayload):
    """Level 1 handler → 2 department head → 3 bureau leadership."""

    level: Annotated[int, Field(ge=1, le=3)]


class SupervisionRequested(_AlertPayload):
    """督察 requested: a complaint went under supervision after a poor 回访; the supervision
    office (notify=supervisor) is to look into it.

    Derived by casestream when a SupervisionFlagged puts the complaint under supervision
    (domain/supervision_flags.py). No deadline runs: `clock_id` names the supervision
    (`<case>/complaint.supervision/<flagged at>`), `due_at` and `scheduled_at` are the instant
    it was flagged. An AlertCleared on the same clock_id follows when the supervision is closed
    or the complaint reopened."""

    case_kinds = _COMPLAINT

    level: Annotated[int, Field(ge=1, le=3)] = 3  # the bureau's supervision office


class AlertCleared(_AlertPayload):
    reason: str = Field(default="", max_length=2000)


PAYLOAD_TYPES: dict[str, type[Payload]] = {
    cls.__name__: cls
    for cls in (
        ComplaintReceived,
        ComplaintAccepted,
        ComplaintRejected,
        ComplaintAssigned,
        ComplaintTransferred,
        ComplaintReplied,
        ComplaintResolved,
        ComplaintFollowUpVisited,
        ComplaintReopened,
        DeadlineExtended,
        CaseSuspended,
        CaseResumed,
        SupervisionFlagged,
        SupervisionClosed,
        TipReceived,
        TipAssigned,
        TipVerified,
        TipClosed,
        TipFeedbackGiven,
        ReconsiderationApplied,
        ReconsiderationAccepted,
        ApplicationCopyReceived,
        ReplySubmitted,
        HearingHeld,
        ReconsiderationExtended,
        ReconsiderationSuspended,
        ReconsiderationResumed,
        ReconsiderationDecided,
        ReconsiderationWithdrawn,
        ReconsiderationOpinionReceived,
        LawsuitFiled,
        ComplaintCopyServed,
        DefenceSubmitted,
        CourtHearingScheduled,
        CourtHearingHeld,
        JudgmentIssued,
        JudgmentServed,
        AppealFiled,
        JudgmentEffective,
        ReviewTaskOpened,
        ReviewCompleted,
        RectificationOpened,
        MeasureAdded,
        ProgressReported,
        RectificationCompleted,
        RectificationVerified,
        RectificationRejected,
        RectificationReopened,
        RectificationDeadlineExtended,
        ResponsiblePersonChanged,
        RectificationCancelled,
        DeadlineApproaching,
        DeadlineBreached,
        Escalated,
        SupervisionRequested,
        AlertCleared,
    )
}
"""Every event type by its name on the wire."""


def cited_files(payload: Payload) -> list[EvidenceFile]:
    """The evidence files `payload` cites (none for a type that cites no files)."""
    return list(payload.files) if isinstance(payload, CitesFiles) else []
