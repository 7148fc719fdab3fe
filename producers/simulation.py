"""Realistic simulated case lifecycles of every kind, for demos and load (`casestream simulate`).

Each case starts some days before `now` and moves through its lifecycle in steps of hours
to days; steps that would lie in the future are not produced, so some cases are still open.
Reconsiderations and lawsuits end won or lost, so corrections and losses occur.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import Event, parse_event

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


def _person(rng: random.Random) -> dict[str, Any]:
    return {
        "name": rng.choice(SURNAMES) + rng.choice("伟芳娜敏静磊强军"),
        "phone": f"13{rng.randrange(10**9):09d}",
    }


class _Timeline:
    def __init__(
        self, rng: random.Random, case_id: str, kind: CaseKind, start: datetime, now: datetime
    ):
        self.rng, self.case_id, self.kind, self.at, self.now = rng, case_id, kind, start, now
        self.events: list[dict[str, Any]] = []

    def add(
        self, event_type: str, payload: dict[str, Any] | None = None, *, after_days: float = 1.0
    ) -> bool:
        """Append the next step unless it would happen after now; False ends the timeline."""
        at = self.at + timedelta(days=self.rng.uniform(0.1, 1.0) * after_days)
        if at > self.now:
            return False
        self.at = at
        self.events.append(
            {
                "event_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                "event_type": event_type,
                "case_id": self.case_id,
                "case_kind": self.kind.value,
                "occurred_at": at.isoformat(),
                "recorded_at": at.isoformat(),
                "source": "simulator",
                "actor": "simulator",
                "payload": payload or {},
            }
        )
        return True


def _complaint(t: _Timeline, department: str, decision_ref: str | None) -> None:
    rng = t.rng
    channel = rng.choice(
        ["hotline_12345", "hotline_12345", "window", "online", "letter", "petition"]
    )
    enterprise = rng.random() < 0.25
    received = {
        "channel": channel,
        "subject": rng.choice(SUBJECTS),
        "complainant": _person(rng),
        "enterprise": enterprise,
        "enterprise_name": rng.choice(ENTERPRISES) if enterprise else None,
        "decision_ref": decision_ref,
        "work_order_no": f"12345-{rng.randrange(10**8):08d}"
        if channel == "hotline_12345"
        else None,
    }
    if not t.add("ComplaintReceived", received, after_days=0):
        return
    if rng.random() < 0.08:
        t.add("ComplaintRejected", {"reason": "不属于本机关职责范围"})
        return
    steps: list[tuple[str, dict[str, Any], float]] = [
        ("ComplaintAccepted", {}, 1),
        (
            "ComplaintAssigned",
            {"department": department, "handler": f"民警{rng.randrange(100, 999)}"},
            1,
        ),
        ("ComplaintReplied", {"reply": "已联系投诉人说明情况"}, rng.choice([2, 5, 12])),
        (
            "ComplaintResolved",
            {"outcome": rng.choice(["substantiated", "unsubstantiated", "explained"])},
            3,
        ),
        ("ComplaintFollowUpVisited", {"satisfaction": rng.choice([3, 4, 5, 5, 2])}, 2),
    ]
    for event_type, payload, days in steps:
        if not t.add(event_type, payload, after_days=days):
            return


def _tip(t: _Timeline, department: str) -> None:
    rng = t.rng
    steps: list[tuple[str, dict[str, Any], float]] = [
        (
            "TipReceived",
            {
                "enterprise": rng.choice(ENTERPRISES),
                "subject": "涉嫌违规经营线索",
                "informant": _person(rng),
            },
            0,
        ),
        ("TipAssigned", {"department": department, "handler": f"民警{rng.randrange(100, 999)}"}, 1),
        ("TipVerified", {"result": rng.choice(["substantiated", "unsubstantiated", "partly"])}, 10),
        ("TipFeedbackGiven", {"method": "phone"}, 3),
        ("TipClosed", {}, 1),
    ]
    for event_type, payload, days in steps:
        if not t.add(event_type, payload, after_days=days):
            return


def _reconsideration(t: _Timeline, department: str, decision_ref: str) -> None:
    rng = t.rng
    decision = rng.choice(
        ["maintained", "maintained", "rejected", "revoked", "confirmed_illegal", "altered"]
    )
    steps: list[tuple[str, dict[str, Any], float]] = [
        (
            "ReconsiderationApplied",
            {
                "applicant": _person(rng),
                "decision_ref": decision_ref,
                "reconsideration_body": "县人民政府",
                "department": department,
            },
            0,
        ),
        ("ReconsiderationAccepted", {}, 3),
        ("ApplicationCopyReceived", {}, 2),
        (
            "ReplySubmitted",
            {"summary": "提交答复书及证据", "evidence_count": rng.randrange(1, 12)},
            8,
        ),
        (
            "ReconsiderationDecided",
            {"decision": decision, "decision_no": f"复决字〔2026〕{rng.randrange(1, 300)}号"},
            40,
        ),
    ]
    for event_type, payload, days in steps:
        if not t.add(event_type, payload, after_days=days):
            return


def _lawsuit(t: _Timeline, department: str, decision_ref: str) -> None:
    rng = t.rng
    outcome = rng.choice(
        ["claim_dismissed", "claim_dismissed", "revoked", "confirmed_illegal", "compensation"]
    )
    steps: list[tuple[str, dict[str, Any], float]] = [
        (
            "LawsuitFiled",
            {
                "court": "县人民法院",
                "plaintiff": _person(rng),
                "decision_ref": decision_ref,
                "department": department,
            },
            0,
        ),
        ("ComplaintCopyServed", {}, 5),
        ("DefenceSubmitted", {"summary": "提交答辩状"}, 12),
        ("HearingHeld", {"agency_head_appeared": rng.random() < 0.7}, 30),
        ("JudgmentIssued", {"instance": "first", "outcome": outcome}, 30),
        ("JudgmentServed", {}, 3),
        ("JudgmentEffective", {}, 16),
    ]
    for event_type, payload, days in steps:
        if not t.add(event_type, payload, after_days=days):
            return


def simulate(
    rng: random.Random, cases: int, now: datetime, prefix: str = "SIM"
) -> list[Event[Any]]:
    """Events of `cases` simulated cases, ordered by when they occurred."""
    raw: list[dict[str, Any]] = []
    for number in range(cases):
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
        raw.extend(timeline.events)
    raw.sort(key=lambda record: record["occurred_at"])
    return [parse_event(record) for record in raw]
