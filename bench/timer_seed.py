"""Seeding the deadline-timer bench: open clocks written straight into PostgreSQL with COPY,
exactly as the projector would have written them."""

from __future__ import annotations

import contextlib
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day

import pydantic_core
import sqlalchemy as sa
from timer_config import DEPARTMENTS, QUIET_HOURS, SEED_RULES, TIMEZONE, ZONE
from timer_report import console, progress_bar

from casestream.domain import catalog as ev
from casestream.domain.catalog import PAYLOAD_TYPES, CaseKind
from casestream.domain.clocks import ALERT_ID_NAMESPACE, Clock, ClockPolicy, alert_id, schedule
from casestream.domain.deadlines import compute_deadline

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
