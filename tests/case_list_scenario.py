"""Cases for the case list (GET /cases, /console/cases): every filter of the list picks out a
known few. "Now" is NOW; the complaints' handling clocks give overdue, due-soon and none."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import Event
from casestream.domain.rules import load_rulebook
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from tests.conftest import Database
from tests.events import event, local

NOW = datetime.fromisoformat("2026-04-15T10:00:00+08:00")
POLICY = ClockPolicy(load_rulebook(), load_calendar())
DECISION = "公(治)行罚决字〔2026〕101号"
HOME = "治安大队"
OTHER = "交警大队"


def complaint(
    case_id: str,
    received: str,
    *,
    channel: str = "hotline_12345",
    department: str = HOME,
    accepted: bool = True,
    **extra: Any,
) -> list[Event[Any]]:
    payload = {"channel": channel, "subject": "噪音扰民", "department": department} | extra
    events = [event("ComplaintReceived", case_id, "complaint", payload, at=local(received))]
    if accepted:
        events.append(event("ComplaintAccepted", case_id, "complaint", at=local(received)))
    return events


def scenario() -> list[Event[Any]]:
    """K-OVER overdue (accepted 2 March), K-SOON due 20 April, K-DONE rejected (no open clock),
    K-SUP under 督察, K-ENT 涉企 by letter, R-1 and L-1 about DECISION, J-OVER of OTHER."""
    return [
        *complaint(
            "K-OVER",
            "2026-03-02T10:00",
            channel="window",
            complainant={"name": "张三", "phone": "13812345678"},
        ),
        *complaint("K-SOON", "2026-03-27T10:00"),
        *complaint("K-DONE", "2026-04-14T09:00", channel="online", accepted=False),
        event("ComplaintRejected", "K-DONE", "complaint", {"reason": "不属于受理范围"},
              at=local("2026-04-14T11:00")),
        *complaint("K-SUP", "2026-04-01T09:00", channel="petition"),
        event("ComplaintResolved", "K-SUP", "complaint", {"outcome": "explained"},
              at=local("2026-04-03T09:00")),
        event("ComplaintFollowUpVisited", "K-SUP", "complaint", {"satisfaction": 1},
              at=local("2026-04-05T09:00")),
        event("SupervisionFlagged", "K-SUP", "complaint",
              {"satisfaction": 1, "threshold": 2, "reason": "回访不满意"},
              at=local("2026-04-05T09:00")),
        *complaint("K-ENT", "2026-04-10T09:00", channel="letter", enterprise=True,
                   enterprise_name="甲建材有限公司"),
        event("ReconsiderationApplied", "R-1", "reconsideration",
              {"applicant": {"name": "王五", "phone": "13900001111"}, "decision_ref": DECISION,
               "reconsideration_body": "市人民政府", "matter": "不服罚款决定",
               "department": HOME}, at=local("2026-04-02T09:00")),
        event("LawsuitFiled", "L-1", "litigation",
              {"court": "区人民法院", "plaintiff": {"name": "赵六", "phone": "13700002222"},
               "decision_ref": DECISION, "department": HOME}, at=local("2026-04-08T09:00")),
        *complaint("J-OVER", "2026-03-03T10:00", department=OTHER),
    ]  # fmt: skip


def project(database: Database, events: list[Event[Any]] | None = None) -> None:
    """Runs `events` (the scenario by default) through the real projection writer."""
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    found = scenario() if events is None else events
    batch = [ConsumedEvent("cases.events", 0, offset, item) for offset, item in enumerate(found)]
    ProjectionWriter(engine, POLICY).apply_batch(batch)
    engine.dispose()
