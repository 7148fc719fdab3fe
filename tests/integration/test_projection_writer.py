"""The batched writer is exactly-once in effect: duplicates, redelivery and batch splits change nothing."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from casestream.domain.calendar import load_calendar
from casestream.domain.catalog import CaseKind
from casestream.domain.clocks import ClockPolicy
from casestream.domain.envelope import Event, parse_event
from casestream.domain.rules import load_rulebook
from casestream.producers.simulation import simulate
from casestream.read_models.database import create_engine, migrate
from casestream.read_models.projection import ConsumedEvent, ProjectionWriter
from casestream.read_models.schema import anomalies, case_events, cases, clocks, metadata
from tests.conftest import Database
from tests.events import T0, local, raw, reconsideration
from tests.events import event as tip_event
from tests.processes import table_rows
from tests.strategies import case_events as case_events_of

POLICY = ClockPolicy(load_rulebook(), load_calendar())
EVENTS = simulate(random.Random(7), 25, T0, prefix="P")
OPEN, COPY, REPLY = (str(uuid.uuid5(uuid.NAMESPACE_URL, f"upcast-{n}")) for n in range(3))


def _consumed(events: list[Event[Any]]) -> list[ConsumedEvent]:
    return [
        ConsumedEvent("complaints.events", 0, offset, event) for offset, event in enumerate(events)
    ]


def _engine(db: Database) -> sa.Engine:
    """The kept engine of a slot (`_fresh_sqlite`), or a new one."""
    return _SLOT_ENGINES.get(db.url) or create_engine(db.url, db.schema)


def _writer(db: Database) -> ProjectionWriter:
    engine = _engine(db)
    migrate(engine)
    return ProjectionWriter(engine, POLICY)


WHERE_READ = ("topic", "partition", "offset")
"""The columns of case_events that say where an event was read, not what it was."""


def _every_table(
    db: Database, *, without: tuple[str, ...] = ()
) -> dict[str, list[tuple[str, ...]]]:
    """The sorted rows of every table of the schema (those the writer fills: cases, history,
    disputes, anomalies, clocks, alerts, outbox, checkpoints; and those it must leave alone),
    without the columns named in `without`."""
    engine = _engine(db)
    try:
        with engine.connect() as conn:
            found = {}
            for table in metadata.sorted_tables:
                columns = [column for column in table.columns if column.name not in without]
                rows = conn.execute(
                    sa.select(*columns).where(table.c.key != "projection_id")
                    if table.name == "projection_meta"  # the database's own random name
                    else sa.select(*columns)
                )
                found[table.name] = sorted(tuple(str(value) for value in row) for row in rows)
            return found
    finally:
        if db.url not in _SLOT_ENGINES:
            engine.dispose()


def _assert_same_tables(
    actual: dict[str, list[tuple[str, ...]]], expected: dict[str, list[tuple[str, ...]]]
) -> None:
    assert actual.keys() == expected.keys()
    for table, rows in expected.items():
        assert actual[table] == rows, table


def test_redelivered_batches_and_repeated_events_leave_the_read_model_as_one_clean_pass(
    database: Database, make_database: Any, request: Any
) -> None:
    clean = make_database(request.node.callspec.params["database"])
    _writer(clean).apply_batch(_consumed(EVENTS))

    writer = _writer(database)
    consumed = _consumed(EVENTS)
    writer.apply_batch(consumed[:40])
    writer.apply_batch(consumed[:60])  # redelivery after a crash: offsets 0..39 again
    outcome = writer.apply_batch(consumed[60:])
    # the same events sent again later (new offsets, same event ids)
    resent = [
        ConsumedEvent("complaints.events", 0, len(consumed) + i, c.event)
        for i, c in enumerate(consumed[:10])
    ]
    again = writer.apply_batch(resent)

    assert outcome.applied == len(consumed) - 60
    assert again.applied == 0 and again.duplicates == 10
    # the resent events moved the checkpoint on, past offsets a clean pass never read
    assert writer.stored_offsets() == {("complaints.events", 0): len(consumed) + 10}
    expected = _every_table(clean, without=("next_offset",))
    actual = _every_table(database, without=("next_offset",))
    for table in ("cases", "case_events", "disputes", "clocks", "checkpoints", "outbox"):
        assert expected[table], f"the clean pass wrote no {table}: the comparison would be weak"
    _assert_same_tables(actual, expected)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_any_delivery_with_duplicates_and_any_batching_gives_the_state_of_one_clean_pass(
    data: st.DataObject,
) -> None:
    events = EVENTS[:60]
    repeats = data.draw(st.lists(st.integers(0, len(events) - 1), max_size=20))
    delivery: list[Event[Any]] = []
    for index, event in enumerate(events):
        delivery.append(event)
        delivery.extend(
            events[i] for i in repeats if i == index
        )  # a duplicate right after, or later:
    delivery.extend(events[i] for i in repeats[: len(repeats) // 2])
    cuts = sorted(data.draw(st.sets(st.integers(1, len(delivery) - 1), max_size=8)))

    clean = _fresh_sqlite("clean")
    _writer(clean).apply_batch(_consumed(events))
    target = _fresh_sqlite("target")
    writer = _writer(target)
    consumed = _consumed(delivery)
    for start, end in zip([0, *cuts], [*cuts, len(consumed)], strict=True):
        writer.apply_batch(consumed[start:end])

    # the same rows everywhere (outbox included: the same reviews and rectifications derived);
    # only the offsets the history was read at, and so the checkpoints, differ
    assert writer.stored_offsets() == {("complaints.events", 0): len(delivery)}
    without = (*WHERE_READ, "next_offset")
    _assert_same_tables(_every_table(target, without=without), _every_table(clean, without=without))


_MIGRATED: list[Path] = []
_SLOT_DIR = Path(tempfile.mkdtemp(prefix="casestream-slots-"))
_SLOT_ENGINES: dict[str, sa.Engine] = {}


def _fresh_sqlite(slot: str) -> Database:
    """A new SQLite read model in `slot` ("clean", "target"): the slot's file becomes a copy of
    one migrated once, and the slot keeps its engine, with the statements it compiled (a new
    engine compiles every statement afresh: most of a property example's time)."""
    if not _MIGRATED:
        template = _SLOT_DIR / "migrated.db"
        engine = create_engine(f"sqlite:///{template}", None)
        migrate(engine)
        engine.dispose()
        _MIGRATED.append(template)
    path = _SLOT_DIR / f"{slot}.db"
    url = f"sqlite:///{path}"
    engine = _SLOT_ENGINES.get(url)
    if engine is None:
        engine = _SLOT_ENGINES[url] = create_engine(url, None)
    engine.dispose()  # its connections closed; the engine and its compiled statements stay
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)  # a new file: no connection left open reads this one
    shutil.copyfile(_MIGRATED[0], path)
    return Database(url, None)


