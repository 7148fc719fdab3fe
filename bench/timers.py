"""Deadline timers at scale: with 1,000,000 open clocks in PostgreSQL, the delay from a clock's
due instant to its alert on GET /alerts/stream (p50 / p99), and the escalation scanner's cost
per pass. Targets: p99 <= 1 s, and the scanner's work grows with the clocks that are due, not
with all open clocks.

One run, on this machine:

1. a broker and PostgreSQL (started locally unless --kafka / --postgres are given; PostgreSQL
   as in production: CASESTREAM_PG_FAST is never set), topics under a fresh prefix, a fresh
   schema, migrated;
2. N open clocks (--clocks, default 1,000,000) written straight into `clocks` with COPY: rules,
   case kinds, departments and start days as a bureau would have them, due in the next 1-60
   days, next alert hours to days ahead (none falls due during the run), `detail` the exact
   JSON the projector writes (`Clock.model_dump(mode="json")`; alerts whose instant has passed
   are in `emitted`, as after a live scanner); then VACUUM ANALYZE;
3. a deployment rule file (CASESTREAM_RULES_FILE) adding `bench.minute`: a one-minute clock
   on every complaint accepted at the window, breached one second after its due instant;
4. the worker (`python -m casestream.cli worker --metrics-port P`) and the API
   (`python -m casestream.cli api --port P`), each in its own directory;
5. an SSE client on /alerts/stream?rule=bench.minute, noting the wall-clock arrival of frames;
6. M complaints (--alerts, default 300) whose breach instants fall over the next --spread
   seconds (default 40); delay = arrival - payload.scheduled_at, split into the scanner's wait
   (alert occurred_at - scheduled_at) and delivery (arrival - occurred_at); once per
   --scanner-interval (default: 1 s, then 0.25 s), restarting the worker; the worker's
   Prometheus metrics give the live pass cost;
7. with the worker stopped, the scanner's own code in this process
   (`EscalationScanner.scan_once`, alerts kept, not sent) and EXPLAIN ANALYZE of its query,
   at the seeded clocks' first alert instant (a local midnight: a sixth of all open clocks),
   with a what-if index on (next_alert_at, clock_id) in the bench schema, and at 0 / 10 / 100 /
   1,000 / 10,000 genuinely due clocks (overdue clocks added for the measurement), on N open
   clocks and on a 10,000-clock schema, pass by pass in turn; then that midnight cohort worked
   off by scanner passes and the projector's write path (`ProjectionWriter.apply_batch` of each
   pass's alerts) back to back, for at most --drain-budget seconds per schema;
8. clean-up: processes, schemas, topics, and the services it started.

Where the API checks bearer tokens, the bench gives it a random CASESTREAM_AUTH_SECRET and its
SSE client a supervisor token signed with it (`casestream.credentials.issue_token`).

Run (about 4 minutes with the defaults on 2 cores: seeding, two live runs, the drain):

    .venv/bin/python bench/timers.py [--clocks 1000000] [--alerts 300] [--spread 40]
        [--scanner-interval 1 0.25] [--drain-budget 300] [--kafka HOST:PORT] [--postgres URL]
        [--keep]

Without --kafka / --postgres it starts a local broker (var/bench-kafka) and a local PostgreSQL
cluster (var/bench-postgres) and stops them at the end (unless they were already running).
--keep keeps the schemas, topics and the logs of the worker and the API. Every wait is
bounded (--timeout, --grace, --drain-budget), so a run always ends by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pydantic_core
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from casestream.domain import catalog as ev
from casestream.domain.catalog import PAYLOAD_TYPES, CaseKind
from casestream.domain.clocks import ALERT_ID_NAMESPACE, Clock, ClockPolicy, alert_id, schedule
from casestream.domain.deadlines import compute_deadline
from casestream.domain.envelope import Event, new_event
from casestream.domain.rules import load_rulebook
from casestream.local import kafka_for, postgres_for
from casestream.policy import clock_policy
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics, create_topics
from casestream.read_models.clock_writer import ClockWriter
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import clocks
from casestream.settings import Settings
from casestream.stream_processors.scanner import EscalationScanner, ScanResult

ROOT = Path(__file__).resolve().parents[1]
TIMEZONE = "Asia/Shanghai"
ZONE = ZoneInfo(TIMEZONE)
TARGET_P99 = 1.0  # seconds from due instant to the alert on the stream
BENCH_RULE = "bench.minute"
SCANNER_BATCH: int = Settings.model_fields["scanner_batch_size"].default  # the worker's (1000)
SMALL_CLOCKS = 10_000  # open clocks of the comparison schema
PROBE_STEPS = (0, 10, 100, 1_000, 10_000)  # due clocks for the in-process scanner passes
PASS_REPEATS = 5  # in-process passes per scenario (median reported)
QUIET_HOURS = 3.0  # no seeded clock's next alert falls sooner than this after seeding

# wide enough for the tables when the output goes to a file or a pipe
console = Console(width=None if sys.stdout.isatty() else 160)

RULES_TOML = f"""\
# bench/timers.py: a one-minute clock on every complaint accepted at the window
[[rule]]
id = "{BENCH_RULE}"
title = "bench: one-minute deadline"
source = "bench/timers.py (benchmark only, not a real regulation)"
starts_on = "ComplaintAccepted"
when = {{ channel = "window" }}
stops_on = ["ComplaintResolved"]
length = 1
unit = "minutes"
warnings = []
escalation = [{{ level = 2, notify = "department_head", at = "breach" }}]
"""

# share of the open clocks per rule (a city bureau: mostly complaints)
SEED_RULES: dict[str, float] = {
    "complaint.handling": 0.38,
    "complaint.handling_enterprise": 0.08,
    "complaint.follow_up": 0.06,
    "petition.handling": 0.05,
    "enterprise_tip.handling": 0.08,
    "enterprise_tip.feedback": 0.03,
    "reconsideration.reply": 0.04,
    "reconsideration.decision": 0.07,
    "litigation.defence": 0.04,
    "litigation.first_instance": 0.04,
    "litigation.second_instance": 0.02,
    "rectification.review": 0.04,
    "rectification.completion": 0.04,
    "rectification.verification": 0.03,
}
DEPARTMENTS = (
    "治安大队",
    "交警大队",
    "刑侦大队",
    "经侦大队",
    "出入境管理大队",
    "户政科",
    "网安大队",
    "禁毒大队",
    "食药环侦大队",
    "城关派出所",
    "东城派出所",
    "西城派出所",
    "南湖派出所",
    "开发区派出所",
)

# --- output --------------------------------------------------------------------------------


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def _ms(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:,.1f}"


def _s(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.3f}"


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of `values`, None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


# --- local services ------------------------------------------------------------------------


def kafka_broker(bootstrap: str | None) -> contextlib.AbstractContextManager[str]:
    return kafka_for(bootstrap, ROOT / "var" / "bench-kafka", console.print)


def postgres_server(url: str | None) -> contextlib.AbstractContextManager[str]:
    return postgres_for(url, ROOT / "var" / "bench-postgres", console.print)


def delete_topics(bootstrap: str, topics: Topics) -> None:
    from kafka.admin import KafkaAdminClient

    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="casestream-bench")
        try:
            admin.delete_topics(list(topics.all))
        finally:
            admin.close()
    except Exception as exc:
        console.print(f"[yellow]could not delete the bench topics: {exc}[/yellow]")


def drop_schemas(url: str, schemas: Sequence[str]) -> None:
    if not schemas:
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for schema in schemas:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    except sa.exc.SQLAlchemyError as exc:
        console.print(f"[yellow]could not drop the bench schemas: {exc}[/yellow]")
    finally:
        engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """A casestream subcommand in its own process and directory, logging to a file there."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], run_dir: Path) -> None:
        self.name = name
        run_dir.mkdir(parents=True, exist_ok=True)  # faust keeps its data dir under the cwd
        self.log = run_dir / f"{name}.log"
        self._handle = self.log.open("wb")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "casestream.cli", *args],
            env=env,
            cwd=run_dir,
            stdout=self._handle,
            stderr=subprocess.STDOUT,
        )

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=timeout)
        self._handle.close()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def service_env(
    bootstrap: str, topics: Topics, url: str, schema: str, **extra: str
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASESTREAM_")}
    env.update(
        CASESTREAM_KAFKA_BOOTSTRAP=bootstrap,
        CASESTREAM_TOPIC_PREFIX=topics.prefix,
        CASESTREAM_DATABASE_URL=url,
        CASESTREAM_DATABASE_SCHEMA=schema,
        CASESTREAM_TIMEZONE=TIMEZONE,
        **extra,
    )
    return env


def wait_until(what: str, condition: Any, timeout: float, interval: float = 0.1) -> Any:
    """The first truthy value of `condition()`; TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


# --- seeding: open clocks straight into PostgreSQL ------------------------------------------

COLUMNS = (
    "clock_id",
    "case_id",
    "case_kind",
    "rule_id",
    "status",
    "started_at",
    "due_date",
    "due_at",
    "provisional",
    "stopped_at",
    "department",
    "enterprise",
    "next_alert_at",
    "detail",
)
_KIND_OF_EVENT: dict[type[ev.Payload], str] = {
    ev.DeadlineApproaching: "warning",
    ev.DeadlineBreached: "breach",
    ev.Escalated: "escalation",
}
BREACHED, ESCALATED = ev.DeadlineBreached.__name__, ev.Escalated.__name__  # SSE event names
_SENTINEL = {
    "clock_id": "@@clock@@",
    "case_id": "@@case@@",
    "start_event_id": "@@event@@",
    "department": "@@department@@",
    "emitted": "@@emitted@@",
}


def _utc_text(instant: datetime) -> str:
    """How UTCDateTime stores an instant: naive UTC."""
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class Template:
    """One rule started on one day: everything of its clocks but the case, time and department.

    Alert instants do not depend on the start's time of day (warnings and escalations fall at
    00:00, the breach one second after 23:59:59), so every clock of a template has the same
    schedule; alert ids do depend on the clock id and are derived per row.
    """

    rule_id: str
    case_kind: str
    start_day: date
    detail: str  # the detail JSON as a %-format with the per-clock fields as placeholders
    due_date: str
    due_at: str  # naive UTC
    provisional: bool
    alerts: tuple[tuple[str, datetime], ...]  # (alert-id key after the clock id, instant)
    enterprise: bool | None  # set by the rule's `when`, else None (varied)

    def passed(self, now: datetime) -> list[str]:
        return [key for key, at in self.alerts if at <= now]

    def next_after(self, now: datetime) -> datetime:
        return min(at for _, at in self.alerts if at > now)

    @property
    def first(self) -> datetime:
        return min(at for _, at in self.alerts)


def _template(rule_id: str, day: date, policy: ClockPolicy) -> Template:
    rule = policy.rulebook.get(rule_id)
    kind = sorted(PAYLOAD_TYPES[rule.starts_on].case_kinds)[0]
    started_at = datetime.combine(day, time_of_day(12), tzinfo=ZONE)
    deadline = compute_deadline(rule, started_at, policy.calendar, tz=TIMEZONE)
    clock = Clock(
        clock_id=_SENTINEL["clock_id"],
        case_id=_SENTINEL["case_id"],
        case_kind=kind,
        rule_id=rule.id,
        start_event_id=_SENTINEL["start_event_id"],
        started_at=started_at,
        due_date=deadline.due_date,
        due_at=deadline.due_at,
        provisional=deadline.provisional,
        department=_SENTINEL["department"],
        enterprise=False,
    )
    alerts = []
    for alert in schedule(clock, rule, policy.calendar, policy.timezone):
        kind_name = _KIND_OF_EVENT[alert.payload_type]
        key = f"|{rule.id}|{kind_name}|{alert.level}|{alert.offset}|{clock.due_at.isoformat()}"
        # the key of domain.clocks.alert_id, derived per row without building a Clock
        assert str(uuid.uuid5(ALERT_ID_NAMESPACE, clock.clock_id + key)) == alert_id(
            clock, kind_name, alert.level, alert.offset
        )
        alerts.append((key, alert.scheduled_at))
    text = pydantic_core.to_json(
        clock.model_copy(update={"emitted": (_SENTINEL["emitted"],)}).model_dump(mode="json")
    ).decode()
    text = text.replace("%", "%%")
    for old, new in (
        (f'"{_SENTINEL["clock_id"]}"', '"%(clock_id)s"'),
        (f'"{_SENTINEL["case_id"]}"', '"%(case_id)s"'),
        (f'"{_SENTINEL["start_event_id"]}"', '"%(start_event_id)s"'),
        (f'"started_at":"{started_at.isoformat()}"', '"started_at":"%(started_at)s"'),
        (f'"department":"{_SENTINEL["department"]}"', '"department":%(department)s'),
        ('"enterprise":false', '"enterprise":%(enterprise)s'),
        (f'"emitted":["{_SENTINEL["emitted"]}"]', '"emitted":[%(emitted)s]'),
    ):
        assert text.count(old) == 1, (old, text)
        text = text.replace(old, new)
    forced = rule.when.get("enterprise")
    return Template(
        rule_id=rule.id,
        case_kind=kind.value,
        start_day=day,
        detail=text,
        due_date=deadline.due_date.isoformat(),
        due_at=_utc_text(deadline.due_at),
        provisional=deadline.provisional,
        alerts=tuple(alerts),
        enterprise=forced
        if isinstance(forced, bool)
        else (True if kind is CaseKind.enterprise_tip else None),
    )


def build_templates(
    policy: ClockPolicy, now: datetime, *, overdue: bool
) -> tuple[list[Template], list[float]]:
    """Rule x start-day templates of clocks due in 1-60 days, with weights (SEED_RULES).

    overdue=False: clocks a live scanner has kept up with (no alert owed for QUIET_HOURS);
    overdue=True: clocks owing at least one alert at `now` (for the due-clock measurements).
    """
    today = now.astimezone(ZONE).date()
    templates: list[Template] = []
    weights: list[float] = []
    for rule_id, share in SEED_RULES.items():
        found = []
        for back in range(1, 400):
            template = _template(rule_id, today - timedelta(days=back), policy)
            due_at = datetime.fromisoformat(template.due_at).replace(tzinfo=UTC)
            if not now + timedelta(days=1) <= due_at <= now + timedelta(days=60):
                continue
            if overdue:
                if template.first <= now - timedelta(minutes=1):
                    found.append(template)
            elif template.next_after(now) >= now + timedelta(hours=QUIET_HOURS):
                found.append(template)
        if not found:
            raise RuntimeError(f"no start day gives a {rule_id} clock due in 1-60 days")
        templates.extend(found)
        weights.extend([share / len(found)] * len(found))
    return templates, weights


@dataclass
class Seeder:
    """COPY lines of clocks from templates; a sample of rows is checked against the domain."""

    policy: ClockPolicy
    now: datetime
    prefix: str
    overdue: bool
    rng: random.Random
    checked: int = 0
    _verified: set[int] = field(default_factory=set)

    def lines(
        self, templates: list[Template], weights: list[float], start: int, count: int
    ) -> Iterator[str]:
        picks = self.rng.choices(range(len(templates)), weights, k=count)
        rng = self.rng
        dept_json = [json.dumps(name, ensure_ascii=False) for name in DEPARTMENTS]
        for number, index in enumerate(picks, start=start):
            template = templates[index]
            case_id = f"{self.prefix}-{number:07d}"
            clock_id = f"{case_id}/{template.rule_id}/0"
            local = datetime.combine(template.start_day, time_of_day(0), tzinfo=ZONE) + timedelta(
                seconds=rng.randrange(8 * 3600, 18 * 3600)  # office hours
            )
            if rng.random() < 0.05:
                department, department_json = None, "null"
            else:
                choice = rng.randrange(len(DEPARTMENTS))
                department, department_json = DEPARTMENTS[choice], dept_json[choice]
            enterprise = (
                template.enterprise if template.enterprise is not None else rng.random() < 0.12
            )
            if self.overdue:
                emitted: list[str] = []
                next_at = template.first
            else:
                emitted = sorted(
                    str(uuid.uuid5(ALERT_ID_NAMESPACE, clock_id + key))
                    for key in template.passed(self.now)
                )
                next_at = template.next_after(self.now)
            detail = template.detail % {
                "clock_id": clock_id,
                "case_id": case_id,
                "start_event_id": str(uuid.uuid4()),
                "started_at": local.isoformat(),
                "department": department_json,
                "enterprise": "true" if enterprise else "false",
                "emitted": ",".join(f'"{item}"' for item in emitted),
            }
            if index not in self._verified:
                self._verify(detail, next_at)
                self._verified.add(index)
            yield (
                "\t".join(
                    (
                        clock_id,
                        case_id,
                        template.case_kind,
                        template.rule_id,
                        "running",
                        _utc_text(local),
                        template.due_date,
                        template.due_at,
                        "t" if template.provisional else "f",
                        "\\N",
                        "\\N" if department is None else department,
                        "t" if enterprise else "f",
                        _utc_text(next_at),
                        detail.replace("\\", "\\\\"),
                    )
                )
                + "\n"
            )

    def _verify(self, detail: str, next_at: datetime) -> None:
        """The row is what the projector would write for this clock (detail, status, next alert)."""
        clock = Clock.model_validate_json(detail)
        assert pydantic_core.to_json(clock.model_dump(mode="json")).decode() == detail
        assert self.policy.status(clock).value == "running"
        assert self.policy.next_alert_at(clock) == next_at, (
            self.policy.next_alert_at(clock),
            next_at,
        )
        owed = self.policy.due_alerts(clock, self.now)
        assert bool(owed) == self.overdue
        self.checked += 1


def copy_clocks(
    engine: sa.Engine,
    seeder: Seeder,
    templates: list[Template],
    weights: list[float],
    start: int,
    count: int,
    label: str | None,
) -> float:
    """COPY `count` clocks into the engine's `clocks` table in one transaction; seconds taken."""
    started = time.perf_counter()
    chunk = 5_000
    with contextlib.ExitStack() as stack:
        progress = stack.enter_context(progress_bar()) if label else None
        task = progress.add_task(label or "", total=count) if progress else None
        with engine.begin() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            columns = ", ".join(COLUMNS)
            with cursor.copy(f"COPY clocks ({columns}) FROM STDIN") as copy:
                buffer: list[str] = []
                for line in seeder.lines(templates, weights, start, count):
                    buffer.append(line)
                    if len(buffer) >= chunk:
                        copy.write("".join(buffer))
                        if progress is not None and task is not None:
                            progress.advance(task, len(buffer))
                        buffer.clear()
                if buffer:
                    copy.write("".join(buffer))
                    if progress is not None and task is not None:
                        progress.advance(task, len(buffer))
    return time.perf_counter() - started


