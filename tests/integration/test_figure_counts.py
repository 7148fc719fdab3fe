"""The per-day figure counters the projector keeps equal a recount of the cases, on SQLite and
PostgreSQL: after simulated cases of every kind (rectifications, 督察 and hearings included)
projected in uneven batches, events sent twice, the scanner's breach alerts, and for periods,
departments and "now"s where running clocks have passed their due instants."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from casestream.domain.envelope import Event
from casestream.producers.simulation import DEPARTMENTS, simulate
from casestream.read_models import business_queries
from casestream.read_models import figure_counts as figure_counts_module
from casestream.read_models.case_tallies import recount as recount_tallies
from casestream.read_models.case_tallies import recount_clocks
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.figure_counts import FigureCounter, FigureReader
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import (
    case_figures,
    case_tallies,
    clock_tallies,
    figure_counts,
    projection_meta,
)
from casestream.read_models.stats import StatsQueries, StatsScope
from casestream.read_models.stats_breakdown import StatsBreakdown, buckets_of
from casestream.stream_processors.scanner import EscalationScanner
from tests.conftest import Database
from tests.events import event, local
from tests.integration.test_projection_writer import _opinion_events
from tests.integration.test_stats import POLICY, complaint, scenario

ZONE_NAME = POLICY.timezone
ZONE = ZoneInfo(ZONE_NAME)
NOW = datetime.fromisoformat("2026-04-20T10:00:00+08:00")


def _enforcement() -> list[Event[Any]]:
    """执法监督 in two departments: reviews with opinions, scored or not; notices; decisions
    published on time, late, or not at all (their publication clocks breach)."""
    found: list[Event[Any]] = []
    for number, department in enumerate(DEPARTMENTS[:2]):
        at = local(f"2026-03-{10 + number}T10:00")
        review = {"decision_ref": f"D-{number}", "department": department, "reviewer": "张敏"}
        found += [
            event("EnforcementReviewOpened", f"KP-{number}", "enforcement_review", review, at=at),
            event(
                "ReviewOpinionIssued",
                f"KP-{number}",
                "enforcement_review",
                {"category": ("procedure", "evidence")[number], "text": "问题"},
                at=at,
                day=1,
            ),
            event(
                "EnforcementNoticeIssued",
                f"JDS-{number}",
                "enforcement_notice",
                {"notice_no": f"N-{number}", "department": department, "matters": ["x"]}
                | {"deadline": "2026-04-30"},
                at=at,
            ),
        ]
        if number == 0:
            found.append(
                event(
                    "EnforcementReviewCompleted",
                    "KP-0",
                    "enforcement_review",
                    {"score": 88},
                    at=at,
                    day=2,
                )
            )
        for ground, published_after in (("minor", 2), ("first_offence", 30), ("no_fault", None)):
            case_id = f"BCF-{number}-{ground}"
            recorded = {
                "decision_ref": case_id,
                "exemption": ground,
                "legal_basis": "《行政处罚法》第三十三条",
                "decided_on": at.date().isoformat(),
                "department": department,
            }
            found.append(
                event(
                    "EnforcementDecisionRecorded", case_id, "enforcement_decision", recorded, at=at
                )
            )
            if published_after is not None:
                found.append(
                    event(
                        "EnforcementDecisionPublished",
                        case_id,
                        "enforcement_decision",
                        {"platform": "网站"},
                        at=at,
                        day=published_after,
                    )
                )
    return found


def _events(seed: int) -> list[Event[Any]]:
    events = [
        *simulate(random.Random(seed), 160, NOW, prefix="FIG"),
        *scenario(),
        *_enforcement(),
    ]
    return sorted(events, key=lambda item: item.occurred_at)


class Projector:
    """A ProjectionWriter fed in uneven batches, with its offsets."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.writer = ProjectionWriter(engine, POLICY)
        self.offset = 0
        self.rng = random.Random(5)

    def feed(self, events: list[Event[Any]], topic: str = "cases.events") -> None:
        start = 0
        while start < len(events):
            size = self.rng.choice((1, 7, 40, 150))
            batch = [
                ConsumedEvent(topic, 0, self.offset + n, item)
                for n, item in enumerate(events[start : start + size])
            ]
            self.writer.apply_batch(batch)
            self.offset += len(batch)
            start += size

    def scan(self, at: datetime) -> int:
        """One scanner pass at `at`; its alerts projected."""
        sent: list[Event[Any]] = []

        async def emit(events: list[Event[Any]]) -> None:
            sent.extend(events)

        asyncio.run(EscalationScanner(self.engine, POLICY, emit, lambda: at).scan_once())
        self.feed(sent, topic="alerts.events")
        return len(sent)


@pytest.fixture
def engine(database: Database) -> Iterator[sa.Engine]:
    engine = create_engine(database.url, database.schema)
    migrate(engine, FigureCounter(POLICY.rulebook, ZONE_NAME).ensure)
    yield engine
    engine.dispose()


