"""The peer projection: pyeventsourcing's idiomatic projection of the case topics.

Run by bench/peer.py with the peer's own interpreter (var/bench-peer-venv, where `eventsourcing`
and kafka-python are installed), so this file imports nothing of casestream. It reads the same
Kafka messages the casestream projector reads (every partition of the given topics, from the
beginning offsets to the end offsets at the start), decodes each message (JSON into a frozen
event object, as an event store's transcoder does), and hands it to an `eventsourcing`
`Projection` whose view is a `PostgresTrackingRecorder`: one transaction per event that upserts
the case's row in a one-row-per-case table and records the event's tracking (application name
= topic:partition, notification id = offset + 1, the library's default single-row tracking),
as the library's projection runner does.

Prints `progress N` lines while it runs and one `result {json}` line at the end.

    python bench/peer_eventsourcing.py --kafka HOST:PORT --topics T1,T2 --expected N
        --pg-host H --pg-port P --pg-user U --pg-dbname D --pg-schema S
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from functools import singledispatchmethod
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection
from kafka import KafkaConsumer, TopicPartition
from psycopg.sql import SQL, Identifier


@dataclass(frozen=True)
class CaseEvent:
    """The envelope fields the view needs, decoded from the message's JSON."""

    event_id: str
    event_type: str
    case_id: str
    case_kind: str
    occurred_at: str
    department: str | None


def decode(value: bytes) -> CaseEvent:
    data = json.loads(value)
    payload = data.get("payload") or {}
    return CaseEvent(
        event_id=data["event_id"],
        event_type=data["event_type"],
        case_id=data["case_id"],
        case_kind=data["case_kind"],
        occurred_at=data["occurred_at"],
        department=payload.get("department"),
    )


class CaseViewRecorder(PostgresTrackingRecorder):
    """A materialised view with one row per case, and the library's tracking table."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, tracking_table_name="case_view_tracking", **kwargs)
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}.case_view ("
                "case_id text PRIMARY KEY, case_kind text NOT NULL, status text NOT NULL, "
                "department text, events integer NOT NULL, last_event_id text NOT NULL, "
                "opened_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)"
            ).format(schema)
        )
        self.upsert_statement = SQL(
            "INSERT INTO {0}.case_view AS v (case_id, case_kind, status, department, events, "
            "last_event_id, opened_at, updated_at) "
            "VALUES (%(case_id)s, %(case_kind)s, %(status)s, %(department)s, 1, %(event_id)s, "
            "%(occurred_at)s, %(occurred_at)s) "
            "ON CONFLICT (case_id) DO UPDATE SET status = EXCLUDED.status, "
            "department = COALESCE(EXCLUDED.department, v.department), events = v.events + 1, "
            "last_event_id = EXCLUDED.last_event_id, updated_at = EXCLUDED.updated_at"
        ).format(schema)

    def apply(self, event: CaseEvent, tracking: Tracking) -> None:
        """The view's change and the tracking record, committed together."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self.upsert_statement,
                {
                    "case_id": event.case_id,
                    "case_kind": event.case_kind,
                    "status": event.event_type,
                    "department": event.department,
                    "event_id": event.event_id,
                    "occurred_at": event.occurred_at,
                },
                prepare=True,
            )
            self._insert_tracking(curs, tracking)


class CaseViewProjection(Projection[CaseViewRecorder]):
    name = "case_view"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)  # not a case event: only tracked

    @process_event.register
    def _(self, domain_event: CaseEvent, tracking: Tracking) -> None:
        self.view.apply(domain_event, tracking)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kafka", required=True)
    parser.add_argument("--topics", required=True, help="comma-separated")
    parser.add_argument("--expected", type=int, required=True)
    parser.add_argument("--pg-host", required=True)
    parser.add_argument("--pg-port", required=True)
    parser.add_argument("--pg-user", required=True)
    parser.add_argument("--pg-password", default="")
    parser.add_argument("--pg-dbname", required=True)
    parser.add_argument("--pg-schema", required=True)
    args = parser.parse_args()

    started = time.perf_counter()
    datastore = PostgresDatastore(
        dbname=args.pg_dbname,
        host=args.pg_host,
        port=args.pg_port,
        user=args.pg_user,
        password=args.pg_password,
        schema=args.pg_schema,
    )
    with datastore.transaction(commit=True) as curs:
        curs.execute(SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(args.pg_schema)))
    view = CaseViewRecorder(datastore)
    view.create_table()
    projection = CaseViewProjection(view)
    consumer = KafkaConsumer(
        bootstrap_servers=args.kafka,
        group_id=None,
        enable_auto_commit=False,
        client_id="peer-eventsourcing",
    )
    done = 0
    try:
        partitions = [
            TopicPartition(topic, partition)
            for topic in args.topics.split(",")
            for partition in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        beginnings = consumer.beginning_offsets(partitions)
        ends = consumer.end_offsets(partitions)
        remaining = {tp: ends[tp] for tp in partitions if ends[tp] > beginnings[tp]}
        for tp in partitions:
            consumer.seek(tp, beginnings[tp])
        ready = time.perf_counter()
        reported = 0
        while remaining and done < args.expected:
            polled = consumer.poll(timeout_ms=1000, max_records=500)
            for tp, records in polled.items():
                end = remaining.get(tp)
                if end is None:
                    continue
                name = f"{tp.topic}:{tp.partition}"
                for record in records:
                    if record.offset >= end or done >= args.expected:
                        break
                    projection.process_event(
                        decode(record.value), Tracking(name, record.offset + 1)
                    )
                    done += 1
                if consumer.position(tp) >= end:
                    del remaining[tp]
                    consumer.pause(tp)
            if done - reported >= 1000:
                print(f"progress {done}", flush=True)
                reported = done
        finished = time.perf_counter()
    finally:
        consumer.close()
        datastore.close()
    result = {
        "events": done,
        "seconds": finished - started,
        "steady_seconds": finished - ready,
    }
    print(f"result {json.dumps(result)}", flush=True)
    return 0 if done >= args.expected else 1


if __name__ == "__main__":
    sys.exit(main())
