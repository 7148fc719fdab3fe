"""Lost lawsuits open exactly one review and one rectification each, on the real broker, even
when judgments are delivered twice and the worker is killed between outcome and rectification."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from kafka import KafkaConsumer

from casestream.domain.envelope import parse_event
from casestream.domain.outcomes import rectification_id
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from casestream.read_models.database import create_engine
from tests.conftest import Database
from tests.events import raw
from tests.processes import Process, service_env, wait_for

LAWSUITS = 150


def _count(db: Database, query: str) -> int:
    engine = create_engine(db.url, db.schema)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(query)).scalar() or 0)
    except sa.exc.DatabaseError:
        return 0
    finally:
        engine.dispose()


def test_each_lost_lawsuit_opens_one_review_and_one_rectification_despite_redelivery_and_sigkill(
    kafka_bootstrap: str, topics: Topics, database: Database, tmp_path: Path
) -> None:
    start = datetime.now(UTC) - timedelta(days=90)
    events = []
    for number in range(LAWSUITS):
        case_id = f"LOST-{number:04d}"
        events.append(
            raw(
                "LawsuitFiled",
                case_id,
                "litigation",
                {
                    "court": "县人民法院",
                    "plaintiff": {"name": "王伟"},
                    "decision_ref": f"D-{number}",
                    "department": "治安大队",
                },
                at=start,
            )
        )
        judgment = raw(
            "JudgmentIssued",
            case_id,
            "litigation",
            {"instance": "first", "outcome": "revoked"},
            at=start + timedelta(days=60),
        )
        events.append(judgment)
        if number % 5 == 0:
            events.append(judgment)  # the same judgment delivered twice
    with EventProducer(kafka_bootstrap, topics) as producer:
        producer.send_many([parse_event(item) for item in events])

    env = service_env(
        kafka_bootstrap,
        topics,
        database.env(),
        CASESTREAM_PROJECTOR_BATCH_SIZE="20",
        CASESTREAM_SCANNER_ENABLED="false",
    )
    worker = Process(["worker"], env, tmp_path / "worker-1.log")
    kill_at = random.Random().randint(10, LAWSUITS - 10)
    try:
        # killed once some decisions are projected (their outbox rows committed), whether or
        # not the relay has published their rectification events yet
        wait_for(
            lambda: _count(database, "SELECT COUNT(*) FROM outbox") >= kill_at,
            timeout=120,
            interval=0.02,
        )
        worker.kill()
    finally:
        worker.stop()
    restarted = Process(["worker"], env, tmp_path / "worker-2.log")
    try:
        wait_for(
            lambda: (
                _count(database, "SELECT COUNT(*) FROM cases WHERE case_kind = 'rectification'")
                == LAWSUITS
            ),
            timeout=120,
        )
        wait_for(
            lambda: _count(database, "SELECT COUNT(*) FROM outbox WHERE NOT published") == 0,
            timeout=60,
        )
        wait_for(
            lambda: (
                _count(
                    database, "SELECT COUNT(*) FROM case_events WHERE case_kind = 'rectification'"
                )
                == 2 * LAWSUITS
            ),
            timeout=60,
        )
    finally:
        restarted.stop()

    engine = create_engine(database.url, database.schema)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT case_id, event_type FROM case_events WHERE case_kind = 'rectification'")
        ).all()
        states = {
            row.case_id: row.state
            for row in conn.execute(
                sa.text("SELECT case_id, state FROM cases WHERE case_kind = 'rectification'")
            )
        }
    engine.dispose()
    assert sorted(rows) == sorted(
        (rectification_id(f"LOST-{n:04d}"), kind)
        for n in range(LAWSUITS)
        for kind in ("ReviewTaskOpened", "RectificationOpened")
    )
    state = states[rectification_id("LOST-0007")]
    state = json.loads(state) if isinstance(state, str) else state
    assert (
        state["status"],
        state["review_status"],
        state["department"],
        state["source_case_id"],
    ) == ("open", "open", "治安大队", "LOST-0007")

    consumer = KafkaConsumer(
        topics.prefix + "rectification.events",
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=2000,
    )
    published = [json.loads(message.value)["event_id"] for message in consumer]
    consumer.close()
    assert (
        len(set(published)) == 2 * LAWSUITS
    )  # duplicates on the topic, if any, carry the same ids
