"""The queries behind the business gauges (business_metrics.py): one GROUP BY each, at most one
row per label set, the same SQL on SQLite and PostgreSQL.

Where the cases stand (open, by status, decided, scored, overdue) is read from the tallies the
projector keeps (case_tallies.py) when they are built (`tallied`), else counted from the cases.

PostgreSQL refuses to GROUP BY an expression with bound parameters (a CASE, a JSON path) that
the select list binds again separately, so grouping is on the columns of a subquery.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from casestream.domain.cases import CLOSED_STATUSES, WITHDRAWN_STATUSES
from casestream.domain.catalog import CaseKind, SupervisionRequested
from casestream.domain.clocks import ClockStatus
from casestream.domain.rules import RuleBook

from .case_tallies import OPEN_CLOCK_STATUSES
from .clock_queries import due_between, overdue_now
from .overdue import clock_overdue
from .rectification_queries import rectifications_with_overdue
from .schema import alerts, case_figures, case_tallies, cases, clock_tallies, clocks

OVERDUE = "overdue"  # the status label of an open clock overdue now


def _in_statuses(
    statuses: Mapping[CaseKind, Iterable[str]],
    kind: sa.ColumnElement[str] = cases.c.case_kind,
    status: sa.ColumnElement[str] = cases.c.status,
) -> sa.ColumnElement[bool]:
    return sa.or_(
        *(
            sa.and_(kind == member.value, status.in_(sorted(str(name) for name in names)))
            for member, names in statuses.items()
        )
    )


def _still_open(
    kind: sa.ColumnElement[str] = cases.c.case_kind,
    status: sa.ColumnElement[str] = cases.c.status,
) -> sa.ColumnElement[bool]:
    """Neither closed (办结) nor withdrawn."""
    return sa.not_(
        sa.or_(
            _in_statuses(CLOSED_STATUSES, kind, status),
            _in_statuses(WITHDRAWN_STATUSES, kind, status),
        )
    )


def _tally(rows: sa.Select[Any], *dimensions: str) -> sa.Select[Any]:
    """COUNT(*) of `rows` by the named columns (the count comes last)."""
    inner = rows.subquery()
    keys = [inner.c[name] for name in dimensions]
    return sa.select(*keys, sa.func.count().label("total")).group_by(*keys)


def _by_status(tallied: bool) -> sa.Subquery:
    """Cases by kind, status, department and enterprise flag: from the tallies, or counted
    from ix_cases_kind_status_department (an index-only scan, one entry per case)."""
    if tallied:
        keys = (case_tallies.c.case_kind, case_tallies.c.status, _department(), _enterprise())
        return (
            sa.select(*keys, sa.func.sum(case_tallies.c.total).label("total"))
            .group_by(*keys)
            .subquery()
        )
    in_index_order = (cases.c.case_kind, cases.c.status, cases.c.department, cases.c.enterprise)
    return (
        sa.select(*in_index_order, sa.func.count().label("total"))
        .group_by(*in_index_order)
        .subquery()
    )


def _department() -> sa.ColumnElement[str | None]:
    """A tally's department as `cases` has it (None for none)."""
    return sa.func.nullif(case_tallies.c.department, "").label("department")


def _enterprise() -> sa.ColumnElement[bool]:
    return case_tallies.c.enterprise.label("enterprise")


def open_and_received_today(now: datetime, zone: ZoneInfo, *, tallied: bool) -> sa.Select[Any]:
    """Cases by kind, department and enterprise flag: how many are open and how many were
    received today (local date in `zone`).

    Open or not is decided on the few groups by status (from the tallies when `tallied`, else
    from an index of every case); today's cases from a range of ix_cases_received (the work is
    the day's cases)."""
    day = now.astimezone(zone).date()
    today_starts = datetime.combine(day, datetime.min.time(), zone)
    tomorrow_starts = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
    labels = (cases.c.case_kind, cases.c.department, cases.c.enterprise)
    by_status = _by_status(tallied)
    still_open = _still_open(by_status.c.case_kind, by_status.c.status)
    opened = sa.select(
        by_status.c.case_kind,
        by_status.c.department,
        by_status.c.enterprise,
        sa.case((still_open, by_status.c.total), else_=0).label("open"),
        sa.literal(0).label("received_today"),
    )
    received = (
        sa.select(*labels, sa.literal(0), sa.func.count())
        .where(cases.c.received_at >= today_starts, cases.c.received_at < tomorrow_starts)
        .group_by(*labels)
    )
    both = sa.union_all(opened, received).subquery()
    keys = [both.c[name] for name in ("case_kind", "department", "enterprise")]
    return sa.select(
        *keys,
        sa.func.sum(both.c.open).label("open"),
        sa.func.sum(both.c.received_today).label("received_today"),
    ).group_by(*keys)


