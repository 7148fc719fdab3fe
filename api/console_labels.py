"""Chinese labels for the console: one table per enumeration the pages show.

Pages never print an enumeration's value to people; they look it up here (`label(table, value)`
falls back to the value itself, so a value added to an enumeration later still shows)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from casestream.domain import catalog as ev
from casestream.domain.catalog import (
    CaseKind,
    Channel,
    ComplaintOutcome,
    ExemptionType,
    Instance,
    JudgmentForm,
    JudgmentOutcome,
    OpinionCategory,
    ReconsiderationDecision,
    RootCause,
    VerificationResult,
)
from casestream.domain.clocks import AlertStatus, ClockStatus
from casestream.domain.commands import Role
from casestream.domain.complaints import ComplaintStatus
from casestream.domain.deadlines import SkipReason
from casestream.domain.enforcement import (
    EnforcementDecisionStatus,
    EnforcementNoticeStatus,
    EnforcementReviewStatus,
)
from casestream.domain.litigation import LitigationStatus
from casestream.domain.reconsiderations import ReconsiderationStatus
from casestream.domain.rectifications import RectificationStatus, ReviewStatus
from casestream.domain.rules import Unit
from casestream.domain.tips import TipStatus
from casestream.domain.words import ALERT_LEVELS as ALERT_LEVELS
from casestream.domain.words import ALERT_TYPES as ALERT_TYPES
from casestream.domain.words import EXEMPTIONS as EXEMPTIONS
from casestream.domain.words import INSTANCES as INSTANCES
from casestream.domain.words import JUDGMENT_OUTCOMES as JUDGMENT_OUTCOMES
from casestream.domain.words import KINDS as KINDS
from casestream.domain.words import RECONSIDERATION_DECISIONS as RECONSIDERATION_DECISIONS
from casestream.domain.words import rule_title_zh as rule_title_zh

ROLES: Mapping[str, str] = {
    Role.handler: "承办人",
    Role.department_head: "部门负责人",
    Role.legal: "法制员",
    Role.supervisor: "督察",
    Role.leader: "局领导",
    Role.system: "系统",
}
CHANNELS: Mapping[str, str] = {
    Channel.hotline_12345: "12345热线",
    Channel.window: "窗口",
    Channel.letter: "来信",
    Channel.online: "网上",
    Channel.petition: "信访",
}
# case statuses, per kind (a status value may mean different things in two kinds)
STATUSES: Mapping[str, Mapping[str, str]] = {
    CaseKind.complaint: {
        ComplaintStatus.received: "新收",
        ComplaintStatus.rejected: "不予受理",
        ComplaintStatus.accepted: "已受理",
        ComplaintStatus.assigned: "已交办",
        ComplaintStatus.replied: "已答复",
        ComplaintStatus.resolved: "已办结",
        ComplaintStatus.followed_up: "已回访",
    },
    CaseKind.enterprise_tip: {
        TipStatus.received: "新收",
        TipStatus.assigned: "已交办",
        TipStatus.verified: "已核查",
        TipStatus.closed: "已办结",
    },
    CaseKind.reconsideration: {
        ReconsiderationStatus.applied: "已申请",
        ReconsiderationStatus.accepted: "已受理",
        ReconsiderationStatus.withdrawn: "已撤回",
        ReconsiderationStatus.decided: "已决定",
    },
    CaseKind.litigation: {
        LitigationStatus.filed: "已立案",
        LitigationStatus.served: "已送达",
        LitigationStatus.defended: "已答辩",
        LitigationStatus.heard: "已开庭",
        LitigationStatus.judged: "已判决",
        LitigationStatus.appealed: "已上诉",
        LitigationStatus.effective: "已生效",
    },
    CaseKind.rectification: {
        RectificationStatus.open: "复盘中",
        RectificationStatus.in_progress: "整改中",
        RectificationStatus.completed: "待核验",
        RectificationStatus.rejected: "已退回",
        RectificationStatus.verified: "已核验",
        RectificationStatus.cancelled: "已撤销",
    },
    CaseKind.enforcement_review: {
        EnforcementReviewStatus.opened: "评查中",
        EnforcementReviewStatus.completed: "已评分",
    },
    CaseKind.enforcement_notice: {
        EnforcementNoticeStatus.issued: "整改中",
        EnforcementNoticeStatus.rectified: "已整改",
    },
    CaseKind.enforcement_decision: {
        EnforcementDecisionStatus.recorded: "待公示",
        EnforcementDecisionStatus.published: "已公示",
        EnforcementDecisionStatus.withdrawn: "已撤回公示",
    },
}
REVIEW_STATUSES: Mapping[str, str] = {
    ReviewStatus.open: "复盘中",
    ReviewStatus.completed: "复盘完成",
}
CLOCK_STATUSES: Mapping[str, str] = {
    ClockStatus.running: "计时中",
    ClockStatus.paused: "中止",
    ClockStatus.met: "按期",
    ClockStatus.breached: "超期",
    ClockStatus.cancelled: "已取消",
}
ALERT_STATUSES: Mapping[str, str] = {AlertStatus.open: "未解除", AlertStatus.cleared: "已解除"}
COMPLAINT_OUTCOMES: Mapping[str, str] = {
    ComplaintOutcome.substantiated: "属实",
    ComplaintOutcome.partly_substantiated: "部分属实",
    ComplaintOutcome.unsubstantiated: "不属实",
    ComplaintOutcome.explained: "解释说明",
    ComplaintOutcome.other: "其他",
}
VERIFICATION_RESULTS: Mapping[str, str] = {
    VerificationResult.substantiated: "属实",
    VerificationResult.unsubstantiated: "不属实",
    VerificationResult.partly: "部分属实",
}
JUDGMENT_FORMS: Mapping[str, str] = {JudgmentForm.judgment: "判决", JudgmentForm.ruling: "裁定"}
ROOT_CAUSES: Mapping[str, str] = {
    RootCause.procedure: "程序违法",
    RootCause.facts: "事实不清、证据不足",
    RootCause.law: "适用法律错误",
    RootCause.authority: "超越职权",
    RootCause.unreasonable: "明显不当",
    RootCause.other: "其他",
}
OPINION_CATEGORIES: Mapping[str, str] = {
    OpinionCategory.facts: "事实认定",
    OpinionCategory.evidence: "证据",
    OpinionCategory.procedure: "程序",
    OpinionCategory.law: "法律适用",
    OpinionCategory.documents: "文书制作",
    OpinionCategory.discretion: "裁量",
    OpinionCategory.property: "涉案财物管理",
    OpinionCategory.other: "其他",
}
# every enumeration a command form may offer as a choice, by its class
CHOICES: Mapping[type[StrEnum], Mapping[str, str]] = {
    CaseKind: KINDS,
    Channel: CHANNELS,
    Role: ROLES,
    ComplaintOutcome: COMPLAINT_OUTCOMES,
    VerificationResult: VERIFICATION_RESULTS,
    ReconsiderationDecision: RECONSIDERATION_DECISIONS,
    JudgmentOutcome: JUDGMENT_OUTCOMES,
    Instance: INSTANCES,
    JudgmentForm: JUDGMENT_FORMS,
    RootCause: ROOT_CAUSES,
    OpinionCategory: OPINION_CATEGORIES,
    ExemptionType: EXEMPTIONS,
}


def label(table: Mapping[str, str], value: str | None) -> str:
    """The Chinese label of `value`, the value itself when the table lacks it, "" for None."""
    if value is None:
        return ""
    return table.get(value, value)


def status_label(kind: str, status: str | None) -> str:
    return label(STATUSES.get(kind, {}), status)


# --- home ---
# the alerts of the 工作台's 实时提醒 (ALERT_TYPES) and their levels (ALERT_LEVELS): domain/words.py


# --- detail ---

# each event type by its payload class (never by its spelt name: the catalog's alone)
EVENT_LABELS: Mapping[type[ev.Payload], str] = {
    ev.ComplaintReceived: "收到投诉",
    ev.ComplaintAccepted: "受理",
    ev.ComplaintRejected: "不予受理",
    ev.ComplaintAssigned: "交办",
    ev.ComplaintTransferred: "转办",
    ev.ComplaintReplied: "答复",
    ev.ComplaintResolved: "办结",
    ev.ComplaintFollowUpVisited: "回访",
    ev.ComplaintReopened: "重新办理",
    ev.DeadlineExtended: "延期",
    ev.CaseSuspended: "中止",
    ev.CaseResumed: "恢复办理",
    ev.SupervisionFlagged: "列入督察",
    ev.SupervisionClosed: "督察办结",
    ev.TipReceived: "收到举报线索",
    ev.TipAssigned: "交办",
    ev.TipVerified: "核查结果",
    ev.TipClosed: "办结",
    ev.TipFeedbackGiven: "反馈举报人",
    ev.ReconsiderationApplied: "申请行政复议",
    ev.ReconsiderationAccepted: "复议受理",
    ev.ApplicationCopyReceived: "收到申请书副本",
    ev.ReplySubmitted: "提交答复及证据",
    ev.HearingHeld: "听证（开庭）",
    ev.ReconsiderationExtended: "复议延期",
    ev.ReconsiderationSuspended: "复议中止",
    ev.ReconsiderationResumed: "复议恢复",
    ev.ReconsiderationDecided: "复议决定",
    ev.ReconsiderationWithdrawn: "申请人撤回",
    ev.ReconsiderationOpinionReceived: "收到行政复议意见书",
    ev.LawsuitFiled: "行政诉讼立案",
    ev.ComplaintCopyServed: "起诉状副本送达",
    ev.DefenceSubmitted: "提交答辩状及证据",
    ev.CourtHearingScheduled: "开庭通知",
    ev.CourtHearingHeld: "开庭",
    ev.JudgmentIssued: "判决（裁定）",
    ev.JudgmentServed: "判决送达",
    ev.AppealFiled: "上诉",
    ev.JudgmentEffective: "判决生效",
    ev.ReviewTaskOpened: "开启复盘",
    ev.ReviewCompleted: "完成复盘",
    ev.RectificationOpened: "开启整改",
    ev.MeasureAdded: "添加整改措施",
    ev.ProgressReported: "报告整改进展",
    ev.RectificationCompleted: "整改完成",
    ev.RectificationVerified: "核验通过",
    ev.RectificationRejected: "退回整改",
    ev.RectificationReopened: "重新开启整改",
    ev.RectificationDeadlineExtended: "整改延期",
    ev.ResponsiblePersonChanged: "变更责任人",
    ev.RectificationCancelled: "撤销整改",
    ev.EnforcementReviewOpened: "开展执法质量考评",
    ev.ReviewOpinionIssued: "出具评查意见",
    ev.EnforcementReviewCompleted: "考评评分",
    ev.EnforcementNoticeIssued: "下达执法监督书",
    ev.EnforcementNoticeRectified: "监督书整改核验通过",
    ev.EnforcementDecisionRecorded: "登记不予处罚决定",
    ev.EnforcementDecisionPublished: "公示",
    ev.EnforcementDecisionPublicationWithdrawn: "撤回公示",
    ev.DeadlineApproaching: "时限将至提醒",
    ev.DeadlineBreached: "超期告警",
    ev.Escalated: "升级告警",
    ev.SupervisionRequested: "督察提醒",
    ev.AlertCleared: "告警解除",
}
# the payload fields an event's line names, by field name (a field not here is not shown)
EVENT_FIELDS: Mapping[str, str] = {
    "channel": "渠道",
    "subject": "事项",
    "description": "内容",
    "complainant": "投诉人",
    "informant": "举报人",
    "applicant": "申请人",
    "plaintiff": "原告",
    "anonymous": "匿名",
    "enterprise": "涉企",
    "enterprise_name": "企业",
    "department": "部门",
    "to_department": "转至部门",
    "handler": "承办人",
    "decision_ref": "决定书文号",
    "work_order_no": "工单号",
    "reason": "原因",
    "reply": "答复内容",
    "outcome": "结果",
    "summary": "摘要",
    "satisfaction": "满意度",
    "threshold": "督察阈值",
    "comment": "意见",
    "approved_by": "批准人",
    "new_length": "延期后总时长",
    "extension_days": "延长天数",
    "rule": "时限规则",
    "supervisor": "督察",
    "conclusion": "结论",
    "result": "核查结果",
    "findings": "核查情况",
    "method": "方式",
    "reconsideration_body": "复议机关",
    "matter": "复议事项",
    "simplified": "简易程序",
    "files": "证据材料",
    "evidence_count": "证据数量",
    "hearing_date": "日期",
    "agency_head_appeared": "负责人出庭",
    "notes": "备注",
    "decision": "复议决定",
    "decision_no": "决定书编号",
    "opinion_no": "意见书编号",
    "requested_action": "要求事项",
    "court": "法院",
    "instance": "审级",
    "court_case_no": "案号",
    "head_expected": "负责人应出庭",
    "held_on": "开庭日期",
    "appeared": "出庭人员",
    "head_appeared": "负责人出庭",
    "form": "文书形式",
    "judgment_no": "文书编号",
    "appellant": "上诉人",
    "source_case_id": "来源案件",
    "source_case_kind": "来源案件类型",
    "responsible_person": "责任人",
    "deadline": "整改时限",
    "root_causes": "问题原因",
    "lessons": "经验教训",
    "measure": "整改措施",
    "progress": "进展",
    "reported_by": "报告人",
    "percent": "完成比例",
    "evidence": "整改证明",
    "due_at": "到期",
    "level": "级别",
    "notify": "通知",
    "reviewer": "评查人",
    "category": "问题类别",
    "text": "评查意见",
    "score": "考评得分",
    "notice_no": "监督书文号",
    "review_case_id": "考评案件",
    "matters": "纠正事项",
    "rectification_id": "整改案件",
    "exemption": "不予处罚类型",
    "legal_basis": "法律依据",
    "decided_on": "决定日期",
    "platform": "公示平台",
    "url": "公示网址",
}
APPELLANTS: Mapping[str, str] = {"bureau": "本局", "plaintiff": "原告"}
NOTIFY: Mapping[str, str] = {
    "handler": "承办人",
    "department_head": "部门负责人",
    "bureau_leadership": "局领导",
    "supervisor": "督察",
}
SKIP_REASONS: Mapping[str, str] = {
    SkipReason.weekend: "周末",
    SkipReason.holiday: "法定节假日",
    SkipReason.paused: "中止期间",
}
MEDIA_TYPES: Mapping[str, str] = {
    ev.EvidenceMediaType.pdf: "PDF 文档",
    ev.EvidenceMediaType.png: "PNG 图片",
    ev.EvidenceMediaType.jpeg: "JPEG 图片",
    ev.EvidenceMediaType.gif: "GIF 图片",
    ev.EvidenceMediaType.webp: "WebP 图片",
    ev.EvidenceMediaType.docx: "Word 文档",
    ev.EvidenceMediaType.xlsx: "Excel 表格",
    ev.EvidenceMediaType.pptx: "PowerPoint 演示文稿",
    ev.EvidenceMediaType.doc: "Word 文档（旧版）",
    ev.EvidenceMediaType.xls: "Excel 表格（旧版）",
    ev.EvidenceMediaType.ppt: "PowerPoint 演示文稿（旧版）",
    ev.EvidenceMediaType.odt: "ODF 文本文档",
    ev.EvidenceMediaType.ods: "ODF 电子表格",
    ev.EvidenceMediaType.odp: "ODF 演示文稿",
}


# --- actions ---
# the inputs of the command forms, by the command field's name (a nested model's fields too)
FIELD_LABELS: Mapping[str, str] = {
    "agency_head_appeared": "机关负责人出席",
    "anonymous": "匿名举报",
    "appeared": "出庭人员",
    "appellant": "上诉人",
    "applicant": "申请人",
    "channel": "来源渠道",
    "comment": "意见",
    "complainant": "投诉人",
    "conclusion": "督察结论",
    "court": "法院",
    "court_case_no": "法院案号",
    "deadline": "整改期限",
    "decision": "复议决定",
    "decision_no": "复议决定书文号",
    "decision_ref": "处罚决定书文号",
    "department": "承办部门",
    "description": "内容",
    "enterprise": "涉企",
    "enterprise_name": "企业名称",
    "evidence": "整改材料",
    "evidence_count": "证据数量",
    "files": "证据文件",
    "findings": "核查情况",
    "form": "文书形式",
    "handler": "承办人",
    "head_appeared": "负责人出庭",
    "head_expected": "要求负责人出庭",
    "hearing_date": "开庭日期",
    "held_on": "开庭日期",
    "id_number": "身份证号",
    "informant": "举报人",
    "instance": "审级",
    "judgment_no": "判决书文号",
    "lessons": "经验教训",
    "matter": "复议事项",
    "measure": "整改措施",
    "method": "反馈方式",
    "name": "姓名",
    "new_length": "延长后的期限（按规则单位）",
    "notes": "备注",
    "opinion_no": "意见书文号",
    "outcome": "办理结果",
    "percent": "完成比例（%）",
    "phone": "电话",
    "plaintiff": "原告",
    "progress": "整改进展",
    "reason": "理由",
    "reconsideration_body": "复议机关",
    "reply": "答复内容",
    "requested_action": "意见书要求",
    "responsible_person": "整改责任人",
    "result": "核查结果",
    "root_causes": "败诉原因",
    "rule": "期限规则",
    "satisfaction": "满意度（1–5）",
    "simplified": "简易程序",
    "source_case_id": "原案件编号",
    "subject": "事由",
    "summary": "情况说明",
    "title": "职务",
    "to_department": "转往部门",
    "with_review": "需先复盘",
    "reviewer": "评查人",
    "category": "问题类别",
    "text": "评查意见",
    "score": "考评得分（0–100）",
    "notice_no": "监督书文号",
    "review_case_id": "考评案件编号",
    "matters": "纠正事项",
    "exemption": "不予处罚类型",
    "legal_basis": "法律依据",
    "decided_on": "决定日期",
    "platform": "公示平台",
    "url": "公示网址",
}
# where one field name means different things in two kinds
KIND_FIELD_LABELS: Mapping[tuple[str, str], str] = {
    (CaseKind.enterprise_tip, "enterprise"): "被举报企业",
    (CaseKind.litigation, "outcome"): "判决结果",
    (CaseKind.enforcement_review, "decision_ref"): "被评查案件文书号",
    (CaseKind.enforcement_review, "department"): "办案部门",
    (CaseKind.enforcement_review, "subject"): "案由",
    (CaseKind.enforcement_notice, "decision_ref"): "执法案件文书号",
    (CaseKind.enforcement_notice, "department"): "被监督部门",
    (CaseKind.enforcement_decision, "decision_ref"): "不予处罚决定书文号",
    (CaseKind.enforcement_decision, "subject"): "案由",
}
# a deadline rule's unit, as an extension's form offers the rule (延长后的期限 is in it)
RULE_UNITS: Mapping[str, str] = {
    Unit.calendar_days: "自然日",
    Unit.working_days: "工作日",
    Unit.months: "个月",
    Unit.hours: "小时",
    Unit.minutes: "分钟",
}
# the values of a command field typed as a Literal (not an enumeration)
LITERAL_LABELS: Mapping[str, str] = {"bureau": "本局", "plaintiff": "原告"}


def field_label(name: str, case_kind: str = "") -> str:
    """The Chinese label of a command field: as a form asks for it, else as the timeline names
    the event field of the same name, else the name itself."""
    found = KIND_FIELD_LABELS.get((case_kind, name)) or FIELD_LABELS.get(name)
    return found or EVENT_FIELDS.get(name, name)


# --- cases ---
# the windows the case list offers for 即将到期 (due_within, as GET /clocks/due's `within`)
DUE_WINDOWS: Mapping[str, str] = {"1d": "1天内", "3d": "3天内", "1w": "7天内", "2w": "14天内"}
CASE_SORTS: Mapping[str, str] = {"received": "受理时间（新→旧）", "due": "最近时限（近→远）"}