@pytest.mark.parametrize("kind", list(CaseKind))
@pytest.mark.parametrize("again", ["right after itself", "later"])
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_a_duplicate_event_changes_nothing_for_every_case_kind(
    kind: CaseKind, again: str, data: st.DataObject
) -> None:
    """One event of a case delivered a second time (next to itself or after later events, in
    the same batch or the next) leaves every table as the events once each would."""
    events = data.draw(case_events_of(kind), label="events")
    first = data.draw(st.integers(0, len(events) - 1), label="duplicated event")
    at = (
        first + 1
        if again == "right after itself"
        else data.draw(st.integers(min(first + 2, len(events)), len(events)), label="again at")
    )
    delivery = [*events[:at], events[first], *events[at:]]
    cut = data.draw(st.integers(0, len(delivery)), label="batch boundary")

    clean = _fresh_sqlite("clean")
    _writer(clean).apply_batch(_consumed(events))
    target = _fresh_sqlite("target")
    writer = _writer(target)
    consumed = _consumed(delivery)
    outcome = writer.apply_batch(consumed[:cut]).merged(writer.apply_batch(consumed[cut:]))

    assert (outcome.applied, outcome.duplicates) == (len(events), 1)
    assert writer.stored_offsets() == {("complaints.events", 0): len(delivery)}
    without = (*WHERE_READ, "next_offset")
    expected = _every_table(clean, without=without)
    assert expected["cases"] and len(expected["case_events"]) == len(events)
    _assert_same_tables(_every_table(target, without=without), expected)