def vacuum_analyze(engine: sa.Engine) -> float:
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM (ANALYZE) clocks"))
    return time.perf_counter() - started


@dataclass(frozen=True)
class SeedReport:
    label: str
    rows: int
    copy_seconds: float
    vacuum_seconds: float
    table_bytes: int
    provisional: int
    first_alert: datetime
    first_cohort: int
    largest_cohort: int
    checked: int


def seed(
    engine: sa.Engine, policy: ClockPolicy, count: int, prefix: str, now: datetime, seed: int
) -> SeedReport:
    templates, weights = build_templates(policy, now, overdue=False)
    seeder = Seeder(policy, now, prefix, overdue=False, rng=random.Random(seed))
    seconds = copy_clocks(
        engine, seeder, templates, weights, 0, count, f"seeding {count:,} open clocks (COPY)"
    )
    with console.status("VACUUM (ANALYZE) clocks …"):
        vacuum_seconds = vacuum_analyze(engine)
    with engine.connect() as conn:
        size = conn.execute(sa.text("SELECT pg_total_relation_size('clocks')")).scalar_one()
        provisional = conn.execute(
            sa.text("SELECT count(*) FROM clocks WHERE provisional AND stopped_at IS NULL")
        ).scalar_one()
        first, first_count = conn.execute(
            sa.text(
                "SELECT next_alert_at, count(*) FROM clocks WHERE next_alert_at = "
                "(SELECT min(next_alert_at) FROM clocks) GROUP BY 1"
            )
        ).one()
        largest = conn.execute(
            sa.text("SELECT count(*) FROM clocks GROUP BY next_alert_at ORDER BY 1 DESC LIMIT 1")
        ).scalar_one()
    return SeedReport(
        label=f"{count:,} open clocks",
        rows=count,
        copy_seconds=seconds,
        vacuum_seconds=vacuum_seconds,
        table_bytes=int(size),
        provisional=int(provisional),
        first_alert=first.replace(tzinfo=UTC),
        first_cohort=int(first_count),
        largest_cohort=int(largest),
        checked=seeder.checked,
    )


