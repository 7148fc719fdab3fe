"""Per-day counters of the rule-of-law figures, kept in the projector's transaction.

`case_figures` holds what each case adds to the figures now (figure_columns.py, evaluated on
its rows just written) and its place in the tallies of where cases stand (case_tallies.py);
`figure_counts` their sums per department, kind and local day received, `case_tallies` how
many cases stand at each place. When a batch changes a case, the difference between what it adds now and what it
added before moves the counters: the same event twice changes nothing, and the counters always
equal a recount of the cases (tests/integration/test_figure_counts.py proves it).

Reading a period sums the counters of its days (O(departments × kinds × days)) and adds what
the clocks still running past their due instants change (figures "late" at `now`, which no
counter can hold): those are few while the scanner marks breached clocks.

The day a case was received is the local day in the deployment's time zone; the counters
remember the zone they were built in (`projection_meta`), and `ensure` rebuilds them when it
differs (or when a database migrated with cases in it has none yet).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from casestream.domain.catalog import CaseKind
from casestream.domain.clocks import ClockStatus
from casestream.domain.rules import RuleBook

from .case_tallies import TALLIES, TallyMoves, clock_places, tally_columns, tally_values
from .figure_columns import CLOCKED_KINDS, TIME_DEPENDENT, KindFigures, kind_figures, per_case
from .schema import (
    FIGURES,
    case_figures,
    case_tallies,
    cases,
    clock_tallies,
    clocks,
    figure_counts,
    projection_meta,
)
from .sql import among, chunks, increment, insert_rows, upsert

ZONE_KEY = "figure_counts_zone"
REBUILD_PAGE = 5000
MANY_LATE = 2000  # running clocks past due read by key up to this many, else in one join

Totals = dict[str, int]
"""A kind's figures summed: figure name → number."""

_Key = tuple[str, str, date]  # department ("" for none), kind, local day received


@dataclass(frozen=True)
class Period:
    """The cases received from local day `first` to `last` (both included), of one department
    or all; `now` judges the clocks still running."""

    first: date
    last: date
    department: str | None
    now: datetime


class FigureCounter:
    """Keeps `case_figures`, `figure_counts` and `case_tallies` equal to what the cases add and
    where they stand, judged without `now` (a running clock is never late in them)."""

    def __init__(self, rulebook: RuleBook, timezone: str) -> None:
        self._timezone = timezone
        self._zone = ZoneInfo(timezone)
        self._selects = {
            kind: _contributions(kind_figures(kind, rulebook, None)) for kind in CaseKind
        }

    def update(self, conn: sa.Connection, kinds: Mapping[str, CaseKind]) -> int:
        """Count again the cases `kinds` names (case id → kind), after their rows were written
        in this transaction; how many cases changed what they add."""
        by_kind: dict[CaseKind, list[str]] = {}
        for case_id, kind in kinds.items():
            by_kind.setdefault(kind, []).append(case_id)
        now_rows: dict[str, dict[str, Any]] = {}
        for kind, case_ids in by_kind.items():
            for part in chunks(sorted(case_ids)):
                # by id alone: a kind condition could make the planner read the kind's index
                query = self._selects[kind].where(among(conn, cases.c.case_id, part))
                now_rows.update((row.case_id, self._row(row)) for row in conn.execute(query))
        places = clock_places(conn, list(now_rows))
        for case_id, row in now_rows.items():
            row["clock_places"] = places.get(case_id, "")
        before = _stored(conn, sorted(now_rows))
        changed = [row for case_id, row in now_rows.items() if before.get(case_id) != row]
        deltas: dict[_Key, list[int]] = {}
        moves = TallyMoves()
        for row in changed:
            old = before.get(row["case_id"])
            if old is not None:
                _add(deltas, old, -1)
                moves.add(old, -1)
            _add(deltas, row, 1)
            moves.add(row, 1)
        upsert(conn, case_figures, changed)
        increment(conn, figure_counts, _count_rows(deltas))
        _drop_empty(conn, [key for key, values in deltas.items() if any(v < 0 for v in values)])
        moves.apply(conn)
        return len(changed)

    def ensure(self, conn: sa.Connection) -> int:
        """Build the counters from every case unless they were built in this time zone; how
        many cases were counted (0 when nothing was to do)."""
        built = conn.execute(
            sa.select(projection_meta.c.value).where(projection_meta.c.key == ZONE_KEY)
        ).scalar()
        if built == self._timezone:
            return 0
        conn.execute(case_figures.delete())
        conn.execute(figure_counts.delete())
        conn.execute(case_tallies.delete())
        conn.execute(clock_tallies.delete())
        totals: dict[_Key, list[int]] = {}
        places = TallyMoves()
        counted = 0
        for kind, select in self._selects.items():
            after = ""
            while True:
                page = conn.execute(
                    select.where(cases.c.case_kind == kind.value, cases.c.case_id > after)
                    .order_by(cases.c.case_id)
                    .limit(REBUILD_PAGE)
                ).all()
                if not page:
                    break
                rows = [self._row(row) for row in page]
                open_clocks = clock_places(conn, [row["case_id"] for row in rows])
                for row in rows:
                    row["clock_places"] = open_clocks.get(row["case_id"], "")
                insert_rows(conn, case_figures, rows)
                for row in rows:
                    _add(totals, row, 1)
                    places.add(row, 1)
                counted += len(rows)
                after = page[-1].case_id
        insert_rows(conn, figure_counts, _count_rows(totals))
        places.insert(conn)
        upsert(conn, projection_meta, [{"key": ZONE_KEY, "value": self._timezone}])
        return counted

    def _row(self, row: sa.Row[Any]) -> dict[str, Any]:
        values = row._mapping
        return {
            "case_id": values["case_id"],
            "department": values["department"] or "",
            "case_kind": values["case_kind"],
            "day": values["received_at"].astimezone(self._zone).date(),
            **{name: int(values[name]) for name in FIGURES},
            **tally_values(values),
        }