def test_an_anonymous_tip_is_stored_without_its_informant_while_its_event_stays_as_received(
    database: Database, make_database: Any, request: Any
) -> None:
    identity = {"name": "周秘密", "phone": "13566667777", "id_number": "32010219850505123X"}

    def tip(case_id: str, anonymous: bool) -> list[Event[Any]]:
        received = {"enterprise": "恒通建材", "subject": "线索", "informant": identity}
        return [
            tip_event(
                "TipReceived", case_id, "enterprise_tip", received | {"anonymous": anonymous}
            ),
            tip_event("TipAssigned", case_id, "enterprise_tip", {"department": "治安大队"}, day=1),
            tip_event("TipVerified", case_id, "enterprise_tip", {"result": "partly"}, day=2),
        ]

    events = [*tip("ANON-1", True), *tip("NAMED-1", False)]
    writer = _writer(database)
    for start, end in ((0, 1), (1, 4), (4, 6)):  # state stored and reloaded between batches
        writer.apply_batch(_consumed(events)[start:end])
    clean = make_database(request.node.callspec.params["database"])
    _writer(clean).apply_batch(_consumed(events))

    actual = _every_table(database)
    _assert_same_tables(actual, _every_table(clean))  # one clean pass, as a replay writes it
    engine = create_engine(database.url, database.schema)
    with engine.connect() as conn:
        states = {
            row.case_id: row.state
            for row in conn.execute(sa.select(cases.c.case_id, cases.c.state))
        }
        bodies = conn.execute(
            sa.select(case_events.c.case_id, case_events.c.body).where(
                case_events.c.event_type == "TipReceived"
            )
        )
        received = {case_id: body["payload"] for case_id, body in bodies}
    engine.dispose()
    assert states["ANON-1"]["informant"] is None and states["ANON-1"]["anonymous"] is True
    anonymous_row = [row for row in actual["cases"] if row[0] == "ANON-1"]
    assert anonymous_row and not any(part in str(anonymous_row) for part in identity.values())
    assert states["NAMED-1"]["informant"] == identity
    assert received["ANON-1"]["informant"] == identity  # the event as received, for a court order


def test_a_v1_reply_projects_as_its_v2_and_the_history_keeps_it_as_published(
    database: Database, make_database: Any, request: Any
) -> None:
    def reconsideration(reply: dict[str, Any]) -> list[Event[Any]]:
        opened = {
            "applicant": {"name": "赵申请"},
            "decision_ref": "公(治)决字〔2026〕9号",
            "reconsideration_body": "县人民政府",
        }
        replied = raw("ReplySubmitted", "R-V", "reconsideration", at=T0, day=3, event_id=REPLY)
        return [
            tip_event("ReconsiderationApplied", "R-V", "reconsideration", opened, event_id=OPEN),
            tip_event("ApplicationCopyReceived", "R-V", "reconsideration", day=1, event_id=COPY),
            parse_event(json.dumps({**replied, **reply}).encode()),  # as read from the topic
        ]

    v1 = {"schema_version": 1, "payload": {"summary": "答复", "evidence_items": 4}}
    v2 = {"schema_version": 2, "payload": {"summary": "答复", "evidence_count": 4}}
    writer = _writer(database)
    writer.apply_batch(_consumed(reconsideration(v1)))
    resent = ConsumedEvent("complaints.events", 0, 3, reconsideration(v2)[2])
    again = writer.apply_batch([resent])  # the same fact under the same id, now at v2
    current = make_database(request.node.callspec.params["database"])
    _writer(current).apply_batch(_consumed(reconsideration(v2)))

    assert again.duplicates == 1 and again.anomalies == 0
    old, new = table_rows(database.url, database.schema), table_rows(current.url, current.schema)
    assert old["cases"] == new["cases"] and old["clocks"] == new["clocks"]
    assert old["anomalies"] == new["anomalies"] == []
    engine = create_engine(database.url, database.schema)
    with engine.connect() as conn:
        body = conn.execute(
            sa.select(case_events.c.body).where(case_events.c.event_id == REPLY)
        ).scalar_one()
    engine.dispose()
    assert body["schema_version"] == 1 and body["payload"] == v1["payload"]
    assert body["event_id"] == REPLY


def test_provisional_clocks_are_recounted_when_the_calendar_gains_their_year(
    database: Database, tmp_path: Path
) -> None:
    from casestream.domain.calendar import load_calendar
    from casestream.read_models.database import create_engine
    from casestream.read_models.schema import clocks
    from tests.events import raw
    from tests.processes import table_rows

    accepted = datetime.fromisoformat("2026-12-21T10:00:00+08:00")
    events = [
        parse_event(
            raw(
                "ComplaintReceived",
                "PROV-1",
                "complaint",
                {"channel": "online", "subject": "s"},
                at=accepted,
            )
        ),
        parse_event(raw("ComplaintAccepted", "PROV-1", "complaint", at=accepted)),
    ]
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    ProjectionWriter(engine, POLICY).apply_batch(_consumed(events))
    (before,) = [row for row in table_rows(database.url, database.schema)["clocks"]]
    provisional = [column.name for column in clocks.columns].index("provisional")
    due_date = [column.name for column in clocks.columns].index("due_date")
    assert before[provisional] == "True"  # 2027 is not in the packaged calendar

    calendar_file = tmp_path / "calendar.toml"
    calendar_file.write_text(
        '[2027]\nholidays = { "元旦 New Year" = ["2027-01-01"] }\nworkdays = {}\n'
    )
    recounted = ProjectionWriter(engine, ClockPolicy(load_rulebook(), load_calendar(calendar_file)))
    assert recounted.refresh_provisional_clocks() == 1
    assert recounted.refresh_provisional_clocks() == 0
    (after,) = [row for row in table_rows(database.url, database.schema)["clocks"]]
    assert after[provisional] == "False"
    # weekends only vs the official 2027 schedule: 1 Jan is a holiday, so the due date moves
    assert after[due_date] > before[due_date]