def print_seeding(reports: Sequence[SeedReport]) -> None:
    table = Table(
        title="seeded open clocks (PostgreSQL COPY, one transaction, then VACUUM ANALYZE)"
    )
    for name, justify in (
        ("schema", "left"),
        ("rows", "right"),
        ("COPY s", "right"),
        ("rows/s", "right"),
        ("VACUUM ANALYZE s", "right"),
        ("table+indexes", "right"),
        ("provisional", "right"),
        ("first next alert (local)", "left"),
        ("clocks at it", "right"),
        ("largest cohort", "right"),
        ("rows checked vs domain", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for report in reports:
        table.add_row(
            report.label,
            f"{report.rows:,}",
            f"{report.copy_seconds:.1f}",
            f"{report.rows / report.copy_seconds:,.0f}",
            f"{report.vacuum_seconds:.1f}",
            f"{report.table_bytes / 2**20:,.0f} MiB",
            f"{report.provisional:,}",
            report.first_alert.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S"),
            f"{report.first_cohort:,}",
            f"{report.largest_cohort:,}",
            f"{report.checked:,}",
        )
    console.print(table)


# --- the live path: worker, API, SSE --------------------------------------------------------


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


def print_live(runs: Sequence[LiveRun], clocks_open: int) -> None:
    table = Table(
        title=f"due instant → alert on GET /alerts/stream, {clocks_open:,} open clocks in PostgreSQL",
        caption="delay = SSE arrival (time.time()) − payload.scheduled_at; wait = the alert's "
        "occurred_at (scanner pass) − scheduled_at; delivery = arrival − occurred_at "
        "(Kafka, API feed, SSE). Nearest-rank percentiles.",
    )
    for name in (
        "scanner every",
        "breaches",
        "p50 s",
        "p90 s",
        "p99 s",
        "max s",
        f"p99 ≤ {TARGET_P99:g} s",
        "wait p50 / p99",
        "delivery p50 / p99",
        "Escalated p99",
        "missing / dup / wrong",
    ):
        table.add_column(name, justify="left" if name == "scanner every" else "right")
    for run in runs:
        totals = [item[0] for item in run.breached]
        waits = [item[1] for item in run.breached]
        deliveries = [item[2] for item in run.breached]
        p99 = percentile(totals, 99)
        verdict = (
            "[yellow]n/a[/yellow]"
            if p99 is None or run.missing
            else ("[green]met[/green]" if p99 <= TARGET_P99 else "[red]missed[/red]")
        )
        table.add_row(
            f"{run.interval:g} s",
            f"{len(totals)}/{run.alerts}",
            _s(percentile(totals, 50)),
            _s(percentile(totals, 90)),
            _s(p99),
            _s(max(totals) if totals else None),
            verdict,
            f"{_s(percentile(waits, 50))} / {_s(percentile(waits, 99))}",
            f"{_s(percentile(deliveries, 50))} / {_s(percentile(deliveries, 99))}",
            _s(percentile(run.escalated, 99)),
            f"{run.missing} / {run.duplicates} / {run.wrong_instant}",
        )
    console.print(table)

    worker_table = Table(
        title="the live worker's scanner (its /metrics, over the measurement)",
        caption="start-up = from Popen to the first scanner pass (migrate, recount of open "
        "provisional clocks, faust start); margin = the bench clocks were all projected this "
        "long before the first breach instant",
    )
    for name in (
        "scanner every",
        "start-up s",
        "passes",
        "mean pass ms",
        "p99 pass",
        "max due clocks/pass",
        "alerts on seeded clocks",
        "margin s",
        "note",
    ):
        worker_table.add_column(name, justify="left" if name in ("note",) else "right")
    for run in runs:
        stats = run.passes
        worker_table.add_row(
            f"{run.interval:g} s",
            f"{run.startup_seconds:.1f}",
            "—" if stats is None else f"{stats.passes:,}",
            "—" if stats is None else _ms(stats.mean),
            "—" if stats is None else stats.p99_bucket,
            f"{run.max_due:,.0f}",
            f"{run.other_rules:,.0f}",
            "—" if run.projected_margin is None else f"{run.projected_margin:.1f}",
            run.note,
        )
    console.print(worker_table)


# --- the scanner's cost per pass, in this process --------------------------------------------


def scanner_statement(now: datetime, limit: int) -> sa.Select[Any]:
    """The statement of EscalationScanner._due_clocks, verbatim."""
    return (
        sa.select(clocks.c.detail)
        .where(clocks.c.next_alert_at <= now)
        .order_by(clocks.c.next_alert_at, clocks.c.clock_id)
        .limit(limit)
    )


@dataclass(frozen=True)
class Explained:
    milliseconds: float
    plan: str
    rows_scanned: int  # rows the lowest node handed up (index entries whose heap rows were read)
    buffers: int


def explain(engine: sa.Engine, now: datetime, limit: int) -> Explained:
    statement = scanner_statement(now, limit)
    with engine.connect() as conn:
        compiled = statement.compile(dialect=conn.dialect)
        params = {
            key: value.astimezone(UTC).replace(tzinfo=None)
            if isinstance(value, datetime)
            else value
            for key, value in compiled.params.items()
        }
        sql = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + str(compiled)
        conn.exec_driver_sql(sql, params)  # warm the cache like a pass every second does
        document = conn.exec_driver_sql(sql, params).scalar_one()
    root = document[0]
    nodes = []
    node = root["Plan"]
    while True:
        name = node["Node Type"]
        if "Index Name" in node:
            name += f" {node['Index Name']}"
        nodes.append(name)
        children = node.get("Plans") or []
        if not children:
            break
        node = children[0]
    top = root["Plan"]
    return Explained(
        milliseconds=float(root["Execution Time"]),
        plan=" ← ".join(nodes),
        rows_scanned=int(node.get("Actual Rows", 0)),
        buffers=int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0)),
    )


