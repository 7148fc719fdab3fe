"""The cells of one ledger row (台账), in column order, from a case row and its state: labels in
Chinese, times as local wall time, the member of the public masked on request; an anonymous
informant is 匿名 for everyone (domain/anonymity.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from casestream.domain import catalog as ev
from casestream.domain.anonymity import party_of
from casestream.domain.case_results import case_result, went_against_bureau
from casestream.domain.cases import CLOSED_STATUSES, restore_state
from casestream.domain.clocks import ClockStatus
from casestream.domain.complaints import ComplaintState
from casestream.domain.enforcement import EnforcementDecisionState, EnforcementNoticeState
from casestream.domain.lifecycle import CaseState
from casestream.domain.litigation import HeldHearing, LitigationState
from casestream.domain.overdue import clock_overdue
from casestream.domain.rectifications import RectificationState, RectificationStatus
from casestream.domain.words import EXEMPTIONS

from .ledger_layout import (
    ANONYMOUS,
    CASE_LEDGER,
    CHANNEL_LABELS,
    DECISION_LEDGER,
    HEAD_APPEARED,
    KIND_LABELS,
    NO_ONE_NAMED,
    NO_REVIEW,
    NOTICE_LEDGER,
    OUTCOME_LABELS,
    PUBLICATION_LATE,
    PUBLICATION_ON_TIME,
    PUBLICATION_OVERDUE,
    PUBLICATION_PENDING,
    RECTIFICATION_LEDGER,
    REVIEW_LABELS,
    ROOT_CAUSE_LABELS,
    UNKNOWN_DATE,
    VERIFICATION_LABELS,
    Cell,
    status_label,
    yes_no,
)

PartyMask = Callable[[str, str | None], tuple[str, str | None]]  # (name, phone) → masked


class LedgerRows:
    """Turns rows of the ledger queries into cells; times are shown in `timezone`."""

    def __init__(self, timezone: str, mask_party: PartyMask) -> None:
        self._zone = ZoneInfo(timezone)
        self._mask_party = mask_party

    def _local(self, instant: datetime | None) -> datetime | None:
        """Local wall time without an offset (spreadsheets keep no zones), to the second."""
        if instant is None:
            return None
        return instant.astimezone(self._zone).replace(tzinfo=None, microsecond=0)

    def case_row(self, row: sa.Row[Any], now: datetime, mask: bool) -> list[Cell]:
        kind = ev.CaseKind(row.case_kind)
        state = restore_state(kind, row.state)
        name, phone = self._party(state, mask)
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
            "涉企": yes_no(row.enterprise),
            "企业名称": row.enterprise_name,
            "处罚决定书文号": row.decision_ref,
            "事由": row.subject,
            "当事人": name,
            "联系电话": phone,
            "受理时间": self._local(row.received_at),
            "办结时间": self._local(row.closed_at) if closed else None,
            "时限": row.due_date,
            "是否超期": _overdue_label(row.clock_status, row.due_at, now),
            "办理结果": OUTCOME_LABELS.get(case_result(state) or "", ""),
            "纠错/败诉": _went_against(state),
            "满意度": state.satisfaction if isinstance(state, ComplaintState) else None,
            "出庭人员": "；".join(map(_hearing, state.held_hearings))
            if isinstance(state, LitigationState)
            else "",
        }
        return [values[column.header] for column in CASE_LEDGER.columns]

    def rectification_row(self, row: sa.Row[Any], now: datetime) -> list[Cell]:
        state = restore_state(ev.CaseKind.rectification, row.state)
        assert isinstance(state, RectificationState)
        source_kind = state.source_case_kind
        completed_at = state.completed_at or row.clock_stopped_at
        cancelled = row.status == RectificationStatus.cancelled
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
            "复盘状态": REVIEW_LABELS[state.review_status] if state.review_status else NO_REVIEW,
            "根本原因": "、".join(ROOT_CAUSE_LABELS[cause] for cause in state.root_causes),
            "整改措施": "；".join(state.measures),
            "进度(%)": state.progress_percent,
            "完成时间": None if cancelled else self._local(completed_at),
            "整改证据": "；".join(state.evidence),
            "退回次数": state.rejections,
            "核验结果": _verification(state),
        }
        return [values[column.header] for column in RECTIFICATION_LEDGER.columns]

    def decision_row(self, row: sa.Row[Any], now: datetime) -> list[Cell]:
        """A 不予处罚 decision and its 公示 (they name a department, no member of the public)."""
        kind = ev.CaseKind.enforcement_decision
        state = restore_state(kind, row.state)
        assert isinstance(state, EnforcementDecisionState)
        values: dict[str, Cell] = {
            "案件编号": row.case_id,
            "决定书文号": row.decision_ref,
            "承办部门": row.department,
            "不予处罚情形": EXEMPTIONS.get(state.exemption or "", state.exemption),
            "法律依据": state.legal_basis,
            "案由": row.subject,
            "决定日期": state.decided_on,
            "公示时限": row.due_date,
            "公示时间": self._local(state.published_at),
            "公示平台": state.platform,
            "撤回公示时间": self._local(state.withdrawn_at),
            "撤回原因": state.withdrawal_reason,
            "状态": status_label(kind, row.status),
            "是否按时公示": _publication(
                state.published_at is not None, row.clock_status, row.due_at, now
            ),
        }
        return [values[column.header] for column in DECISION_LEDGER.columns]

    def notice_row(self, row: sa.Row[Any], now: datetime) -> list[Cell]:
        """A 执法监督书 and the rectification it opened (RECT-<notice case id>)."""
        kind = ev.CaseKind.enforcement_notice
        state = restore_state(kind, row.state)
        assert isinstance(state, EnforcementNoticeState)
        rect_status = row.rect_status
        values: dict[str, Cell] = {
            "案件编号": row.case_id,
            "监督书文号": state.notice_no,
            "责任部门": row.department,
            "处罚决定书文号": row.decision_ref,
            "来源考评": state.review_case_id,
            "纠正事项": "；".join(state.matters),
            "制发时间": self._local(row.received_at),
            "整改期限": state.deadline,
            "状态": status_label(kind, row.status),
            "整改编号": row.rect_id,
            "整改状态": status_label(ev.CaseKind.rectification, rect_status) if rect_status else "",
            "整改是否超期": _overdue_label(row.clock_status, row.due_at, now),
            "核验人": state.verified_by,
            "整改核验时间": self._local(state.rectified_at),
        }
        return [values[column.header] for column in NOTICE_LEDGER.columns]

    def _party(self, state: CaseState, mask: bool) -> tuple[str | None, str | None]:
        """The member of the public behind the case (投诉人/举报人/申请人/原告): name and phone."""
        party = party_of(state)
        if party.anonymous:
            return ANONYMOUS, None  # never named, whoever asks
        if party.person is None:
            return None, None
        person = party.person
        return self._mask_party(person.name, person.phone) if mask else (person.name, person.phone)


def _overdue_label(status: str | None, due_at: datetime | None, now: datetime) -> str:
    """是/否 for a case with a main clock; empty where no 时限 applies (yet)."""
    if status is None or due_at is None:
        return ""
    return yes_no(clock_overdue(status, due_at, now))


def _publication(
    published: bool, status: str | None, due_at: datetime | None, now: datetime
) -> str:
    """公示是否按时: 按时 or 逾期公示 once published (its clock met or not), 超期未公示 or 未到期
    before; empty without a publication clock."""
    if status is None or due_at is None:
        return ""
    if published:
        return PUBLICATION_ON_TIME if status == ClockStatus.met else PUBLICATION_LATE
    return PUBLICATION_OVERDUE if clock_overdue(status, due_at, now) else PUBLICATION_PENDING


def _went_against(state: CaseState) -> str:
    """纠错 (reconsideration) / 败诉 (lawsuit) as 是/否 once decided; empty otherwise."""
    against = went_against_bureau(state)
    return "" if against is None else yes_no(against)


def _hearing(hearing: HeldHearing) -> str:
    """出庭人员 of one hearing: its date, who appeared for the bureau, and 负责人出庭 if the
    agency head did (2026-03-25：王副局长（副局长）、李法制，负责人出庭)."""
    held_on = hearing.held_on.isoformat() if hearing.held_on else UNKNOWN_DATE
    names = "、".join(
        f"{person.name}（{person.title}）" if person.title else person.name
        for person in hearing.appeared
    )
    parts = [names or NO_ONE_NAMED, *([HEAD_APPEARED] if hearing.head_appeared else [])]
    return f"{held_on}：{'，'.join(parts)}"


def _verification(state: RectificationState) -> str:
    """核验结果: the supervisor's last 督办 check."""
    verdict = VERIFICATION_LABELS.get(state.status)
    if verdict is None or not state.verifications:
        return verdict or ""
    last = state.verifications[-1]
    note = f"：{last.comment}" if last.comment else ""
    return f"{verdict}（{last.supervisor}）{note}"
