"""Commands waiting for their events in the read models: one look for all waits at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping

from casestream.api.consistency import ProjectedVersions


class ReadModels:
    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.looks: list[list[str]] = []
        self.failing = False

    def look(self, case_ids: Collection[str]) -> Mapping[str, int]:
        self.looks.append(sorted(case_ids))
        if self.failing:
            raise OSError("database away")
        return {case_id: self.versions[case_id] for case_id in case_ids if case_id in self.versions}


async def test_a_wait_ends_when_the_case_reaches_the_version() -> None:
    models = ReadModels()
    watch = ProjectedVersions(models.look, interval=0.01)
    waiting = asyncio.create_task(watch.reached("C-1", 3, timeout_seconds=5))
    await asyncio.sleep(0.05)
    models.versions["C-1"] = 2
    await asyncio.sleep(0.05)
    assert not waiting.done()  # version 2 is not 3
    models.versions["C-1"] = 4
    assert await asyncio.wait_for(waiting, 1.0) is True


async def test_many_waits_are_answered_by_one_look_at_a_time() -> None:
    models = ReadModels()
    watch = ProjectedVersions(models.look, interval=0.02)
    case_ids = [f"C-{n}" for n in range(50)]
    waits = [
        asyncio.create_task(watch.reached(case_id, 1, timeout_seconds=5)) for case_id in case_ids
    ]
    await asyncio.sleep(0.1)
    for case_id in case_ids:
        models.versions[case_id] = 1
    assert await asyncio.gather(*waits) == [True] * 50
    assert len(models.looks) <= 12  # ~0.1 s / 0.02 s, not 50 cases × 5 looks
    assert models.looks[0] == sorted(case_ids)


async def test_a_wait_runs_out_and_nothing_is_asked_once_no_one_waits() -> None:
    models = ReadModels()
    watch = ProjectedVersions(models.look, interval=0.01)
    assert await watch.reached("C-1", 1, timeout_seconds=0.05) is False
    await asyncio.sleep(0.03)
    looks = len(models.looks)
    await asyncio.sleep(0.05)
    assert len(models.looks) == looks


async def test_the_database_away_lets_the_waits_run_out_and_then_recover() -> None:
    models = ReadModels()
    models.failing = True
    watch = ProjectedVersions(models.look, interval=0.01)
    assert await watch.reached("C-1", 1, timeout_seconds=0.05) is False
    models.failing = False
    models.versions["C-1"] = 1
    assert await watch.reached("C-1", 1, timeout_seconds=1) is True
