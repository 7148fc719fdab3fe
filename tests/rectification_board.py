"""Rectifications in every column of the console's board, seeded through the real projection
writer: the integration and browser tests of the rectification pages share them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import parse_event
from casestream.domain.rules import load_rulebook
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from tests.events import raw

OPENED = datetime.fromisoformat("2026-06-01T09:00:00+08:00")
NOW = OPENED + timedelta(days=40)  # 30 days to rectify: those opened at OPENED are overdue
OWN = "治安大队"
OTHER = "交警大队"
REPORT_SHA = "ab" * 32
RECT = "rectification"


def opened(case_id: str, department: str, person: str, day: float, **more: Any) -> dict[str, Any]:
    payload = {"department": department, "responsible_person": person, **more}
    return raw("RectificationOpened", case_id, RECT, payload, at=OPENED, day=day)


def completed(
    case_id: str, day: float, files: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"evidence": ["培训签到表", "新告知书模板"], "summary": "整改完成"}
    if files:
        payload["files"] = files
    return raw("RectificationCompleted", case_id, RECT, payload, at=OPENED, day=day)


def board_events() -> list[dict[str, Any]]:
    """R-OPEN 复盘中 and overdue; R-PROG 整改中 (50 %); R-DONE 待核验 with an evidence file;
    R-VER 已核验; R-REJ 已退回; R-JZ another department's, 整改中."""
    source = {"source_case_id": "L-2026-000007", "source_case_kind": "litigation"}
    return [
        raw("ReviewTaskOpened", "R-OPEN", RECT, {**source, "department": OWN}, at=OPENED),
        opened("R-OPEN", OWN, "李队长", 0.01, **source, description="规范处罚告知程序"),
        opened("R-PROG", OWN, "王警官", 30),
        raw("MeasureAdded", "R-PROG", RECT, {"measure": "组织执法程序培训"}, at=OPENED, day=31),
        raw(
            "ProgressReported",
            "R-PROG",
            RECT,
            {"progress": "培训已完成一期", "reported_by": "王警官", "percent": 50},
            at=OPENED,
            day=32,
        ),
        opened("R-DONE", OWN, "李队长", 2),
        raw("ReviewTaskOpened", "R-DONE", RECT, {**source, "department": OWN}, at=OPENED, day=2.1),
        raw(
            "ReviewCompleted",
            "R-DONE",
            RECT,
            {"root_causes": ["procedure", "facts"], "lessons": "未告知陈述申辩权利"},
            at=OPENED,
            day=3,
        ),
        raw("MeasureAdded", "R-DONE", RECT, {"measure": "修订告知书模板"}, at=OPENED, day=4),
        raw(
            "ProgressReported",
            "R-DONE",
            RECT,
            {"progress": "模板已修订", "reported_by": "李队长", "percent": 100},
            at=OPENED,
            day=5,
        ),
        completed("R-DONE", 6),
        raw(
            "RectificationRejected",
            "R-DONE",
            RECT,
            {"supervisor": "督察张", "reason": "缺少培训记录"},
            at=OPENED,
            day=7,
        ),
        completed(
            "R-DONE",
            8,
            [
                {
                    "sha256": REPORT_SHA,
                    "name": "整改报告.pdf",
                    "media_type": "application/pdf",
                    "size": 2048,
                }
            ],
        ),
        opened("R-VER", OWN, "赵警官", 3),
        completed("R-VER", 4),
        raw(
            "RectificationVerified",
            "R-VER",
            RECT,
            {"supervisor": "督察张", "comment": "符合要求"},
            at=OPENED,
            day=5,
        ),
        opened("R-REJ", OWN, "钱警官", 33),
        completed("R-REJ", 34),
        raw(
            "RectificationRejected",
            "R-REJ",
            RECT,
            {"supervisor": "督察张", "reason": "材料不全"},
            at=OPENED,
            day=35,
        ),
        opened("R-JZ", OTHER, "孙警官", 31),
        raw("MeasureAdded", "R-JZ", RECT, {"measure": "路面执法规范"}, at=OPENED, day=32),
    ]


def project(engine: sa.Engine, bodies: list[dict[str, Any]], first_offset: int = 0) -> None:
    """Project the raw events `bodies` into the read models of `engine` (migrated), as the
    worker would have consumed them from offset `first_offset` on."""
    events = [parse_event(body) for body in bodies]
    writer = ProjectionWriter(engine, ClockPolicy(load_rulebook(), load_calendar()))
    writer.apply_batch(
        [ConsumedEvent("r", 0, first_offset + n, event) for n, event in enumerate(events)]
    )


def seed_board(engine: sa.Engine) -> None:
    """Project `board_events()` into the read models of `engine` (migrated)."""
    project(engine, board_events())
