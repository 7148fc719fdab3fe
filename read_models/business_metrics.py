"""Business gauges for the leadership dashboard (今日新增, 超期未办, 即将到期, 纠错率, 败诉率, 整改),
computed from the read models by a Prometheus collector.

Every figure is a count of what the read models hold at the last refresh, by current
department (through DepartmentLabels). A refresh runs eight GROUP BY queries, at most once per
`cache_seconds`; a scrape in between gets the cached families.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric

from casestream.domain.cases import CLOSED_STATUSES, WITHDRAWN_STATUSES
from casestream.domain.catalog import CaseKind
from casestream.domain.outcomes import CORRECTIONS, LOSSES, OUTCOME_CLASSES
from casestream.domain.rectifications import RECTIFICATION

from .clock_queries import due_between, overdue_now
from .rectification_queries import rectifications_with_overdue
from .schema import cases, clocks

log = logging.getLogger(__name__)

SATISFACTION_SCORES = (1, 2, 3, 4, 5)  # 回访 satisfaction, 1 (worst) to 5 (best)

DepartmentLabel = Callable[[str | None], str]  # casestream.metric_labels.DepartmentLabels
Labels = tuple[str, ...]


def _statuses_text(statuses: Mapping[CaseKind, Iterable[str]]) -> str:
    return "; ".join(
        f"{kind.value}: {', '.join(sorted(names))}" for kind, names in statuses.items()
    )


def _in_statuses(statuses: Mapping[CaseKind, Iterable[str]]) -> sa.ColumnElement[bool]:
    return sa.or_(
        *(
            sa.and_(cases.c.case_kind == kind.value, cases.c.status.in_(sorted(names)))
            for kind, names in statuses.items()
        )
    )


def _still_open() -> sa.ColumnElement[bool]:
    """Neither closed (办结) nor withdrawn."""
    return sa.not_(sa.or_(_in_statuses(CLOSED_STATUSES), _in_statuses(WITHDRAWN_STATUSES)))


CLOSED_TEXT = _statuses_text(CLOSED_STATUSES)


@dataclass(frozen=True)
class GaugeSpec:
    """A gauge family: its name, help text and label names."""

    name: str
    help: str
    labels: Labels

    def family(self, values: Mapping[Labels, int]) -> GaugeMetricFamily:
        found = GaugeMetricFamily(self.name, self.help, labels=self.labels)
        for labels, value in sorted(values.items()):
            found.add_metric(labels, value)
        return found


UP = GaugeSpec(
    "casestream_read_model_metrics_up",
    "1 when the last refresh of the read-model business gauges succeeded; 0 when it failed "
    "(database unreachable or a query error): the casestream_cases_*, casestream_clocks_*, "
    "casestream_rectifications*, casestream_disputes_decided and "
    "casestream_followup_satisfaction families then repeat the last good refresh, or are "
    "empty if there has been none",
    (),
)


@dataclass(frozen=True)
class BusinessGauges:
    """The gauge families but `up` (help texts name the zone and due-soon window in force)."""

    cases_open: GaugeSpec
    cases_overdue: GaugeSpec
    cases_received_today: GaugeSpec
    clocks_open: GaugeSpec
    clocks_due_soon: GaugeSpec
    rectifications: GaugeSpec
    rectifications_overdue: GaugeSpec
    disputes_decided: GaugeSpec

    @classmethod
    def of(cls, timezone: str, due_soon: timedelta) -> BusinessGauges:
        hours = f"{due_soon.total_seconds() / 3600:g}"
        return cls(
            cases_open=GaugeSpec(
                "casestream_cases_open",
                f"Cases not closed: neither in a closed status (办结 — {CLOSED_TEXT}) nor "
                "withdrawn (a cancelled rectification), by kind, current department and "
                "enterprise flag (涉企: true, false)",
                ("case_kind", "department", "enterprise"),
            ),
            cases_overdue=GaugeSpec(
                "casestream_cases_overdue",
                "超期未办: open cases (as in casestream_cases_open) with at least one deadline "
                "clock overdue now — not stopped, and either marked breached by the scanner or "
                "running past its due instant (a paused 中止 clock is never overdue); by kind "
                "and current department",
                ("case_kind", "department"),
            ),
            cases_received_today=GaugeSpec(
                "casestream_cases_received_today",
                f"今日新增: cases received on today's local date in {timezone} (the time of "
                "their opening event), by kind, current department and enterprise flag (涉企: "
                "true, false)",
                ("case_kind", "department", "enterprise"),
            ),
            clocks_open=GaugeSpec(
                "casestream_clocks_open",
                "Deadline clocks (时限) neither stopped nor cancelled, by rule, department and "
                "status: running (counting, due instant not passed), paused (中止, time stands "
                "still; never overdue), overdue (marked breached by the scanner, or running "
                "past its due instant)",
                ("rule", "department", "status"),
            ),
            clocks_due_soon=GaugeSpec(
                "casestream_clocks_due_soon",
                f"即将到期: running clocks due within the next {hours} hours (now <= due "
                f"instant <= now + {hours}h), by rule and department",
                ("rule", "department"),
            ),
            rectifications=GaugeSpec(
                "casestream_rectifications",
                "Rectifications (整改), by department and current status ("
                + ", ".join(RECTIFICATION.statuses)
                + "); 整改完成率 = (completed + verified) / all but cancelled",
                ("department", "status"),
            ),
            rectifications_overdue=GaugeSpec(
                "casestream_rectifications_overdue",
                "Rectifications still to be done (open, in_progress, rejected) whose completion "
                "clock is breached or whose completion deadline has passed (the rule of "
                "GET /rectifications?overdue=true), by department",
                ("department",),
            ),
            disputes_decided=GaugeSpec(
                "casestream_disputes_decided",
                "Reconsiderations with a decision and lawsuits with a judgment (the latest), "
                "by kind, department and outcome: correction 纠错 ("
                + ", ".join(sorted(CORRECTIONS))
                + "), loss 败诉 ("
                + ", ".join(sorted(LOSSES))
                + "), other. 复议纠错率 = correction / all of the kind, 诉讼败诉率 = loss / all "
                "of the kind: the definitions of GET /stats, over every case, not one period",
                ("case_kind", "department", "outcome"),
            ),
        )

    def all(self) -> tuple[GaugeSpec, ...]:
        return tuple(getattr(self, field.name) for field in fields(self))


SATISFACTION_HELP = (
    "Follow-up (回访) satisfaction scores of complaints, 1 (worst) to 5 (best): the latest visit "
    "of each complaint in the read models (a reopened complaint has no score until visited "
    "again); satisfied (满意) = score 4 or 5"
)


class ReadModelCollector:
    """Prometheus collector of the business gauges (register it on a registry).

    `describe()` names the families without touching the database, so registering runs no
    query. `collect()` refreshes at most once per `cache_seconds` (by `monotonic`), under a
    lock: scrapes from several threads share one refresh. It never raises on a database
    error: the failure is logged as a warning, the last good families are yielded again (none
    if there was no good refresh) and `casestream_read_model_metrics_up` is 0; it is 1 when the
    last refresh succeeded. A failed refresh is retried after `cache_seconds` too, so a
    database that is down is not asked on every scrape.

    A label set with nothing to count is absent, except where a dashboard would otherwise show
    "no data" for a true 0: the case families are 0 for every (kind, department, …) that has
    cases, due-soon for every (rule, department) with open clocks, the rectification families
    for every status and department that has rectifications, the decisions for every outcome
    of a (kind, department) with decisions.

    Cost of a refresh: eight queries, each returning at most one row per label set. One scan
    of `cases` feeds the open and received-today families; the clock families read `clocks`
    through ix_clocks_status_due; the others read `cases` of one or two kinds through
    ix_cases_kind_status, satisfaction and decided disputes by their own columns (no JSON).
    `bench/figures.py`, PostgreSQL, 1M cases and 1.85M clocks: about 1.8 s per refresh, every
    API process on its own (hence the cache). The queries are not one snapshot: a batch
    projected between two of them can show in one family before another.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        now: Callable[[], datetime],
        timezone: str,
        departments: DepartmentLabel,
        due_soon: timedelta = timedelta(days=3),
        cache_seconds: float = 15,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._now = now
        self._zone = ZoneInfo(timezone)
        self._departments = departments
        self._due_soon = due_soon
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._gauges = BusinessGauges.of(timezone, due_soon)
        self._lock = threading.Lock()
        self._families: list[Metric] = []  # of the last good refresh
        self._up = False
        self._refreshed_at: float | None = None  # monotonic instant of the last attempt

    def describe(self) -> list[Metric]:
        return [
            *(spec.family({}) for spec in self._gauges.all()),
            _satisfaction_family([]),
            UP.family({}),
        ]

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            started = self._monotonic()
            if self._refreshed_at is None or started - self._refreshed_at >= self._cache_seconds:
                self._refresh()
                self._refreshed_at = started
            families, up = self._families, self._up
        yield from families
        yield UP.family({(): int(up)})

    def _refresh(self) -> None:
        try:
            self._families = self._read(self._now())
            self._up = True
        except Exception as exc:  # whatever it is, /metrics still answers with the rest
            self._up = False
            log.warning(
                "read-model business gauges not refreshed (%s: %s); serving the last good ones",
                type(exc).__name__,
                exc,
            )

    def _read(self, now: datetime) -> list[Metric]:
        gauges = self._gauges
        with self._engine.connect() as conn:
            by_case = list(conn.execute(_case_tallies(now, self._zone)))
            overdue_cases = self._sum(conn.execute(_overdue_cases(now)), department_at=1)
            open_clocks = self._sum(conn.execute(_open_clocks(now)), department_at=1)
            due_soon = self._sum(
                conn.execute(_clocks_due_soon(now, self._due_soon)), department_at=1
            )
            rectifications = self._sum(conn.execute(_rectifications_by_status()), department_at=0)
            overdue_rectifications = self._sum(
                conn.execute(_overdue_rectifications(now)), department_at=0
            )
            decided = self._sum(conn.execute(_disputes_decided()), department_at=1)
            scores = list(conn.execute(_satisfaction_scores()))
        opened, today = self._case_counts(by_case)
        with_open_cases = {(kind, department): 0 for kind, department, _ in opened}
        with_open_clocks = {(rule, department): 0 for rule, department, _ in open_clocks}
        # 0 rather than no series, so that a share (完成率, 纠错率) is 0 % and not "no data"
        with_rectifications = {(department,): 0 for department, _ in rectifications}
        every_status = {
            (department, status): 0
            for (department,) in with_rectifications
            for status in RECTIFICATION.statuses
        }
        every_outcome = {
            (kind, department, outcome): 0
            for kind, department, _ in decided
            for outcome in OUTCOME_CLASSES[CaseKind(kind)]
        }
        return [
            gauges.cases_open.family(opened),
            gauges.cases_overdue.family(with_open_cases | overdue_cases),
            gauges.cases_received_today.family(today),
            gauges.clocks_open.family(open_clocks),
            gauges.clocks_due_soon.family(with_open_clocks | due_soon),
            gauges.rectifications.family(every_status | rectifications),
            gauges.rectifications_overdue.family(with_rectifications | overdue_rectifications),
            gauges.disputes_decided.family(every_outcome | decided),
            _satisfaction_family(scores),
        ]

    def _case_counts(self, rows: list[sa.Row[Any]]) -> tuple[Counter[Labels], ...]:
        """open and received today, from the one scan of `cases`."""
        opened: Counter[Labels] = Counter()
        today: Counter[Labels] = Counter()
        for row in rows:
            labels = (
                row.case_kind,
                self._departments(row.department),
                "true" if row.enterprise else "false",
            )
            opened[labels] += int(row.open)
            today[labels] += int(row.received_today)
        return opened, today

    def _sum(self, rows: Iterable[sa.Row[Any]], *, department_at: int) -> Counter[Labels]:
        """Counts (the last column) by their other columns, the department mapped to its label;
        rows whose departments map to one label (other) are added up."""
        found: Counter[Labels] = Counter()
        for row in rows:
            labels: list[str] = list(row[:-1])
            labels[department_at] = self._departments(labels[department_at])
            found[tuple(labels)] += int(row[-1])
        return found


