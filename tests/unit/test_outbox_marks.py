"""Outbox rows a command sent are marked sent in one statement per interval, off its path."""

from __future__ import annotations

import asyncio

from casestream.api.consistency import OutboxMarks


class Outbox:
    def __init__(self) -> None:
        self.marked: list[list[str]] = []
        self.failing = False

    def mark(self, event_ids: list[str]) -> None:
        if self.failing:
            raise OSError("database away")
        self.marked.append(list(event_ids))


async def test_the_rows_of_many_commands_are_marked_in_one_statement() -> None:
    outbox = Outbox()
    marks = OutboxMarks(outbox.mark, interval=0.05)
    for n in range(30):
        marks.add([f"e-{n}-0", f"e-{n}-1"])
    await asyncio.sleep(0.2)
    assert outbox.marked == [[f"e-{n}-{i}" for n in range(30) for i in range(2)]]


async def test_a_failed_mark_is_left_to_the_relay_and_later_marks_go_on() -> None:
    outbox = Outbox()
    marks = OutboxMarks(outbox.mark, interval=0.01)
    outbox.failing = True
    marks.add(["lost"])
    await asyncio.sleep(0.05)
    outbox.failing = False
    marks.add(["kept"])
    await asyncio.sleep(0.05)
    assert outbox.marked == [["kept"]]
