"""Migrations keep what a database already holds: a read model written before revision 0007
gets its figure columns filled from the stored state, one written before revision 0009
loses the informants of anonymous tips from its stored states, and one whose counters were
built before revision 0016 has them and the tallies built again (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from casestream.domain.cases import fold
from casestream.domain.rules import load_rulebook
from casestream.read_models.case_tallies import recount
from casestream.read_models.database import MIGRATIONS, create_engine, migrate
from casestream.read_models.figure_counts import ZONE_KEY, FigureCounter
from casestream.read_models.schema import case_figures, case_tallies, cases
from tests.conftest import Database
from tests.events import complaint_lifecycle, event, reconsideration
from tests.unit.test_outcomes import judged, lawsuit


def _row(events: list[Any]) -> dict[str, Any]:
    state = fold(events)
    assert state is not None and state.opened_at is not None
    return {
        "case_id": state.case_id,
        "case_kind": state.case_kind.value,
        "status": state.status,
        "version": state.version,
        "received_at": state.opened_at,
        "last_occurred_at": state.last_occurred_at,
        "enterprise": state.enterprise,
        "paused": state.paused,
        "anomaly_count": 0,
        "state": state.model_dump(mode="json"),
    }


def test_revision_0007_fills_satisfaction_and_outcome_from_the_stored_state(
    database: Database,
) -> None:
    engine = create_engine(database.url, database.schema)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0006")
        written = _row(lawsuit("x"))  # the columns a writer of revision 0006 filled
        before_0007 = sa.table(
            "cases", *(sa.column(c.name, c.type) for c in cases.columns if c.name in written)
        )
        conn.execute(
            before_0007.insert(),
            [
                _row(complaint_lifecycle("M-C1")),  # visited: 5
                _row(complaint_lifecycle("M-C2")[:3]),  # not visited
                _row(reconsideration("M-R1", 1, "revoked")),
                _row(reconsideration("M-R2", 2, None)),  # not decided
                _row([*lawsuit("M-L1"), judged("M-L1", "compensation")]),
                _row([*lawsuit("M-L2"), judged("M-L2", "claim_dismissed")]),
            ],
        )
    migrate(engine)
    with engine.connect() as conn:
        found = {
            row.case_id: (row.satisfaction, row.outcome)
            for row in conn.execute(
                sa.select(cases.c.case_id, cases.c.satisfaction, cases.c.outcome)
            )
        }
    assert found == {
        "M-C1": (5, None),
        "M-C2": (None, None),
        "M-R1": (None, "correction"),
        "M-R2": (None, None),
        "M-L1": (None, "loss"),
        "M-L2": (None, "other"),
    }


def _tip(case_id: str, *, anonymous: bool) -> list[Any]:
    payload = {"enterprise": "恒通建材", "subject": "线索", "anonymous": anonymous}
    return [event("TipReceived", case_id, "enterprise_tip", payload)]


def test_revision_0009_clears_the_stored_informant_of_an_anonymous_tip(database: Database) -> None:
    informant = {"name": "周秘密", "phone": "13566667777", "id_number": None}
    engine = create_engine(database.url, database.schema)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0008")
        rows = [_row(_tip("M-T1", anonymous=True)), _row(_tip("M-T2", anonymous=False))]
        rows.append(_row(complaint_lifecycle("M-C3")))
        for row in rows[:2]:  # as a writer before revision 0009 stored them: informant included
            row["state"] = {**row["state"], "informant": informant}
        conn.execute(cases.insert(), rows)
    migrate(engine)
    with engine.connect() as conn:
        found = {
            row.case_id: row.state
            for row in conn.execute(sa.select(cases.c.case_id, cases.c.state))
        }
    assert found["M-T1"] == {**rows[0]["state"], "informant": None}
    assert found["M-T1"]["anonymous"] is True
    assert found["M-T2"] == rows[1]["state"]  # a named informant stays
    assert found["M-C3"] == rows[2]["state"]


def test_revision_0016_has_counters_built_before_it_built_again_with_the_tallies(
    database: Database,
) -> None:
    engine = create_engine(database.url, database.schema)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    decided = [*lawsuit("M-L1"), judged("M-L1", "compensation")]
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0015")
        written = _row(decided)
        before_0016 = sa.table(
            "cases", *(sa.column(c.name, c.type) for c in cases.columns if c.name in written)
        )
        conn.execute(before_0016.insert(), [_row(complaint_lifecycle("M-C1")), written])
        # counters a writer of revision 0015 built: their zone recorded, no places of cases
        meta = sa.table("projection_meta", sa.column("key"), sa.column("value"))
        conn.execute(meta.insert().values(key=ZONE_KEY, value="Asia/Shanghai"))
    migrate(engine, FigureCounter(load_rulebook(), "Asia/Shanghai").ensure)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(case_figures)).scalar() == 2
        tallies = sorted(tuple(row) for row in conn.execute(sa.select(case_tallies)))
        assert tallies == sorted(tuple(row) for row in conn.execute(recount()))
        placed = {
            (row.case_kind, row.status): row.total for row in conn.execute(sa.select(case_tallies))
        }
    assert placed == {
        ("complaint", _row(complaint_lifecycle("M-C1"))["status"]): 1,
        ("litigation", written["status"]): 1,
    }
