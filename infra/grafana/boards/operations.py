"""运维 operations dashboard."""

from __future__ import annotations

from grafana_foundation_sdk.builders import dashboard

from .panels import ALERTS, OK_THEN_AMBER, base, figure, query, series, thresholds


def operations() -> dashboard.Dashboard:
    """运维 operations: is the pipeline keeping up, and is anything being lost or late."""
    return (
        base("casestream-operations", "casestream — operations", ["operations"], "now-6h")
        .with_row(dashboard.Row("Throughput"))
        .with_panel(
            series(
                "Case events projected",
                "casestream_projector_events_total: case events taken by the projector, per "
                "case kind and outcome (applied, duplicate, skipped).",
                "ops",
                query(
                    "sum by (case_kind, outcome) "
                    "(rate(casestream_projector_events_total[$__rate_interval]))",
                    "{{case_kind}} {{outcome}}",
                ),
            )
        )
        .with_panel(
            series(
                "Events via the API",
                "Events accepted by POST /events and the rectification commands, and those "
                "refused with 422.",
                "ops",
                query(
                    "sum by (event_type) "
                    "(rate(casestream_api_events_posted_total[$__rate_interval]))",
                    "{{event_type}}",
                ),
                query(
                    "sum(rate(casestream_api_events_rejected_total[$__rate_interval]))",
                    "rejected (422)",
                    "B",
                ),
            )
        )
        .with_row(dashboard.Row("Lag and dead letters"))
        .with_panel(
            figure(
                "Consumer lag",
                "Messages in the partitions the workers are assigned, not yet projected (measured "
                "by each worker every CASESTREAM_WORKER_METRICS_INTERVAL_SECONDS).",
                "sum(casestream_consumer_lag_events)",
                colours=thresholds((None, "green"), (100, "orange"), (1000, "red")),
            )
        )
        .with_panel(
            figure(
                "Projection age",
                "How far behind the read models are: now minus the recorded time of the newest "
                "projected event, 0 while caught up (the oldest worker).",
                "max(casestream_projection_age_seconds)",
                unit="s",
                colours=thresholds((None, "green"), (60, "orange"), (600, "red")),
            )
        )
        .with_panel(
            figure(
                "Dead letters (1 h)",
                "Messages copied to the deadletter topic in the last hour.",
                "sum(increase(casestream_deadletter_messages_total[1h])) or vector(0)",
                colours=OK_THEN_AMBER,
            )
        )
        .with_panel(
            figure(
                "Targets down",
                "API and worker processes Prometheus could not scrape.",
                'count(up{job=~"casestream-.*"} == 0) or vector(0)',
            )
        )
        .with_panel(
            figure(
                "Anomalies (1 h)",
                "Out-of-order or mismatched events recorded on their case in the last hour.",
                "sum(increase(casestream_projector_anomalies_total[1h]))",
                colours=OK_THEN_AMBER,
            )
        )
        .with_panel(
            series(
                "Consumer lag per partition",
                "casestream_consumer_lag_events: each partition is reported by the worker it is "
                "assigned to.",
                "short",
                query(
                    "sum by (topic, partition) (casestream_consumer_lag_events)",
                    "{{topic}}[{{partition}}]",
                ),
            )
        )
        .with_panel(
            series(
                "Projection age",
                "casestream_projection_age_seconds per worker.",
                "s",
                query("casestream_projection_age_seconds", "{{instance}}"),
            )
        )
        .with_panel(
            series(
                "Dead letters",
                "Dead letters per source topic and reason.",
                "short",
                query(
                    "sum by (topic, reason) "
                    "(increase(casestream_deadletter_messages_total[$__rate_interval]))",
                    "{{topic}} {{reason}}",
                ),
            )
        )
        .with_row(dashboard.Row("Batches"))
        .with_panel(
            series(
                "Batch write latency",
                "Time to write one batch and its offsets, retries included.",
                "s",
                *(
                    query(
                        f"histogram_quantile({q}, sum by (le) "
                        "(rate(casestream_projector_batch_seconds_bucket[$__rate_interval])))",
                        f"p{round(q * 100)}",
                        ref,
                    )
                    for q, ref in ((0.5, "A"), (0.95, "B"), (0.99, "C"))
                ),
            )
        )
        .with_panel(
            series(
                "Batches and batch size",
                "Batches written per second (flat: the projection stalls) and the 95th "
                "percentile of messages per batch.",
                "short",
                query(
                    "sum(rate(casestream_projector_batch_seconds_count[$__rate_interval]))",
                    "batches/s",
                ),
                query(
                    "histogram_quantile(0.95, sum by (le) "
                    "(rate(casestream_projector_batch_events_bucket[$__rate_interval])))",
                    "p95 messages per batch",
                    "B",
                ),
            )
        )
        .with_row(dashboard.Row("Escalation scanner"))
        .with_panel(
            series(
                "Scanner pass duration",
                "95th percentile of one escalation-scanner pass, per worker.",
                "s",
                query(
                    "histogram_quantile(0.95, sum by (le, instance) "
                    "(rate(casestream_scanner_pass_seconds_bucket[$__rate_interval])))",
                    "p95 {{instance}}",
                ),
            ),
        )
        .with_panel(
            series(
                "Scanner passes and due clocks",
                "Passes per second (flat: the scanner is not running) and the clocks owing an "
                "alert at the last pass.",
                "short",
                query(
                    "sum by (instance) "
                    "(rate(casestream_scanner_pass_seconds_count[$__rate_interval]))",
                    "passes/s {{instance}}",
                ),
                query("casestream_scanner_due_clocks", "due clocks {{instance}}", "B"),
            )
        )
        .with_panel(
            series(
                "Alerts emitted",
                "Alerts the scanner sent to alerts.events, per type.",
                "short",
                query(
                    f"sum by (event_type) (increase({ALERTS}[$__rate_interval]))",
                    "{{event_type}}",
                ),
            ),
        )
        .with_panel(
            series(
                "Webhook deliveries",
                "Webhook POST attempts by webhook and outcome (only with webhooks configured).",
                "short",
                query(
                    "sum by (webhook, outcome) "
                    "(increase(casestream_webhook_deliveries_total[$__rate_interval]))",
                    "{{webhook}} {{outcome}}",
                ),
            ),
        )
        .with_row(dashboard.Row("API"))
        .with_panel(
            series(
                "API requests by route and status",
                "Requests per second, per route template and HTTP status.",
                "reqps",
                query(
                    "sum by (route, status) "
                    "(rate(casestream_api_request_seconds_count[$__rate_interval]))",
                    "{{route}} {{status}}",
                ),
            )
        )
        .with_panel(
            series(
                "API latency (p95) by route",
                "95th percentile of request duration per route template.",
                "s",
                query(
                    "histogram_quantile(0.95, sum by (le, route) "
                    "(rate(casestream_api_request_seconds_bucket[$__rate_interval])))",
                    "{{route}}",
                ),
            )
        )
        .with_panel(
            figure(
                "Read-model figures",
                "1 while every API instance could read its business figures from the database "
                "at the last refresh (casestream_read_model_metrics_up).",
                "min(casestream_read_model_metrics_up)",
                colours=thresholds((None, "red"), (1, "green")),
            )
        )
    )
