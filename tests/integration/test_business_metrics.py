"""Business gauges of the leadership dashboard, read by a Prometheus collector from real SQLite
and PostgreSQL read models.

The cases are projected from events by the real ProjectionWriter (clocks included); the
review and rectification a correction or a loss owes are taken from the outbox and projected
as the relay would publish them. "Now" is fixed at NOW, a Wednesday.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import Event, parse_event
from casestream.domain.rules import load_rulebook
from casestream.metric_labels import DepartmentLabels
from casestream.read_models.business_metrics import ReadModelCollector
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.figure_counts import FigureCounter
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import outbox
from casestream.read_models.stats import StatsQueries, StatsScope
from tests.conftest import Database
from tests.events import event, local, reconsideration

NOW = datetime.fromisoformat("2026-04-15T10:00:00+08:00")
ZONE = "Asia/Shanghai"
POLICY = ClockPolicy(load_rulebook(), load_calendar())
PUBLIC_ORDER, TRAFFIC = "治安大队", "交警大队"  # configured; 户政科 and 出入境 become "other"
HOUSEHOLD, EXIT_ENTRY = "户政科", "出入境管理支队"


# --- event sequences -----------------------------------------------------------------------


def complaint(
    case_id: str,
    received: str,
    *,
    department: str | None,
    channel: str = "hotline_12345",
    enterprise: bool = False,
    accepted: str | None = None,
    suspended: str | None = None,
    resolved: str | None = None,
    satisfaction: int | None = None,
) -> list[Event[Any]]:
    kind = "complaint"
    payload: dict[str, Any] = {"channel": channel, "subject": "出警慢", "enterprise": enterprise}
    if department:
        payload["department"] = department
    events = [event("ComplaintReceived", case_id, kind, payload, at=local(received))]
    if accepted:
        events.append(event("ComplaintAccepted", case_id, kind, at=local(accepted)))
    if suspended:
        reason = {"reason": "等待鉴定"}
        events.append(event("CaseSuspended", case_id, kind, reason, at=local(suspended)))
    if resolved:
        outcome = {"outcome": "explained"}
        events.append(event("ComplaintResolved", case_id, kind, outcome, at=local(resolved)))
    if satisfaction and resolved:
        visit = {"satisfaction": satisfaction}
        at_visit = local(resolved) + timedelta(days=1)
        events.append(event("ComplaintFollowUpVisited", case_id, kind, visit, at=at_visit))
    return events


def lawsuit(
    case_id: str,
    number: int,
    department: str,
    outcome: str | None,
    *,
    defended: str = "2026-02-10T09:00",
) -> list[Event[Any]]:
    kind = "litigation"
    filed = {
        "court": "区人民法院",
        "plaintiff": {"name": "赵六", "phone": "13700002222"},
        "decision_ref": f"公(交)行罚决字〔2026〕{number}号",
        "department": department,
    }
    events = [
        event("LawsuitFiled", case_id, kind, filed, at=local("2026-02-02T09:00")),
        event("ComplaintCopyServed", case_id, kind, at=local("2026-02-03T09:00")),
        event("DefenceSubmitted", case_id, kind, at=local(defended)),
    ]
    if outcome:
        judgment = {"instance": "first", "outcome": outcome}
        events.append(
            event("JudgmentIssued", case_id, kind, judgment, at=local("2026-03-05T09:00"))
        )
    return events


def scenario() -> list[Event[Any]]:
    """The cases asserted below; the comments give each one's clocks at NOW."""
    return [
        # C1: today, handling clock running (15 working days)
        *complaint("C1", "2026-04-15T08:30", department=PUBLIC_ORDER, accepted="2026-04-15T09:00"),
        # C2: 涉企, received 00:10 local (14 April in UTC): today; enterprise clock running
        *complaint(
            "C2",
            "2026-04-15T00:10",
            department=PUBLIC_ORDER,
            channel="online",
            enterprise=True,
            accepted="2026-04-15T09:30",
        ),
        # C3: resolved late (its clock breached but stopped), visited: 5
        *complaint(
            "C3",
            "2026-03-02T09:00",
            department=TRAFFIC,
            channel="window",
            accepted="2026-03-02T09:00",
            resolved="2026-04-01T09:00",
            satisfaction=5,
        ),
        # C4: open, its handling clock running past due (early April)
        *complaint(
            "C4",
            "2026-03-10T09:00",
            department=TRAFFIC,
            channel="letter",
            accepted="2026-03-10T09:00",
        ),
        # C5, C6: resolved in time, visited 2 and 4; their departments are both "other"
        *complaint(
            "C5",
            "2026-03-20T09:00",
            department=HOUSEHOLD,
            enterprise=True,
            accepted="2026-03-20T09:00",
            resolved="2026-03-25T09:00",
            satisfaction=2,
        ),
        *complaint(
            "C6",
            "2026-03-21T09:00",
            department=EXIT_ENTRY,
            channel="petition",
            accepted="2026-03-23T09:00",
            resolved="2026-03-27T09:00",
            satisfaction=4,
        ),
        # C7: yesterday 23:50 local, no department, not accepted: open without a clock
        *complaint("C7", "2026-04-14T23:50", department=None, channel="online"),
        # C8: 涉企, its 5-working-day clock is due tomorrow: due soon
        *complaint(
            "C8",
            "2026-04-09T09:00",
            department=PUBLIC_ORDER,
            enterprise=True,
            accepted="2026-04-09T09:00",
        ),
        # C9: suspended (中止) long past its due date: paused, not overdue
        *complaint(
            "C9",
            "2026-03-02T09:00",
            department=PUBLIC_ORDER,
            accepted="2026-03-02T09:00",
            suspended="2026-03-04T09:00",
        ),
        # T1: enterprise tip-off not verified, 15 working days long past: overdue
        event(
            "TipReceived",
            "T1",
            "enterprise_tip",
            {"enterprise": "甲建材有限公司", "subject": "违规经营", "department": PUBLIC_ORDER},
            at=local("2026-03-16T09:00"),
        ),
        # R1 corrected (纠错) → RECT-R1; R2 maintained; R3 pending (decision clock running)
        *reconsideration("R1", 101, "revoked", department=PUBLIC_ORDER),
        *reconsideration("R2", 102, "maintained", department=PUBLIC_ORDER),
        *reconsideration("R3", 103, None, department=TRAFFIC),
        # L1 lost (败诉) → RECT-L1; L2 won; L3 withdrawn (decided, neither)
        *lawsuit("L1", 201, TRAFFIC, "revoked"),
        *lawsuit("L2", 202, PUBLIC_ORDER, "claim_dismissed"),
        *lawsuit("L3", 203, HOUSEHOLD, "withdrawn"),
        # L4 defended late (its defence clock breached, stopped): open, but not overdue
        *lawsuit("L4", 204, TRAFFIC, None, defended="2026-03-02T09:00"),
    ]