class FigureReader:
    """A period's figures from the counters, with the running clocks past due added."""

    def __init__(self, rulebook: RuleBook, timezone: str) -> None:
        self._rulebook = rulebook
        self._timezone = timezone
        self._zone = ZoneInfo(timezone)

    def ready(self, conn: sa.Connection) -> bool:
        """The counters were built in this reader's time zone (else recount the cases)."""
        return counters_ready(conn, self._timezone)

    def totals(self, conn: sa.Connection, period: Period) -> dict[CaseKind, Totals]:
        """Each kind's figures of the cases received in `period`."""
        return self._read(conn, period, by_department=False).get("", {})

    def departments(self, conn: sa.Connection, period: Period) -> dict[str, dict[CaseKind, Totals]]:
        """Each kind's figures of each department ("" for cases of none) with cases received
        in `period`, in one read of the counters."""
        return self._read(conn, period, by_department=True)

    def _read(
        self, conn: sa.Connection, period: Period, *, by_department: bool
    ) -> dict[str, dict[CaseKind, Totals]]:
        found = self._counted(conn, period, by_department=by_department)
        running_late = self._running_late(conn, period.now)
        for kind in CLOCKED_KINDS:
            late_now = self._late_now(conn, kind, period, by_department, running_late)
            for department, late in late_now.items():
                kinds = found.setdefault(department, {})
                kind_totals = kinds.setdefault(kind, dict.fromkeys(FIGURES, 0))
                for name, value in late.items():
                    kind_totals[name] += value
        return found

    def _counted(
        self, conn: sa.Connection, period: Period, *, by_department: bool
    ) -> dict[str, dict[CaseKind, Totals]]:
        group = [figure_counts.c.case_kind]
        if by_department:
            group.insert(0, figure_counts.c.department)
        query = (
            sa.select(*group, *(sa.func.sum(figure_counts.c[name]).label(name) for name in FIGURES))
            .where(figure_counts.c.day >= period.first, figure_counts.c.day <= period.last)
            .group_by(*group)
        )
        if period.department is not None:
            query = query.where(figure_counts.c.department == period.department)
        found: dict[str, dict[CaseKind, Totals]] = {}
        for row in conn.execute(query):
            values = row._mapping
            department = values["department"] if by_department else ""
            found.setdefault(department, {})[CaseKind(values["case_kind"])] = {
                name: int(values[name] or 0) for name in FIGURES
            }
        return found

    @staticmethod
    def _running_late(conn: sa.Connection, now: datetime) -> list[tuple[str, str]] | None:
        """(rule id, case id) of every clock still running past due at `now`, or None when
        there are more than MANY_LATE of them.

        Usually few (the scanner marks them breached within its interval): read once for
        every kind as a range of the (status, due_at) index, ordered as the index is, so a
        prepared (generic) plan keeps to that range too. With the rules in the condition the
        planner, which cannot know how few are late, preferred scanning a whole index of the
        clocks by rule (a third of a second a kind at a million cases)."""
        first_late = (
            sa.select(clocks.c.rule_id, clocks.c.case_id)
            .where(clocks.c.status == ClockStatus.running.value, clocks.c.due_at < now)
            .order_by(clocks.c.status, clocks.c.due_at)
            .limit(MANY_LATE + 1)
        )
        found = [(rule_id, case_id) for rule_id, case_id in conn.execute(first_late)]
        return None if len(found) > MANY_LATE else found

    def _late_now(
        self,
        conn: sa.Connection,
        kind: CaseKind,
        period: Period,
        by_department: bool,
        running_late: list[tuple[str, str]] | None,
    ) -> dict[str, Totals]:
        """What the running clocks of `kind` past due at `now` add to the period's figures
        (per department, or all under ""); `running_late` as `_running_late` found them."""
        rules = self._rulebook.main_rules(kind)
        late_cases: Iterable[Any]
        if running_late is None:  # many (no scanner for a while): one semi-join
            late_cases = [
                sa.select(clocks.c.case_id).where(
                    clocks.c.status == ClockStatus.running.value,
                    clocks.c.due_at < period.now,
                    clocks.c.rule_id.in_(rules),
                )
            ]
        else:  # few: the cases by their keys
            case_ids = sorted({case_id for rule_id, case_id in running_late if rule_id in rules})
            if not case_ids:
                return {}
            late_cases = chunks(case_ids)
        now = kind_figures(kind, self._rulebook, period.now).columns
        never = kind_figures(kind, self._rulebook, None).columns
        names = [name for name in TIME_DEPENDENT if name in now]
        department = sa.func.coalesce(cases.c.department, "") if by_department else sa.literal("")
        start = datetime.combine(period.first, time(), self._zone)
        end = datetime.combine(period.last + timedelta(days=1), time(), self._zone)
        conditions = [
            cases.c.case_kind == kind.value,
            cases.c.received_at >= start,
            cases.c.received_at < end,
        ]
        if period.department is not None:
            conditions.append(cases.c.department == period.department)
        late: dict[str, Totals] = {}
        for part in late_cases:
            query = (
                sa.select(
                    department.label("department"),
                    *(sa.func.sum(now[name] - never[name]).label(name) for name in names),
                )
                .where(*conditions, cases.c.case_id.in_(part))
                .group_by(department)
            )
            for row in conn.execute(query):
                totals = late.setdefault(row.department, dict.fromkeys(names, 0))
                for name in names:
                    totals[name] += int(row._mapping[name] or 0)
        return late


