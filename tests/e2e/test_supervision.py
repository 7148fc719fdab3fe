"""督察 on the real broker: each poor 回访 flags its complaint once, on complaints.events, even when
the follow-up is delivered twice; a satisfied one flags nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import parse_event
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from casestream.read_models.database import create_engine
from tests.conftest import Database
from tests.events import raw
from tests.processes import Process, service_env, wait_for

COMPLAINTS = 12


def _complaint(case_id: str, satisfaction: int, start: datetime) -> list[dict[str, Any]]:
    steps = [
        ("ComplaintReceived", {"channel": "hotline_12345", "subject": "出警慢"}),
        ("ComplaintAccepted", {"department": "治安大队"}),
        ("ComplaintResolved", {"outcome": "explained"}),
        ("ComplaintFollowUpVisited", {"satisfaction": satisfaction}),
    ]
    return [
        raw(event_type, case_id, "complaint", payload, at=start + timedelta(days=day))
        for day, (event_type, payload) in enumerate(steps)
    ]


def _rows(db: Database, query: str) -> list[Any]:
    engine = create_engine(db.url, db.schema)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query)).all())
    except sa.exc.DatabaseError:
        return []
    finally:
        engine.dispose()


def test_each_poor_follow_up_flags_its_complaint_once_on_the_complaint_topic(
    kafka_bootstrap: str, topics: Topics, database: Database, tmp_path: Path
) -> None:
    start = datetime.now(UTC) - timedelta(days=30)
    events: list[dict[str, Any]] = []
    poor = {f"SUP-{n:03d}" for n in range(COMPLAINTS) if n % 2 == 0}
    for n in range(COMPLAINTS):
        case_id = f"SUP-{n:03d}"
        history = _complaint(case_id, 1 if case_id in poor else 4, start)
        events.extend(history)
        if n % 4 == 0:
            events.append(history[-1])  # the same follow-up delivered twice
    with EventProducer(kafka_bootstrap, topics) as producer:
        producer.send_many([parse_event(item) for item in events])

    env = service_env(kafka_bootstrap, topics, database.env(), CASESTREAM_SCANNER_ENABLED="false")
    worker = Process(["worker"], env, tmp_path / "worker.log")
    try:
        wait_for(
            lambda: (
                len(
                    _rows(
                        database,
                        "SELECT event_id FROM case_events WHERE event_type = 'SupervisionFlagged'",
                    )
                )
                == len(poor)
            ),
            timeout=120,
        )
        wait_for(
            lambda: not _rows(database, "SELECT event_id FROM outbox WHERE NOT published"),
            timeout=60,
        )
    finally:
        worker.stop()

    flags = _rows(
        database,
        "SELECT case_id, topic FROM case_events WHERE event_type = 'SupervisionFlagged'",
    )
    assert sorted(case_id for case_id, _ in flags) == sorted(poor)
    assert {topic for _, topic in flags} == {topics.for_kind(CaseKind.complaint)}
    states = {
        row.case_id: json.loads(row.state) if isinstance(row.state, str) else row.state
        for row in _rows(database, "SELECT case_id, state FROM cases")
    }
    assert {case_id for case_id, state in states.items() if state["supervision"]} == poor
