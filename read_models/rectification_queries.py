"""Queries of the rectification tracking API (整改跟踪督办): lists with filters, one rectification
with its source case, dispute chain and clocks. Its completion clock is the rectification's
main rule in the rule book (`RuleRole.main`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from casestream.domain.catalog import CaseKind
from casestream.domain.clocks import ClockStatus
from casestream.domain.rules import RuleBook

from .overdue import rectification_overdue
from .queries import BadCursor, Keyset, Page
from .schema import cases, clocks, disputes

Sort = Literal["opened_desc", "opened_asc", "deadline_asc"]


@dataclass(frozen=True)
class RectificationFilter:
    statuses: tuple[str, ...] = ()  # any of these (none: every status)
    department: str | None = None
    responsible_person: str | None = None
    source_case_kind: str | None = None
    overdue: bool | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    visible_department: str | None = None  # the caller's scope (None: every department)

    def conditions(
        self,
        overdue: sa.ColumnElement[bool],
        not_overdue: sa.ColumnElement[bool] | None = None,
    ) -> list[sa.ColumnElement[bool]]:
        """The conditions on `cases` (and on `overdue`, or its negation: `not_overdue`, by
        default NOT overdue) of a list or a ledger of rectifications."""
        responsible = cases.c.state["responsible_person"].as_string()
        source_kind = cases.c.state["source_case_kind"].as_string()
        found: list[sa.ColumnElement[bool]] = []
        if self.visible_department is not None:
            found.append(cases.c.department == self.visible_department)
        if self.statuses:
            found.append(cases.c.status.in_(self.statuses))
        if self.department:
            found.append(cases.c.department == self.department)
        if self.responsible_person:
            found.append(responsible == self.responsible_person)
        if self.source_case_kind:
            found.append(source_kind == self.source_case_kind)
        if self.overdue is not None:
            negated = sa.not_(overdue) if not_overdue is None else not_overdue
            found.append(overdue if self.overdue else negated)
        if self.opened_from:
            found.append(cases.c.received_at >= self.opened_from)
        if self.opened_to:
            found.append(cases.c.received_at < self.opened_to)
        return found


@dataclass(frozen=True)
class RectificationDetail:
    case: sa.Row[Any]
    clocks: list[sa.Row[Any]]
    source: sa.Row[Any] | None
    dispute: list[sa.Row[Any]]


def _completion(rulebook: RuleBook) -> Any:
    """The completion clock of each rectification (its latest one), as a subquery."""
    breached = sa.case((clocks.c.status == ClockStatus.breached.value, 1), else_=0)
    return (
        sa.select(
            clocks.c.case_id,
            sa.func.max(clocks.c.due_at).label("deadline_at"),
            sa.func.max(breached).label("breached"),
        )
        .where(clocks.c.rule_id.in_(rulebook.main_rules(CaseKind.rectification)))
        .group_by(clocks.c.case_id)
        .subquery("completion")
    )


def rectifications_with_overdue(
    now: datetime, rulebook: RuleBook
) -> tuple[Any, Any, sa.ColumnElement[bool]]:
    """Rectifications with their deadline (the completion clock) and whether they are overdue
    at `now` (domain.overdue.rectification_overdue)."""
    completion = _completion(rulebook)
    overdue = rectification_overdue(
        cases.c.status,
        completion_breached=completion.c.breached == 1,
        deadline_at=completion.c.deadline_at,
        now=now,
    )
    query = (
        sa.select(cases, completion.c.deadline_at, overdue.label("overdue"))
        .outerjoin(completion, completion.c.case_id == cases.c.case_id)
        .where(cases.c.case_kind == CaseKind.rectification.value)
    )
    return query, completion, overdue


class RectificationQueries:
    def __init__(self, engine: sa.Engine, rulebook: RuleBook) -> None:
        self._engine = engine
        self._rulebook = rulebook

    def list(
        self,
        where: RectificationFilter,
        *,
        now: datetime,
        sort: Sort,
        limit: int,
        cursor: str | None,
    ) -> Page:
        query, completion, overdue = rectifications_with_overdue(now, self._rulebook)
        conditions = where.conditions(overdue)
        if sort == "deadline_asc":
            # a deadline list is short and not paginated by keyset: nulls (no clock) last
            if cursor:
                raise BadCursor("sort=deadline_asc returns one page; leave out the cursor")
            query = query.where(*conditions).order_by(
                completion.c.deadline_at.is_(None), completion.c.deadline_at, cases.c.case_id
            )
            with self._engine.connect() as conn:
                return Page(list(conn.execute(query.limit(limit))), None)
        keyset = Keyset(cases.c.received_at, cases.c.case_id, descending=sort == "opened_desc")
        if cursor:
            conditions.append(keyset.after(cursor))
        return keyset.page(self._engine, query.where(*conditions).order_by(*keyset.order()), limit)

    def get(
        self, case_id: str, visible_department: str | None, *, now: datetime
    ) -> RectificationDetail | None:
        with self._engine.connect() as conn:
            query, _, _ = rectifications_with_overdue(now, self._rulebook)
            query = query.where(cases.c.case_id == case_id)
            if visible_department is not None:
                query = query.where(cases.c.department == visible_department)
            row = conn.execute(query).first()
            if row is None:
                return None
            found_clocks = list(
                conn.execute(
                    sa.select(clocks)
                    .where(clocks.c.case_id == case_id)
                    .order_by(clocks.c.started_at, clocks.c.clock_id)
                )
            )
            source_id = row.state.get("source_case_id")
            source = None
            if source_id:
                source = conn.execute(sa.select(cases).where(cases.c.case_id == source_id)).first()
            dispute: list[sa.Row[Any]] = []
            decision_ref = row.decision_ref or (source.decision_ref if source is not None else None)
            if decision_ref:
                dispute = list(
                    conn.execute(
                        sa.select(
                            disputes.c.linked_at,
                            cases.c.case_id,
                            cases.c.case_kind,
                            cases.c.status,
                            cases.c.department,
                        )
                        .join(cases, cases.c.case_id == disputes.c.case_id)
                        .where(disputes.c.decision_ref == decision_ref)
                        .order_by(disputes.c.linked_at, disputes.c.case_id)
                    )
                )
        return RectificationDetail(row, found_clocks, source, dispute)