@dataclass(frozen=True)
class PassCost:
    open_clocks: int
    scenario: str
    due: int
    read: int
    owed: int
    seconds: float  # median
    best: float  # fastest
    explained: Explained


class Collect:
    """The scanner's emit: keeps the alert events instead of sending them."""

    def __init__(self) -> None:
        self.events: list[Event[Any]] = []

    async def __call__(self, events: list[Event[Any]]) -> None:
        self.events.extend(events)


def due_count(engine: sa.Engine, now: datetime) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(clocks.c.next_alert_at <= now)
            ).scalar_one()
        )


@dataclass(frozen=True)
class Scenario:
    engine: sa.Engine
    open_clocks: int
    name: str
    now: datetime


def measure_passes(policy: ClockPolicy, scenarios: Sequence[Scenario]) -> list[PassCost]:
    """PASS_REPEATS first passes (a fresh scanner each: every pass emits) of each scenario,
    interleaved so that every scenario sees the same load from the rest of the machine."""
    results: list[list[ScanResult]] = [[] for _ in scenarios]
    owed = [0] * len(scenarios)
    for _ in range(PASS_REPEATS):
        for index, scenario in enumerate(scenarios):
            sink = Collect()
            at = scenario.now
            scanner = EscalationScanner(
                scenario.engine, policy, sink, now=lambda at=at: at, batch_size=SCANNER_BATCH
            )
            results[index].append(asyncio.run(scanner.scan_once()))
            owed[index] = len(sink.events)
    return [
        PassCost(
            open_clocks=scenario.open_clocks,
            scenario=scenario.name,
            due=due_count(scenario.engine, scenario.now),
            read=found[-1].clocks,
            owed=owed[index],
            seconds=statistics.median(result.seconds for result in found),
            best=min(result.seconds for result in found),
            explained=explain(scenario.engine, scenario.now, SCANNER_BATCH),
        )
        for index, (scenario, found) in enumerate(zip(scenarios, results, strict=True))
    ]