def overdue_cases(now: datetime, *, tallied: bool) -> sa.Select[Any]:
    """Open cases with an overdue clock, by kind and department (a case counted once).

    From the tallies when `tallied`: the open cases with a clock marked breached, plus the open
    cases none of whose clocks is marked but one runs past its due instant (found from the
    (status, due_at) index: few while the scanner runs). Else every open case is looked at."""
    if not tallied:
        overdue_clock = sa.exists().where(clocks.c.case_id == cases.c.case_id, overdue_now(now))
        rows = sa.select(cases.c.case_kind, cases.c.department).where(_still_open(), overdue_clock)
        return _tally(rows, "case_kind", "department")
    marked = sa.select(
        case_tallies.c.case_kind, _department(), case_tallies.c.total.label("total")
    ).where(case_tallies.c.breached, _still_open(case_tallies.c.case_kind, case_tallies.c.status))
    # a running clock is never stopped: the (status, due_at) index alone finds them
    running_late = (
        sa.select(clocks.c.case_id)
        .where(clocks.c.status == ClockStatus.running.value, clocks.c.due_at < now)
        .distinct()
        .subquery()
    )
    unmarked = (
        sa.select(cases.c.case_kind, cases.c.department, sa.literal(1).label("total"))
        .join(running_late, running_late.c.case_id == cases.c.case_id)
        .join(case_figures, case_figures.c.case_id == cases.c.case_id)
        .where(_still_open(), sa.not_(case_figures.c.breached))
    )
    both = sa.union_all(marked, unmarked).subquery()
    return sa.select(both.c.case_kind, both.c.department, sa.func.sum(both.c.total)).group_by(
        both.c.case_kind, both.c.department
    )


def open_clocks(now: datetime, *, tallied: bool) -> sa.Select[Any]:
    """Open clocks by rule, department and status (running, paused or overdue).

    From the tallies when `tallied` (breached ones are overdue), with the running clocks past
    their due instants moved from running to overdue (found from the (status, due_at) index);
    else every open clock is looked at."""
    if tallied:
        return _open_clocks_tallied(now)
    # not stopped is the WHERE's: the CASE reads only columns of ix_clocks_open_rule
    status = sa.case(
        (clock_overdue(clocks.c.status, clocks.c.due_at, now), OVERDUE), else_=clocks.c.status
    )
    open_statuses = [member.value for member in OPEN_CLOCK_STATUSES]
    rows = sa.select(clocks.c.rule_id, clocks.c.department, status.label("status")).where(
        clocks.c.stopped_at.is_(None), clocks.c.status.in_(open_statuses)
    )
    return _tally(rows, "rule_id", "department", "status")


def _open_clocks_tallied(now: datetime) -> sa.Select[Any]:
    status = sa.case(
        (clock_tallies.c.status == ClockStatus.breached.value, OVERDUE),
        else_=clock_tallies.c.status,
    )
    stored = sa.select(
        clock_tallies.c.rule_id,
        sa.func.nullif(clock_tallies.c.department, "").label("department"),
        status.label("status"),
        clock_tallies.c.total.label("total"),
    )
    late = (clocks.c.status == ClockStatus.running.value, clocks.c.due_at < now)
    moved = [
        sa.select(
            clocks.c.rule_id,
            clocks.c.department,
            sa.literal(label).label("status"),
            sa.literal(sign, sa.BigInteger).label("total"),
        ).where(*late)
        for label, sign in ((ClockStatus.running.value, -1), (OVERDUE, 1))
    ]
    both = sa.union_all(stored, *moved).subquery()
    keys = (both.c.rule_id, both.c.department, both.c.status)
    total = sa.func.sum(both.c.total)
    return sa.select(*keys, total).group_by(*keys).having(total > 0)


