"""The worker's business counters and positions, from the projector itself (in process, SQLite):
what a user reads in Grafana must count each real case fact once, whatever the redeliveries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from casestream.domain.calendar import load_calendar
from casestream.domain.cases import evolve, fold
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import Event
from casestream.domain.outcomes import OutcomeSettings, consequences
from casestream.domain.rules import load_rulebook
from casestream.metric_labels import DepartmentLabels
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ProjectionWriter
from casestream.stream_processors.metrics import PipelineMetrics, ProjectorMetrics, ScannerMetrics
from casestream.stream_processors.projector import DeadLetter, Projector, RawMessage
from tests.events import complaint_lifecycle, event
from tests.unit.test_outcomes import judged, lawsuit

POLICY = ClockPolicy(load_rulebook(), load_calendar())


class Feed:
    """Messages on one partition per topic, offsets counted as a broker would."""

    def __init__(self) -> None:
        self.offsets: dict[str, int] = {}

    def messages(self, events: list[Event[Any]]) -> list[RawMessage]:
        out = []
        for item in events:
            topic = f"{item.case_kind.value}.events"
            offset = self.offsets.get(topic, 0)
            self.offsets[topic] = offset + 1
            out.append(RawMessage(topic, 0, offset, item.case_id.encode(), item.to_json_bytes()))
        return out


@pytest.fixture
def projected(tmp_path: Path) -> tuple[Projector, CollectorRegistry, Feed]:
    engine = create_engine(f"sqlite:///{tmp_path / 'metrics.db'}")
    migrate(engine)
    registry = CollectorRegistry()
    departments = DepartmentLabels(frozenset({"治安大队", "交警大队"}))

    async def nowhere(letter: DeadLetter) -> None:
        return None

    writer = ProjectionWriter(engine, POLICY, OutcomeSettings(fallback_department="法制大队"))
    projector = Projector(writer, nowhere, ProjectorMetrics(registry, departments), "Asia/Shanghai")
    return projector, registry, Feed()


def derived(history: list[Event[Any]], decision: Event[Any]) -> list[Event[Any]]:
    before = fold(history)
    return list(
        consequences(
            decision,
            before,
            evolve(before, decision),
            OutcomeSettings(fallback_department="法制大队"),
        )
    )


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_received_resolved_decisions_and_rectifications_count_each_fact_once(
    projected: tuple[Projector, CollectorRegistry, Feed],
) -> None:
    projector, registry, feed = projected
    complaint = complaint_lifecycle("C-1", enterprise=True)
    lost = [*lawsuit("L-1"), judged("L-1", "revoked")]
    won = [*lawsuit("L-2", department="交警大队"), judged("L-2", "claim_dismissed")]
    rectification = derived(lost[:-1], lost[-1])
    rect_id = rectification[0].case_id
    done = [
        event(
            "RectificationCompleted", rect_id, "rectification", {"evidence": ["整改报告"]}, day=70
        ),
        event("RectificationVerified", rect_id, "rectification", {"supervisor": "督察"}, day=72),
    ]
    everything = complaint + lost + won + rectification + done
    await projector.handle(feed.messages(everything))
    # the same events again (a producer retry): new offsets, same event ids
    await projector.handle(feed.messages(everything))

    assert (
        value(
            registry,
            "casestream_cases_received_total",
            case_kind="complaint",
            department="none",  # not yet assigned when received
            channel="hotline_12345",
            enterprise="true",
        )
        == 1
    )
    assert (
        value(
            registry,
            "casestream_cases_received_total",
            case_kind="litigation",
            department="治安大队",
            channel="none",
            enterprise="false",
        )
        == 1
    )
    # a complaint resolved in 治安大队 (its department by then), and visited afterwards:
    # followed_up is still closed, so it is one resolution
    assert (
        value(
            registry,
            "casestream_cases_resolved_total",
            case_kind="complaint",
            department="治安大队",
        )
        == 1
    )
    assert (
        value(
            registry,
            "casestream_dispute_decisions_total",
            case_kind="litigation",
            department="治安大队",
            outcome="loss",
        )
        == 1
    )
    assert (
        value(
            registry,
            "casestream_dispute_decisions_total",
            case_kind="litigation",
            department="交警大队",
            outcome="other",
        )
        == 1
    )
    transitions = {
        (sample.labels["department"], sample.labels["status"]): sample.value
        for metric in registry.collect()
        if metric.name == "casestream_rectification_transitions"
        for sample in metric.samples
        if sample.name.endswith("_total")
    }
    assert transitions == {
        ("治安大队", "open"): 1,
        ("治安大队", "completed"): 1,
        ("治安大队", "verified"): 1,
    }
    assert value(
        registry, "casestream_projector_events_total", case_kind="any", outcome="duplicate"
    ) == len(everything)


async def test_departments_outside_the_configured_set_are_other(
    projected: tuple[Projector, CollectorRegistry, Feed],
) -> None:
    projector, registry, feed = projected
    await projector.handle(
        feed.messages([*lawsuit("L-9", department="某个新部门"), judged("L-9", "revoked")])
    )
    assert (
        value(
            registry,
            "casestream_dispute_decisions_total",
            case_kind="litigation",
            department="other",
            outcome="loss",
        )
        == 1
    )


async def test_positions_and_newest_event_follow_what_was_committed(
    projected: tuple[Projector, CollectorRegistry, Feed],
) -> None:
    projector, _, feed = projected
    events = complaint_lifecycle("C-2")
    await projector.handle(feed.messages(events[:3]))
    assert projector.positions == {("complaint.events", 0): 3}
    assert projector.newest == {("complaint.events", 0): events[2].recorded_at.timestamp()}
    await projector.handle(feed.messages(events[3:]))
    assert projector.positions == {("complaint.events", 0): len(events)}
    assert projector.newest == {("complaint.events", 0): events[-1].recorded_at.timestamp()}


def test_alerts_are_counted_by_level_and_department() -> None:
    registry = CollectorRegistry()
    metrics = ScannerMetrics(registry, DepartmentLabels(None))
    common = {
        "alert_id": "a",
        "clock_id": "C-1/complaint.handling",
        "rule": "complaint.handling",
        "due_at": "2026-03-20T00:00:00+08:00",
        "scheduled_at": "2026-03-20T00:00:00+08:00",
        "department": "治安大队",
    }
    metrics.emitted(event("Escalated", "C-1", "complaint", {**common, "level": 3}))
    metrics.emitted(event("AlertCleared", "C-1", "complaint", common))
    assert (
        value(
            registry,
            "casestream_alerts_emitted_total",
            event_type="Escalated",
            rule="complaint.handling",
            level="3",
            department="治安大队",
        )
        == 1
    )
    assert (
        value(
            registry,
            "casestream_alerts_emitted_total",
            event_type="AlertCleared",
            rule="complaint.handling",
            level="none",
            department="治安大队",
        )
        == 1
    )


def test_lag_per_assigned_partition_and_age_of_the_most_behind_partition() -> None:
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    complaints, alerts = ("complaint.events", 0), ("alerts.events", 0)

    def measured(
        ends: dict[tuple[str, int], int],
        positions: dict[tuple[str, int], int],
        newest: dict[tuple[str, int], float],
        now: float,
    ) -> tuple[dict[str, float], float]:
        metrics.measure(ends, positions, newest, now=now)
        lags = {
            f"{s.labels['topic']}[{s.labels['partition']}]": s.value
            for family in registry.collect()
            if family.name == "casestream_consumer_lag_events"
            for s in family.samples
        }
        return lags, value(registry, "casestream_projection_age_seconds")

    # caught up at t=1000
    assert measured({complaints: 10}, {complaints: 10}, {}, 1000) == ({"complaint.events[0]": 0}, 0)
    # t=8200: complaints 5000 behind, nothing projected since; the scanner's fresh alerts
    # (recorded just now, and projected) do not hide it
    lags, age = measured(
        {complaints: 5010, alerts: 7}, {complaints: 10, alerts: 7}, {alerts: 8199.0}, 8200
    )
    assert lags == {"complaint.events[0]": 5000, "alerts.events[0]": 0} and age == 7200
    # t=8300: progress: the newest event projected from complaints was recorded at 8000
    _, age = measured({complaints: 5010}, {complaints: 4000}, {complaints: 8000.0}, 8300)
    assert age == 300
    # alerts.events moved to another worker: its series goes; a partition newly assigned here
    # and behind counts from its assignment
    lags, age = measured(
        {complaints: 5010, ("complaint.events", 1): 9}, {complaints: 5010}, {}, 8400
    )
    assert lags == {"complaint.events[0]": 0, "complaint.events[1]": 9} and age == 0
    _, age = measured({("complaint.events", 1): 9}, {}, {}, 8460)
    assert age == 60
