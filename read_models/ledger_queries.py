"""Ledgers (台账): the SQL that streams the rows of the case, rectification and enforcement
supervision (执法监督书, 不予处罚决定及公示) spreadsheets from the read models, each case with
its main clock (时限, `RuleRole.main` in the rule book).

Rows come out in column order as typed cells (ledger_rows.py, ledger_layout.py);
`api/ledgers.py` renders them as xlsx or csv.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casestream.domain import catalog as ev
from casestream.domain.rules import RuleBook

from .ledger_layout import Cell
from .ledger_rows import LedgerRows, PartyMask
from .overdue import clock_overdue
from .queries import CaseFilter, CaseOrder, case_order
from .rectification_queries import RectificationFilter
from .schema import case_events, cases, clocks

# 办结: the events that close a case (its 办结时间 is the latest of them)
CLOSING_EVENTS = tuple(
    payload_type.__name__
    for payload_type in (
        ev.ComplaintResolved, ev.ComplaintRejected, ev.TipClosed, ev.ReconsiderationDecided,
        ev.ReconsiderationWithdrawn, ev.JudgmentIssued, ev.RectificationCompleted,
    )
)  # fmt: skip


@dataclass(frozen=True)
class EnforcementLedgerFilter:
    """The cases of an enforcement supervision ledger: of `department`, opened (the notice
    issued, the decision recorded) from `opened_from` to before `opened_to`."""

    department: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    visible_department: str | None = None  # the caller's scope (None: every department)

    def conditions(self, kind: ev.CaseKind) -> list[sa.ColumnElement[bool]]:
        found: list[sa.ColumnElement[bool]] = [cases.c.case_kind == kind.value]
        if self.visible_department is not None:
            found.append(cases.c.department == self.visible_department)
        if self.department:
            found.append(cases.c.department == self.department)
        if self.opened_from:
            found.append(cases.c.received_at >= self.opened_from)
        if self.opened_to:
            found.append(cases.c.received_at < self.opened_to)
        return found


def main_clocks(rulebook: RuleBook) -> sa.Subquery:
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
        .where(clocks.c.rule_id.in_(rulebook.main_rules()))
        .subquery("ranked_clocks")
    )
    return sa.select(ranked).where(ranked.c.newest == 1).subquery("main_clock")


class LedgerQueries:
    """Streams ledger rows; times are shown in `timezone` (the deployment's zone)."""

    def __init__(
        self, engine: sa.Engine, timezone: str, mask_party: PartyMask, rulebook: RuleBook
    ) -> None:
        self._engine = engine
        self._rows = LedgerRows(timezone, mask_party)
        self._rulebook = rulebook

    def case_rows(
        self,
        where: CaseFilter,
        *,
        now: datetime,
        mask: bool,
        sort: CaseOrder = CaseOrder.received,
    ) -> Iterator[list[Cell]]:
        """Rows of CASE_LEDGER for the cases GET /cases would list, in its `sort` order.

        With `mask`, the name and phone of the member of the public go through `mask_party`.
        """
        main = main_clocks(self._rulebook)
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
            .where(*where.conditions())
            .order_by(*case_order(sort))
        )
        for row in self._stream(query):
            yield self._rows.case_row(row, now, mask)

    def rectification_rows(
        self, where: RectificationFilter, *, now: datetime
    ) -> Iterator[list[Cell]]:
        """Rows of RECTIFICATION_LEDGER, newest first (they name staff, no member of the public).

        Overdue here is the main clock's (a completion stopped late stays 超期)."""
        main = main_clocks(self._rulebook)
        overdue = clock_overdue(main.c.status, main.c.due_at, now)
        not_overdue = sa.or_(main.c.status.is_(None), sa.not_(overdue))
        query = (
            sa.select(
                cases,
                main.c.status.label("clock_status"),
                main.c.due_date,
                main.c.due_at,
                main.c.stopped_at.label("clock_stopped_at"),
            )
            .select_from(cases.outerjoin(main, main.c.case_id == cases.c.case_id))
            .where(
                cases.c.case_kind == ev.CaseKind.rectification.value,
                *where.conditions(overdue, not_overdue),
            )
            .order_by(cases.c.received_at.desc(), cases.c.case_id.desc())
        )
        for row in self._stream(query):
            yield self._rows.rectification_row(row, now)

    def decision_rows(
        self, where: EnforcementLedgerFilter, *, now: datetime
    ) -> Iterator[list[Cell]]:
        """Rows of DECISION_LEDGER, newest first, each with its publication clock (公示时限)."""
        main = main_clocks(self._rulebook)
        query = (
            sa.select(cases, main.c.status.label("clock_status"), main.c.due_date, main.c.due_at)
            .select_from(cases.outerjoin(main, main.c.case_id == cases.c.case_id))
            .where(*where.conditions(ev.CaseKind.enforcement_decision))
            .order_by(cases.c.received_at.desc(), cases.c.case_id.desc())
        )
        for row in self._stream(query):
            yield self._rows.decision_row(row, now)

    def notice_rows(self, where: EnforcementLedgerFilter, *, now: datetime) -> Iterator[list[Cell]]:
        """Rows of NOTICE_LEDGER, newest first, each with the rectification it opened and that
        rectification's completion clock (整改是否超期)."""
        rect = cases.alias("rect")
        main = main_clocks(self._rulebook)
        opened = rect.c.case_id == cases.c.state["rectification_id"].as_string()
        query = (
            sa.select(
                cases,
                rect.c.case_id.label("rect_id"),
                rect.c.status.label("rect_status"),
                main.c.status.label("clock_status"),
                main.c.due_at,
            )
            .select_from(
                cases.outerjoin(rect, opened).outerjoin(main, main.c.case_id == rect.c.case_id)
            )
            .where(*where.conditions(ev.CaseKind.enforcement_notice))
            .order_by(cases.c.received_at.desc(), cases.c.case_id.desc())
        )
        for row in self._stream(query):
            yield self._rows.notice_row(row, now)

    def _stream(self, query: sa.Select[Any]) -> Iterator[sa.Row[Any]]:
        with self._engine.connect() as conn:
            yield from conn.execution_options(yield_per=500).execute(query)
