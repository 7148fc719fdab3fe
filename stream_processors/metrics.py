"""Metrics of the stream processors, created on a registry passed in (a fresh one per test)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ProjectorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
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


class ScannerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.alerts = Counter(
            "casestream_alerts_emitted_total",
            "Alerts sent to alerts.events by the escalation scanner, by event type and rule",
            ["event_type", "rule"],
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
