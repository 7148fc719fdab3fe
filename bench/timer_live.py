"""The live path of the deadline-timer bench: worker, API and an SSE client; the delay from a
clock's due instant to its alert on /alerts/stream, and the scanner's pass cost meanwhile."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from timer_config import BENCH_RULE, DEPARTMENTS
from timer_report import console, progress_bar
from timer_services import Service, free_port, wait_until

from casestream.domain import catalog as ev
from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import Event, new_event
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from casestream.read_models.schema import clocks

BREACHED, ESCALATED = ev.DeadlineBreached.__name__, ev.Escalated.__name__  # SSE event names


@dataclass(frozen=True)
class Frame:
    event_type: str
    alert_id: str
    data: dict[str, Any]
    arrived: float  # time.time()


class AlertListener:
    """An SSE client of GET /alerts/stream in a thread, noting each frame's wall-clock arrival."""

    def __init__(self, base_url: str, params: dict[str, str], headers: dict[str, str]) -> None:
        self.connected = threading.Event()
        self.error: str | None = None
        self._frames: list[Frame] = []
        self._lock = threading.Lock()
        self._client = httpx.Client(
            base_url=base_url, timeout=httpx.Timeout(10, read=None), headers=headers
        )
        self._params = params
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._run, name="sse", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        fields: dict[str, str] = {}
        try:
            with self._client.stream("GET", "/alerts/stream", params=self._params) as response:
                if response.status_code != 200:
                    self.error = f"GET /alerts/stream answered {response.status_code}"
                    return
                self._socket = response.extensions["network_stream"].get_extra_info("socket")
                for line in response.iter_lines():
                    if line == ": connected":
                        self.connected.set()
                    if line.startswith(":"):
                        continue
                    if line:
                        name, _, value = line.partition(": ")
                        fields[name] = value
                        continue
                    if "data" in fields:
                        arrived = time.time()
                        frame = Frame(
                            fields.get("event", "message"),
                            fields.get("id", ""),
                            json.loads(fields["data"]),
                            arrived,
                        )
                        with self._lock:
                            self._frames.append(frame)
                    fields = {}
        except (httpx.HTTPError, RuntimeError, OSError) as exc:
            if self.error is None and not self.connected.is_set():
                self.error = f"{exc.__class__.__name__}: {exc}"

    def frames(self) -> list[Frame]:
        with self._lock:
            return list(self._frames)

    def close(self) -> None:
        # shutdown() wakes the thread blocked reading; close() alone would wait for a heartbeat
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        self._client.close()


