"""Outages are waited out: a failing periodic task backs off and comes back, and a Kafka client
repeating an error many times a second writes it once per 30 s, every one counted."""

from __future__ import annotations

import logging

import sqlalchemy.exc
from prometheus_client import CollectorRegistry

from casestream.stream_processors.metrics import WorkerHealthMetrics
from casestream.stream_processors.resilience import Backoff, RepeatedErrorFilter, cause_of


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _unavailable() -> sqlalchemy.exc.OperationalError:
    return sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))


async def test_a_failing_task_backs_off_doubling_and_runs_again_once_the_outage_ends() -> None:
    registry = CollectorRegistry()
    clock = Clock()
    backoff = Backoff("scanner", WorkerHealthMetrics(registry), ceiling=4.0, clock=clock)
    runs: list[float] = []
    down = True

    async def work() -> None:
        runs.append(clock.now)
        if down:
            raise _unavailable()

    for tick in range(0, 20):
        clock.now = tick * 0.5
        if tick == 14:
            down = False
        await backoff.run(work)
    # tried at 0, then 1 s, 2 s, 4 s later (never a crash, never a busy loop); back at 7 s
    # and on every tick after
    assert runs[:5] == [0.0, 1.0, 3.0, 7.0, 7.5]
    assert backoff.failures == 0
    errors = registry.get_sample_value(
        "casestream_worker_task_errors_total", {"task": "scanner", "cause": "database"}
    )
    assert errors == 3


def test_errors_are_labelled_by_what_failed() -> None:
    assert cause_of(_unavailable()) == "database"
    assert cause_of(ConnectionRefusedError()) == "broker"
    assert cause_of(ValueError()) == "other"


def test_a_repeated_client_error_is_logged_once_per_period_and_counted_every_time() -> None:
    registry = CollectorRegistry()
    clock = Clock()
    log_filter = RepeatedErrorFilter(WorkerHealthMetrics(registry), every=30.0, clock=clock)

    def record(name: str, msg: str, level: int = logging.WARNING) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, msg, ("127.0.0.1:9092",), None)

    passed = []
    for second in range(120):  # two a second for two minutes
        clock.now = float(second)
        for _ in range(2):
            item = record("aiokafka.conn", "Unable connect to node %s")
            if log_filter.filter(item):
                passed.append(item.getMessage())
    assert len(passed) == 4  # at 0, 30, 60 and 90 s
    assert "and 59 more like it" in passed[1]
    counted = registry.get_sample_value(
        "casestream_worker_connection_errors_total", {"component": "aiokafka"}
    )
    assert counted == 240
    assert log_filter.filter(record("casestream.stream_processors.worker", "our own"))
    assert log_filter.filter(record("aiokafka.conn", "Unable connect to node %s", logging.INFO))
