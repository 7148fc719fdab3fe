"""Business gauges for the leadership dashboard (今日新增, 超期未办, 即将到期, 纠错率, 败诉率, 整改,
督察, 执法监督), computed from the read models by a Prometheus collector.

Every figure is a count of what the read models hold at the last refresh, by current
department (through DepartmentLabels; a supervision by its department when flagged). A refresh
runs ten GROUP BY queries
(business_queries.py), at most once per `cache_seconds`; a scrape in between gets the cached
families (business_gauges.py names them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from prometheus_client.core import HistogramMetricFamily, Metric

from casestream.domain.catalog import CaseKind
from casestream.domain.clocks import AlertStatus
from casestream.domain.outcomes import OUTCOME_CLASSES
from casestream.domain.rectifications import RECTIFICATION
from casestream.domain.rules import RuleBook

from . import business_queries as queries
from .business_gauges import (
    ENFORCEMENT_STATUSES,
    SATISFACTION_HELP,
    UP,
    BusinessGauges,
    Labels,
)
from .figure_counts import counters_ready

log = logging.getLogger(__name__)

SATISFACTION_SCORES = (1, 2, 3, 4, 5)  # 回访 satisfaction, 1 (worst) to 5 (best)

DepartmentLabel = Callable[[str | None], str]  # casestream.metric_labels.DepartmentLabels


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
    of a (kind, department) with decisions, both supervision families for every department
    with complaints (so the flagged count rises from 0 where a first supervision begins), the
    执法监督 cases for every status of a (kind, department) with such cases.

    Cost of a refresh: eleven queries, each returning at most one row per label set. Where the
    cases and their clocks stand (open, by status, decided, scored, overdue, open clocks) is
    read from the tallies the projector keeps (case_tallies.py), with what time alone changed
    (clocks running past their due instants) added from the (status, due_at) index; today's
    cases from a range of ix_cases_received; the supervisions from their alerts. Until the
    tallies are built (an upgraded database's first start) the same figures are counted from
    the cases and clocks. `bench/figures.py`, PostgreSQL, 1M cases and 1.85M clocks: see
    bench/README.md. The queries are not one snapshot: a batch projected between two of them
    can show in one family before another.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        rulebook: RuleBook,
        now: Callable[[], datetime],
        timezone: str,
        departments: DepartmentLabel,
        due_soon: timedelta = timedelta(days=3),
        cache_seconds: float = 15,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._rulebook = rulebook
        self._now = now
        self._zone = ZoneInfo(timezone)
        self._timezone = timezone
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
            tallied = counters_ready(conn, self._timezone)
            by_case = list(
                conn.execute(queries.open_and_received_today(now, self._zone, tallied=tallied))
            )
            overdue_cases = self._sum(
                conn.execute(queries.overdue_cases(now, tallied=tallied)), department_at=1
            )
            open_clocks = self._sum(
                conn.execute(queries.open_clocks(now, tallied=tallied)), department_at=1
            )
            due_soon = self._sum(
                conn.execute(queries.clocks_due_soon(now, self._due_soon)), department_at=1
            )
            rectifications = self._sum(
                conn.execute(queries.rectifications_by_status(tallied=tallied)), department_at=0
            )
            overdue_rectifications = self._sum(
                conn.execute(queries.overdue_rectifications(now, self._rulebook)), department_at=0
            )
            decided = self._sum(
                conn.execute(queries.disputes_decided(tallied=tallied)), department_at=1
            )
            scores = list(conn.execute(queries.satisfaction_scores(tallied=tallied)))
            enforcement = self._sum(
                conn.execute(queries.enforcement_by_status(tallied=tallied)), department_at=1
            )
            supervisions = self._sum(conn.execute(queries.supervisions()), department_at=0)
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
        every_enforcement_status = {
            (kind, department, status): 0
            for kind, department, _ in enforcement
            for status in ENFORCEMENT_STATUSES[CaseKind(kind)]
        }
        # 0 for every department with complaints, so that the first supervision of one is a
        # rise of its series (delta over a period counts it), not a series appearing at 1
        with_complaints = {
            (department,): 0 for kind, department, _ in opened if kind == CaseKind.complaint.value
        }
        under_supervision: Counter[Labels] = Counter(with_complaints)
        flagged: Counter[Labels] = Counter(with_complaints)
        for (department, status), count in supervisions.items():
            under_supervision[(department,)] += count if status == AlertStatus.open.value else 0
            flagged[(department,)] += count
        return [
            gauges.cases_open.family(opened),
            gauges.cases_overdue.family(with_open_cases | overdue_cases),
            gauges.cases_received_today.family(today),
            gauges.clocks_open.family(open_clocks),
            gauges.clocks_due_soon.family(with_open_clocks | due_soon),
            gauges.rectifications.family(every_status | rectifications),
            gauges.rectifications_overdue.family(with_rectifications | overdue_rectifications),
            gauges.disputes_decided.family(every_outcome | decided),
            gauges.under_supervision.family(under_supervision),
            gauges.supervisions_flagged.family(flagged),
            gauges.enforcement_cases.family(every_enforcement_status | enforcement),
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