def _opinion_events() -> tuple[list[Event[Any]], list[Event[Any]]]:
    from casestream.domain.outcomes import rectification_id
    from tests.events import raw

    at = datetime.fromisoformat("2026-05-06T10:00:00+08:00")
    applied = {
        "applicant": {"name": "李娜"},
        "decision_ref": "D-OP",
        "reconsideration_body": "县政府",
        "department": "交警大队",
    }
    reconsideration = [
        parse_event(raw("ReconsiderationApplied", "R-OP", "reconsideration", applied, at=at)),
        parse_event(raw("ReconsiderationAccepted", "R-OP", "reconsideration", at=at, day=1)),
        parse_event(
            raw(
                "ReconsiderationOpinionReceived",
                "R-OP",
                "reconsideration",
                {"opinion_no": "意见〔2026〕3号", "requested_action": "规范告知程序"},
                at=at,
                day=20,
            )
        ),
    ]
    rect = rectification_id("R-OP", "意见〔2026〕3号")
    rectification = [
        parse_event(
            raw(
                "RectificationOpened",
                rect,
                "rectification",
                {"department": "交警大队", "responsible_person": "刘军"},
                at=at,
                day=20,
            )
        ),
        parse_event(
            raw(
                "RectificationCompleted",
                rect,
                "rectification",
                {"evidence": ["整改报告"]},
                at=at,
                day=50,
            )
        ),
    ]
    return reconsideration, rectification


def test_an_opinions_report_clock_stops_when_its_rectification_completes_in_either_order(
    database: Database, make_database: Any, request: Any
) -> None:
    from casestream.read_models.schema import clocks

    reconsideration, rectification = _opinion_events()
    statuses = []
    for first, second in ((reconsideration, rectification), (rectification, reconsideration)):
        target = make_database(request.node.callspec.params["database"])
        writer = _writer(target)
        writer.apply_batch([ConsumedEvent("a", 0, n, e) for n, e in enumerate(first)])
        writer.apply_batch([ConsumedEvent("b", 0, n, e) for n, e in enumerate(second)])
        rows = table_rows(target.url, target.schema)["clocks"]
        names = [column.name for column in clocks.columns]
        (report,) = [
            row for row in rows if row[names.index("rule_id")] == "reconsideration.opinion_report"
        ]
        statuses.append((report[names.index("status")], report[names.index("stopped_at")]))
    assert statuses[0] == statuses[1]
    assert statuses[0][0] == "met" and statuses[0][1] != "None"


def test_a_late_measure_on_a_verified_rectification_is_an_anomaly_and_it_stays_verified(
    database: Database,
) -> None:
    rect, kind = "RECT-LATE-1", "rectification"
    opened = {"department": "治安大队", "responsible_person": "张强"}
    events = [
        tip_event("RectificationOpened", rect, kind, opened),
        tip_event("MeasureAdded", rect, kind, {"measure": "组织程序培训"}, day=1),
        tip_event("RectificationCompleted", rect, kind, {"evidence": ["培训记录"]}, day=2),
        tip_event("RectificationVerified", rect, kind, {"supervisor": "督察01"}, day=3),
    ]
    late = [
        tip_event("MeasureAdded", rect, kind, {"measure": "补充培训"}, day=4),
        tip_event("ProgressReported", rect, kind, {"progress": "补充完成"}, day=5),
    ]
    writer = _writer(database)
    consumed = _consumed([*events, *late])
    writer.apply_batch(consumed[: len(events)])
    outcome = writer.apply_batch(consumed[len(events) :])  # the state reloaded from the table
    assert outcome.applied == 2 and outcome.anomalies == 2
    engine = create_engine(database.url, database.schema)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(cases.c.status, cases.c.version).where(cases.c.case_id == rect)
        ).one()
        found = conn.execute(
            sa.select(anomalies.c.event_type, anomalies.c.version, anomalies.c.reason)
            .where(anomalies.c.case_id == rect)
            .order_by(anomalies.c.version)
        ).all()
    engine.dispose()
    assert (row.status, row.version) == ("verified", 6)
    assert [(a.event_type, a.version) for a in found] == [
        ("MeasureAdded", 5),
        ("ProgressReported", 6),
    ]
    assert all("in status 'verified'" in a.reason for a in found)


