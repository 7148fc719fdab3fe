"""How a replay is split over processes: by partition number, as workers share the topics."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from casestream.cli import app
from casestream.stream_processors.replay_processes import partition_groups

TOPICS = ("complaint.events", "reconsideration.events", "alerts.events")


def test_partition_numbers_are_dealt_to_the_processes_in_turn() -> None:
    three = dict.fromkeys(TOPICS, 3)
    assert partition_groups(three, 2) == [(0, 2), (1,)]
    assert partition_groups(three, 3) == [(0,), (1,), (2,)]
    assert partition_groups(dict.fromkeys(TOPICS, 12), 4) == [
        (0, 4, 8),
        (1, 5, 9),
        (2, 6, 10),
        (3, 7, 11),
    ]


def test_never_more_processes_than_partitions() -> None:
    assert partition_groups(dict.fromkeys(TOPICS, 3), 16) == [(0,), (1,), (2,)]


def test_one_process_when_a_split_could_part_a_case_from_its_alerts() -> None:
    unequal = {"complaint.events": 3, "reconsideration.events": 3, "alerts.events": 6}
    assert partition_groups(unequal, 4) is None  # a case's alerts on another number
    assert partition_groups(dict.fromkeys(TOPICS, 1), 4) is None
    assert partition_groups(dict.fromkeys(TOPICS, 3), 1) is None


def test_a_topic_not_created_yet_does_not_prevent_the_split() -> None:
    assert partition_groups({**dict.fromkeys(TOPICS, 3), "enforcement.events": 0}, 3) == [
        (0,),
        (1,),
        (2,),
    ]


@pytest.mark.parametrize("given", ["0", "65", "-3", "two", "1e3", "99999999999999999999"])
def test_a_process_count_out_of_bounds_exits_2_naming_the_option_before_opening_anything(
    given: str,
) -> None:
    said = CliRunner().invoke(app, ["replay", "--processes", given])
    assert said.exit_code == 2
    assert "--processes" in said.output
    assert "replayed" not in said.output