def _scopes(now: datetime) -> Iterator[StatsScope]:
    periods = [
        (date(2026, 1, 1), date(2026, 12, 31)),
        (date(2026, 3, 1), date(2026, 3, 31)),
        (date(2026, 2, 10), date(2026, 4, 2)),
        (date(2026, 3, 17), date(2026, 3, 17)),
    ]
    for first, last in periods:
        for department in (None, *DEPARTMENTS[:3], "no-such-department"):
            yield StatsScope.of_days(first, last, ZONE, department, now)


def _plain(rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows comparable across drivers and query shapes (None as "", flags and sums as int)."""
    return sorted(
        tuple(
            "" if value is None else int(value) if isinstance(value, bool | Decimal) else value
            for value in row
        )
        for row in rows
    )


def _assert_tallies_equal_recount(engine: sa.Engine, now: datetime) -> None:
    """The tallies equal a GROUP BY of the cases, and every business gauge read from them
    equals the same gauge counted from the cases at `now`."""
    gauges: list[Callable[[bool], sa.Select[Any]]] = [
        lambda tallied: business_queries.open_and_received_today(now, ZONE, tallied=tallied),
        lambda tallied: business_queries.overdue_cases(now, tallied=tallied),
        lambda tallied: business_queries.rectifications_by_status(tallied=tallied),
        lambda tallied: business_queries.enforcement_by_status(tallied=tallied),
        lambda tallied: business_queries.disputes_decided(tallied=tallied),
        lambda tallied: business_queries.satisfaction_scores(tallied=tallied),
        lambda tallied: business_queries.open_clocks(now, tallied=tallied),
    ]
    with engine.connect() as conn:
        stored = _plain(conn.execute(sa.select(case_tallies)))
        assert stored == _plain(conn.execute(recount_tallies()))
        assert stored  # something was counted
        clocks_stored = _plain(conn.execute(sa.select(clock_tallies)))
        assert clocks_stored == _plain(conn.execute(recount_clocks()))
        assert clocks_stored
        for number, gauge in enumerate(gauges):
            tallied = _plain(conn.execute(gauge(True)))
            assert tallied == _plain(conn.execute(gauge(False))), number


def _assert_counters_equal_recount(engine: sa.Engine, now: datetime) -> None:
    _assert_tallies_equal_recount(engine, now)
    stats = StatsQueries(engine, POLICY.rulebook, ZONE_NAME)
    counted, recounted_received = StatsBreakdown(engine, ZONE_NAME), StatsBreakdown(engine)
    for scope in _scopes(now):
        assert stats.figures(scope) == stats.recount(scope), (scope.days, scope.department)
        assert scope.days is not None
        buckets = buckets_of(scope.days[0] + timedelta(days=3), scope.days[1])
        assert counted.received(scope, buckets) == recounted_received.received(scope, buckets)
    year = StatsScope.of_days(date(2026, 1, 1), date(2026, 12, 31), ZONE, None, now)
    recounted = {
        name: stats.recount(StatsScope(year.start, year.end, name, now, year.days))
        for name in DEPARTMENTS
    }
    assert stats.by_department(year) == {
        name: figures
        for name, figures in recounted.items()
        if figures.complaints.received
        or figures.enterprise_tips.received
        or figures.reconsiderations.received
        or figures.lawsuits.filed
        or figures.rectifications.opened
        or figures.rectifications.cancelled
        or figures.enforcement.reviews.reviewed
        or figures.enforcement.notices.issued
        or figures.enforcement.decisions.recorded
    }


def test_counters_equal_a_recount_through_batches_duplicates_and_breaches(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _events(seed=11)
    projector = Projector(engine)
    half = len(events) // 2
    projector.feed(events[:half])
    assert projector.scan(NOW - timedelta(days=30)) > 0  # breaches of the first half's clocks
    projector.feed(events[half - 60 :])  # 60 events sent again: nothing counted twice
    assert projector.scan(NOW) > 0
    with engine.connect() as conn:
        assert FigureReader(POLICY.rulebook, ZONE_NAME).ready(conn)
        assert conn.execute(sa.select(sa.func.count()).select_from(figure_counts)).scalar()
    for now in (NOW, NOW + timedelta(days=45)):  # later: running clocks pass their due
        _assert_counters_equal_recount(engine, now)
    monkeypatch.setattr(figure_counts_module, "MANY_LATE", 1)  # many past due: one join
    _assert_counters_equal_recount(engine, NOW + timedelta(days=45))
    # and a figure checked by hand: every case is received exactly once in the counters
    with engine.connect() as conn:
        received = conn.execute(sa.select(sa.func.sum(figure_counts.c.received))).scalar()
    assert received == len({item.case_id for item in events})
    year = StatsScope.of_days(date(2026, 1, 1), date(2026, 12, 31), ZONE, None, NOW)
    enforcement = StatsQueries(engine, POLICY.rulebook, ZONE_NAME).figures(year).enforcement
    reviews, decisions = enforcement.reviews, enforcement.decisions
    assert (reviews.reviewed, reviews.scored, reviews.average_score, reviews.opinions) == (
        2,
        1,
        88,
        2,
    )
    assert (enforcement.notices.issued, enforcement.notices.rectified) == (2, 0)
    assert (decisions.recorded, decisions.published, decisions.published_on_time) == (6, 4, 2)
    assert decisions.overdue == 4  # published a month later, or never


def test_counters_built_from_existing_cases_equal_those_kept_by_the_projector(
    database: Database, make_database: Any
) -> None:
    events = _events(seed=12)
    kept = create_engine(database.url, database.schema)
    migrate(kept, FigureCounter(POLICY.rulebook, ZONE_NAME).ensure)
    Projector(kept).feed(events)
    # a database migrated before the counters existed: cases but no counters, until ensure
    other = make_database("postgresql" if database.schema else "sqlite")
    built = create_engine(other.url, other.schema)
    migrate(built)
    Projector(built).feed(events)
    with built.begin() as conn:
        assert not FigureReader(POLICY.rulebook, ZONE_NAME).ready(conn)
        assert FigureCounter(POLICY.rulebook, ZONE_NAME).ensure(conn) == len(
            {item.case_id for item in events}
        )
        assert FigureCounter(POLICY.rulebook, ZONE_NAME).ensure(conn) == 0  # built: no rework
    for table in (case_figures, figure_counts, case_tallies, clock_tallies):
        key = [column for column in table.primary_key.columns]
        query = sa.select(table).order_by(*key)
        with kept.connect() as one, built.connect() as two:
            # a case's key moves as its events arrive (day received, department): the
            # counters it leaves at zero are removed, so both hold the same rows
            assert [*one.execute(query)] == [*two.execute(query)], table.name
    _assert_counters_equal_recount(built, NOW)
    kept.dispose()
    built.dispose()


def test_counters_built_in_another_time_zone_are_not_read_until_rebuilt(
    engine: sa.Engine,
) -> None:
    Projector(engine).feed(_events(seed=13))
    with engine.begin() as conn:
        conn.execute(
            projection_meta.update()
            .where(projection_meta.c.key == "figure_counts_zone")
            .values(value="Asia/Urumqi")
        )
        assert not FigureReader(POLICY.rulebook, ZONE_NAME).ready(conn)
        # rebuilt in the deployment's zone: the cases' local days counted again
        assert FigureCounter(POLICY.rulebook, ZONE_NAME).ensure(conn) > 0
        assert FigureReader(POLICY.rulebook, ZONE_NAME).ready(conn)
    _assert_counters_equal_recount(engine, NOW)


def test_a_complaint_transferred_to_another_department_moves_its_counts(
    engine: sa.Engine,
) -> None:
    projector = Projector(engine)
    projector.feed(complaint("MOVE-1", "2026-03-05T09:00", accepted="2026-03-05T10:00"))
    stats = StatsQueries(engine, POLICY.rulebook, ZONE_NAME)
    march = StatsScope.of_days(date(2026, 3, 1), date(2026, 3, 31), ZONE, None, NOW)
    assert {name: f.complaints.received for name, f in stats.by_department(march).items()} == {
        "治安大队": 1
    }
    moved = {"to_department": "户政大队", "reason": "属户籍业务"}
    projector.feed(
        [event("ComplaintTransferred", "MOVE-1", "complaint", moved, at=local("2026-03-06T09:00"))]
    )
    assert {name: f.complaints.received for name, f in stats.by_department(march).items()} == {
        "户政大队": 1
    }
    _assert_counters_equal_recount(engine, NOW)


def test_a_report_clock_stopped_by_its_rectification_leaves_the_clock_tallies(
    engine: sa.Engine,
) -> None:
    """The rectification of a 行政复议意见书 stops the report clock of the reconsideration, a
    case its events do not touch: the tallies of that case's clocks move all the same."""
    reconsideration, rectification = _opinion_events()
    projector = Projector(engine)
    projector.feed([*reconsideration, rectification[0]])
    later = datetime.fromisoformat("2026-07-01T10:00:00+08:00")
    with engine.connect() as conn:
        running = conn.execute(
            sa.select(clock_tallies.c.total).where(
                clock_tallies.c.rule_id == "reconsideration.opinion_report"
            )
        ).scalar()
    assert running == 1
    projector.feed(rectification[1:])  # completed: the report clock stops
    _assert_tallies_equal_recount(engine, later)
    with engine.connect() as conn:
        rules = set(conn.execute(sa.select(clock_tallies.c.rule_id)).scalars())
    assert "reconsideration.opinion_report" not in rules