def rectification_work() -> list[Event[Any]]:
    """After the relay: RECT-R1 reviewed, done and verified; RECT-L1 left open (its review and
    completion clocks run past due); RECT-X and RECT-Y opened by staff and cancelled."""
    rect = "rectification"

    def opened(department: str) -> dict[str, str]:
        return {"department": department, "responsible_person": "负责人", "description": "整改"}

    return [
        event(
            "ReviewCompleted",
            "RECT-R1",
            rect,
            {"root_causes": ["procedure"], "lessons": "告知程序缺失"},
            at=local("2026-03-25T09:00"),
        ),
        event(
            "RectificationCompleted",
            "RECT-R1",
            rect,
            {"evidence": ["培训签到表"]},
            at=local("2026-04-08T09:00"),
        ),
        event(
            "RectificationVerified",
            "RECT-R1",
            rect,
            {"supervisor": "督察李"},
            at=local("2026-04-09T09:00"),
        ),
        *(
            item
            for case_id, department in (("RECT-X", HOUSEHOLD), ("RECT-Y", EXIT_ENTRY))
            for item in (
                event(
                    "RectificationOpened",
                    case_id,
                    rect,
                    opened(department),
                    at=local("2026-03-25T09:00"),
                ),
                event(
                    "RectificationCancelled",
                    case_id,
                    rect,
                    {"reason": "二审改判"},
                    at=local("2026-03-28T09:00"),
                ),
            )
        ),
    ]