WHAT_IF_INDEX = "bench_what_if_next_alert_clock"


def pass_costs(
    targets: Sequence[tuple[sa.Engine, SeedReport]],
    policy: ClockPolicy,
    run_id: str,
    seed_value: int,
) -> list[PassCost]:
    """Scanner passes at the first (midnight) alert instant of the seeded clocks, then at
    0..10,000 due clocks (overdue clocks added for the measurement, removed after), each
    scenario on every target schema in turn.

    On the first target also a what-if: the first instant with an index on
    (next_alert_at, clock_id), the pass's ORDER BY, created in the bench schema for the
    measurement and dropped after.
    """
    costs: list[PassCost] = []
    first = min(seeded.first_alert for _, seeded in targets) + timedelta(seconds=1)
    cohort = f"first alert instant, {first.astimezone(ZONE):%m-%d %H:%M:%S}"
    with console.status("scanner passes at the seeded clocks' first alert instant …"):
        costs.extend(
            measure_passes(
                policy,
                [Scenario(engine, seeded.rows, cohort, first) for engine, seeded in targets],
            )
        )
    engine, seeded = targets[0]
    with console.status("what-if: CREATE INDEX … ON clocks (next_alert_at, clock_id) …"):
        with engine.begin() as conn:
            conn.execute(
                sa.text(f"CREATE INDEX {WHAT_IF_INDEX} ON clocks (next_alert_at, clock_id)")
            )
            conn.execute(sa.text("ANALYZE clocks"))
        try:
            name = f"{cohort} [what-if: + index (next_alert_at, clock_id)]"
            costs.extend(measure_passes(policy, [Scenario(engine, seeded.rows, name, first)]))
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text(f"DROP INDEX {WHAT_IF_INDEX}"))
    now = datetime.now(UTC)
    templates, weights = build_templates(policy, now, overdue=True)
    seeders = [
        Seeder(policy, now, f"PROBE-{run_id}", overdue=True, rng=random.Random(seed_value + 1))
        for _ in targets
    ]
    added: list[str] = []
    try:
        for due in PROBE_STEPS:
            more = due - len(added)
            if more > 0:
                for (engine, _), seeder in zip(targets, seeders, strict=True):
                    copy_clocks(engine, seeder, templates, weights, len(added), more, None)
                added.extend(
                    f"PROBE-{run_id}-{number:07d}"
                    for number in range(len(added), len(added) + more)
                )
            with console.status(f"scanner passes with {due:,} overdue clocks …"):
                costs.extend(
                    measure_passes(
                        policy,
                        [
                            Scenario(engine, seeded.rows, f"{due:,} overdue", now)
                            for engine, seeded in targets
                        ],
                    )
                )
    finally:
        for engine, _ in targets:
            with engine.begin() as conn:
                for start in range(0, len(added), 1000):
                    conn.execute(
                        clocks.delete().where(clocks.c.case_id.in_(added[start : start + 1000]))
                    )
    return costs


