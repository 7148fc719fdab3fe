"""The shared part of the event catalog: the case kinds and the other enumerations events
use, the bounded text types, evidence files, persons (personal data) and the base classes
of every payload (`Payload`, `CitesFiles`). Import them from `casestream.domain.catalog`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)


class CaseKind(StrEnum):
    """The kinds of case casestream tracks."""

    complaint = "complaint"  # 投诉 (incl. 12345 hotline, 信访)
    enterprise_tip = "enterprise_tip"  # 涉企举报线索
    reconsideration = "reconsideration"  # 行政复议, bureau as respondent
    litigation = "litigation"  # 行政诉讼, bureau as defendant
    rectification = "rectification"  # 复盘 review and 整改 rectification of a lost case
    enforcement_review = "enforcement_review"  # 执法质量考评 of one enforcement case
    enforcement_notice = "enforcement_notice"  # 执法监督书 issued to a department
    enforcement_decision = "enforcement_decision"  # 不予处罚 / 轻微免罚 decision and its 公示


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
