"""The projector's batches: an idle writer takes a message within milliseconds (a command's
answer waits on it), a busy one gathers what arrives meanwhile into its next batch."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from casestream.stream_processors.batching import PipelinedBatches


class Recorder:
    def __init__(self, write_seconds: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.written_at: list[float] = []
        self.acked: list[int] = []
        self.write_seconds = write_seconds

    async def write(self, batch: Sequence[int]) -> None:
        await asyncio.sleep(self.write_seconds)
        self.batches.append(list(batch))
        self.written_at.append(time.monotonic())

    async def ack(self, item: int) -> None:
        self.acked.append(item)


async def running(batches: PipelinedBatches[int]) -> list[asyncio.Task[None]]:
    return [asyncio.create_task(batches.run_writer()), asyncio.create_task(batches.run_timer())]


async def stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_an_idle_writer_takes_a_lone_message_long_before_the_longest_wait() -> None:
    recorder = Recorder()
    batches = PipelinedBatches(recorder.write, recorder.ack, batch_size=100, max_wait_seconds=2.0)
    tasks = await running(batches)
    try:
        sent = time.monotonic()
        await batches.add(1)
        while not recorder.acked:
            await asyncio.sleep(0.001)
            assert time.monotonic() - sent < 1.0, "the message waited for the longest wait"
        assert recorder.batches == [[1]]
        assert recorder.written_at[0] - sent < 0.2
    finally:
        await stop(tasks)


async def test_a_burst_arriving_together_is_one_batch() -> None:
    recorder = Recorder()
    batches = PipelinedBatches(recorder.write, recorder.ack, batch_size=100, max_wait_seconds=2.0)
    tasks = await running(batches)
    try:
        for item in range(10):
            await batches.add(item)
        while len(recorder.acked) < 10:
            await asyncio.sleep(0.001)
        assert recorder.batches == [list(range(10))]
    finally:
        await stop(tasks)


async def test_what_arrives_while_the_writer_is_busy_goes_in_its_next_batch_in_order() -> None:
    recorder = Recorder(write_seconds=0.1)
    batches = PipelinedBatches(recorder.write, recorder.ack, batch_size=1000, max_wait_seconds=5.0)
    tasks = await running(batches)
    try:
        await batches.add(0)
        await asyncio.sleep(0.03)  # the first batch is being written now
        for item in range(1, 21):
            await batches.add(item)
            await asyncio.sleep(0.002)
        while len(recorder.acked) < 21:
            await asyncio.sleep(0.005)
        assert [item for batch in recorder.batches for item in batch] == list(range(21))
        assert recorder.batches[0] == [0]
        assert len(recorder.batches) <= 3, recorder.batches  # gathered, not one write each
        assert recorder.acked == list(range(21))
    finally:
        await stop(tasks)


async def test_a_full_batch_goes_at_once() -> None:
    recorder = Recorder(write_seconds=0.05)
    batches = PipelinedBatches(recorder.write, recorder.ack, batch_size=3, max_wait_seconds=5.0)
    tasks = await running(batches)
    try:
        await batches.add(0)
        await asyncio.sleep(0.02)  # writing [0]
        for item in range(1, 7):
            await batches.add(item)
        while len(recorder.acked) < 7:
            await asyncio.sleep(0.005)
        assert recorder.batches == [[0], [1, 2, 3], [4, 5, 6]]
    finally:
        await stop(tasks)
