"""`casestream deadletter list` / `replay` on the real broker, with a running worker: dead
letters are shown with their reasons and source positions, and put back for the worker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from kafka import KafkaConsumer, TopicPartition

from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import parse_event
from casestream.producers.kafka_producer import EventProducer
from casestream.producers.topics import Topics, end_offsets
from casestream.read_models.database import create_engine
from tests.conftest import Database
from tests.events import raw
from tests.processes import Process, case_status, caught_up, free_port, service_env, wait_for


def _deadletter(
    args: list[str], env: dict[str, str], answer: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "casestream.cli", "deadletter", *args],
        env=env,
        input=answer,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _listed(env: dict[str, str], *options: str) -> list[dict[str, Any]]:
    listed = _deadletter(["list", "--json", *options], env)
    assert listed.returncode == 0, listed.stderr
    return [json.loads(line) for line in listed.stdout.splitlines()]


def _events_of(database: Database, case_id: str) -> list[tuple[str, str]]:
    engine = create_engine(database.url, database.schema)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT event_id, event_type FROM case_events WHERE case_id = :c"),
                {"c": case_id},
            )
            return [(row.event_id, row.event_type) for row in rows]
    finally:
        engine.dispose()


def _last_message_headers(bootstrap: str, topic: str, partition: int) -> dict[str, bytes]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, consumer.end_offsets([tp])[tp] - 1)
        records = wait_for(lambda: consumer.poll(timeout_ms=500).get(tp), timeout=30)
        return dict(records[-1].headers)
    finally:
        consumer.close()


def test_dead_letters_are_listed_with_their_source_and_a_corrected_one_is_projected_once(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'read-models.db'}", None)
    env = service_env(kafka_bootstrap, topics, database.env())
    worker = Process(["worker"], env, tmp_path / "worker.log")
    complaints = topics.for_kind(CaseKind.complaint)
    garbage = b"\x00\xffnot json at all " + b"x" * 100_000
    teleported = raw("ComplaintTeleported", "D-1", "complaint")
    try:
        with EventProducer(kafka_bootstrap, topics) as producer:
            undecodable_at = producer.send_raw(complaints, b"D-1", garbage)
            unknown_at = producer.send_raw(complaints, b"D-1", json.dumps(teleported).encode())
            producer.send(
                parse_event(
                    raw(
                        "ComplaintReceived",
                        "D-2",
                        "complaint",
                        {"channel": "letter", "subject": "s"},
                    )
                )
            )
        wait_for(lambda: case_status(database.url, None, "D-2") == ("received", 1), timeout=60)
        letters = wait_for(lambda: (found := _listed(env)) and len(found) >= 2 and found)
        by_reason = {letter["reason"]: letter for letter in letters}
        assert len(letters) == 2 and set(by_reason) == {"undecodable", "unknown_event_type"}
        for reason, sent in (("undecodable", undecodable_at), ("unknown_event_type", unknown_at)):
            letter = by_reason[reason]
            assert (
                letter["source_topic"],
                letter["source_partition"],
                letter["source_offset"],
            ) == (
                complaints,
                sent.partition,
                sent.offset,
            )
            assert letter["key"] == "D-1"
            assert letter["replay_of"] is None
        undecodable, unknown = by_reason["undecodable"], by_reason["unknown_event_type"]
        assert undecodable["value_bytes"] == len(garbage)
        assert undecodable["value_preview"].startswith("\\x00\\xffnot json at all")
        assert len(undecodable["value_preview"]) < 300  # never the whole value
        assert "event_type" in unknown["detail"]
        assert "ComplaintTeleported" in unknown["value_preview"]
        assert _listed(env, "--reason", "undecodable") == [undecodable]
        assert _listed(env, "--topic", "complaints.events", "--limit", "1") == [letters[-1]]
        table = _deadletter(["list"], env)
        assert table.returncode == 0, table.stderr
        assert "unknown_event_type" in table.stdout and "undecodable" in table.stdout

        unknown_id = unknown["id"]
        before = end_offsets(kafka_bootstrap, (complaints,))

        # an invalid fix, or a fix of another case, is refused naming the field; nothing is sent
        fixed = {key: value for key, value in teleported.items() if key != "event_id"}
        fixed.update(
            event_type="ComplaintReceived", payload={"channel": "letter", "subject": "扣证"}
        )
        for wrong, field in (
            (
                {**fixed, "payload": {"channel": "carrier-pigeon", "subject": "扣证"}},
                "payload.channel",
            ),
            ({**fixed, "case_id": "D-9"}, "case_id"),
        ):
            bad_file = tmp_path / "bad-fix.json"
            bad_file.write_text(json.dumps(wrong, ensure_ascii=False), encoding="utf-8")
            refused = _deadletter(["replay", "--id", unknown_id, "--file", str(bad_file)], env)
            assert refused.returncode != 0
            assert f"{bad_file}: {field}:" in refused.stderr
            assert "nothing was sent" in refused.stderr
        unknown_fixed = _deadletter(["replay", "--id", "0:999999"], env)
        assert unknown_fixed.returncode != 0
        assert "casestream deadletter list" in unknown_fixed.stderr
        assert end_offsets(kafka_bootstrap, (complaints,)) == before

        # the corrected event is projected, keeping the event id of the message it corrects
        fix_file = tmp_path / "fixed.json"
        fix_file.write_text(json.dumps(fixed, ensure_ascii=False), encoding="utf-8")
        replayed = _deadletter(["replay", "--id", unknown_id, "--file", str(fix_file)], env)
        assert replayed.returncode == 0, replayed.stderr
        wait_for(lambda: case_status(database.url, None, "D-1") == ("received", 1), timeout=60)
        assert _events_of(database, "D-1") == [(teleported["event_id"], "ComplaintReceived")]
        headers = _last_message_headers(kafka_bootstrap, complaints, unknown_at.partition)
        assert headers["replay_of"] == unknown_id.encode()

        # again: the same event id, so nothing changes and nothing is dead-lettered
        again = _deadletter(["replay", "--id", unknown_id, "--file", str(fix_file)], env)
        assert again.returncode == 0, again.stderr
        wait_for(lambda: caught_up(database.url, None, kafka_bootstrap, topics), timeout=60)
        assert case_status(database.url, None, "D-1") == ("received", 1)
        assert _events_of(database, "D-1") == [(teleported["event_id"], "ComplaintReceived")]
        assert len(_listed(env)) == 2
        assert worker.popen.poll() is None, worker.output()
    finally:
        worker.stop()


def test_replaying_every_dead_letter_of_a_reason_asks_first_and_re_injects_each_message_once(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'read-models.db'}", None)
    env = service_env(kafka_bootstrap, topics, database.env())
    worker = Process(["worker"], env, tmp_path / "worker.log")
    complaints = topics.for_kind(CaseKind.complaint)
    try:
        with EventProducer(kafka_bootstrap, topics) as producer:
            producer.send_raw(complaints, b"A-1", b"{broken")
            producer.send_raw(
                complaints, b"A-2", json.dumps(raw("Nope", "A-2", "complaint")).encode()
            )
        first = wait_for(lambda: (found := _listed(env)) and len(found) >= 2 and found, timeout=60)
        original = next(letter for letter in first if letter["reason"] == "undecodable")
        before = end_offsets(kafka_bootstrap, (complaints,))

        declined = _deadletter(["replay", "--all", "--reason", "undecodable"], env, answer="n\n")
        assert declined.returncode != 0
        assert end_offsets(kafka_bootstrap, (complaints,)) == before

        # bad as ever: back in the dead letters, naming the one it replays
        done = _deadletter(["replay", "--all", "--reason", "undecodable", "--yes"], env)
        assert done.returncode == 0, done.stderr
        assert "replayed 1 dead letter of reason undecodable" in done.stdout
        second = wait_for(lambda: (found := _listed(env)) and len(found) >= 3 and found, timeout=60)
        (newer,) = [letter for letter in second if letter["replay_of"] == original["id"]]
        assert newer["reason"] == "undecodable" and newer["key"] == "A-1"

        # a second bulk replay re-injects the newer attempt only, not the original as well
        done = _deadletter(["replay", "--all", "--reason", "undecodable", "--yes"], env)
        assert done.returncode == 0, done.stderr
        assert (
            "replayed 1 dead letter of reason undecodable" in done.stdout
            and "1 left out" in done.stdout
        )
        third = wait_for(lambda: (found := _listed(env)) and len(found) >= 4 and found, timeout=60)
        wait_for(lambda: caught_up(database.url, None, kafka_bootstrap, topics), timeout=60)
        assert len(_listed(env)) == 4
        assert [letter["replay_of"] for letter in third if letter["reason"] == "undecodable"] == [
            None,
            original["id"],
            newer["id"],
        ]
        assert worker.popen.poll() is None, worker.output()
    finally:
        worker.stop()


def test_without_a_broker_the_commands_say_how_to_point_at_one(tmp_path: Path) -> None:
    env = service_env(f"127.0.0.1:{free_port()}", Topics("nowhere."), {})
    listed = _deadletter(["list"], env)
    assert listed.returncode != 0
    assert "CASESTREAM_KAFKA_BOOTSTRAP" in listed.stderr and "casestream up" in listed.stderr
    unset = {key: value for key, value in env.items() if key != "CASESTREAM_KAFKA_BOOTSTRAP"}
    replayed = _deadletter(["replay", "--id", "0:1"], unset)
    assert replayed.returncode != 0
    assert "CASESTREAM_KAFKA_BOOTSTRAP" in replayed.stderr