def test_a_rejection_or_withdrawal_stops_the_clock_of_its_decision_and_cancels_a_lapsed_reply(
    database: Database,
) -> None:
    petition = {"channel": "petition", "subject": "信访事项"}
    events = [
        tip_event("ComplaintReceived", "P-LATE", "complaint", petition),
        # 不予受理 on day 20: the 15-day acceptance notice was owed and came late
        tip_event("ComplaintRejected", "P-LATE", "complaint", {"reason": "重复信访"}, day=20),
        tip_event("ComplaintReceived", "P-TIME", "complaint", petition),
        tip_event("ComplaintRejected", "P-TIME", "complaint", {"reason": "重复信访"}, day=3),
        *reconsideration("R-WD", 31, None)[:3],  # accepted, copy received, no reply yet
        tip_event(
            "ReconsiderationWithdrawn",
            "R-WD",
            "reconsideration",
            {"reason": "申请人撤回"},
            at=local("2026-03-05T09:00"),
        ),
    ]
    _writer(database).apply_batch(_consumed(events))
    engine = create_engine(database.url, database.schema)
    with engine.connect() as conn:
        found = {
            row.clock_id: row.status
            for row in conn.execute(sa.select(clocks.c.clock_id, clocks.c.status))
        }
    engine.dispose()
    assert found == {
        "P-LATE/petition.acceptance_notice/0": "breached",
        "P-TIME/petition.acceptance_notice/0": "met",
        "R-WD/reconsideration.decision/0": "met",
        "R-WD/reconsideration.reply/0": "cancelled",
    }


def _clean_pass(make_database: Any, request: Any, events: list[Event[Any]]) -> Database:
    clean = make_database(request.node.callspec.params["database"])
    _writer(clean).apply_batch(_consumed(events))
    return clean


def test_a_batch_whose_commit_fails_and_is_retried_gives_the_read_models_of_one_clean_pass(
    database: Database, make_database: Any, request: Any
) -> None:
    """The writer remembers the cases it wrote between batches; a batch rolled back (here its
    commit refused) must leave nothing of itself in that memory."""
    consumed = _consumed(EVENTS)
    engine = create_engine(database.url, database.schema)
    migrate(engine)
    writer = ProjectionWriter(engine, POLICY)
    writer.apply_batch(consumed[:50])
    refusals = [RuntimeError("the database refused the commit")]

    def refuse_once(conn: sa.Connection) -> None:
        if refusals:
            raise refusals.pop()

    sa.event.listen(engine, "commit", refuse_once)
    with pytest.raises(RuntimeError, match="refused the commit"):
        writer.apply_batch(consumed[50:100])
    writer.apply_batch(consumed[50:100])  # the same batch again, after the rollback
    writer.apply_batch(consumed[100:])
    probe = writer.apply_batch(consumed[:5], commit=False)  # a probe rolled back: nothing kept
    assert probe.skipped_offsets == 5

    clean = _clean_pass(make_database, request, EVENTS)
    _assert_same_tables(_every_table(database), _every_table(clean))


def test_a_writer_that_gets_its_partition_back_after_another_wrote_it_reads_the_cases_again(
    database: Database, make_database: Any, request: Any
) -> None:
    """A rebalance: another worker projected the partition for a while, then this one resumes
    it; what this writer remembered of the cases is stale and must not be written back."""
    consumed = _consumed(EVENTS)
    first, other = _writer(database), _writer(database)
    first.apply_batch(consumed[:40])
    other.apply_batch(consumed[40:80])  # the same cases, moved on by another worker
    first.apply_batch(consumed[80:])

    clean = _clean_pass(make_database, request, EVENTS)
    _assert_same_tables(_every_table(database), _every_table(clean))


def test_a_writer_remembering_few_cases_writes_what_one_that_remembers_all_does() -> None:
    clean = _fresh_sqlite("clean")
    _writer(clean).apply_batch(_consumed(EVENTS))
    target = _fresh_sqlite("target")
    writer = ProjectionWriter(_engine(target), POLICY, remembered_cases=3)
    consumed = _consumed(EVENTS)
    for start in range(0, len(consumed), 7):
        writer.apply_batch(consumed[start : start + 7])
    _assert_same_tables(_every_table(target), _every_table(clean))
