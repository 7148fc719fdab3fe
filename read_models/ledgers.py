"""Ledgers (台账): the rows of the case and rectification spreadsheets, read from the read models.

Rows come out in column order as typed cells (text, whole numbers, local dates and times
without an offset) with Chinese labels; `api/ledgers.py` renders them as xlsx or csv.
Personal data of complainants, applicants, plaintiffs and informants is masked on request; an
anonymous informant is 匿名 for everyone (domain/anonymity.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from casestream.domain import catalog as ev
from casestream.domain.cases import CLOSED_STATUSES, restore_state
from casestream.domain.complaints import ComplaintState
from casestream.domain.lifecycle import CaseState
from casestream.domain.litigation import LitigationState
from casestream.domain.outcomes import is_correction, is_loss
from casestream.domain.reconsiderations import ReconsiderationState
from casestream.domain.rectifications import RectificationState
from casestream.domain.tips import TipState

from .queries import CaseFilter
from .schema import case_events, cases, clocks

Cell = str | int | float | date | datetime | None
PartyMask = Callable[[str, str | None], tuple[str, str | None]]  # (name, phone) → masked
CellFormat = Literal["text", "integer", "date", "datetime"]

# The clock a ledger shows as a case's 时限: the bureau's own duty in each kind of case.
MAIN_CLOCK_RULES = (
    "complaint.handling", "complaint.handling_enterprise", "petition.handling",
    "enterprise_tip.handling", "reconsideration.reply", "reconsideration.reply_simplified",
    "litigation.defence", "rectification.completion",
)  # fmt: skip
# 办结: the events that close a case, and the statuses in which it stays closed.
CLOSING_EVENTS = tuple(
    payload_type.__name__
    for payload_type in (
        ev.ComplaintResolved, ev.ComplaintRejected, ev.TipClosed, ev.ReconsiderationDecided,
        ev.ReconsiderationWithdrawn, ev.JudgmentIssued, ev.RectificationCompleted,
    )
)  # fmt: skip


# --- Chinese labels of the codes the events carry ------------------------------------------

KIND_LABELS = {
    ev.CaseKind.complaint: "投诉",
    ev.CaseKind.enterprise_tip: "涉企举报",
    ev.CaseKind.reconsideration: "行政复议",
    ev.CaseKind.litigation: "行政诉讼",
    ev.CaseKind.rectification: "整改",
}
STATUS_LABELS: dict[ev.CaseKind, dict[str, str]] = {
    ev.CaseKind.complaint: {
        "received": "已接收", "rejected": "不予受理", "accepted": "已受理", "assigned": "已交办",
        "replied": "已答复", "resolved": "已办结", "followed_up": "已回访",
    },
    ev.CaseKind.enterprise_tip: {
        "received": "已接收", "assigned": "已交办", "verified": "已核查", "closed": "已办结",
    },
    ev.CaseKind.reconsideration: {
        "applied": "已申请", "accepted": "已受理", "withdrawn": "已撤回", "decided": "已决定",
    },
    ev.CaseKind.litigation: {
        "filed": "已立案", "served": "已送达", "defended": "已答辩", "heard": "已开庭",
        "judged": "已判决", "appealed": "已上诉", "effective": "已生效",
    },
    ev.CaseKind.rectification: {
        "open": "待整改", "in_progress": "整改中", "completed": "已完成", "rejected": "已退回",
        "verified": "已核验", "cancelled": "已撤销",
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
REVIEW_LABELS = {"open": "复盘中", "completed": "已复盘"}


def status_label(kind: ev.CaseKind, status: str) -> str:
    """The Chinese name of a status; an unknown one (e.g. a case not yet opened) as it is."""
    return STATUS_LABELS[kind].get(status, status)


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
        LedgerColumn("满意度", 8, "integer"),
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


@dataclass(frozen=True)
class RectificationFilter:
    status: str | None = None
    department: str | None = None
    responsible_person: str | None = None
    source_case_kind: str | None = None
    overdue: bool | None = None  # the completion clock is past due (True) or not (False)
    opened_from: datetime | None = None  # inclusive
    opened_to: datetime | None = None  # exclusive
    visible_department: str | None = None  # access scope: only this department's


def case_conditions(where: CaseFilter) -> list[sa.ColumnElement[bool]]:
    """The conditions of GET /cases, so a ledger lists exactly the cases the list shows."""
    found: list[sa.ColumnElement[bool]] = []
    if where.case_kind:
        found.append(cases.c.case_kind == where.case_kind)
    if where.status:
        found.append(cases.c.status == where.status)
    if where.department:
        found.append(cases.c.department == where.department)
    if where.enterprise_name:
        found.append(cases.c.enterprise_name == where.enterprise_name)
    if where.enterprise is not None:
        found.append(cases.c.enterprise.is_(where.enterprise))
    if where.received_from:
        found.append(cases.c.received_at >= where.received_from)
    if where.received_to:
        found.append(cases.c.received_at < where.received_to)
    if where.visible_department is not None:
        found.append(cases.c.department == where.visible_department)
    return found


def clock_overdue(status: Any, due_at: Any, now: datetime) -> sa.ColumnElement[bool]:
    """Past due: marked breached by the scanner or on stopping, or running past its instant."""
    return sa.or_(status == "breached", sa.and_(status == "running", due_at < now))


def _main_clocks() -> sa.Subquery:
    """The newest clock of a main rule per case (a reopened case starts a new one)."""
    ranked = (
        sa.select(
            *(clocks.c[name] for name in ("case_id", "status", "due_date", "due_at", "stopped_at")),
            sa.func.row_number()
            .over(
                partition_by=clocks.c.case_id,
                order_by=(clocks.c.started_at.desc(), clocks.c.clock_id.desc()),
            )
            .label("newest"),
        )
        .where(clocks.c.rule_id.in_(MAIN_CLOCK_RULES))
        .subquery("ranked_clocks")
    )
    return sa.select(ranked).where(ranked.c.newest == 1).subquery("main_clock")


class LedgerQueries:
    """Streams ledger rows; times are shown in `timezone` (the deployment's zone)."""

    def __init__(self, engine: sa.Engine, timezone: str, mask_party: PartyMask) -> None:
        self._engine = engine
        self._zone = ZoneInfo(timezone)
        self._mask_party = mask_party

    def case_rows(self, where: CaseFilter, *, now: datetime, mask: bool) -> Iterator[list[Cell]]:
        """Rows of CASE_LEDGER, newest first, for the cases GET /cases would list.

        With `mask`, the name and phone of the member of the public go through `mask_party`.
        """
        main = _main_clocks()
        closed_at = (
            sa.select(sa.func.max(case_events.c.occurred_at))
            .where(
                case_events.c.case_id == cases.c.case_id,
                case_events.c.event_type.in_(CLOSING_EVENTS),
            )
            .scalar_subquery()
        )
        query = (
            sa.select(cases, main.c.status.label("clock_status"), main.c.due_date, main.c.due_at)
            .add_columns(closed_at.label("closed_at"))
            .select_from(cases.outerjoin(main, main.c.case_id == cases.c.case_id))
            .where(*case_conditions(where))
            .order_by(cases.c.received_at.desc(), cases.c.case_id.desc())
        )
        for row in self._stream(query):
            yield self._case_row(row, now, mask)

    def rectification_rows(
        self, where: RectificationFilter, *, now: datetime
    ) -> Iterator[list[Cell]]:
        """Rows of RECTIFICATION_LEDGER, newest first (they name staff, no member of the public)."""
        main = _main_clocks()
        overdue = clock_overdue(main.c.status, main.c.due_at, now)
        conditions: list[sa.ColumnElement[bool]] = [
            cases.c.case_kind == ev.CaseKind.rectification.value
        ]
        if where.status:
            conditions.append(cases.c.status == where.status)
        if where.department:
            conditions.append(cases.c.department == where.department)
        if where.visible_department is not None:
            conditions.append(cases.c.department == where.visible_department)
        if where.responsible_person:
            person = cases.c.state["responsible_person"].as_string()
            conditions.append(person == where.responsible_person)
        if where.source_case_kind:
            source = cases.c.state["source_case_kind"].as_string()
            conditions.append(source == where.source_case_kind)
        if where.overdue is not None:
            not_overdue = sa.or_(main.c.status.is_(None), sa.not_(overdue))
            conditions.append(overdue if where.overdue else not_overdue)
        if where.opened_from:
            conditions.append(cases.c.received_at >= where.opened_from)
        if where.opened_to:
            conditions.append(cases.c.received_at < where.opened_to)
        query = (
            sa.select(
                cases,
                main.c.status.label("clock_status"),
                main.c.due_date,
                main.c.due_at,
                main.c.stopped_at.label("clock_stopped_at"),
            )
            .select_from(cases.outerjoin(main, main.c.case_id == cases.c.case_id))
            .where(*conditions)
            .order_by(cases.c.received_at.desc(), cases.c.case_id.desc())
        )
        for row in self._stream(query):
            yield self._rectification_row(row, now)

    def _stream(self, query: sa.Select[Any]) -> Iterator[sa.Row[Any]]:
        with self._engine.connect() as conn:
            yield from conn.execution_options(yield_per=500).execute(query)

    def _local(self, instant: datetime | None) -> datetime | None:
        """Local wall time without an offset (spreadsheets keep no zones), to the second."""
        if instant is None:
            return None
        return instant.astimezone(self._zone).replace(tzinfo=None, microsecond=0)

    def _case_row(self, row: sa.Row[Any], now: datetime, mask: bool) -> list[Cell]:
        kind = ev.CaseKind(row.case_kind)
        state = restore_state(kind, row.state)
        name, phone = _party(state, self._mask_party if mask else None)
        closed = row.status in CLOSED_STATUSES[kind]
        values: dict[str, Cell] = {
            "案件编号": row.case_id,
            "类型": KIND_LABELS[kind],
            "状态": status_label(kind, row.status),
            "来源渠道": CHANNEL_LABELS.get(state.channel or "", "")
            if isinstance(state, ComplaintState)
            else "",
            "承办部门": row.department,
            "承办人": row.handler,
            "涉企": _yes_no(row.enterprise),
            "企业名称": row.enterprise_name,
            "处罚决定书文号": row.decision_ref,
            "事由": row.subject,
            "当事人": name,
            "联系电话": phone,
            "受理时间": self._local(row.received_at),
            "办结时间": self._local(row.closed_at) if closed else None,
            "时限": row.due_date,
            "是否超期": _overdue_label(row.clock_status, row.due_at, now),
            "办理结果": OUTCOME_LABELS.get(_outcome(state) or "", ""),
            "纠错/败诉": _went_against(state),
            "满意度": state.satisfaction if isinstance(state, ComplaintState) else None,
        }
        return [values[column.header] for column in CASE_LEDGER.columns]

    def _rectification_row(self, row: sa.Row[Any], now: datetime) -> list[Cell]:
        state = restore_state(ev.CaseKind.rectification, row.state)
        assert isinstance(state, RectificationState)
        source_kind = state.source_case_kind
        completed_at = state.completed_at or row.clock_stopped_at
        values: dict[str, Cell] = {
            "整改编号": row.case_id,
            "来源案件": state.source_case_id,
            "来源类型": KIND_LABELS[source_kind] if source_kind else None,
            "处罚决定书文号": row.decision_ref,
            "责任部门": row.department,
            "责任人": state.responsible_person,
            "整改内容": state.description,
            "立项时间": self._local(row.received_at),
            "整改时限": row.due_date or state.deadline,
            "状态": status_label(ev.CaseKind.rectification, row.status),
            "是否超期": _overdue_label(row.clock_status, row.due_at, now),
            "复盘状态": REVIEW_LABELS.get(state.review_status or "", "无复盘"),
            "根本原因": "、".join(ROOT_CAUSE_LABELS[cause] for cause in state.root_causes),
            "整改措施": "；".join(state.measures),
            "进度(%)": state.progress_percent,
            "完成时间": self._local(completed_at) if row.status != "cancelled" else None,
            "整改证据": "；".join(state.evidence),
            "退回次数": state.rejections,
            "核验结果": _verification(state),
        }
        return [values[column.header] for column in RECTIFICATION_LEDGER.columns]


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _overdue_label(status: str | None, due_at: datetime | None, now: datetime) -> str:
    """是/否 for a case with a main clock; empty where no 时限 applies (yet)."""
    if status is None or due_at is None:
        return ""
    return _yes_no(status == "breached" or (status == "running" and due_at < now))


def _party(state: CaseState, mask: PartyMask | None) -> tuple[str | None, str | None]:
    """The member of the public behind the case (投诉人/举报人/申请人/原告): name and phone."""
    person: ev.Person | None = None
    match state:
        case TipState() if state.anonymous:
            return "匿名", None  # never named, whoever asks
        case ComplaintState():
            person = state.complainant
        case TipState():
            person = state.informant
        case ReconsiderationState():
            person = state.applicant
        case LitigationState():
            person = state.plaintiff
    if person is None:
        return None, None
    return mask(person.name, person.phone) if mask else (person.name, person.phone)


def _outcome(state: CaseState) -> str | None:
    match state:
        case ComplaintState():
            return state.outcome
        case TipState():
            return state.verification_result
        case ReconsiderationState():
            return state.decision
        case LitigationState():
            return state.judgment_outcome
    return None


def _went_against(state: CaseState) -> str:
    """纠错 (reconsideration) / 败诉 (lawsuit) as 是/否 once decided; empty otherwise."""
    if isinstance(state, ReconsiderationState) and state.decision is not None:
        return _yes_no(is_correction(state.decision))
    if isinstance(state, LitigationState) and state.judgment_outcome is not None:
        return _yes_no(is_loss(state.judgment_outcome))
    return ""


def _verification(state: RectificationState) -> str:
    """核验结果: the supervisor's last 督办 check."""
    verdict = {"verified": "通过", "rejected": "退回"}.get(state.status)
    if verdict is None or not state.verifications:
        return verdict or ""
    last = state.verifications[-1]
    note = f"：{last.comment}" if last.comment else ""
    return f"{verdict}（{last.supervisor}）{note}"