def clocks_due_soon(now: datetime, within: timedelta) -> sa.Select[Any]:
    """Running clocks with now <= due_at <= now + within (as GET /clocks/due)."""
    return (
        sa.select(clocks.c.rule_id, clocks.c.department, sa.func.count())
        .where(due_between(now, now + within))
        .group_by(clocks.c.rule_id, clocks.c.department)
    )


def rectifications_by_status(*, tallied: bool) -> sa.Select[Any]:
    if tallied:
        department = _department()
        return (
            sa.select(department, case_tallies.c.status, sa.func.sum(case_tallies.c.total))
            .where(case_tallies.c.case_kind == CaseKind.rectification.value)
            .group_by(department, case_tallies.c.status)
        )
    return (
        sa.select(cases.c.department, cases.c.status, sa.func.count())
        .where(cases.c.case_kind == CaseKind.rectification.value)
        .group_by(cases.c.department, cases.c.status)
    )


ENFORCEMENT_KINDS = (
    CaseKind.enforcement_review,
    CaseKind.enforcement_notice,
    CaseKind.enforcement_decision,
)


def enforcement_by_status(*, tallied: bool) -> sa.Select[Any]:
    """执法监督 cases (考评, 执法监督书, 不予处罚 decisions) by kind, department and status."""
    kinds = [kind.value for kind in ENFORCEMENT_KINDS]
    if tallied:
        keys = (case_tallies.c.case_kind, _department(), case_tallies.c.status)
        return (
            sa.select(*keys, sa.func.sum(case_tallies.c.total))
            .where(case_tallies.c.case_kind.in_(kinds))
            .group_by(*keys)
        )
    keys = (cases.c.case_kind, cases.c.department, cases.c.status)
    return sa.select(*keys, sa.func.count()).where(cases.c.case_kind.in_(kinds)).group_by(*keys)


def overdue_rectifications(now: datetime, rulebook: RuleBook) -> sa.Select[Any]:
    """Rectifications overdue now (as GET /rectifications?overdue=true), by department."""
    listed, _, overdue = rectifications_with_overdue(now, rulebook)
    return _tally(listed.where(overdue), "department")


def disputes_decided(*, tallied: bool) -> sa.Select[Any]:
    """Decided reconsiderations and lawsuits by kind, department and outcome class."""
    if tallied:
        keys = (case_tallies.c.case_kind, _department(), case_tallies.c.outcome)
        return (
            sa.select(*keys, sa.func.sum(case_tallies.c.total))
            .where(case_tallies.c.outcome != "")
            .group_by(*keys)
        )
    return (
        sa.select(cases.c.case_kind, cases.c.department, cases.c.outcome, sa.func.count())
        .where(cases.c.outcome.is_not(None))
        .group_by(cases.c.case_kind, cases.c.department, cases.c.outcome)
    )


def satisfaction_scores(*, tallied: bool) -> sa.Select[Any]:
    if tallied:
        score = case_tallies.c.satisfaction
        return (
            sa.select(score.label("score"), sa.func.sum(case_tallies.c.total).label("total"))
            .where(case_tallies.c.case_kind == CaseKind.complaint.value, score > 0)
            .group_by(score)
        )
    return (
        sa.select(cases.c.satisfaction.label("score"), sa.func.count().label("total"))
        .where(cases.c.case_kind == CaseKind.complaint.value, cases.c.satisfaction.is_not(None))
        .group_by(cases.c.satisfaction)
    )


def supervisions() -> sa.Select[Any]:
    """督察 supervisions (their SupervisionRequested alerts) by department and status: open
    (under supervision now) or cleared (closed, or the complaint reopened)."""
    return (
        sa.select(alerts.c.department, alerts.c.status, sa.func.count())
        .where(alerts.c.event_type == SupervisionRequested.__name__)
        .group_by(alerts.c.department, alerts.c.status)
    )