@dataclass(frozen=True)
class Drain:
    open_clocks: int
    at: datetime
    due: int
    left: int
    passes: int
    alerts: int
    seconds: float
    scan_seconds: float
    record_seconds: float


def drain(engine: sa.Engine, policy: ClockPolicy, seeded: SeedReport, budget: float) -> Drain:
    """The first alert instant's cohort worked off by the scanner and the projector's own write
    path back to back (EscalationScanner.scan_once, then ProjectionWriter.apply_batch of the
    pass's alerts, as the worker does once they are back from alerts.events), in this process:
    no Kafka, no wait between passes. Stops after `budget` seconds."""
    at = seeded.first_alert + timedelta(seconds=1)
    writer = ProjectionWriter(engine, policy, projection="bench-drain")
    sink = Collect()
    scanner = EscalationScanner(engine, policy, sink, now=lambda: at, batch_size=SCANNER_BATCH)
    due = left = due_count(engine, at)
    passes = alerts = offset = 0
    scan_seconds = record_seconds = 0.0
    started = time.perf_counter()
    with progress_bar() as progress:
        task = progress.add_task(f"draining {due:,} due clocks ({seeded.label})", total=due)
        while left and time.perf_counter() - started < budget:
            sink.events.clear()
            result = asyncio.run(scanner.scan_once())
            scan_seconds += result.seconds
            passes += 1
            alerts += len(sink.events)
            began = time.perf_counter()
            writer.apply_batch(
                [
                    ConsumedEvent("bench.drain.alerts", 0, offset + number, event)
                    for number, event in enumerate(sink.events)
                ]
            )
            offset += len(sink.events)
            record_seconds += time.perf_counter() - began
            left = due_count(engine, at)
            progress.update(task, completed=due - left)
    return Drain(
        open_clocks=seeded.rows,
        at=at,
        due=due,
        left=left,
        passes=passes,
        alerts=alerts,
        seconds=time.perf_counter() - started,
        scan_seconds=scan_seconds,
        record_seconds=record_seconds,
    )


def print_drains(drains: Sequence[Drain], intervals: Sequence[float]) -> None:
    table = Table(
        title="the first alert instant's cohort: scanner pass, then the projector records its "
        "alerts, back to back (this process; no Kafka, no wait between passes)",
        caption="the last clock of the cohort is alerted at best `seconds` after its due instant; "
        f"in the worker a pass starts at most once per interval and takes ≤ {SCANNER_BATCH:,} "
        "clocks, so also ≥ passes × interval; if the projector has not recorded a pass's alerts "
        "when the next pass starts, that pass reads the same clocks again and sends nothing",
    )
    for name in (
        "open clocks",
        "instant (local)",
        "due at it",
        "left",
        "passes",
        "alerts",
        "seconds",
        "scan s",
        "record s",
        "clocks/s",
        *(f"≥ passes × {interval:g} s" for interval in intervals),
    ):
        table.add_column(name, justify="left" if name == "instant (local)" else "right")
    for item in drains:
        done = item.due - item.left
        table.add_row(
            f"{item.open_clocks:,}",
            f"{item.at.astimezone(ZONE):%m-%d %H:%M:%S}",
            f"{item.due:,}",
            f"{item.left:,}" + (" (budget)" if item.left else ""),
            f"{item.passes:,}",
            f"{item.alerts:,}",
            f"{item.seconds:,.1f}",
            f"{item.scan_seconds:,.1f}",
            f"{item.record_seconds:,.1f}",
            f"{done / item.seconds:,.0f}" if item.seconds else "—",
            *(f"{item.passes * interval:,.1f} s" for interval in intervals),
        )
    console.print(table)


