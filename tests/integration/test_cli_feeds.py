"""`casestream produce` / `import`: valid records reach Kafka, invalid ones are listed, none silently lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from kafka import KafkaConsumer

from casestream.domain.calendar import load_calendar
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import parse_event
from casestream.domain.rules import load_rulebook
from casestream.producers.topics import Topics
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import cases
from tests.events import raw
from tests.fixtures.make_work_order_exports import GBK_CSV, XLSX
from tests.processes import service_env


def _run(args: list[str], bootstrap: str, topics: Topics) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "casestream.cli", *args],
        env=service_env(bootstrap, topics, {}),
        capture_output=True,
        text=True,
        check=False,
    )


def _case_ids(bootstrap: str, topic: str) -> list[str]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=3000
    )
    try:
        return sorted(json.loads(message.value)["case_id"] for message in consumer)
    finally:
        consumer.close()


def test_produce_sends_valid_lines_and_names_line_and_field_of_invalid_ones(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    lines = [
        json.dumps(
            raw("ComplaintReceived", "F-1", "complaint", {"channel": "window", "subject": "a"})
        ),
        json.dumps(
            raw(
                "ComplaintReceived",
                "F-2",
                "complaint",
                {"channel": "carrier-pigeon", "subject": "b"},
            )
        ),
        "{broken",
        json.dumps(
            raw("ComplaintReceived", "F-3", "complaint", {"channel": "letter", "subject": "c"})
        ),
    ]
    path = tmp_path / "feed.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = _run(["produce", str(path)], kafka_bootstrap, topics)
    assert result.returncode == 1
    assert "line 2: payload.channel" in result.stderr
    assert "line 3: line: not valid JSON" in result.stderr
    assert "sent 2 events; 2 invalid records not sent" in result.stdout
    assert _case_ids(kafka_bootstrap, topics.prefix + "complaints.events") == ["F-1", "F-3"]


def test_import_reads_a_spreadsheet_export(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    path = tmp_path / "tips.csv"
    path.write_text(
        "event_type,case_id,case_kind,occurred_at,source_record_id,enterprise,subject,informant.name\n"
        "TipReceived,X-1,enterprise_tip,2026-10-08T09:00:00,row-1,恒通建材,涉嫌违规,赵敏\n"
        "TipReceived,X-2,enterprise_tip,2026-10-08T09:00:00,row-2,,涉嫌违规,赵敏\n",
        encoding="utf-8",
    )
    result = _run(["import", str(path)], kafka_bootstrap, topics)
    assert result.returncode == 1
    assert "line 3: payload.enterprise" in result.stderr
    assert _case_ids(kafka_bootstrap, topics.prefix + "enterprise.events") == ["X-1"]


def _consumed(bootstrap: str, topic: str) -> list[ConsumedEvent]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=3000
    )
    try:
        return [
            ConsumedEvent(m.topic, m.partition, m.offset, parse_event(m.value)) for m in consumer
        ]
    finally:
        consumer.close()


def test_work_order_exports_import_through_the_12345_mapping_once(
    kafka_bootstrap: str, topics: Topics, tmp_path: Path
) -> None:
    """The sample .xlsx export, then a later GBK CSV export repeating one of its work orders:
    the cases appear as the work orders stand, and importing both again adds nothing."""
    topic = topics.prefix + "complaints.events"
    engine = create_engine(f"sqlite:///{tmp_path / 'rm.db'}", None)
    migrate(engine)
    writer = ProjectionWriter(engine, ClockPolicy(load_rulebook(), load_calendar()))

    def import_both() -> list[subprocess.CompletedProcess[str]]:
        return [
            _run(["import", str(path), "--mapping", "12345"], kafka_bootstrap, topics)
            for path in (XLSX, GBK_CSV)
        ]

    spreadsheet, later = import_both()
    assert (spreadsheet.returncode, later.returncode) == (1, 1)  # one bad row in each
    assert "sent 15 events of 3 work orders" in spreadsheet.stdout
    assert "12345-2026-10.xlsx:row 6: 来电时间: ComplaintReceived: must lie" in spreadsheet.stderr
    assert "read 12345-2026-10-later.csv as gb18030" in later.stderr
    assert "later.csv:row 4: 回访满意度: unknown word '还行吧'" in later.stderr
    first = _consumed(kafka_bootstrap, topic)
    outcome = writer.apply_batch(first)
    # the later export repeats 0002's call, acceptance and assignment: the same three events
    assert (outcome.applied, outcome.duplicates, outcome.anomalies) == (20, 3, 0)

    with engine.connect() as conn:
        found = {
            row.case_id: row
            for row in conn.execute(
                sa.select(
                    cases.c.case_id,
                    cases.c.status,
                    cases.c.department,
                    cases.c.enterprise,
                    cases.c.satisfaction,
                    cases.c.subject,
                )
            )
        }
    assert sorted(found) == [
        "12345-GD202610120001",
        "12345-GD202610120002",
        "12345-GD202610130003",
        "12345-GD202610140005",
    ]
    assert tuple(found["12345-GD202610120001"])[1:] == (
        "followed_up",
        "执法大队",
        True,
        5,
        "超市销售过期食品",
    )
    assert found["12345-GD202610120002"].status == "resolved"  # resolved in the later export
    assert found["12345-GD202610130003"].satisfaction == 2  # 不满意
    assert tuple(found["12345-GD202610140005"])[1:4] == ("assigned", "执法大队", True)

    again = import_both()
    assert [result.returncode for result in again] == [1, 1]
    seen = {(event.partition, event.offset) for event in first}
    resent = [e for e in _consumed(kafka_bootstrap, topic) if (e.partition, e.offset) not in seen]
    repeat = writer.apply_batch(resent)
    assert (repeat.applied, repeat.duplicates) == (0, 23)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(cases)).scalar() == 4
    engine.dispose()
