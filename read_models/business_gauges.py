"""The business gauge families of the leadership dashboard (今日新增, 超期未办, 即将到期, 纠错率,
败诉率, 整改, 督察, 执法监督): their names, labels and help texts (business_metrics.py fills
them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import timedelta

from prometheus_client.core import GaugeMetricFamily

from casestream.domain.cases import CLOSED_STATUSES
from casestream.domain.catalog import CaseKind
from casestream.domain.enforcement import (
    ENFORCEMENT_DECISION,
    ENFORCEMENT_NOTICE,
    ENFORCEMENT_REVIEW,
)
from casestream.domain.outcomes import CORRECTIONS, LOSSES
from casestream.domain.rectifications import RECTIFICATION

Labels = tuple[str, ...]


def _statuses_text(statuses: Mapping[CaseKind, Iterable[str]]) -> str:
    return "; ".join(
        f"{kind.value}: {', '.join(sorted(str(name) for name in names))}"
        for kind, names in statuses.items()
    )


CLOSED_TEXT = _statuses_text(CLOSED_STATUSES)
ENFORCEMENT_STATUSES = {
    lifecycle.kind: lifecycle.statuses
    for lifecycle in (ENFORCEMENT_REVIEW, ENFORCEMENT_NOTICE, ENFORCEMENT_DECISION)
}
ENFORCEMENT_TEXT = _statuses_text(ENFORCEMENT_STATUSES)


@dataclass(frozen=True)
class GaugeSpec:
    """A gauge family: its name, help text and label names."""

    name: str
    help: str
    labels: Labels

    def family(self, values: Mapping[Labels, int]) -> GaugeMetricFamily:
        found = GaugeMetricFamily(self.name, self.help, labels=self.labels)
        for labels, value in sorted(values.items()):
            found.add_metric(labels, value)
        return found


UP = GaugeSpec(
    "casestream_read_model_metrics_up",
    "1 when the last refresh of the read-model business gauges succeeded; 0 when it failed "
    "(database unreachable or a query error): the casestream_cases_*, casestream_clocks_*, "
    "casestream_rectifications*, casestream_disputes_decided, casestream_*supervision*, "
    "casestream_enforcement_cases and casestream_followup_satisfaction families then repeat the last good refresh, or are "
    "empty if there has been none",
    (),
)


@dataclass(frozen=True)
class BusinessGauges:
    """The gauge families but `up` (help texts name the zone and due-soon window in force)."""

    cases_open: GaugeSpec
    cases_overdue: GaugeSpec
    cases_received_today: GaugeSpec
    clocks_open: GaugeSpec
    clocks_due_soon: GaugeSpec
    rectifications: GaugeSpec
    rectifications_overdue: GaugeSpec
    disputes_decided: GaugeSpec
    under_supervision: GaugeSpec
    supervisions_flagged: GaugeSpec
    enforcement_cases: GaugeSpec

    @classmethod
    def of(cls, timezone: str, due_soon: timedelta) -> BusinessGauges:
        hours = f"{due_soon.total_seconds() / 3600:g}"
        return cls(
            cases_open=GaugeSpec(
                "casestream_cases_open",
                f"Cases not closed: neither in a closed status (办结 — {CLOSED_TEXT}) nor "
                "withdrawn (a cancelled rectification), by kind, current department and "
                "enterprise flag (涉企: true, false)",
                ("case_kind", "department", "enterprise"),
            ),
            cases_overdue=GaugeSpec(
                "casestream_cases_overdue",
                "超期未办: open cases (as in casestream_cases_open) with at least one deadline "
                "clock overdue now — not stopped, and either marked breached by the scanner or "
                "running past its due instant (a paused 中止 clock is never overdue); by kind "
                "and current department",
                ("case_kind", "department"),
            ),
            cases_received_today=GaugeSpec(
                "casestream_cases_received_today",
                f"今日新增: cases received on today's local date in {timezone} (the time of "
                "their opening event), by kind, current department and enterprise flag (涉企: "
                "true, false)",
                ("case_kind", "department", "enterprise"),
            ),
            clocks_open=GaugeSpec(
                "casestream_clocks_open",
                "Deadline clocks (时限) neither stopped nor cancelled, by rule, department and "
                "status: running (counting, due instant not passed), paused (中止, time stands "
                "still; never overdue), overdue (marked breached by the scanner, or running "
                "past its due instant)",
                ("rule", "department", "status"),
            ),
            clocks_due_soon=GaugeSpec(
                "casestream_clocks_due_soon",
                f"即将到期: running clocks due within the next {hours} hours (now <= due "
                f"instant <= now + {hours}h), by rule and department",
                ("rule", "department"),
            ),
            rectifications=GaugeSpec(
                "casestream_rectifications",
                "Rectifications (整改), by department and current status ("
                + ", ".join(RECTIFICATION.statuses)
                + "); 整改完成率 = (completed + verified) / all but cancelled",
                ("department", "status"),
            ),
            rectifications_overdue=GaugeSpec(
                "casestream_rectifications_overdue",
                "Rectifications still to be done (open, in_progress, rejected) whose completion "
                "clock is breached or whose completion deadline has passed (the rule of "
                "GET /rectifications?overdue=true), by department",
                ("department",),
            ),
            disputes_decided=GaugeSpec(
                "casestream_disputes_decided",
                "Reconsiderations with a decision and lawsuits with a judgment (the latest), "
                "by kind, department and outcome: correction 纠错 ("
                + ", ".join(sorted(CORRECTIONS))
                + "), loss 败诉 ("
                + ", ".join(sorted(LOSSES))
                + "), other. 复议纠错率 = correction / all of the kind, 诉讼败诉率 = loss / all "
                "of the kind: the definitions of GET /stats, over every case, not one period",
                ("case_kind", "department", "outcome"),
            ),
            under_supervision=GaugeSpec(
                "casestream_complaints_under_supervision",
                "督察: complaints under supervision now after a poor 回访 follow-up (their "
                "SupervisionRequested alert still open: neither closed by a supervisor nor "
                "cleared by a reopening), by the department of the complaint when it was "
                "flagged; 0 for a department with complaints but none under supervision",
                ("department",),
            ),
            supervisions_flagged=GaugeSpec(
                "casestream_supervisions_flagged",
                "督察: supervisions begun after a poor 回访 follow-up, open or ended, since the "
                "read models began (one per SupervisionRequested alert: a complaint flagged "
                "again after its supervision ended counts again), by the department of the "
                "complaint when it was flagged. It only rises: the supervisions flagged in a "
                "period are its increase over the period (delta(...[range])); 0 for a "
                "department with complaints but no supervision",
                ("department",),
            ),
            enforcement_cases=GaugeSpec(
                "casestream_enforcement_cases",
                "执法监督: enforcement supervision cases by kind, department and current status "
                "(" + ENFORCEMENT_TEXT + "); 0 for every status of a kind and department with "
                "cases. 监督书整改率 = enforcement_notice rectified / all notices; decisions "
                "awaiting 公示 are the recorded ones, and those past their publication deadline "
                'casestream_clocks_open{rule="enforcement_decision.publication",status="overdue"}',
                ("case_kind", "department", "status"),
            ),
        )

    def all(self) -> tuple[GaugeSpec, ...]:
        return tuple(getattr(self, field.name) for field in fields(self))


SATISFACTION_HELP = (
    "Follow-up (回访) satisfaction scores of complaints, 1 (worst) to 5 (best): the latest visit "
    "of each complaint in the read models (a reopened complaint has no score until visited "
    "again); satisfied (满意) = score 4 or 5"
)