def counters_ready(conn: sa.Connection, timezone: str) -> bool:
    """The counters were built in `timezone` (else a reader recounts the cases)."""
    built = conn.execute(
        sa.select(projection_meta.c.value).where(projection_meta.c.key == ZONE_KEY)
    ).scalar()
    return bool(built == timezone)


def received_by_day(
    conn: sa.Connection, first: date, last: date, department: str | None, kinds: Sequence[CaseKind]
) -> dict[date, int]:
    """The cases of `kinds` received on each local day from `first` to `last` (days with
    none left out), from the counters."""
    query = (
        sa.select(figure_counts.c.day, sa.func.sum(figure_counts.c.received).label("received"))
        .where(
            figure_counts.c.day >= first,
            figure_counts.c.day <= last,
            figure_counts.c.case_kind.in_([kind.value for kind in kinds]),
        )
        .group_by(figure_counts.c.day)
    )
    if department is not None:
        query = query.where(figure_counts.c.department == department)
    return {row.day: int(row.received) for row in conn.execute(query) if row.received}


def _contributions(figures: KindFigures) -> sa.Select[Any]:
    """The per-case figures of cases of `figures.kind` (the caller selects them: by id, which
    the primary key finds, or by kind for a rebuild)."""
    return sa.select(
        cases.c.case_id,
        cases.c.department,
        cases.c.case_kind,
        cases.c.received_at,
        *per_case(figures),
        *tally_columns(),
    )


def _stored(conn: sa.Connection, case_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    columns = [case_figures.c[name] for name in ("case_id", "department", "case_kind", "day")]
    for part in chunks(case_ids):
        query = sa.select(
            *columns, *(case_figures.c[name] for name in (*FIGURES, *TALLIES, "clock_places"))
        ).where(among(conn, case_figures.c.case_id, part))
        for row in conn.execute(query):
            found[row.case_id] = {
                **row._mapping,
                **{name: int(row._mapping[name]) for name in FIGURES},
                **tally_values(row._mapping),
            }
    return found


def _drop_empty(conn: sa.Connection, keys: Sequence[_Key]) -> None:
    """Remove the counters of `keys` that fell to zero (a case moved to another day received or
    department): the counters hold the same rows whatever batches built them."""
    key = sa.tuple_(figure_counts.c.department, figure_counts.c.case_kind, figure_counts.c.day)
    empty = [figure_counts.c[name] == 0 for name in FIGURES]
    for part in chunks(sorted(keys)):
        conn.execute(figure_counts.delete().where(key.in_(part), *empty))


def _add(totals: dict[_Key, list[int]], row: Mapping[str, Any], sign: int) -> None:
    key = (row["department"], row["case_kind"], row["day"])
    values = totals.setdefault(key, [0] * len(FIGURES))
    for index, name in enumerate(FIGURES):
        values[index] += sign * row[name]


def _count_rows(totals: dict[_Key, list[int]]) -> list[dict[str, Any]]:
    return [
        {
            "department": department,
            "case_kind": kind,
            "day": day,
            **dict(zip(FIGURES, values, strict=True)),
        }
        for (department, kind, day), values in totals.items()
        if any(values)
    ]
