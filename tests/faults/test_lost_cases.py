"""Lost lawsuits open exactly one review and one rectification each, on the real broker, even
when judgments are delivered twice and the worker is killed between outcome and rectification."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaConsumer

from casestream.domain.envelope import parse_event
from casestream.domain.outcomes import rectification_id
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics
from tests.api_view import api_server, case_versions
from tests.conftest import Database
from tests.events import raw
from tests.processes import Process, service_env, wait_for

LAWSUITS = 150


def test_each_lost_lawsuit_opens_one_review_and_one_rectification_despite_redelivery_and_sigkill(
    kafka_bootstrap: str,
    topics: Topics,
    database: Database,
    tmp_path: Path,
    chance: random.Random,
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
    kill_at = chance.randint(10, LAWSUITS - 10)  # judgments projected when it is killed
    rectifications = [rectification_id(f"LOST-{n:04d}") for n in range(LAWSUITS)]
    with api_server(env, tmp_path / "api.log") as api:
        worker = Process(["worker"], env, tmp_path / "worker-1.log")
        try:
            # killed once some judgments are projected (the derived events they owe committed
            # with them), whether or not the relay has published those events yet
            wait_for(
                lambda: (
                    sum(v >= 2 for v in case_versions(api, case_kind="litigation").values())
                    >= kill_at
                ),
                timeout=120,
                interval=0.02,
            )
            worker.kill()
        finally:
            worker.stop()
        restarted = Process(["worker"], env, tmp_path / "worker-2.log")
        try:
            # each rectification case holds both derived events: every one was published
            wait_for(
                lambda: (
                    case_versions(api, case_kind="rectification")
                    == dict.fromkeys(rectifications, 2)
                ),
                timeout=120,
            )
        finally:
            restarted.stop()

        # the judgment delivered twice counts once
        assert case_versions(api, case_kind="litigation") == {
            f"LOST-{n:04d}": 2 for n in range(LAWSUITS)
        }
        history = sorted(
            (case_id, event["event_type"])
            for case_id in rectifications
            for event in api.get(f"/cases/{case_id}/events").raise_for_status().json()
        )
        state = api.get(f"/cases/{rectification_id('LOST-0007')}").raise_for_status().json()
    assert history == sorted(
        (case_id, kind)
        for case_id in rectifications
        for kind in ("ReviewTaskOpened", "RectificationOpened")
    )
    assert (
        state["status"],
        state["state"]["review_status"],
        state["department"],
        state["state"]["source_case_id"],
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
