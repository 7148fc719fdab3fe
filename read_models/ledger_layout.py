"""The layout of the ledgers (台账): their columns, and the Chinese labels of the codes the
events carry, as the spreadsheets show them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from casestream.domain.catalog import CaseKind
from casestream.domain.complaints import ComplaintStatus
from casestream.domain.enforcement import (
    EnforcementDecisionStatus,
    EnforcementNoticeStatus,
    EnforcementReviewStatus,
)
from casestream.domain.litigation import LitigationStatus
from casestream.domain.reconsiderations import ReconsiderationStatus
from casestream.domain.rectifications import RectificationStatus, ReviewStatus
from casestream.domain.tips import TipStatus

Cell = str | int | float | date | datetime | None
CellFormat = Literal["text", "integer", "date", "datetime"]

KIND_LABELS = {
    CaseKind.complaint: "投诉",
    CaseKind.enterprise_tip: "涉企举报",
    CaseKind.reconsideration: "行政复议",
    CaseKind.litigation: "行政诉讼",
    CaseKind.rectification: "整改",
    CaseKind.enforcement_review: "执法质量考评",
    CaseKind.enforcement_notice: "执法监督书",
    CaseKind.enforcement_decision: "不予处罚决定",
}
STATUS_LABELS: dict[CaseKind, dict[str, str]] = {
    CaseKind.complaint: {
        ComplaintStatus.received: "已接收", ComplaintStatus.rejected: "不予受理",
        ComplaintStatus.accepted: "已受理", ComplaintStatus.assigned: "已交办",
        ComplaintStatus.replied: "已答复", ComplaintStatus.resolved: "已办结",
        ComplaintStatus.followed_up: "已回访",
    },
    CaseKind.enterprise_tip: {
        TipStatus.received: "已接收", TipStatus.assigned: "已交办", TipStatus.verified: "已核查",
        TipStatus.closed: "已办结",
    },
    CaseKind.reconsideration: {
        ReconsiderationStatus.applied: "已申请", ReconsiderationStatus.accepted: "已受理",
        ReconsiderationStatus.withdrawn: "已撤回", ReconsiderationStatus.decided: "已决定",
    },
    CaseKind.litigation: {
        LitigationStatus.filed: "已立案", LitigationStatus.served: "已送达",
        LitigationStatus.defended: "已答辩", LitigationStatus.heard: "已开庭",
        LitigationStatus.judged: "已判决", LitigationStatus.appealed: "已上诉",
        LitigationStatus.effective: "已生效",
    },
    CaseKind.rectification: {
        RectificationStatus.open: "待整改", RectificationStatus.in_progress: "整改中",
        RectificationStatus.completed: "已完成", RectificationStatus.rejected: "已退回",
        RectificationStatus.verified: "已核验", RectificationStatus.cancelled: "已撤销",
    },
    CaseKind.enforcement_review: {
        EnforcementReviewStatus.opened: "评查中", EnforcementReviewStatus.completed: "已评分",
    },
    CaseKind.enforcement_notice: {
        EnforcementNoticeStatus.issued: "整改中", EnforcementNoticeStatus.rectified: "已整改",
    },
    CaseKind.enforcement_decision: {
        EnforcementDecisionStatus.recorded: "待公示", EnforcementDecisionStatus.published: "已公示",
        EnforcementDecisionStatus.withdrawn: "已撤回公示",
    },
}  # fmt: skip
CHANNEL_LABELS = {
    "hotline_12345": "12345热线", "window": "窗口", "letter": "来信", "online": "网上",
    "petition": "信访",
}  # fmt: skip
OUTCOME_LABELS = {  # 办理结果: complaint outcome, 核查 result, 复议决定, 判决结果
    "substantiated": "属实", "partly_substantiated": "部分属实", "partly": "部分属实",
    "unsubstantiated": "不属实", "explained": "解释说明", "other": "其他",
    "maintained": "维持", "rejected": "驳回", "revoked": "撤销", "altered": "变更",
    "confirmed_illegal": "确认违法", "ordered_to_perform": "责令履行", "mediated": "调解",
    "terminated": "终止", "claim_dismissed": "驳回诉讼请求", "compensation": "赔偿",
    "withdrawn": "撤诉",
}  # fmt: skip
ROOT_CAUSE_LABELS = {
    "procedure": "程序违法", "facts": "事实不清、证据不足", "law": "适用法律错误",
    "authority": "超越职权", "unreasonable": "明显不当", "other": "其他",
}  # fmt: skip
REVIEW_LABELS = {ReviewStatus.open: "复盘中", ReviewStatus.completed: "已复盘"}
NO_REVIEW = "无复盘"
# 核验结果: the supervisor's verdict on a completed rectification
VERIFICATION_LABELS: dict[str, str] = {
    RectificationStatus.verified: "通过",
    RectificationStatus.rejected: "退回",
}
HEAD_APPEARED = "负责人出庭"  # 出庭人员: the agency head appeared at that hearing
NO_ONE_NAMED = "未登记出庭人员"  # a hearing recorded without who appeared
UNKNOWN_DATE = "日期不详"
ANONYMOUS = "匿名"  # an anonymous informant, whoever asks
YES, NO = "是", "否"


def status_label(kind: CaseKind, status: str) -> str:
    """The Chinese name of a status; an unknown one (e.g. a case not yet opened) as it is."""
    return STATUS_LABELS[kind].get(status, status)


def yes_no(value: bool) -> str:
    return YES if value else NO


@dataclass(frozen=True)
class LedgerColumn:
    header: str
    width: int  # in characters, as a spreadsheet counts them
    format: CellFormat = "text"


@dataclass(frozen=True)
class LedgerLayout:
    name: str  # ASCII file stem
    title: str  # sheet title and the Chinese file name
    columns: tuple[LedgerColumn, ...]


CASE_LEDGER = LedgerLayout(
    name="cases",
    title="案件台账",
    columns=(
        LedgerColumn("案件编号", 22), LedgerColumn("类型", 10), LedgerColumn("状态", 10),
        LedgerColumn("来源渠道", 10), LedgerColumn("承办部门", 14), LedgerColumn("承办人", 10),
        LedgerColumn("涉企", 6), LedgerColumn("企业名称", 24), LedgerColumn("处罚决定书文号", 24),
        LedgerColumn("事由", 36), LedgerColumn("当事人", 10), LedgerColumn("联系电话", 15),
        LedgerColumn("受理时间", 17, "datetime"), LedgerColumn("办结时间", 17, "datetime"),
        LedgerColumn("时限", 12, "date"), LedgerColumn("是否超期", 9),
        LedgerColumn("办理结果", 14), LedgerColumn("纠错/败诉", 10),
        LedgerColumn("满意度", 8, "integer"), LedgerColumn("出庭人员", 40),
    ),
)  # fmt: skip

RECTIFICATION_LEDGER = LedgerLayout(
    name="rectifications",
    title="整改台账",
    columns=(
        LedgerColumn("整改编号", 26), LedgerColumn("来源案件", 22), LedgerColumn("来源类型", 10),
        LedgerColumn("处罚决定书文号", 24), LedgerColumn("责任部门", 14), LedgerColumn("责任人", 12),
        LedgerColumn("整改内容", 36), LedgerColumn("立项时间", 17, "datetime"),
        LedgerColumn("整改时限", 12, "date"), LedgerColumn("状态", 10), LedgerColumn("是否超期", 9),
        LedgerColumn("复盘状态", 10), LedgerColumn("根本原因", 26), LedgerColumn("整改措施", 40),
        LedgerColumn("进度(%)", 8, "integer"), LedgerColumn("完成时间", 17, "datetime"),
        LedgerColumn("整改证据", 30), LedgerColumn("退回次数", 9, "integer"),
        LedgerColumn("核验结果", 24),
    ),
)  # fmt: skip

# 公示是否按时: a 不予处罚 decision's publication judged against its 7 working days
PUBLICATION_ON_TIME, PUBLICATION_LATE = "按时", "逾期公示"
PUBLICATION_OVERDUE, PUBLICATION_PENDING = "超期未公示", "未到期"

DECISION_LEDGER = LedgerLayout(
    name="enforcement-decisions",
    title="不予处罚决定及公示台账",
    columns=(
        LedgerColumn("案件编号", 22), LedgerColumn("决定书文号", 26), LedgerColumn("承办部门", 14),
        LedgerColumn("不予处罚情形", 14), LedgerColumn("法律依据", 30), LedgerColumn("案由", 30),
        LedgerColumn("决定日期", 12, "date"), LedgerColumn("公示时限", 12, "date"),
        LedgerColumn("公示时间", 17, "datetime"), LedgerColumn("公示平台", 18),
        LedgerColumn("撤回公示时间", 17, "datetime"), LedgerColumn("撤回原因", 24),
        LedgerColumn("状态", 10), LedgerColumn("是否按时公示", 12),
    ),
)  # fmt: skip

NOTICE_LEDGER = LedgerLayout(
    name="enforcement-notices",
    title="执法监督书台账",
    columns=(
        LedgerColumn("案件编号", 22), LedgerColumn("监督书文号", 24), LedgerColumn("责任部门", 14),
        LedgerColumn("处罚决定书文号", 24), LedgerColumn("来源考评", 20),
        LedgerColumn("纠正事项", 40), LedgerColumn("制发时间", 17, "datetime"),
        LedgerColumn("整改期限", 12, "date"), LedgerColumn("状态", 10),
        LedgerColumn("整改编号", 26), LedgerColumn("整改状态", 10), LedgerColumn("整改是否超期", 12),
        LedgerColumn("核验人", 12), LedgerColumn("整改核验时间", 17, "datetime"),
    ),
)  # fmt: skip
