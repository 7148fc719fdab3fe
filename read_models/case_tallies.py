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
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from casestream.domain.clocks import ClockStatus

from .schema import TALLY_COLUMNS, case_tallies, cases, clocks
from .sql import chunks, increment, insert_rows

TALLIES = tuple(column.name for column in TALLY_COLUMNS)
_KEY = ("department", "case_kind", *TALLIES)

Place = tuple[Any, ...]
"""A case's place in the tallies: department ("" for none), kind, then TALLIES' values."""


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


class TallyMoves:
    """Cases leaving and entering places, summed: the change a batch makes to the tallies."""

    def __init__(self) -> None:
        self._totals: dict[Place, int] = {}

    def add(self, row: Mapping[str, Any], sign: int) -> None:
        """A case (a `case_figures` row) entering its place (+1) or leaving it (-1)."""
        place = tuple(row[name] for name in _KEY)
        self._totals[place] = self._totals.get(place, 0) + sign

    def apply(self, conn: sa.Connection) -> None:
        """Move the stored tallies by these changes; places that fall to zero are removed."""
        moved = [
            dict(zip(_KEY, place, strict=True)) | {"total": total}
            for place, total in self._totals.items()
            if total
        ]
        increment(conn, case_tallies, moved)
        left = sorted(place for place, total in self._totals.items() if total < 0)
        key = sa.tuple_(*(case_tallies.c[name] for name in _KEY))
        for part in chunks(left):
            conn.execute(case_tallies.delete().where(key.in_(part), case_tallies.c.total == 0))

    def insert(self, conn: sa.Connection) -> None:
        """Write these totals into empty tallies (a rebuild)."""
        insert_rows(
            conn,
            case_tallies,
            [
                dict(zip(_KEY, place, strict=True)) | {"total": total}
                for place, total in self._totals.items()
                if total
            ],
        )


def recount() -> sa.Select[Any]:
    """The tallies counted from the cases (what `case_tallies` must equal), in its columns."""
    rows = sa.select(
        sa.func.coalesce(cases.c.department, "").label("department"),
        cases.c.case_kind.label("case_kind"),
        *tally_columns(),
    ).subquery()
    keys = [rows.c[name] for name in _KEY]
    return sa.select(*keys, sa.func.count().label("total")).group_by(*keys)
