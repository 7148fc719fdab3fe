"""Two worker processes sharing the partitions, each with its own metrics port: every partition's
lag is reported by exactly one of them, and their counters add up to each case counted once."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from tests.conftest import Database
from tests.events import complaint_lifecycle
from tests.processes import Process, free_port, service_env, wait_for

PARTITIONS = 3  # per topic, as create_topics makes them


def _samples(port: int, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of metric `name` a worker exposes now (none while it is not listening)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.TransportError:
        return {}
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_two_workers_report_each_partition_once_and_count_each_case_once(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'replicas.db'}", None)
    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_WORKER_METRICS_INTERVAL_SECONDS="0.3",
        CASESTREAM_SCANNER_ENABLED="false",
    )
    ports = [free_port(), free_port()]
    workers = [
        Process(["worker", "--metrics-port", str(port)], env, tmp_path / f"worker-{i}.log")
        for i, port in enumerate(ports)
    ]
    try:
        cases = [f"RP-{n}" for n in range(30)]
        with EventProducer(kafka_bootstrap, topics) as producer:
            for case_id in cases:
                for item in complaint_lifecycle(case_id)[:2]:
                    producer.send(item)

        def received() -> float:
            return sum(
                sum(_samples(port, "casestream_cases_received_total").values()) for port in ports
            )

        wait_for(lambda: received() >= len(cases), timeout=90)

        def split() -> list[set[tuple[str, str]]] | None:
            """The partitions each worker reports lag for, once both report and all are 0."""
            reported = []
            for port in ports:
                lags = _samples(port, "casestream_consumer_lag_events")
                if not lags or any(lags.values()):
                    return None
                reported.append({(dict(k)["topic"], dict(k)["partition"]) for k in lags})
            return reported

        first, second = wait_for(split, timeout=60)
        assert first and second and not first & second  # shared, none reported twice
        every = {
            (topic, str(p)) for topic in (*topics.case_topics, topics.alerts) for p in range(3)
        }
        assert first | second == every
        assert received() == len(cases)
    finally:
        for worker in workers:
            worker.stop()