# --- the queries ---------------------------------------------------------------------------
# PostgreSQL refuses to GROUP BY an expression with bound parameters (a CASE, a JSON path)
# that the select list binds again separately, so grouping is on the columns of a subquery.


def _tally(rows: sa.Select[Any], *dimensions: str) -> sa.Select[Any]:
    """COUNT(*) of `rows` by the named columns (the count comes last)."""
    inner = rows.subquery()
    keys = [inner.c[name] for name in dimensions]
    return sa.select(*keys, sa.func.count().label("total")).group_by(*keys)


def _flag(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def _case_tallies(now: datetime, zone: ZoneInfo) -> sa.Select[Any]:
    """Cases by kind, department and enterprise flag: how many are open and how many were
    received today (local date in `zone`)."""
    day = now.astimezone(zone).date()
    today_starts = datetime.combine(day, datetime.min.time(), zone)
    tomorrow_starts = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
    received_today = sa.and_(
        cases.c.received_at >= today_starts, cases.c.received_at < tomorrow_starts
    )
    inner = sa.select(
        cases.c.case_kind,
        cases.c.department,
        cases.c.enterprise,
        _flag(_still_open()).label("open"),
        _flag(received_today).label("received_today"),
    ).subquery()
    keys = [inner.c[name] for name in ("case_kind", "department", "enterprise")]
    return sa.select(
        *keys,
        sa.func.sum(inner.c.open).label("open"),
        sa.func.sum(inner.c.received_today).label("received_today"),
    ).group_by(*keys)


def _overdue_cases(now: datetime) -> sa.Select[Any]:
    """Open cases with an overdue clock, by kind and department (a case counted once)."""
    overdue_clock = sa.exists().where(clocks.c.case_id == cases.c.case_id, overdue_now(now))
    rows = sa.select(cases.c.case_kind, cases.c.department).where(_still_open(), overdue_clock)
    return _tally(rows, "case_kind", "department")


def _open_clocks(now: datetime) -> sa.Select[Any]:
    status = sa.case((overdue_now(now), "overdue"), else_=clocks.c.status)
    rows = sa.select(clocks.c.rule_id, clocks.c.department, status.label("status")).where(
        clocks.c.stopped_at.is_(None), clocks.c.status.in_(("running", "paused", "breached"))
    )
    return _tally(rows, "rule_id", "department", "status")


def _clocks_due_soon(now: datetime, within: timedelta) -> sa.Select[Any]:
    """Running clocks with now <= due_at <= now + within (as GET /clocks/due)."""
    return (
        sa.select(clocks.c.rule_id, clocks.c.department, sa.func.count())
        .where(due_between(now, now + within))
        .group_by(clocks.c.rule_id, clocks.c.department)
    )


def _rectifications_by_status() -> sa.Select[Any]:
    return (
        sa.select(cases.c.department, cases.c.status, sa.func.count())
        .where(cases.c.case_kind == CaseKind.rectification.value)
        .group_by(cases.c.department, cases.c.status)
    )


def _overdue_rectifications(now: datetime) -> sa.Select[Any]:
    listed, _, overdue = rectifications_with_overdue(now)
    return _tally(listed.where(overdue), "department")


def _disputes_decided() -> sa.Select[Any]:
    """Decided reconsiderations and lawsuits by kind, department and outcome class."""
    return (
        sa.select(cases.c.case_kind, cases.c.department, cases.c.outcome, sa.func.count())
        .where(cases.c.outcome.is_not(None))
        .group_by(cases.c.case_kind, cases.c.department, cases.c.outcome)
    )


def _satisfaction_scores() -> sa.Select[Any]:
    return (
        sa.select(cases.c.satisfaction.label("score"), sa.func.count().label("total"))
        .where(cases.c.case_kind == CaseKind.complaint.value, cases.c.satisfaction.is_not(None))
        .group_by(cases.c.satisfaction)
    )


def _satisfaction_family(rows: list[sa.Row[Any]]) -> HistogramMetricFamily:
    counts = {int(row.score): int(row.total) for row in rows}
    buckets = [
        (str(float(bound)), sum(n for score, n in counts.items() if score <= bound))
        for bound in SATISFACTION_SCORES
    ]
    total = sum(counts.values())
    return HistogramMetricFamily(
        "casestream_followup_satisfaction",
        SATISFACTION_HELP,
        buckets=[*buckets, ("+Inf", total)],
        sum_value=sum(score * n for score, n in counts.items()),
    )
