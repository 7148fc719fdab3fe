"""The queries the API answers from the read models."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from casestream.domain.clocks import ClockStatus

from .overdue import due_between, overdue_now
from .schema import anomalies, case_events, cases, checkpoints, clocks, disputes


class BadCursor(ValueError):
    """A pagination cursor that this server did not issue."""


def in_department(case_id: sa.ColumnElement[str], department: str) -> sa.ColumnElement[bool]:
    """`case_id` names a case of `department` (cases.department): the scope of a
    department-bound user (handler, department head), for any table keyed by case id."""
    return case_id.in_(sa.select(cases.c.case_id).where(cases.c.department == department))


class NeedsNow(ValueError):
    """A filter on clocks (overdue, due within) built without the instant it is judged at."""


def has_clock(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """The case has a clock meeting `condition` (a condition on `clocks`)."""
    return sa.exists().where(clocks.c.case_id == cases.c.case_id, condition)


def under_supervision() -> sa.ColumnElement[bool]:
    """督察: the complaint's supervision flag is open (flagged after a poor 回访, neither closed
    by a supervisor nor reopened: `ComplaintState.supervision`)."""
    flag: sa.ColumnElement[bool] = cases.c.state["supervision"].as_boolean()
    return flag.is_(True)


def names_case(text: str | sa.BindParameter[str]) -> sa.ColumnElement[bool]:
    """The case whose id (案件编号) is `text`, or the cases about the decision whose number
    (处罚决定书文号) is `text`: both exact, both on an index (the disputes table links every
    case to each decision it has named)."""
    return sa.or_(
        cases.c.case_id == text,
        cases.c.case_id.in_(sa.select(disputes.c.case_id).where(disputes.c.decision_ref == text)),
    )


class Placeholders:
    """The values of a statement given as named parameters, so that one statement, built once
    per shape, serves every value (building a list's statement and its cache key afresh was
    about a sixth of a page's CPU in the API). Calling it names a value; `branch` records a
    choice that changes the statement itself; `shape` is what tells statements apart."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._shape: list[tuple[str, Any]] = []

    def __call__(self, name: str, value: Any) -> sa.BindParameter[Any]:
        key = "p_" + name
        if key not in self.values:
            self._shape.append((name, None))
        self.values[key] = value
        return sa.bindparam(key)

    def branch(self, name: str, choice: Any) -> Any:
        self._shape.append((name, choice))
        return choice

    @property
    def shape(self) -> tuple[tuple[str, Any], ...]:
        return tuple(self._shape)


class _Literal:
    """`Placeholders`' interface with the values written into the statement itself."""

    def __call__(self, name: str, value: Any) -> Any:
        return value

    def branch(self, name: str, choice: Any) -> Any:
        return choice


_literal = _Literal()


@dataclass(frozen=True)
class CaseFilter:
    case_kind: str | None = None
    status: str | None = None
    department: str | None = None
    enterprise_name: str | None = None
    enterprise: bool | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    channel: str | None = None  # complaints' 来源渠道 (domain.catalog.Channel)
    overdue: bool | None = None  # with a clock overdue at `now` (as GET /cases/overdue)
    due_until: datetime | None = None  # with a running clock due between `now` and this
    supervised: bool | None = None  # 督察: under supervision now
    search: str | None = None  # a case id or a decision number (`names_case`)
    now: datetime | None = None  # the instant `overdue` and `due_until` are judged at
    visible_department: str | None = None  # access scope: only this department's cases

    def conditions(self, bind: Placeholders | None = None) -> list[sa.ColumnElement[bool]]:
        """The conditions on `cases` of GET /cases (a ledger lists exactly the cases it shows).
        With `bind`, each value is a named parameter whose value `bind` keeps, and `bind.shape`
        tells apart the conditions that differ by more than their values."""
        value = bind or _literal
        found: list[sa.ColumnElement[bool]] = []
        if self.case_kind:
            found.append(cases.c.case_kind == value("case_kind", self.case_kind))
        if self.status:
            found.append(cases.c.status == value("status", self.status))
        if self.department:
            found.append(cases.c.department == value("department", self.department))
        if self.enterprise_name:
            found.append(cases.c.enterprise_name == value("enterprise_name", self.enterprise_name))
        if self.enterprise is not None:
            found.append(cases.c.enterprise == value("enterprise", self.enterprise))
        if self.received_from:
            found.append(cases.c.received_at >= value("received_from", self.received_from))
        if self.received_to:
            found.append(cases.c.received_at < value("received_to", self.received_to))
        if self.channel:
            found.append(cases.c.state["channel"].as_string() == value("channel", self.channel))
        if self.overdue is not None:
            overdue = has_clock(overdue_now(value("now", self._now())))
            found.append(overdue if value.branch("overdue", self.overdue) else sa.not_(overdue))
        if self.due_until is not None:
            until = value("due_until", self.due_until)
            found.append(has_clock(due_between(value("now", self._now()), until)))
        if self.supervised is not None:
            supervised = under_supervision()
            chosen = value.branch("supervised", self.supervised)
            found.append(supervised if chosen else sa.not_(supervised))
        if self.search:
            found.append(names_case(value("search", self.search)))
        if self.visible_department is not None:
            found.append(cases.c.department == value("visible_department", self.visible_department))
        return found

    def _now(self) -> datetime:
        if self.now is None:
            raise NeedsNow("give CaseFilter.now to filter on clocks (overdue, due_until)")
        return self.now


@dataclass(frozen=True)
class Anomaly:
    """An event that did not fit its case (a gap, a repeat, a transition refused)."""

    event_id: str
    event_type: str
    version: int
    reason: str


@dataclass(frozen=True)
class Page:
    rows: list[sa.Row[Any]]
    next_cursor: str | None


def encode_cursor(received_at: datetime, case_id: str) -> str:
    """An opaque keyset cursor: the (instant, id) of the last row of a page."""
    raw = json.dumps([received_at.isoformat(), case_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class Keyset:
    """Keyset pagination over (instant, id) columns, newest first unless `descending` is off."""

    instant: sa.ColumnElement[Any]
    key: sa.ColumnElement[Any]
    descending: bool = True

    def order(self) -> tuple[sa.ColumnElement[Any], ...]:
        if self.descending:
            return (self.instant.desc(), self.key.desc())
        return (self.instant, self.key)

    def after(self, cursor: str, bind: Placeholders | None = None) -> sa.ColumnElement[bool]:
        """The rows that come after the page `cursor` ended. The bound on `instant` alone is
        implied by the rest; it lets an index on (…, instant, key) start at the cursor instead
        of reading every row before it (a page deep in a list costs what the first one does).
        With `bind`, the cursor's instant and key are named parameters."""
        decoded_instant, decoded_key = decode_cursor(cursor)
        value = bind or _literal
        instant = value("after_instant", decoded_instant)
        key = value("after_key", decoded_key)
        if self.descending:
            return sa.and_(
                self.instant <= instant,
                sa.or_(self.instant < instant, sa.and_(self.instant == instant, self.key < key)),
            )
        return sa.and_(
            self.instant >= instant,
            sa.or_(self.instant > instant, sa.and_(self.instant == instant, self.key > key)),
        )

    def page(self, engine: sa.Engine, query: sa.Select[Any], limit: int) -> Page:
        """Run `query` (already filtered and ordered) for one page and the cursor of the next."""
        with engine.connect() as conn:
            rows = list(conn.execute(query.limit(limit + 1)))
        return self.page_of(rows, limit)

    def page_of(self, rows: list[sa.Row[Any]], limit: int) -> Page:
        """The page of `rows` (up to `limit` + 1 read, the one more telling that a next exists)."""
        return page_of(
            rows,
            limit,
            lambda last: encode_cursor(last._mapping[self.instant], last._mapping[self.key]),
        )


def page_of(rows: list[sa.Row[Any]], limit: int, cursor_of: Callable[[sa.Row[Any]], str]) -> Page:
    """The page of `rows`, up to `limit` + 1 read in the list's order (the one more tells that
    a next page exists); `cursor_of` gives the cursor after a row, that of the page's last."""
    if len(rows) <= limit:
        return Page(rows, None)
    return Page(rows[:limit], cursor_of(rows[limit - 1]))


class CaseOrder(StrEnum):
    """The orders of GET /cases: newest received first, or nearest due first."""

    received = "received"
    due = "due"


OPEN_CLOCK_STATUSES = (ClockStatus.running.value, ClockStatus.breached.value)


def next_due() -> sa.ScalarSelect[Any]:
    """A case's nearest due instant: of its open clocks (running, or breached and not yet
    stopped: an overdue clock is the nearest of all), the earliest due; NULL without one."""
    return (
        sa.select(sa.func.min(clocks.c.due_at))
        .where(
            clocks.c.case_id == cases.c.case_id,
            clocks.c.stopped_at.is_(None),
            clocks.c.status.in_(OPEN_CLOCK_STATUSES),
        )
        .scalar_subquery()
    )


def case_order(sort: CaseOrder) -> tuple[sa.ColumnElement[Any], ...]:
    """ORDER BY of a case list: `received` newest first; `due` nearest due first, the cases
    without an open clock last; the case id breaks ties (so a keyset page is exact)."""
    if sort is CaseOrder.due:
        due = next_due()
        return (due.is_(None), due, cases.c.case_id)
    return (cases.c.received_at.desc(), cases.c.case_id.desc())


_DUE_CURSOR = "due"


def encode_due_cursor(due_at: datetime | None, case_id: str) -> str:
    """A cursor of the `due` order: the (nearest due or none, id) of a page's last row."""
    raw = json.dumps([_DUE_CURSOR, due_at.isoformat() if due_at else None, case_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after_due_cursor(cursor: str, bind: Placeholders | None = None) -> sa.ColumnElement[bool]:
    """The cases after the page of the `due` order that `cursor` ended (with `bind`, its due
    instant and key are named parameters)."""
    decoded_due, decoded_key = _decode_due_cursor(cursor)
    value = bind or _literal
    due = next_due()
    key = value("after_key", decoded_key)
    if value.branch("after_none_due", decoded_due is None):
        return sa.and_(due.is_(None), cases.c.case_id > key)
    due_at = value("after_due", decoded_due)
    return sa.or_(due > due_at, sa.and_(due == due_at, cases.c.case_id > key), due.is_(None))


def _decode_due_cursor(cursor: str) -> tuple[datetime | None, str]:
    refused = BadCursor("cursor is not one this server issued for sort=due; start again without it")
    if len(cursor) > 512:
        raise refused
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded))
        if not (isinstance(decoded, list) and len(decoded) == 3 and decoded[0] == _DUE_CURSOR):
            raise refused
        _, due, key = decoded
        if not (isinstance(key, str) and 0 < len(key) <= 250):
            raise refused
        key.encode()  # a lone surrogate cannot reach the database
        if due is None:
            return None, key
        if not isinstance(due, str):
            raise refused
        instant = datetime.fromisoformat(due)
        if instant.tzinfo is None or not 1900 <= instant.year <= 2999:
            raise refused
        return instant.astimezone(UTC), key
    except (ValueError, TypeError, UnicodeError, RecursionError, OverflowError) as exc:
        raise refused from exc


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (instant, id) an `encode_cursor` cursor holds; BadCursor for anything else."""
    refused = BadCursor("cursor is not one this server issued; start again without it")
    if len(cursor) > 512:
        raise refused
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded))
        if not (isinstance(decoded, list) and len(decoded) == 2):
            raise refused
        received, key = decoded
        if not (isinstance(received, str) and isinstance(key, str) and 0 < len(key) <= 250):
            raise refused
        key.encode()  # a lone surrogate cannot reach the database
        instant = datetime.fromisoformat(received)
        if instant.tzinfo is None or not 1900 <= instant.year <= 2999:
            raise refused
        return instant.astimezone(UTC), key
    except (ValueError, TypeError, UnicodeError, RecursionError, OverflowError) as exc:
        raise refused from exc


LIST_STATEMENTS_KEPT = 512
"""List statements kept per CaseQueries (one per shape met; emptied when full)."""


class CaseQueries:
    def __init__(self, engine: sa.Engine, projection: str = "cases") -> None:
        self._engine = engine
        # reads of one statement each need no transaction: in autocommit, no BEGIN and no
        # ROLLBACK round trip (PostgreSQL's READ COMMITTED gives each statement its own
        # snapshot either way)
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._projection = projection
        self._list_statements: dict[Hashable, sa.Select[Any]] = {}

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def list_cases(
        self,
        where: CaseFilter,
        *,
        limit: int,
        cursor: str | None,
        sort: CaseOrder = CaseOrder.received,
        with_state: bool = True,
    ) -> Page:
        """Cases in the `sort` order (newest received first by default), keyset-paginated;
        each row also holds `next_due_at` (`next_due`) and `overdue` (a clock overdue at
        `where.now`; NULL without it). Without `with_state`, the rows leave out the case's
        state document (most of a row's bytes and of the time to read a page).

        The statement is built once per shape (which filters, which order, a cursor or not,
        the page size) and run with each request's values as parameters."""
        bind = Placeholders()
        conditions = where.conditions(bind)
        keyset = Keyset(cases.c.received_at, cases.c.case_id)
        if cursor and sort is CaseOrder.received:
            conditions.append(keyset.after(cursor, bind))
        elif cursor and sort is CaseOrder.due:
            conditions.append(after_due_cursor(cursor, bind))
        # `overdue` judged at `now`, or NULL without it (binding `now` puts it in the shape)
        now = bind("now", where.now) if where.now is not None else None
        shape = (bind.shape, sort, with_state, limit)
        statement = self._list_statements.get(shape)
        if statement is None:
            statement = self._list_statement(conditions, now, sort, with_state, limit)
            if len(self._list_statements) >= LIST_STATEMENTS_KEPT:
                self._list_statements.clear()
            self._list_statements[shape] = statement
        with self._reader.connect() as conn:
            rows = list(conn.execute(statement, bind.values))
        if sort is CaseOrder.received:
            return keyset.page_of(rows, limit)
        return page_of(rows, limit, lambda last: encode_due_cursor(last.next_due_at, last.case_id))

    @staticmethod
    def _list_statement(
        conditions: list[sa.ColumnElement[bool]],
        now: sa.BindParameter[datetime] | None,
        sort: CaseOrder,
        with_state: bool,
        limit: int,
    ) -> sa.Select[Any]:
        """The statement of one shape of list: `limit` + 1 rows (the one more tells that a next
        page exists)."""
        overdue = has_clock(overdue_now(now)) if now is not None else sa.null()
        columns: list[sa.ColumnElement[Any]] = [
            c for c in cases.c if with_state or c is not cases.c.state
        ]
        query: sa.Select[Any] = sa.select(
            *columns, next_due().label("next_due_at"), overdue.label("overdue")
        ).order_by(*case_order(sort))
        if sort is CaseOrder.received:
            # the page's cases first, then their clocks: asked of the whole list, PostgreSQL
            # reads every overdue clock into a hash to answer `overdue` for 51 rows
            page = (
                sa.select(cases.c.case_id)
                .where(*conditions)
                .order_by(*case_order(sort))
                .limit(limit + 1)
                .correlate(None)  # its own scan of `cases`, not the outer query's row
            )
            return query.where(cases.c.case_id.in_(page)).limit(limit + 1)
        if sort is CaseOrder.due:
            return query.where(*conditions).limit(limit + 1)
        raise ValueError(f"no order {sort!r}")

    def get_case(
        self, case_id: str, *, visible_department: str | None = None
    ) -> tuple[sa.Row[Any], list[Anomaly]] | None:
        """The case and its anomalies; None if unknown or outside `visible_department`.
        One round trip: the case joined to its anomalies (one row each, or one row of NULLs)."""
        scope = [] if visible_department is None else [cases.c.department == visible_department]
        query = (
            sa.select(
                cases,
                anomalies.c.event_id.label("anomaly_event_id"),
                anomalies.c.event_type.label("anomaly_event_type"),
                anomalies.c.version.label("anomaly_version"),
                anomalies.c.reason.label("anomaly_reason"),
            )
            .outerjoin(anomalies, anomalies.c.case_id == cases.c.case_id)
            .where(cases.c.case_id == case_id, *scope)
            .order_by(anomalies.c.version, anomalies.c.seq)
        )
        with self._reader.connect() as conn:
            rows = list(conn.execute(query))
        if not rows:
            return None
        found = [
            Anomaly(
                row.anomaly_event_id,
                row.anomaly_event_type,
                row.anomaly_version,
                row.anomaly_reason,
            )
            for row in rows
            if row.anomaly_event_id is not None
        ]
        return rows[0], found

    def case_version(self, case_id: str, *, visible_department: str | None = None) -> int | None:
        with self._reader.connect() as conn:
            version = conn.execute(
                sa.select(cases.c.version).where(
                    cases.c.case_id == case_id, *_scope(cases.c.case_id, visible_department)
                )
            ).scalar()
        return None if version is None else int(version)

    def case_events(
        self, case_id: str, *, visible_department: str | None = None
    ) -> list[sa.Row[Any]]:
        """A case's history in order; empty if unknown or outside `visible_department`."""
        with self._reader.connect() as conn:
            return list(
                conn.execute(
                    sa.select(case_events)
                    .where(
                        case_events.c.case_id == case_id,
                        *_scope(case_events.c.case_id, visible_department),
                    )
                    .order_by(case_events.c.version)
                )
            )

    def dispute(
        self, decision_ref: str, *, visible_department: str | None = None
    ) -> list[sa.Row[Any]]:
        """The cases about one enforcement decision (of `visible_department` when given),
        in the order they arose."""
        with self._reader.connect() as conn:
            return list(
                conn.execute(
                    sa.select(disputes.c.linked_at, cases)
                    .join(cases, cases.c.case_id == disputes.c.case_id)
                    .where(
                        disputes.c.decision_ref == decision_ref,
                        *_scope(cases.c.case_id, visible_department),
                    )
                    .order_by(disputes.c.linked_at, disputes.c.case_id)
                )
            )

    def stored_event(self, event_id: str) -> sa.Row[Any] | None:
        """The history row of `event_id` (body, case, where it was consumed), if projected."""
        with self._reader.connect() as conn:
            return conn.execute(
                sa.select(case_events).where(case_events.c.event_id == event_id)
            ).first()

    def case_state(self, case_id: str) -> tuple[str, dict[str, Any]] | None:
        """(case kind, stored state) of a case in any department, for deciding on a write."""
        with self._reader.connect() as conn:
            row = conn.execute(
                sa.select(cases.c.case_kind, cases.c.state).where(cases.c.case_id == case_id)
            ).first()
        return None if row is None else (row.case_kind, row.state)

    def offset_visible(self, topic: str, partition: int, offset: int) -> bool:
        """Whether the projector has committed the message at this offset (or a later one)."""
        with self._reader.connect() as conn:
            next_offset = conn.execute(
                sa.select(checkpoints.c.next_offset).where(
                    checkpoints.c.projection == self._projection,
                    checkpoints.c.topic == topic,
                    checkpoints.c.partition == partition,
                )
            ).scalar()
        return next_offset is not None and int(next_offset) > offset

    def stored_offsets(self) -> dict[tuple[str, int], int]:
        """The next offset the projector will read, per (topic, partition)."""
        with self._reader.connect() as conn:
            rows = conn.execute(
                sa.select(
                    checkpoints.c.topic, checkpoints.c.partition, checkpoints.c.next_offset
                ).where(checkpoints.c.projection == self._projection)
            )
            return {(row.topic, row.partition): int(row.next_offset) for row in rows}

    def ping(self) -> None:
        with self._reader.connect() as conn:
            conn.execute(sa.select(1))


def _scope(case_id: sa.ColumnElement[str], department: str | None) -> list[sa.ColumnElement[bool]]:
    """The conditions that keep a query within `department` (none when None: every case)."""
    return [] if department is None else [in_department(case_id, department)]
