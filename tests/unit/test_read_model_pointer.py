"""Naming the read models to rebuild into, switch to and drop: a schema beside a PostgreSQL home,
a file beside a SQLite home; the served ones are never dropped."""

from __future__ import annotations

import re

import pytest

from casestream.read_models.read_model_pointer import (
    ReadModelTarget,
    TargetError,
    drop_refusal,
    parse_target,
    same_place,
)

PG = "postgresql+psycopg://casestream@localhost/casestream"
PG_HOME = ReadModelTarget(PG, "live")
SQLITE_HOME = ReadModelTarget("sqlite:///var/casestream.db")


def test_a_schema_name_is_a_schema_of_the_postgresql_home_database() -> None:
    assert parse_target("rebuilt_2026", PG_HOME) == ReadModelTarget(PG, "rebuilt_2026")


def test_the_home_is_named_by_its_schema_or_home() -> None:
    assert parse_target("live", PG_HOME) == PG_HOME
    assert parse_target("home", PG_HOME) == PG_HOME
    assert parse_target("public", ReadModelTarget(PG)) == ReadModelTarget(PG)
    assert parse_target("home", SQLITE_HOME) == SQLITE_HOME


def test_a_sqlite_url_is_a_new_file_beside_a_sqlite_home() -> None:
    target = parse_target("sqlite:///var/rebuilt.db", SQLITE_HOME)
    assert target == ReadModelTarget("sqlite:///var/rebuilt.db")
    assert target.describe() == "sqlite:///var/rebuilt.db"


@pytest.mark.parametrize(
    ("text", "home", "says"),
    [
        ("rebuilt", SQLITE_HOME, "sqlite:///path/new.db"),  # no schemas in SQLite
        ("sqlite:///x.db", PG_HOME, "give a schema name"),  # one database holds the pointer
        (f"{PG}", PG_HOME, "schema name"),  # another database: not a place to switch to
        ("sqlite://", SQLITE_HOME, "needs a file"),  # in memory: gone with the command
        ("Rebuilt; DROP", PG_HOME, "plain lower-case identifier"),
    ],
)
def test_targets_that_cannot_be_served_are_refused_with_what_to_give(
    text: str, home: ReadModelTarget, says: str
) -> None:
    with pytest.raises(TargetError, match=re.escape(says)):
        parse_target(text, home)


def test_a_missing_schema_is_public() -> None:
    assert same_place(ReadModelTarget(PG), ReadModelTarget(PG, "public"))
    assert not same_place(ReadModelTarget(PG, "a"), ReadModelTarget(PG, "b"))


def test_the_served_read_models_are_never_dropped_others_are() -> None:
    served = ReadModelTarget(PG, "rebuilt")
    refusal = drop_refusal(ReadModelTarget(PG, "rebuilt"), active=served)
    assert refusal is not None and "casestream switch" in refusal
    assert drop_refusal(PG_HOME, active=served) is None  # the old home: its rows may go
    assert drop_refusal(ReadModelTarget(PG, "older"), active=served) is None
