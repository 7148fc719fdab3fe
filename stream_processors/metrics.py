"""Metrics of the stream processors, created on a registry passed in (a fresh one per test).

Every worker process exposes its own registry: counters count what this process did, so a
deployment's figure is the sum over `instance`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import Event
from casestream.domain.outcomes import went_against
from casestream.metric_labels import DepartmentLabels
from casestream.read_models.ledgers import CLOSED_STATUSES
from casestream.read_models.projection import CaseChange


class ProjectorMetrics:
    def __init__(
        self, registry: CollectorRegistry, departments: DepartmentLabels | None = None
    ) -> None:
        self.flow = CaseFlowMetrics(registry, departments or DepartmentLabels(None))
        self.events = Counter(
            "casestream_projector_events_total",
            "Events taken from the case topics, by case kind and outcome (applied, duplicate, skipped)",
            ["case_kind", "outcome"],
            registry=registry,
        )
        self.deadletters = Counter(
            "casestream_deadletter_messages_total",
            "Messages sent to the dead-letter topic, by source topic and reason",
            ["topic", "reason"],
            registry=registry,
        )
        self.anomalies = Counter(
            "casestream_projector_anomalies_total",
            "Out-of-order events recorded as anomalies on their case",
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "casestream_projector_batch_seconds",
            "Time to write one batch and its offsets to the read models",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.batch_size = Histogram(
            "casestream_projector_batch_events",
            "Messages per projected batch",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
            registry=registry,
        )


class PipelineMetrics:
    """Consumer lag and projection age, measured by the worker for its assigned partitions."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.lag = Gauge(
            "casestream_consumer_lag_events",
            "Messages in an assigned partition not yet projected: end offset minus the next "
            "offset the read models hold",
            ["topic", "partition"],
            registry=registry,
        )
        self.age = Gauge(
            "casestream_projection_age_seconds",
            "Now minus the recorded time of the newest event this worker projected; 0 while "
            "every assigned partition is caught up",
            registry=registry,
        )
        self._measured: set[tuple[str, int]] = set()

    def measure(
        self,
        ends: dict[tuple[str, int], int],
        positions: dict[tuple[str, int], int],
        newest: datetime | None,
        *,
        now: float,
        started: float,
    ) -> None:
        """Set lag for the assigned partitions (`ends`) and forget those revoked since the last
        call (another worker reports them). Age counts from `started` while nothing is projected."""
        total = 0
        for (topic, partition), end in ends.items():
            lag = max(0, end - positions.get((topic, partition), 0))
            self.lag.labels(topic, str(partition)).set(lag)
            total += lag
        for topic, partition in self._measured - ends.keys():
            self.lag.remove(topic, str(partition))
        self._measured = set(ends)
        self.age.set(0.0 if total == 0 else now - (newest.timestamp() if newest else started))


class CaseFlowMetrics:
    """Business counters of what the projector applied (duplicates and redeliveries excluded)."""

    def __init__(self, registry: CollectorRegistry, departments: DepartmentLabels) -> None:
        self._departments = departments
        self.received = Counter(
            "casestream_cases_received_total",
            "Cases opened by their first event, by kind, department at receipt, channel and "
            "enterprise flag",
            ["case_kind", "department", "channel", "enterprise"],
            registry=registry,
        )
        self.resolved = Counter(
            "casestream_cases_resolved_total",
            "Cases entering a closed status (办结), by kind and department",
            ["case_kind", "department"],
            registry=registry,
        )
        self.decisions = Counter(
            "casestream_dispute_decisions_total",
            "Reconsideration decisions and judgments, by kind, department and outcome "
            "(correction 纠错, loss 败诉, other)",
            ["case_kind", "department", "outcome"],
            registry=registry,
        )
        self.rectifications = Counter(
            "casestream_rectification_transitions_total",
            "Rectifications entering a status (opened, completed, verified, rejected, "
            "cancelled, …), by department",
            ["department", "status"],
            registry=registry,
        )

    def observe(self, changes: list[CaseChange]) -> None:
        for change in changes:
            before, after = change.before, change.after
            kind = after.case_kind
            department = self._departments(after.department)
            if before is None:
                self.received.labels(
                    kind.value,
                    department,
                    str(getattr(after, "channel", None) or "none"),
                    "true" if after.enterprise else "false",
                ).inc()
            against = went_against(change.event.payload)
            if against is not None:  # a second-instance judgment counts as well
                self.decisions.labels(kind.value, department, _against_label(kind, against)).inc()
            if before is not None and before.status == after.status:
                continue
            closed = CLOSED_STATUSES[kind]
            if after.status in closed and (before is None or before.status not in closed):
                self.resolved.labels(kind.value, department).inc()
            if kind is CaseKind.rectification:
                self.rectifications.labels(department, after.status).inc()


def _against_label(kind: CaseKind, against: bool) -> str:
    if not against:
        return "other"
    return "correction" if kind is CaseKind.reconsideration else "loss"


class ScannerMetrics:
    def __init__(self, registry: CollectorRegistry, departments: DepartmentLabels) -> None:
        self._departments = departments
        self.alerts = Counter(
            "casestream_alerts_emitted_total",
            "Alerts sent to alerts.events by the escalation scanner, by event type, rule, "
            "escalation level and department",
            ["event_type", "rule", "level", "department"],
            registry=registry,
        )
        self.pass_seconds = Histogram(
            "casestream_scanner_pass_seconds",
            "Duration of one escalation-scanner pass",
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=registry,
        )
        self.due_clocks = Gauge(
            "casestream_scanner_due_clocks",
            "Clocks owing an alert at the last scanner pass",
            registry=registry,
        )

    def emitted(self, event: Event[Any]) -> None:
        payload = event.payload
        level = getattr(payload, "level", None)
        self.alerts.labels(
            event.event_type,
            payload.rule,
            str(level) if level is not None else "none",
            self._departments(payload.department),
        ).inc()
