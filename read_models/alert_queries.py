"""Queries over the alerts raised on deadline clocks (预警 warnings, 超期 breaches, 升级 escalations)
and on complaints put under 督察 supervision."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from casestream.domain import catalog as ev

from .queries import Keyset, Page, in_department
from .schema import alerts

ALERT_EVENT_TYPES: tuple[str, ...] = tuple(
    payload.__name__
    for payload in (
        ev.DeadlineApproaching,
        ev.DeadlineBreached,
        ev.Escalated,
        ev.SupervisionRequested,
        ev.AlertCleared,
    )
)
"""The event types on alerts.events (and in the `alerts` table)."""


@dataclass(frozen=True)
class AlertFilter:
    level: int | None = None
    department: str | None = None
    rule_id: str | None = None
    case_kind: str | None = None
    status: str | None = None  # open / cleared
    event_type: str | None = None
    visible_department: str | None = None  # access scope: alerts on this department's cases


class AlertQueries:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def list_alerts(self, where: AlertFilter, *, limit: int, cursor: str | None) -> Page:
        """Alerts newest first (by the instant they were raised), keyset-paginated."""
        keyset = Keyset(alerts.c.raised_at, alerts.c.alert_id)
        query = sa.select(alerts).order_by(*keyset.order())
        conditions: list[sa.ColumnElement[bool]] = []
        if where.level is not None:
            conditions.append(alerts.c.level == where.level)
        if where.department:
            conditions.append(alerts.c.department == where.department)
        if where.rule_id:
            conditions.append(alerts.c.rule_id == where.rule_id)
        if where.case_kind:
            conditions.append(alerts.c.case_kind == where.case_kind)
        if where.status:
            conditions.append(alerts.c.status == where.status)
        if where.event_type:
            conditions.append(alerts.c.event_type == where.event_type)
        if where.visible_department is not None:
            conditions.append(in_department(alerts.c.case_id, where.visible_department))
        if cursor:
            conditions.append(keyset.after(cursor))
        return keyset.page(self._engine, query.where(*conditions), limit)
