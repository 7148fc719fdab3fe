"""Where the cases stand now, counted: how many cases of each department and kind are in each
status, 涉企 or not, with each outcome class and follow-up score, with an open clock breached.

The business gauges (business_metrics.py) read these few rows instead of every case. They are
kept with the figure counters (figure_counts.py), in the projector's transaction: `case_figures`
remembers each case's place (its TALLY_COLUMNS), and a batch moves a case from its old place to
its new one. A place that falls to zero is removed, so the tallies hold the same rows whatever
batches built them, and always equal a GROUP BY over the cases (`recount`; the tests compare).

"Overdue" here is a clock the scanner marked breached and nothing stopped; a clock still running
past its due instant is time's doing, not an event's, so the gauges add those cases when they
read (few while the scanner runs).

The clocks neither stopped nor cancelled are tallied the same way by rule, department and status
(`clock_tallies`): each case remembers its open clocks' places (`clock_places`), and a batch that
touches a case's clocks moves them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from casestream.domain.clocks import ClockStatus

from .schema import TALLY_COLUMNS, case_tallies, cases, clock_tallies, clocks
from .sql import among, chunks, increment, insert_rows

TALLIES = tuple(column.name for column in TALLY_COLUMNS)
_KEY = ("department", "case_kind", *TALLIES)

_CLOCK_KEY = ("rule_id", "department", "status")

# the statuses of a clock neither stopped nor cancelled
OPEN_CLOCK_STATUSES = (ClockStatus.running, ClockStatus.paused, ClockStatus.breached)

Place = tuple[Any, ...]
"""A case's place in the tallies: department ("" for none), kind, then TALLIES' values."""

ClockPlace = tuple[str, str, str]
"""A clock's place: rule, department ("" for none), status."""


def tally_columns() -> list[sa.ColumnElement[Any]]:
    """A case's TALLY_COLUMNS, selected from its `cases` row and clocks."""
    breached = sa.exists().where(
        clocks.c.case_id == cases.c.case_id,
        clocks.c.stopped_at.is_(None),
        clocks.c.status == ClockStatus.breached.value,
    )
    return [
        cases.c.status.label("status"),
        cases.c.enterprise.label("enterprise"),
        sa.func.coalesce(cases.c.outcome, "").label("outcome"),
        sa.func.coalesce(cases.c.satisfaction, 0).label("satisfaction"),
        breached.label("breached"),
    ]


def tally_values(values: Mapping[str, Any] | sa.RowMapping) -> dict[str, Any]:
    """The TALLY_COLUMNS of a selected row, in the types the tables store."""
    return {
        "status": str(values["status"]),
        "enterprise": bool(values["enterprise"]),
        "outcome": str(values["outcome"] or ""),
        "satisfaction": int(values["satisfaction"] or 0),
        "breached": bool(values["breached"]),
    }


def clock_places(conn: sa.Connection, case_ids: Sequence[str]) -> dict[str, str]:
    """The open clocks of each of these cases by place, as `case_figures.clock_places` holds
    them (canonical JSON: [[rule, department, status, how many], …] sorted); "" for none."""
    found: dict[str, list[list[Any]]] = {}
    department = sa.func.coalesce(clocks.c.department, "")
    keys = (clocks.c.case_id, clocks.c.rule_id, department, clocks.c.status)
    for part in chunks(sorted(case_ids)):
        query = (
            sa.select(*keys, sa.func.count())
            .where(
                among(conn, clocks.c.case_id, part),
                clocks.c.stopped_at.is_(None),
                clocks.c.status.in_([status.value for status in OPEN_CLOCK_STATUSES]),
            )
            .group_by(*keys)
        )
        for case_id, rule_id, place_department, status, total in conn.execute(query):
            found.setdefault(case_id, []).append([rule_id, place_department, status, int(total)])
    return {
        case_id: json.dumps(sorted(places), ensure_ascii=False) for case_id, places in found.items()
    }


class TallyMoves:
    """Cases and their open clocks leaving and entering places, summed: the change a batch
    makes to the tallies."""

    def __init__(self) -> None:
        self._totals: dict[Place, int] = {}
        self._clocks: dict[ClockPlace, int] = {}

    def add(self, row: Mapping[str, Any], sign: int) -> None:
        """A case (a `case_figures` row) entering its places (+1) or leaving them (-1)."""
        place = tuple(row[name] for name in _KEY)
        self._totals[place] = self._totals.get(place, 0) + sign
        for rule_id, department, status, total in json.loads(row["clock_places"] or "[]"):
            key = (rule_id, department, status)
            self._clocks[key] = self._clocks.get(key, 0) + sign * total

    def apply(self, conn: sa.Connection) -> None:
        """Move the stored tallies by these changes; places that fall to zero are removed."""
        _move(conn, case_tallies, _KEY, self._totals)
        _move(conn, clock_tallies, _CLOCK_KEY, self._clocks)

    def insert(self, conn: sa.Connection) -> None:
        """Write these totals into empty tallies (a rebuild)."""
        insert_rows(conn, case_tallies, _rows(_KEY, self._totals))
        insert_rows(conn, clock_tallies, _rows(_CLOCK_KEY, self._clocks))


def _rows(names: Sequence[str], totals: Mapping[tuple[Any, ...], int]) -> list[dict[str, Any]]:
    return [
        dict(zip(names, place, strict=True)) | {"total": total}
        for place, total in totals.items()
        if total
    ]


def _move(
    conn: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    totals: Mapping[tuple[Any, ...], int],
) -> None:
    increment(conn, table, _rows(names, totals))
    left = sorted(place for place, total in totals.items() if total < 0)
    key = sa.tuple_(*(table.c[name] for name in names))
    for part in chunks(left):
        conn.execute(table.delete().where(key.in_(part), table.c.total == 0))


def recount() -> sa.Select[Any]:
    """The tallies counted from the cases (what `case_tallies` must equal), in its columns."""
    rows = sa.select(
        sa.func.coalesce(cases.c.department, "").label("department"),
        cases.c.case_kind.label("case_kind"),
        *tally_columns(),
    ).subquery()
    keys = [rows.c[name] for name in _KEY]
    return sa.select(*keys, sa.func.count().label("total")).group_by(*keys)


def recount_clocks() -> sa.Select[Any]:
    """The clock tallies counted from the clocks (what `clock_tallies` must equal)."""
    department = sa.func.coalesce(clocks.c.department, "").label("department")
    keys = (clocks.c.rule_id, department, clocks.c.status)
    return (
        sa.select(*keys, sa.func.count().label("total"))
        .where(
            clocks.c.stopped_at.is_(None),
            clocks.c.status.in_([status.value for status in OPEN_CLOCK_STATUSES]),
        )
        .group_by(*keys)
    )