def print_pass_costs(costs: Sequence[PassCost]) -> None:
    table = Table(
        title=f"escalation scanner cost per pass (this process: EscalationScanner.scan_once, "
        f"batch {SCANNER_BATCH:,}, alerts counted not sent; median of {PASS_REPEATS})",
        caption="due = clocks with next_alert_at ≤ now; read = clocks the pass took (LIMIT batch); "
        "owed = alerts the pass would send; SQL = EXPLAIN (ANALYZE, BUFFERS) of the pass's "
        "query, warm; rows under sort = rows the index range handed up before the LIMIT",
    )
    for name in (
        "open clocks",
        "scenario",
        "due clocks",
        "read",
        "owed alerts",
        "pass ms median / best",
        "SQL ms",
        "rows under sort",
        "buffers",
        "plan (top ← bottom)",
    ):
        table.add_column(
            name, justify="left" if name in ("scenario", "plan (top ← bottom)") else "right"
        )
    for cost in costs:
        table.add_row(
            f"{cost.open_clocks:,}",
            cost.scenario,
            f"{cost.due:,}",
            f"{cost.read:,}",
            f"{cost.owed:,}",
            f"{_ms(cost.seconds)} / {_ms(cost.best)}",
            f"{cost.explained.milliseconds:,.2f}",
            f"{cost.explained.rows_scanned:,}",
            f"{cost.explained.buffers:,}",
            cost.explained.plan,
        )
    console.print(table)
    by_key = {(cost.open_clocks, cost.scenario): cost for cost in costs}
    sizes = sorted({cost.open_clocks for cost in costs})
    if len(sizes) == 2:
        small, big = sizes
        lines = []
        for due in PROBE_STEPS:
            a = by_key.get((small, f"{due:,} overdue"))
            b = by_key.get((big, f"{due:,} overdue"))
            if a and b:
                lines.append(
                    f"{due:,} due: {_ms(b.seconds)} vs {_ms(a.seconds)} "
                    f"(×{b.seconds / a.seconds:.2f})"
                )
        console.print(
            f"same due count, {big / small:,.0f}× the open clocks (pass ms, ×): " + "; ".join(lines)
        )


