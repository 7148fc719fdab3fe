"""Metrics of the stream processors, created on a registry passed in (a fresh one per test).

Every worker process exposes its own registry: counters count what this process did, so a
deployment's figure is the sum over `instance`.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from casestream.domain.cases import CLOSED_STATUSES
from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import Event
from casestream.domain.outcomes import outcome_class
from casestream.metric_labels import DepartmentLabels
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
        self.database_retries = Counter(
            "casestream_projector_database_retries_total",
            "Batch writes retried because the read-model database was unavailable",
            registry=registry,
        )


class WorkerHealthMetrics:
    """Whether the projector runs, and the errors the worker's timers and agents survived."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.projector_up = Gauge(
            "casestream_projector_up",
            "1 while this worker's projector runs and writes; 0 while it retries an unavailable "
            "database or has crashed",
            registry=registry,
        )
        self.task_errors = Counter(
            "casestream_worker_task_errors_total",
            "Errors a worker task survived (it backs off and tries again), by task and cause",
            ["task", "cause"],
            registry=registry,
        )
        self.connection_errors = Counter(
            "casestream_worker_connection_errors_total",
            "Warnings and errors of the Kafka client (connection lost, coordinator away …), "
            "each counted; the log shows a repeated one once per 30 s",
            ["component"],
            registry=registry,
        )
        self.lease_held = Gauge(
            "casestream_worker_lease_held",
            "1 while this worker holds the lease of a timer that runs on one worker at a time",
            ["lease"],
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
            "How long the read models have been behind, for the most-behind partition assigned "
            "to this worker: now minus the later of the last moment it was caught up and the "
            "recorded time of the newest event projected from it; 0 while every assigned "
            "partition is caught up",
            registry=registry,
        )
        self._current_at: dict[tuple[str, int], float] = {}  # read models current as of (epoch s)

    def measure(
        self,
        ends: dict[tuple[str, int], int],
        positions: dict[tuple[str, int], int],
        newest: dict[tuple[str, int], float],
        *,
        now: float,
    ) -> None:
        """Lag and age of the assigned partitions (`ends`: their end offsets; `positions`: the
        next offset committed for each; `newest`: the recorded time of the newest event
        committed from each, epoch seconds). Partitions revoked since the last call are
        forgotten: the worker they moved to reports them. A partition first seen behind counts
        from now (it has just been assigned here)."""
        ages = [0.0]
        for key, end in ends.items():
            lag = max(0, end - positions.get(key, 0))
            self.lag.labels(key[0], str(key[1])).set(lag)
            if lag == 0:
                self._current_at[key] = now
            else:
                current = max(self._current_at.setdefault(key, now), newest.get(key, now - 1e12))
                ages.append(now - current)
        for key in self._current_at.keys() - ends.keys():
            self.lag.remove(key[0], str(key[1]))
            del self._current_at[key]
        self.age.set(max(ages))


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
            outcome = outcome_class(change.event.payload)
            if outcome is not None:  # a second-instance judgment counts as well
                self.decisions.labels(kind.value, department, outcome).inc()
            if before is not None and before.status == after.status:
                continue
            closed = CLOSED_STATUSES[kind]
            if after.status in closed and (before is None or before.status not in closed):
                self.resolved.labels(kind.value, department).inc()
            if kind is CaseKind.rectification:
                self.rectifications.labels(department, after.status).inc()


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
