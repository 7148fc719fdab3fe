"""The bench suite's table: a figure measured by one script is the baseline of another's, and a
target is judged against the value of that same run."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.append(str(BENCH))

from bench_rows import Row, meets, read_rows, write_rows  # noqa: E402
from suite import SCRIPTS, Ran, resolve  # noqa: E402

PEER = "peer: pyeventsourcing 9.5.6 projection, PostgreSQL"


def test_a_ratio_target_is_judged_against_the_baseline_and_a_bound_against_the_value() -> None:
    assert meets("≥ 4×", 4000.0, 1000.0) is True
    assert meets("≥ 4×", 3999.0, 1000.0) is False
    assert meets("≥ 8×", 9000.0, None) is None  # no baseline measured: not judged
    assert meets("≤ 200", 137.0, None) is True
    assert meets("≤ 1,000", 1233.0, None) is False


def test_a_baseline_from_another_script_gets_its_value_from_the_same_run(tmp_path: Path) -> None:
    projection, replay = SCRIPTS[0], SCRIPTS[1]
    write_rows(
        tmp_path / "projection.json",
        [Row(PEER, 1000.0, "events/s"), Row("live", 5000.0, "events/s", PEER, 1000.0, "≥ 4×")],
    )
    runs = [
        Ran(projection, 1.0, 0, read_rows(tmp_path / "projection.json")),
        Ran(replay, 1.0, 0, [Row("replay", 7000.0, "events/s", PEER, None, "≥ 8×")]),
    ]
    rows = {row.figure: (name, row) for name, row in resolve(runs)}
    assert rows["live"][1].met is True
    name, replayed = rows["replay"]
    assert name == "replay"
    assert replayed.baseline_value == 1000.0
    assert replayed.met is False  # 7× the peer, target 8×


def test_every_script_of_the_suite_exists_and_has_a_quick_run() -> None:
    for script in SCRIPTS:
        assert (BENCH / script.path).is_file(), script.path
        assert script.quick, script.name
