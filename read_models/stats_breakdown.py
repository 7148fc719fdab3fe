"""A breakdown of the rule-of-law figures (stats.py) of a period: the cases received (收案) in
each local month (or year) of it.

"Received" counts the cases GET /stats counts as received or filed: complaints, enterprise
tip-offs, reconsiderations and lawsuits, not the rectifications those open. The same SQL runs
on SQLite and PostgreSQL: the local months are bounds computed here, not a date function of
the database.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from casestream.domain.catalog import CaseKind

from .figure_counts import counters_ready, received_by_day
from .schema import cases
from .stats import StatsScope

RECEIVED_KINDS = (
    CaseKind.complaint,
    CaseKind.enterprise_tip,
    CaseKind.reconsideration,
    CaseKind.litigation,
)
MAX_MONTHS = 24
"""A longer period is counted by year."""


class Grain(StrEnum):
    month = "month"
    year = "year"


@dataclass(frozen=True)
class Buckets:
    """The consecutive stretches a period is counted in: each starts on its day in `starts`
    (the period's first day, then the first day of each month or year) and ends where the next
    one starts; the last ends with the period."""

    grain: Grain
    starts: tuple[date, ...]


def buckets_of(first: date, last: date) -> Buckets:
    """The months from `first` to `last` (both included), or their years when there are more
    than MAX_MONTHS months; no bucket when `first` is after `last`."""
    if first > last:
        return Buckets(Grain.month, ())
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months <= MAX_MONTHS:
        starts = [first]
        year, month = first.year, first.month
        for _ in range(months - 1):
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            starts.append(date(year, month, 1))
        return Buckets(Grain.month, tuple(starts))
    years = [date(year, 1, 1) for year in range(first.year + 1, last.year + 1)]
    return Buckets(Grain.year, (first, *years))


def _in_scope(scope: StatsScope) -> list[sa.ColumnElement[bool]]:
    conditions = [cases.c.received_at >= scope.start, cases.c.received_at < scope.end]
    if scope.department:
        conditions.append(cases.c.department == scope.department)
    return conditions


class StatsBreakdown:
    """From the per-day counters when `timezone` (the deployment's) is given, they were built in
    it and the scope is of whole days; else by counting the cases."""

    def __init__(self, engine: sa.Engine, timezone: str | None = None) -> None:
        self._engine = engine
        self._timezone = timezone

    def received(self, scope: StatsScope, buckets: Buckets) -> list[int]:
        """The cases received in each bucket (local days in the scope's time zone)."""
        if not buckets.starts:
            return []
        with self._engine.connect() as conn:
            if (
                self._timezone is not None
                and scope.days is not None
                and counters_ready(conn, self._timezone)
            ):
                first, last = scope.days
                days = received_by_day(conn, first, last, scope.department, RECEIVED_KINDS)
                counts = [0] * len(buckets.starts)
                for day, received in days.items():
                    counts[max(0, bisect_right(buckets.starts, day) - 1)] += received
                return counts
        zone = scope.start.tzinfo
        bounds = [datetime.combine(day, time(), zone) for day in buckets.starts[1:]]
        index: Any = (
            sa.case(
                *((cases.c.received_at < bound, n) for n, bound in enumerate(bounds)),
                else_=len(bounds),
            )
            if bounds
            else sa.literal(0)
        )
        # grouped on a subquery's column: PostgreSQL refuses to group by a bound CASE
        inner = (
            sa.select(index.label("bucket"))
            .where(*_in_scope(scope), cases.c.case_kind.in_([k.value for k in RECEIVED_KINDS]))
            .subquery()
        )
        query = sa.select(inner.c.bucket, sa.func.count().label("received")).group_by(
            inner.c.bucket
        )
        counts = [0] * len(buckets.starts)
        with self._engine.connect() as conn:
            for row in conn.execute(query):
                counts[min(int(row.bucket), len(counts) - 1)] += row.received
        return counts
