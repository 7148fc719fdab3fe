"""`casestream produce` / `import`: valid records reach Kafka, invalid ones are listed, none silently lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kafka import KafkaConsumer

from casestream.producers.topics import Topics
from tests.events import raw
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