class Projector:
    """The worker's projection, and the relay publishing what the outbox holds."""

    def __init__(self, engine: sa.Engine) -> None:
        self._writer = ProjectionWriter(engine, POLICY)
        self._engine = engine
        self._offset = 0

    def project(self, events: list[Event[Any]]) -> None:
        batch = []
        for item in events:
            batch.append(ConsumedEvent("cases.events", 0, self._offset, item))
            self._offset += 1
        self._writer.apply_batch(batch)

    def relay(self) -> None:
        """Publish and project what the outbox holds, until what it derives is projected too
        (a supervision flag, then the alert it raises)."""
        while True:
            with self._engine.begin() as conn:
                rows = conn.execute(
                    sa.select(outbox.c.event_id, outbox.c.body)
                    .where(outbox.c.published.is_(False))
                    .order_by(outbox.c.occurred_at, outbox.c.event_id)
                ).all()
                conn.execute(outbox.update().values(published=True))
            if not rows:
                return
            self.project([parse_event(json.loads(row.body)) for row in rows])


@pytest.fixture(params=["tallies", "cases"])
def engine(database: Database, request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """Read models whose gauges are read from the tallies the projector keeps (as `casestream`
    runs them), or counted from the cases (tallies not built yet: an upgrade's first start)."""
    engine = create_engine(database.url, database.schema)
    if request.param == "tallies":
        migrate(engine, FigureCounter(POLICY.rulebook, ZONE).ensure)
    else:
        migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def projector(engine: sa.Engine) -> Projector:
    projector = Projector(engine)
    projector.project(scenario())
    projector.relay()
    projector.project(rectification_work())
    return projector


def configured() -> DepartmentLabels:
    return DepartmentLabels(frozenset({PUBLIC_ORDER, TRAFFIC}))


def registry_of(collector: ReadModelCollector) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(collector)
    return registry


def collector_on(engine: sa.Engine, **options: Any) -> ReadModelCollector:
    settings: dict[str, Any] = {
        "rulebook": POLICY.rulebook,
        "now": lambda: NOW,
        "timezone": ZONE,
        "departments": configured(),
    }
    return ReadModelCollector(engine, **(settings | options))


def samples(registry: CollectorRegistry, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample of `name`: sorted label pairs → value."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == name
    }


def by(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


class StatementCounter:
    """Counts the SQL statements an engine runs."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


# --- the figures ---------------------------------------------------------------------------


def test_open_and_overdue_cases_by_kind_department_and_enterprise_flag(
    engine: sa.Engine, projector: Projector
) -> None:
    registry = registry_of(collector_on(engine))
    assert samples(registry, "casestream_cases_open") == {
        by(case_kind="complaint", department=PUBLIC_ORDER, enterprise="false"): 2,  # C1, C9
        by(case_kind="complaint", department=PUBLIC_ORDER, enterprise="true"): 2,  # C2, C8
        by(case_kind="complaint", department=TRAFFIC, enterprise="false"): 1,  # C4 (C3 resolved)
        by(case_kind="complaint", department="other", enterprise="true"): 0,  # C5 resolved
        by(case_kind="complaint", department="other", enterprise="false"): 0,  # C6 resolved
        by(case_kind="complaint", department="none", enterprise="false"): 1,  # C7
        by(case_kind="enterprise_tip", department=PUBLIC_ORDER, enterprise="true"): 1,  # T1
        by(case_kind="reconsideration", department=PUBLIC_ORDER, enterprise="false"): 0,
        by(case_kind="reconsideration", department=TRAFFIC, enterprise="false"): 1,  # R3
        by(case_kind="litigation", department=PUBLIC_ORDER, enterprise="false"): 0,
        by(case_kind="litigation", department=TRAFFIC, enterprise="false"): 1,  # L4
        by(case_kind="litigation", department="other", enterprise="false"): 0,
        by(case_kind="rectification", department=PUBLIC_ORDER, enterprise="false"): 0,  # verified
        by(case_kind="rectification", department=TRAFFIC, enterprise="false"): 1,  # RECT-L1
        by(case_kind="rectification", department="other", enterprise="false"): 0,  # cancelled
    }
    overdue = samples(registry, "casestream_cases_overdue")
    assert {labels: n for labels, n in overdue.items() if n} == {
        by(case_kind="complaint", department=TRAFFIC): 1,  # C4, due 31 March
        by(case_kind="enterprise_tip", department=PUBLIC_ORDER): 1,  # T1, due 7 April
        by(case_kind="rectification", department=TRAFFIC): 1,  # RECT-L1: two clocks, one case
    }
    open_labels = {
        tuple(pair for pair in labels if pair[0] != "enterprise")
        for labels in samples(registry, "casestream_cases_open")
    }
    assert set(overdue) == open_labels  # 0 where none
    assert overdue[by(case_kind="complaint", department="none")] == 0
    # L4's defence clock is breached but stopped: the defence was made, if late
    assert overdue[by(case_kind="litigation", department=TRAFFIC)] == 0


def test_cases_received_today_are_counted_by_the_local_date(
    engine: sa.Engine, projector: Projector
) -> None:
    registry = registry_of(collector_on(engine))
    today = samples(registry, "casestream_cases_received_today")
    assert {labels: n for labels, n in today.items() if n} == {
        by(case_kind="complaint", department=PUBLIC_ORDER, enterprise="false"): 1,  # C1
        by(case_kind="complaint", department=PUBLIC_ORDER, enterprise="true"): 1,  # C2, 00:10
    }
    # C7 came at 23:50 yesterday (local), so is not today's; its label set shows 0
    assert today[by(case_kind="complaint", department="none", enterprise="false")] == 0
    # in UTC, C2 (16:10 on the 14th) would be yesterday's: the zone decides
    utc = samples(
        registry_of(collector_on(engine, timezone="UTC")), "casestream_cases_received_today"
    )
    assert utc[by(case_kind="complaint", department=PUBLIC_ORDER, enterprise="true")] == 0
    assert utc[by(case_kind="complaint", department=PUBLIC_ORDER, enterprise="false")] == 1


def test_open_clocks_are_running_paused_or_overdue_and_due_soon_ones_are_counted(
    engine: sa.Engine, projector: Projector
) -> None:
    registry = registry_of(collector_on(engine))
    assert samples(registry, "casestream_clocks_open") == {
        by(rule="complaint.handling", department=PUBLIC_ORDER, status="running"): 1,  # C1
        by(rule="complaint.handling", department=PUBLIC_ORDER, status="paused"): 1,  # C9 中止
        by(rule="complaint.handling", department=TRAFFIC, status="overdue"): 1,  # C4
        by(rule="complaint.handling_enterprise", department=PUBLIC_ORDER, status="running"): 2,  # C2, C8
        by(rule="enterprise_tip.handling", department=PUBLIC_ORDER, status="overdue"): 1,  # T1
        by(rule="reconsideration.decision", department=TRAFFIC, status="running"): 1,  # R3
        by(rule="litigation.first_instance", department=TRAFFIC, status="running"): 1,  # L4
        by(rule="rectification.completion", department=TRAFFIC, status="overdue"): 1,  # RECT-L1
        by(rule="rectification.review", department=TRAFFIC, status="overdue"): 1,  # RECT-L1
    }  # fmt: skip
    # stopped clocks (C3's and L4's breached ones included) and cancelled ones are not open
    due_soon = samples(registry, "casestream_clocks_due_soon")
    assert {labels: n for labels, n in due_soon.items() if n} == {
        by(rule="complaint.handling_enterprise", department=PUBLIC_ORDER): 1,  # C8, due 16 April
    }
    # 0, not absent, for every rule and department with open clocks
    assert set(due_soon) == {
        by(rule=dict(labels)["rule"], department=dict(labels)["department"])
        for labels in samples(registry, "casestream_clocks_open")
    }
    # eight days also catch C2's clock, due at the end of 22 April
    longer = registry_of(collector_on(engine, due_soon=timedelta(days=8)))
    assert {
        labels: n for labels, n in samples(longer, "casestream_clocks_due_soon").items() if n
    } == {
        by(rule="complaint.handling_enterprise", department=PUBLIC_ORDER): 2,
    }


def test_later_the_same_clocks_are_overdue(engine: sa.Engine, projector: Projector) -> None:
    """On 1 June every running clock but C1's is past due; the paused one stays paused."""
    registry = registry_of(collector_on(engine, now=lambda: local("2026-06-01T10:00")))
    assert samples(registry, "casestream_clocks_open") == {
        by(rule="complaint.handling", department=PUBLIC_ORDER, status="overdue"): 1,  # C1
        by(rule="complaint.handling", department=PUBLIC_ORDER, status="paused"): 1,  # C9
        by(rule="complaint.handling", department=TRAFFIC, status="overdue"): 1,
        by(rule="complaint.handling_enterprise", department=PUBLIC_ORDER, status="overdue"): 2,
        by(rule="enterprise_tip.handling", department=PUBLIC_ORDER, status="overdue"): 1,
        by(rule="reconsideration.decision", department=TRAFFIC, status="overdue"): 1,
        by(rule="litigation.first_instance", department=TRAFFIC, status="running"): 1,  # August
        by(rule="rectification.completion", department=TRAFFIC, status="overdue"): 1,
        by(rule="rectification.review", department=TRAFFIC, status="overdue"): 1,
    }  # fmt: skip
    overdue = samples(registry, "casestream_cases_overdue")
    assert overdue[by(case_kind="complaint", department=PUBLIC_ORDER)] == 3  # C1, C2, C8
    assert overdue[by(case_kind="reconsideration", department=TRAFFIC)] == 1  # R3
    assert not any(samples(registry, "casestream_clocks_due_soon").values())


def test_rectifications_by_status_and_overdue_by_department(
    engine: sa.Engine, projector: Projector
) -> None:
    registry = registry_of(collector_on(engine))
    rectifications = samples(registry, "casestream_rectifications")
    assert {labels: n for labels, n in rectifications.items() if n} == {
        by(department=PUBLIC_ORDER, status="verified"): 1,  # RECT-R1
        by(department=TRAFFIC, status="open"): 1,  # RECT-L1
        by(department="other", status="cancelled"): 2,  # RECT-X (户政科) + RECT-Y (出入境)
    }
    # every status of a department with rectifications is there, 0 if none: a share is 0 %
    statuses = ("open", "in_progress", "completed", "rejected", "verified", "cancelled")
    assert set(rectifications) == {
        by(department=department, status=status)
        for department in (PUBLIC_ORDER, TRAFFIC, "other")
        for status in statuses
    }
    assert samples(registry, "casestream_rectifications_overdue") == {
        by(department=TRAFFIC): 1,  # RECT-L1: 30 days from 5 March, to 7 April (清明)
        by(department=PUBLIC_ORDER): 0,
        by(department="other"): 0,
    }


def test_decided_disputes_by_outcome_give_the_rates_of_get_stats(
    engine: sa.Engine, projector: Projector
) -> None:
    registry = registry_of(collector_on(engine))
    decided = samples(registry, "casestream_disputes_decided")
    assert decided == {
        by(case_kind="reconsideration", department=PUBLIC_ORDER, outcome="correction"): 1,  # R1
        by(case_kind="reconsideration", department=PUBLIC_ORDER, outcome="other"): 1,  # R2
        by(case_kind="litigation", department=TRAFFIC, outcome="loss"): 1,  # L1
        by(case_kind="litigation", department=TRAFFIC, outcome="other"): 0,
        by(case_kind="litigation", department=PUBLIC_ORDER, outcome="loss"): 0,
        by(case_kind="litigation", department=PUBLIC_ORDER, outcome="other"): 1,  # L2
        by(case_kind="litigation", department="other", outcome="loss"): 0,
        by(case_kind="litigation", department="other", outcome="other"): 1,  # L3 withdrawn
    }  # R3 is not decided; a department with decisions has every outcome, 0 if none
    # 复议纠错率 and 诉讼败诉率 as PromQL would divide them are the rates of GET /stats
    figures = StatsQueries(engine, POLICY.rulebook).figures(
        StatsScope(
            start=local("2026-01-01T00:00"), end=local("2026-05-01T00:00"), department=None, now=NOW
        )
    )
    by_outcome: Counter[tuple[str, str]] = Counter()
    for labels, n in decided.items():
        found = dict(labels)
        by_outcome[found["case_kind"], found["outcome"]] += n
        by_outcome[found["case_kind"], "all"] += n
    correction_rate = (
        by_outcome["reconsideration", "correction"] / by_outcome["reconsideration", "all"]
    )
    loss_rate = by_outcome["litigation", "loss"] / by_outcome["litigation", "all"]
    assert correction_rate == figures.reconsiderations.correction_rate == 1 / 2
    assert loss_rate == pytest.approx(figures.lawsuits.loss_rate) and loss_rate == pytest.approx(
        1 / 3
    )


def test_follow_up_satisfaction_is_a_histogram_of_scores(
    engine: sa.Engine, projector: Projector
) -> None:
    registry = registry_of(collector_on(engine))
    buckets = {
        dict(labels)["le"]: n
        for labels, n in samples(registry, "casestream_followup_satisfaction_bucket").items()
    }
    assert buckets == {"1.0": 0, "2.0": 1, "3.0": 1, "4.0": 2, "5.0": 3, "+Inf": 3}  # 2, 4, 5
    assert value(registry, "casestream_followup_satisfaction_count") == 3
    assert value(registry, "casestream_followup_satisfaction_sum") == 11


def test_complaints_under_supervision_and_supervisions_flagged_by_department(
    engine: sa.Engine, projector: Projector
) -> None:
    registry = registry_of(collector_on(engine))
    # 0 for every department with complaints, so that a first supervision is a rise
    nothing = {by(department=name): 0 for name in (PUBLIC_ORDER, TRAFFIC, "other", "none")}
    # C5 (户政科, "other") was visited with 2: flagged, under supervision now
    flagged_c5 = nothing | {by(department="other"): 1}
    assert samples(registry, "casestream_complaints_under_supervision") == flagged_c5
    assert samples(registry, "casestream_supervisions_flagged") == flagged_c5
    scope = StatsScope(
        start=local("2026-01-01T00:00"), end=local("2026-05-01T00:00"), department=None, now=NOW
    )
    figures = StatsQueries(engine, POLICY.rulebook).figures(scope)
    assert (figures.supervision.flagged, figures.supervision.open) == (1, 1)  # as GET /stats

    closed = {"supervisor": "du.cha", "conclusion": "已约谈承办人"}
    projector.project(
        [event("SupervisionClosed", "C5", "complaint", closed, at=local("2026-04-01T09:00"))]
    )
    projector.relay()  # the alert's clearing
    later = registry_of(collector_on(engine))
    assert samples(later, "casestream_complaints_under_supervision") == nothing
    assert samples(later, "casestream_supervisions_flagged") == flagged_c5


def enforcement_work() -> list[Event[Any]]:
    """执法监督: two 考评 reviews of 治安大队 (one scored), a 执法监督书 to 治安大队, and three
    不予处罚 decisions: 交警大队's published, 治安大队's of 2 March never published (its 公示
    due within 7 working days: overdue at NOW), 户政科's of 14 April (not yet due)."""
    review = {"department": PUBLIC_ORDER, "reviewer": "张敏"}
    notice = {"department": PUBLIC_ORDER, "notice_no": "监督〔2026〕1号", "matters": ["规范告知"]}
    decided = {"legal_basis": "《行政处罚法》第三十三条第一款", "exemption": "minor"}
    kinds = ("enforcement_review", "enforcement_notice", "enforcement_decision")
    steps: list[tuple[str, str, int, dict[str, Any], str]] = [
        (
            "EnforcementReviewOpened",
            "KP-1",
            0,
            review | {"decision_ref": "公罚〔2026〕1号"},
            "03-02",
        ),
        ("EnforcementReviewCompleted", "KP-1", 0, {"score": 88}, "03-04"),
        (
            "EnforcementReviewOpened",
            "KP-2",
            0,
            review | {"decision_ref": "公罚〔2026〕2号"},
            "03-02",
        ),
        ("EnforcementNoticeIssued", "JDS-1", 1, notice | {"deadline": "2026-05-29"}, "03-06"),
        *(
            (
                "EnforcementDecisionRecorded",
                case_id,
                2,
                decided
                | {"decision_ref": case_id, "department": unit, "decided_on": f"2026-{day}"},
                day,
            )
            for case_id, unit, day in (
                ("BCF-1", TRAFFIC, "04-01"),
                ("BCF-2", PUBLIC_ORDER, "03-02"),
                ("BCF-3", HOUSEHOLD, "04-14"),
            )
        ),
        ("EnforcementDecisionPublished", "BCF-1", 2, {"platform": "县政府网站"}, "04-02"),
    ]
    return [
        event(name, case_id, kinds[kind], payload, at=local(f"2026-{day}T10:00"))
        for name, case_id, kind, payload, day in steps
    ]


def test_enforcement_cases_by_kind_department_and_status(
    engine: sa.Engine, projector: Projector
) -> None:
    projector.project(enforcement_work())
    projector.relay()  # the notice's rectification
    registry = registry_of(collector_on(engine))
    found = samples(registry, "casestream_enforcement_cases")
    assert {labels: n for labels, n in found.items() if n} == {
        by(case_kind="enforcement_review", department=PUBLIC_ORDER, status="completed"): 1,
        by(case_kind="enforcement_review", department=PUBLIC_ORDER, status="opened"): 1,
        by(case_kind="enforcement_notice", department=PUBLIC_ORDER, status="issued"): 1,
        by(case_kind="enforcement_decision", department=TRAFFIC, status="published"): 1,
        by(case_kind="enforcement_decision", department=PUBLIC_ORDER, status="recorded"): 1,
        by(case_kind="enforcement_decision", department="other", status="recorded"): 1,
    }
    # every status of a kind and department with such cases, 0 if none: a share is 0 %
    assert (
        found[by(case_kind="enforcement_notice", department=PUBLIC_ORDER, status="rectified")] == 0
    )
    assert found[by(case_kind="enforcement_decision", department=TRAFFIC, status="withdrawn")] == 0
    assert len(found) == 2 + 2 + 3 * 3
    # the 公示 clocks: 治安大队's past due, 户政科's running
    clocks = samples(registry, "casestream_clocks_open")
    publication = "enforcement_decision.publication"
    assert {labels: n for labels, n in clocks.items() if ("rule", publication) in labels} == {
        by(rule=publication, department=PUBLIC_ORDER, status="overdue"): 1,
        by(rule=publication, department="other", status="running"): 1,
    }
    assert value(registry, "casestream_cases_open", case_kind="enforcement_notice",
                 department=PUBLIC_ORDER, enterprise="false") == 1  # fmt: skip


def test_without_configured_departments_the_names_seen_are_kept(
    engine: sa.Engine, projector: Projector
) -> None:
    registry = registry_of(collector_on(engine, departments=DepartmentLabels(None)))
    opened = samples(registry, "casestream_cases_open")
    assert opened[by(case_kind="complaint", department=HOUSEHOLD, enterprise="true")] == 0  # C5
    assert opened[by(case_kind="complaint", department=EXIT_ENTRY, enterprise="false")] == 0  # C6
    assert not [labels for labels in opened if ("department", "other") in labels]
    # with room for no name, every department is "other": C1, C2, C8, C9 and C4 are open
    capped = registry_of(collector_on(engine, departments=DepartmentLabels(None, max_seen=0)))
    complaints = {"case_kind": "complaint", "department": "other"}
    assert value(capped, "casestream_cases_open", **complaints, enterprise="false") == 3
    assert value(capped, "casestream_cases_open", **complaints, enterprise="true") == 2
    none = {"case_kind": "complaint", "department": "none", "enterprise": "false"}
    assert value(capped, "casestream_cases_open", **none) == 1


# --- refreshing ----------------------------------------------------------------------------


def test_families_carry_the_documented_labels_and_registering_runs_no_query(
    engine: sa.Engine,
) -> None:
    statements = StatementCounter(engine)
    collector = collector_on(engine)
    registry_of(collector)
    assert statements.count == 0
    assert {family.name: family.type for family in collector.describe()} == {
        "casestream_cases_open": "gauge",
        "casestream_cases_overdue": "gauge",
        "casestream_cases_received_today": "gauge",
        "casestream_clocks_open": "gauge",
        "casestream_clocks_due_soon": "gauge",
        "casestream_rectifications": "gauge",
        "casestream_rectifications_overdue": "gauge",
        "casestream_disputes_decided": "gauge",
        "casestream_complaints_under_supervision": "gauge",
        "casestream_supervisions_flagged": "gauge",
        "casestream_enforcement_cases": "gauge",
        "casestream_followup_satisfaction": "histogram",
        "casestream_read_model_metrics_up": "gauge",
    }


def test_a_scrape_within_cache_seconds_gets_the_last_refresh(
    engine: sa.Engine, projector: Projector
) -> None:
    ticks = [100.0]
    statements = StatementCounter(engine)
    registry = registry_of(collector_on(engine, cache_seconds=15, monotonic=lambda: ticks[0]))
    today = {"case_kind": "complaint", "department": PUBLIC_ORDER, "enterprise": "false"}
    assert registry.get_sample_value("casestream_cases_received_today", today) == 1
    refresh = statements.count
    assert refresh == 11  # whether the tallies are built, then one query per family; the four
    # case families share one, the two supervision families another
    projector.project(complaint("C10", "2026-04-15T09:40", department=PUBLIC_ORDER))
    ticks[0] = 114.9
    before = statements.count
    assert registry.get_sample_value("casestream_cases_received_today", today) == 1  # cached
    assert statements.count == before  # no query
    ticks[0] = 115.0
    assert registry.get_sample_value("casestream_cases_received_today", today) == 2
    assert registry.get_sample_value("casestream_read_model_metrics_up") == 1


def test_concurrent_scrapes_share_one_refresh(engine: sa.Engine, projector: Projector) -> None:
    statements = StatementCounter(engine)
    registry = registry_of(collector_on(engine, monotonic=lambda: 0.0))
    start = threading.Barrier(6)
    seen: list[float | None] = []

    def scrape() -> None:
        start.wait()
        seen.append(
            value(
                registry,
                "casestream_cases_open",
                case_kind="complaint",
                department=PUBLIC_ORDER,
                enterprise="false",
            )
        )

    threads = [threading.Thread(target=scrape) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [2] * 6  # C1, C9
    assert statements.count == 11  # one refresh


def test_a_failing_database_serves_the_last_good_values_and_reports_down(
    engine: sa.Engine, projector: Projector, caplog: pytest.LogCaptureFixture
) -> None:
    ticks = [0.0]
    registry = registry_of(collector_on(engine, monotonic=lambda: ticks[0]))
    open_complaints = {"case_kind": "complaint", "department": PUBLIC_ORDER, "enterprise": "true"}
    assert registry.get_sample_value("casestream_cases_open", open_complaints) == 2
    assert registry.get_sample_value("casestream_read_model_metrics_up") == 1
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE clocks RENAME TO clocks_away"))
    ticks[0] = 60.0
    with caplog.at_level(logging.WARNING, logger="casestream.read_models.business_metrics"):
        families = list(registry.collect())  # does not raise
    assert "not refreshed" in caplog.text
    assert registry.get_sample_value("casestream_read_model_metrics_up") == 0
    assert registry.get_sample_value("casestream_cases_open", open_complaints) == 2
    assert len(families) == 13
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE clocks_away RENAME TO clocks"))
    ticks[0] = 70.0  # a failed refresh is not retried before cache_seconds either
    assert registry.get_sample_value("casestream_read_model_metrics_up") == 0
    ticks[0] = 120.0
    assert registry.get_sample_value("casestream_read_model_metrics_up") == 1


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:////nonexistent-casestream-dir/read-models.db",
        "postgresql+psycopg://casestream@127.0.0.1:1/none",
    ],
)
def test_an_unreachable_database_yields_up_0_and_no_figures(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = sa.create_engine(url)
    registry = registry_of(collector_on(engine))
    with caplog.at_level(logging.WARNING):
        families = list(registry.collect())
    assert [family.name for family in families] == ["casestream_read_model_metrics_up"]
    assert registry.get_sample_value("casestream_read_model_metrics_up") == 0
    assert "read-model business gauges not refreshed" in caplog.text
    engine.dispose()
