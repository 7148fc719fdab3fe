"""Realistic simulated case lifecycles of every kind, for demos and load (`casestream simulate`).

Each case starts some days before `now` and moves through its lifecycle in steps of hours
to days; steps that would lie in the future are not produced, so some cases are still open.
Reconsiderations and lawsuits end won or lost, so corrections and losses occur. With an
`enforcement_share`, that share of the cases are 执法监督 cases (simulation_enforcement.py).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from casestream.domain import catalog as ev
from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import Event, new_event

from . import simulation_enforcement as enforcement

DEPARTMENTS = ("户政大队", "治安大队", "交警大队", "城关派出所", "经侦大队", "出入境管理大队")
ENTERPRISES = ("华星物流有限公司", "青禾食品股份公司", "恒通建材有限公司", "远帆科技有限公司")
SURNAMES = "王李张刘陈杨赵黄周吴"
SUBJECTS = (
    "办证等待时间过长",
    "窗口工作人员态度",
    "交通违法处罚有异议",
    "涉企检查频次过高",
    "报警后出警慢",
)


def _person(rng: random.Random) -> ev.Person:
    return ev.Person(
        name=rng.choice(SURNAMES) + rng.choice("伟芳娜敏静磊强军"),
        phone=f"13{rng.randrange(10**9):09d}",
    )


Steps = list[tuple[ev.Payload, float]]  # each step's payload and its days after the last one


class _Timeline:
    def __init__(
        self, rng: random.Random, case_id: str, kind: CaseKind, start: datetime, now: datetime
    ):
        self.rng, self.case_id, self.kind, self.at, self.now = rng, case_id, kind, start, now
        self.events: list[Event[Any]] = []

    def add(self, payload: ev.Payload, *, after_days: float = 1.0) -> bool:
        """Append the next step unless it would happen after now; False ends the timeline."""
        at = self.at + timedelta(days=self.rng.uniform(0.1, 1.0) * after_days)
        if at > self.now:
            return False
        self.at = at
        self.events.append(
            new_event(
                payload,
                event_id=uuid.UUID(int=self.rng.getrandbits(128), version=4),
                case_id=self.case_id,
                case_kind=self.kind,
                occurred_at=at,
                source="simulator",
                actor="simulator",
            )
        )
        return True

    def run(self, steps: Steps) -> None:
        """Add the steps in order, until one would happen after now."""
        for payload, days in steps:
            if not self.add(payload, after_days=days):
                return


def _complaint(t: _Timeline, department: str, decision_ref: str | None) -> None:
    rng = t.rng
    channel = rng.choice(
        [
            ev.Channel.hotline_12345,
            ev.Channel.hotline_12345,
            ev.Channel.window,
            ev.Channel.online,
            ev.Channel.letter,
            ev.Channel.petition,
        ]
    )
    enterprise = rng.random() < 0.25
    received = ev.ComplaintReceived(
        channel=channel,
        subject=rng.choice(SUBJECTS),
        complainant=_person(rng),
        enterprise=enterprise,
        enterprise_name=rng.choice(ENTERPRISES) if enterprise else None,
        decision_ref=decision_ref,
        work_order_no=f"12345-{rng.randrange(10**8):08d}"
        if channel is ev.Channel.hotline_12345
        else None,
    )
    if not t.add(received, after_days=0):
        return
    if rng.random() < 0.08:
        t.add(ev.ComplaintRejected(reason="不属于本机关职责范围"))
        return
    outcomes = [
        ev.ComplaintOutcome.substantiated,
        ev.ComplaintOutcome.unsubstantiated,
        ev.ComplaintOutcome.explained,
    ]
    t.run(
        [
            (ev.ComplaintAccepted(), 1),
            (
                ev.ComplaintAssigned(
                    department=department, handler=f"民警{rng.randrange(100, 999)}"
                ),
                1,
            ),
            (ev.ComplaintReplied(reply="已联系投诉人说明情况"), rng.choice([2, 5, 12])),
            (ev.ComplaintResolved(outcome=rng.choice(outcomes)), 3),
            (ev.ComplaintFollowUpVisited(satisfaction=rng.choice([3, 4, 5, 5, 2])), 2),
        ]
    )


def _tip(t: _Timeline, department: str) -> None:
    rng = t.rng
    results = [
        ev.VerificationResult.substantiated,
        ev.VerificationResult.unsubstantiated,
        ev.VerificationResult.partly,
    ]
    t.run(
        [
            (
                ev.TipReceived(
                    enterprise=rng.choice(ENTERPRISES),
                    subject="涉嫌违规经营线索",
                    informant=_person(rng),
                ),
                0,
            ),
            (ev.TipAssigned(department=department, handler=f"民警{rng.randrange(100, 999)}"), 1),
            (ev.TipVerified(result=rng.choice(results)), 10),
            (ev.TipFeedbackGiven(method="phone"), 3),
            (ev.TipClosed(), 1),
        ]
    )


def _reconsideration(t: _Timeline, department: str, decision_ref: str) -> None:
    rng = t.rng
    decision = rng.choice(
        [
            ev.ReconsiderationDecision.maintained,
            ev.ReconsiderationDecision.maintained,
            ev.ReconsiderationDecision.rejected,
            ev.ReconsiderationDecision.revoked,
            ev.ReconsiderationDecision.confirmed_illegal,
            ev.ReconsiderationDecision.altered,
        ]
    )
    t.run(
        [
            (
                ev.ReconsiderationApplied(
                    applicant=_person(rng),
                    decision_ref=decision_ref,
                    reconsideration_body="县人民政府",
                    department=department,
                ),
                0,
            ),
            (ev.ReconsiderationAccepted(), 3),
            (ev.ApplicationCopyReceived(), 2),
            (
                ev.ReplySubmitted(summary="提交答复书及证据", evidence_count=rng.randrange(1, 12)),
                8,
            ),
            (
                ev.ReconsiderationDecided(
                    decision=decision, decision_no=f"复决字〔2026〕{rng.randrange(1, 300)}号"
                ),
                40,
            ),
        ]
    )


def _lawsuit(t: _Timeline, department: str, decision_ref: str) -> None:
    rng = t.rng
    outcome = rng.choice(
        [
            ev.JudgmentOutcome.claim_dismissed,
            ev.JudgmentOutcome.claim_dismissed,
            ev.JudgmentOutcome.revoked,
            ev.JudgmentOutcome.confirmed_illegal,
            ev.JudgmentOutcome.compensation,
        ]
    )
    t.run(
        [
            (
                ev.LawsuitFiled(
                    court="县人民法院",
                    plaintiff=_person(rng),
                    decision_ref=decision_ref,
                    department=department,
                ),
                0,
            ),
            (ev.ComplaintCopyServed(), 5),
            (ev.DefenceSubmitted(summary="提交答辩状"), 12),
            (ev.HearingHeld(agency_head_appeared=rng.random() < 0.7), 30),
            (ev.JudgmentIssued(instance=ev.Instance.first, outcome=outcome), 30),
            (ev.JudgmentServed(), 3),
            (ev.JudgmentEffective(), 16),
        ]
    )


ENFORCEMENT_KINDS = (  # reviews are many, notices few (a county: 592 reviews, 18 notices, 60 decisions)
    (CaseKind.enforcement_review, enforcement.review, 12),
    (CaseKind.enforcement_notice, enforcement.notice, 1),
    (CaseKind.enforcement_decision, enforcement.decision, 3),
)


def _enforcement_case(
    rng: random.Random, number: int, now: datetime, prefix: str
) -> list[Event[Any]]:
    kind, simulate_kind, _ = rng.choices(
        ENFORCEMENT_KINDS, weights=[weight for *_, weight in ENFORCEMENT_KINDS]
    )[0]
    start = now - timedelta(days=rng.uniform(0, 90))
    timeline = _Timeline(
        rng, f"{prefix}-{kind.value[12:15].upper()}-{number:07d}", kind, start, now
    )
    simulate_kind(timeline, rng.choice(DEPARTMENTS), rng.randrange(1, 5000))
    return timeline.events


def simulate(
    rng: random.Random,
    cases: int,
    now: datetime,
    prefix: str = "SIM",
    *,
    enforcement_share: float = 0.0,
) -> list[Event[Any]]:
    """Events of `cases` simulated cases, ordered by when they occurred; `enforcement_share`
    of them (0 to 1) are 执法监督 cases (none by default: the draws of the other kinds stay
    those of a seed without them)."""
    events: list[Event[Any]] = []
    for number in range(cases):
        if enforcement_share and rng.random() < enforcement_share:
            events.extend(_enforcement_case(rng, number, now, prefix))
            continue
        start = now - timedelta(days=rng.uniform(0, 90))
        department = rng.choice(DEPARTMENTS)
        decision_ref = f"公(治)决字〔2026〕{rng.randrange(1, 5000)}号"
        roll = rng.random()
        if roll < 0.55:
            kind = CaseKind.complaint
        elif roll < 0.7:
            kind = CaseKind.enterprise_tip
        elif roll < 0.88:
            kind = CaseKind.reconsideration
        else:
            kind = CaseKind.litigation
        timeline = _Timeline(
            rng, f"{prefix}-{kind.value[:3].upper()}-{number:07d}", kind, start, now
        )
        if kind is CaseKind.complaint:
            _complaint(timeline, department, decision_ref if rng.random() < 0.2 else None)
        elif kind is CaseKind.enterprise_tip:
            _tip(timeline, department)
        elif kind is CaseKind.reconsideration:
            _reconsideration(timeline, department, decision_ref)
        else:
            _lawsuit(timeline, department, decision_ref)
        events.extend(timeline.events)
    events.sort(key=lambda event: event.occurred_at)
    return events