def measure_refresh(engine: sa.Engine, policy: ClockPolicy) -> tuple[int, float]:
    """ClockWriter.refresh_provisional (run by every worker at start), rolled back: (rows, s)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT count(*) FROM clocks WHERE provisional AND stopped_at IS NULL")
        ).scalar_one()
        started = time.perf_counter()
        ClockWriter(policy).refresh_provisional(conn)
        seconds = time.perf_counter() - started
        conn.rollback()
    return int(rows), seconds


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Due instant → alert on /alerts/stream, and scanner cost, at 1M open clocks."
    )
    parser.add_argument(
        "--clocks", type=int, default=1_000_000, help="open clocks seeded into PostgreSQL"
    )
    parser.add_argument("--alerts", type=int, default=300, help="breaches measured per interval")
    parser.add_argument(
        "--spread", type=float, default=40.0, help="seconds over which the breaches fall due"
    )
    parser.add_argument(
        "--lead",
        type=float,
        default=8.0,
        help="seconds from producing the complaints to the first breach instant",
    )
    parser.add_argument(
        "--scanner-interval",
        type=float,
        nargs="+",
        default=[1.0, 0.25],
        metavar="SECONDS",
        help="CASESTREAM_SCANNER_INTERVAL_SECONDS of the worker; one live run per value",
    )
    parser.add_argument(
        "--kafka", metavar="BOOTSTRAP", help="use this broker (default: a local one)"
    )
    parser.add_argument(
        "--postgres", metavar="URL", help="use this PostgreSQL (default: a local cluster)"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds a worker start or wait may take"
    )
    parser.add_argument(
        "--grace", type=float, default=30.0, help="seconds to wait for breaches after the last"
    )
    parser.add_argument(
        "--drain-budget",
        type=float,
        default=300.0,
        help="seconds the midnight-cohort drain may run per schema (0: skip it)",
    )
    parser.add_argument("--seed", type=int, default=11, help="seed of the generated clocks")
    parser.add_argument(
        "--keep", action="store_true", help="keep the schemas, topics and the process logs"
    )
    args = parser.parse_args(argv)
    if args.clocks < 1 or args.alerts < 1 or args.spread <= 0 or args.lead < 1:
        parser.error("--clocks and --alerts must be positive, --spread > 0, --lead >= 1")
    if any(value <= 0 for value in args.scanner_interval):
        parser.error("--scanner-interval values must be positive")
    return args


def _terminate(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _api_up(api: Service, port: int) -> bool:
    if not api.running():
        raise RuntimeError(f"the API exited:\n{api.tail()}")
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def api_credentials() -> tuple[dict[str, str], dict[str, str]]:
    """(environment of the API, headers of its clients).

    Where the API checks bearer tokens (casestream.credentials), a random
    CASESTREAM_AUTH_SECRET for this run and a token signed with it by the product's own
    `issue_token`, for a supervisor (督察: sees every department's alerts).
    """
    try:
        from casestream.credentials import Principal, Role, issue_token
    except ImportError:  # an API without access control
        return {}, {}
    secret = secrets.token_urlsafe(48)
    token = issue_token(
        secret,
        Principal("bench.timers", Role.supervisor),
        now=datetime.now(UTC),
        ttl=timedelta(hours=12),
    )
    return {"CASESTREAM_AUTH_SECRET": secret}, {"Authorization": f"Bearer {token}"}


def run(args: argparse.Namespace, run_id: str, work_dir: Path) -> None:
    rules_file = work_dir / "rules.toml"
    rules_file.write_text(RULES_TOML, encoding="utf-8")
    load_rulebook(rules_file).get(BENCH_RULE)  # the file validates, as the worker will load it
    policy = clock_policy(Settings(rules_file=rules_file, timezone=TIMEZONE))
    if os.environ.pop("CASESTREAM_PG_FAST", None):
        console.print("[yellow]ignoring CASESTREAM_PG_FAST: PostgreSQL runs as in production")
    seeds: list[SeedReport] = []
    live: list[LiveRun] = []
    costs: list[PassCost] = []
    drains: list[Drain] = []
    startup: tuple[int, float] | None = None
    schemas: list[str] = []
    topics = Topics(prefix=f"benchtimers{run_id}.")
    with kafka_broker(args.kafka) as bootstrap, postgres_server(args.postgres) as pg_url:
        create_topics(bootstrap, topics)
        try:
            probe = sa.create_engine(pg_url)
            with probe.connect() as conn:
                settings = {
                    name: conn.execute(sa.text(f"SHOW {name}")).scalar_one()
                    for name in ("server_version", "fsync", "synchronous_commit", "shared_buffers")
                }
            probe.dispose()
            console.print(
                f"PostgreSQL {settings['server_version']}: fsync={settings['fsync']}, "
                f"synchronous_commit={settings['synchronous_commit']}, "
                f"shared_buffers={settings['shared_buffers']}; {os.cpu_count()} cores; "
                f"Kafka {bootstrap}"
            )
            big_schema = f"bench_timers_{run_id}"
            schemas.append(big_schema)
            engine = create_engine(pg_url, big_schema)
            migrate(engine)
            seed_now = datetime.now(UTC)
            seeds.append(seed(engine, policy, args.clocks, f"SEED-{run_id}", seed_now, args.seed))
            print_seeding(seeds)

            env = service_env(
                bootstrap,
                topics,
                pg_url,
                big_schema,
                CASESTREAM_RULES_FILE=str(rules_file),
            )
            api_port = free_port()
            api_env, headers = api_credentials()
            api = Service(
                "api", ["api", "--port", str(api_port)], {**env, **api_env}, work_dir / "api"
            )
            listener: AlertListener | None = None
            try:
                with console.status("API starting …"):
                    wait_until(
                        "the API's /healthz", lambda: _api_up(api, api_port), args.timeout, 0.2
                    )
                listener = AlertListener(
                    f"http://127.0.0.1:{api_port}", {"rule": BENCH_RULE}, headers
                )
                if not listener.connected.wait(30):
                    raise RuntimeError(f"SSE client not connected: {listener.error}")
                for number, interval in enumerate(args.scanner_interval):
                    live.append(
                        live_run(
                            interval=interval,
                            args=args,
                            env=env,
                            engine=engine,
                            bootstrap=bootstrap,
                            topics=topics,
                            listener=listener,
                            work_dir=work_dir,
                            tag=f"{run_id}-{number}",
                        )
                    )
                    print_live(live, args.clocks)
            finally:
                if listener is not None:
                    listener.close()
                api.stop()

            with console.status("timing ClockWriter.refresh_provisional (every worker start) …"):
                startup = measure_refresh(engine, policy)

            small_schema = f"bench_timers_{run_id}_small"
            schemas.append(small_schema)
            small = create_engine(pg_url, small_schema)
            migrate(small)
            seeds.append(
                seed(small, policy, SMALL_CLOCKS, f"SMALL-{run_id}", seed_now, args.seed + 7)
            )
            targets = [(engine, seeds[0]), (small, seeds[1])]
            costs.extend(pass_costs(targets, policy, run_id, args.seed))
            print_pass_costs(costs)
            if args.drain_budget > 0:
                for target, seeded in targets:
                    drains.append(drain(target, policy, seeded, args.drain_budget))
                print_drains(drains, args.scanner_interval)
            engine.dispose()
            small.dispose()
        finally:
            console.rule("results")
            if seeds:
                print_seeding(seeds)
            if live:
                print_live(live, args.clocks)
            if startup is not None:
                rows, seconds = startup
                console.print(
                    f"worker start-up: ClockWriter.refresh_provisional reads and recounts every "
                    f"open provisional clock: {rows:,} clocks in {seconds:.1f} s "
                    "(nothing changed; rolled back)"
                )
            if costs:
                print_pass_costs(costs)
            if drains:
                print_drains(drains, args.scanner_interval)
            if args.keep:
                console.print(
                    f"kept schemas {', '.join(schemas)} and topics with prefix {topics.prefix}"
                )
            else:
                with console.status("dropping schemas and topics …"):
                    drop_schemas(pg_url, schemas)
                    delete_topics(bootstrap, topics)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)  # clean up the same way as on Ctrl-C
    run_id = uuid.uuid4().hex[:8]
    work_dir = Path(tempfile.mkdtemp(prefix=f"casestream-bench-timers-{run_id}-"))
    failed = False
    try:
        run(args, run_id, work_dir)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted; cleaned up[/yellow]")
        return 130
    except Exception:
        failed = True
        for log in sorted(work_dir.glob("*/*.log")):
            console.print(f"[bold]{log}[/bold] (tail)")
            console.print(log.read_text(errors="replace")[-2000:], markup=False)
        raise
    finally:
        if args.keep or failed:
            console.print(f"logs in {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