def scrape(port: int) -> dict[str, float]:
    """The worker's Prometheus samples by name{labels}; empty if not reachable."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return {}
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            values[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return values


PASS_METRIC = "casestream_scanner_pass_seconds"


@dataclass(frozen=True)
class PassStats:
    passes: int
    mean: float | None
    p99_bucket: str  # the bucket bound holding the 99th percentile of the passes

    @classmethod
    def between(cls, before: dict[str, float], after: dict[str, float]) -> PassStats:
        count = int(after.get(f"{PASS_METRIC}_count", 0) - before.get(f"{PASS_METRIC}_count", 0))
        total = after.get(f"{PASS_METRIC}_sum", 0) - before.get(f"{PASS_METRIC}_sum", 0)
        buckets = sorted(
            (
                (float(key.split('le="')[1].rstrip('"}')), value - before.get(key, 0))
                for key, value in after.items()
                if key.startswith(f"{PASS_METRIC}_bucket")
            ),
        )
        bound = "—"
        for upper, cumulative in buckets:
            if count and cumulative >= 0.99 * count:
                bound = f"≤ {upper * 1000:g} ms" if math.isfinite(upper) else "> 2.5 s"
                break
        return cls(count, total / count if count else None, bound)


@dataclass
class LiveRun:
    interval: float
    alerts: int
    startup_seconds: float = 0.0
    projected_margin: float | None = None  # s from all bench clocks projected to the 1st breach
    breached: list[tuple[float, float, float]] = field(default_factory=list)  # total, wait, deliv
    escalated: list[float] = field(default_factory=list)
    missing: int = 0
    wrong_instant: int = 0
    duplicates: int = 0
    other_rules: float = 0.0  # alerts emitted for seeded clocks (must be 0: none was due)
    passes: PassStats | None = None
    max_due: float = 0.0
    note: str = ""


def complaint_events(
    case_id: str, accepted_at: datetime, department: str, channel: str = "window"
) -> list[Event[Any]]:
    now = datetime.now(UTC)
    received = ev.ComplaintReceived(
        channel=ev.Channel(channel), subject="窗口投诉：办证等候时间过长", department=department
    )
    steps: list[tuple[ev.Payload, datetime]] = [
        (received, accepted_at - timedelta(seconds=30)),
        (ev.ComplaintAccepted(department=department), accepted_at),
    ]
    events: list[Event[Any]] = []
    for payload, occurred_at in steps:
        event_id = uuid.uuid4()
        events.append(
            new_event(
                payload,
                event_id=event_id,
                case_id=case_id,
                case_kind=CaseKind.complaint,
                occurred_at=occurred_at,
                recorded_at=now,
                source="bench.timers",
                actor="bench",
                correlation_id=str(event_id),
            )
        )
    return events


def clock_rows_present(engine: sa.Engine, clock_ids: list[str]) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(clocks.c.clock_id.in_(clock_ids))
            ).scalar_one()
        )


def clocks_still_due(engine: sa.Engine, clock_ids: list[str]) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(
                    clocks.c.clock_id.in_(clock_ids),
                    clocks.c.next_alert_at <= datetime.now(UTC),
                )
            ).scalar_one()
        )


def live_run(
    *,
    interval: float,
    args: argparse.Namespace,
    env: dict[str, str],
    engine: sa.Engine,
    bootstrap: str,
    topics: Topics,
    listener: AlertListener,
    work_dir: Path,
    tag: str,
) -> LiveRun:
    run = LiveRun(interval, args.alerts)
    metrics_port = free_port()
    worker_env = dict(env, CASESTREAM_SCANNER_INTERVAL_SECONDS=str(interval))
    started = time.monotonic()
    worker = Service(
        "worker",
        ["worker", "--metrics-port", str(metrics_port)],
        worker_env,
        work_dir / f"worker-{tag}",
    )
    try:

        def scanner_running() -> bool:
            if not worker.running():
                raise RuntimeError(f"worker exited:\n{worker.tail()}")
            return scrape(metrics_port).get(f"{PASS_METRIC}_count", 0) >= 1

        with console.status(f"worker (scanner every {interval:g} s) starting …"):
            wait_until("the worker's first scanner pass", scanner_running, args.timeout, 0.25)
        run.startup_seconds = time.monotonic() - started
        console.print(
            f"worker up: first scanner pass {run.startup_seconds:.1f} s after start "
            f"(scanner every {interval:g} s)"
        )
        departments = random.Random(tag).choices(DEPARTMENTS, k=args.alerts + 1)
        with EventProducer(bootstrap, topics) as producer:
            # a warm-up case (online: no bench clock, so no alert soon): the projector is
            # consuming once its complaint.handling clock is in the table
            warm = f"WARM-{tag}"
            producer.send_many(
                complaint_events(warm, datetime.now(UTC), departments[-1], channel="online")
            )
            with console.status("waiting for the projector to consume …"):
                wait_until(
                    "the warm-up complaint projected",
                    lambda: clock_rows_present(engine, [f"{warm}/complaint.handling/0"]),
                    args.timeout,
                )
            before = scrape(metrics_port)
            t0 = datetime.now(UTC)
            step = args.spread / args.alerts
            expected: dict[str, datetime] = {}
            events: list[Event[Any]] = []
            for number in range(args.alerts):
                case_id = f"LIVE-{tag}-{number:05d}"
                accepted_at = t0 + timedelta(seconds=-60 + args.lead + number * step)
                # the one-minute clock's breach instant: due 1 min after the start, + 1 s
                expected[case_id] = accepted_at + timedelta(minutes=1, seconds=1)
                events.extend(complaint_events(case_id, accepted_at, departments[number]))
            producer.send_many(events)
        first_breach = min(expected.values())
        last_breach = max(expected.values())
        clock_ids = [f"{case_id}/{BENCH_RULE}/0" for case_id in expected]
        wait_until(
            "the bench complaints projected",
            lambda: clock_rows_present(engine, clock_ids) == len(clock_ids),
            args.timeout,
            0.05,
        )
        run.projected_margin = (first_breach - datetime.now(UTC)).total_seconds()
        deadline = last_breach + timedelta(seconds=args.grace)
        ours = set(expected)
        with progress_bar() as progress:
            task = progress.add_task(
                f"breaches on /alerts/stream (scanner every {interval:g} s)", total=args.alerts
            )
            while True:
                seen = {
                    frame.data["case_id"]
                    for frame in listener.frames()
                    if frame.event_type == BREACHED and frame.data["case_id"] in ours
                }
                progress.update(task, completed=len(seen))
                run.max_due = max(
                    run.max_due, scrape(metrics_port).get("casestream_scanner_due_clocks", 0)
                )
                if len(seen) >= args.alerts or datetime.now(UTC) > deadline:
                    break
                if not worker.running():
                    raise RuntimeError(f"worker exited:\n{worker.tail()}")
                time.sleep(0.2)
        # the projector records the alerts and moves each bench clock's next alert on (to none):
        # the worker stops only then, so no bench clock is left due for the measurements below
        with console.status("waiting for the worker to record the alerts …"):
            try:
                wait_until(
                    "the bench alerts recorded",
                    lambda: clocks_still_due(engine, clock_ids) == 0,
                    60,
                    0.2,
                )
            except TimeoutError:
                run.note = "some bench clocks still due when the worker stopped"
        after = scrape(metrics_port)
        run.passes = PassStats.between(before, after)
        run.other_rules = sum(
            value - before.get(key, 0)
            for key, value in after.items()
            if key.startswith("casestream_alerts_emitted_total{")
            and f'rule="{BENCH_RULE}"' not in key
        )
        breached: dict[str, Frame] = {}
        for frame in listener.frames():
            case_id = frame.data.get("case_id")
            if case_id not in ours:
                continue
            payload = frame.data["payload"]
            scheduled = datetime.fromisoformat(payload["scheduled_at"])
            if scheduled != expected[case_id]:
                run.wrong_instant += 1
            delay = frame.arrived - scheduled.timestamp()
            if frame.event_type == BREACHED:
                if case_id in breached:
                    run.duplicates += 1
                    continue
                breached[case_id] = frame
                occurred = datetime.fromisoformat(frame.data["occurred_at"]).timestamp()
                run.breached.append(
                    (delay, occurred - scheduled.timestamp(), frame.arrived - occurred)
                )
            elif frame.event_type == ESCALATED:
                run.escalated.append(delay)
        run.missing = args.alerts - len(breached)
        if run.projected_margin is not None and run.projected_margin < 0:
            run.note = "projection finished after the first breach instant: raise --lead"
        return run
    finally:
        with console.status("stopping the worker …"):
            worker.stop()
