"""Batching consumed messages so that batch N is written while batch N+1 is being collected.

A batch goes to the writer when it is full, when the writer is idle (a group commit: what
arrived while the previous batch was written goes next, so a quiet stream is written within a
few milliseconds and a busy one in large batches), or at the latest once its oldest message has
waited the longest wait. A message is acknowledged to the consumer only after the transaction
holding its batch (and its offset) has committed, so the consumer group never commits past the
read models.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")

LINGER_SECONDS = 0.005
"""How long an idle writer lets a burst of messages gather before taking them as one batch."""


class PipelinedBatches(Generic[T]):
    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[object]],
        ack: Callable[[T], Awaitable[object]],
        batch_size: int,
        max_wait_seconds: float,
        linger_seconds: float = LINGER_SECONDS,
    ) -> None:
        self._write = write
        self._ack = ack
        self._batch_size = batch_size
        self._max_wait = max_wait_seconds
        self._linger = min(linger_seconds, max_wait_seconds)
        self._buffer: list[T] = []
        self._first_at: float | None = None
        self._lock = asyncio.Lock()  # batches enter the queue in the order they were filled
        self._queue: asyncio.Queue[list[T]] = asyncio.Queue(maxsize=1)
        self._writing = False
        self._wake = asyncio.Event()  # something to write and the writer may be idle

    async def add(self, item: T) -> None:
        if self._first_at is None:
            self._first_at = time.monotonic()
        self._buffer.append(item)
        if len(self._buffer) >= self._batch_size:
            await self.flush()
        elif not self._writing:
            self._wake.set()

    async def flush(self) -> None:
        async with self._lock:
            if not self._buffer:
                return
            batch, self._buffer, self._first_at = self._buffer, [], None
            await self._queue.put(batch)

    def _writer_idle(self) -> bool:
        return not self._writing and self._queue.empty()

    async def run_writer(self) -> None:
        """Write queued batches one after the other; ack each message once its batch committed."""
        while True:
            if self._buffer:  # gathered while the last batch was written: it goes next
                self._wake.set()
            batch = await self._queue.get()
            self._writing = True
            try:
                await self._write(batch)
                for item in batch:
                    await self._ack(item)
            finally:
                self._writing = False

    async def run_timer(self) -> None:
        """Hand a partly filled batch to an idle writer (after the linger), or to a busy one
        once its oldest message has waited `max_wait_seconds`."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._max_wait / 2)
            woken = self._wake.is_set()
            self._wake.clear()
            if woken:
                await asyncio.sleep(self._linger)
            if not self._buffer:
                continue
            aged = (
                self._first_at is not None and time.monotonic() - self._first_at >= self._max_wait
            )
            if aged or self._writer_idle():
                await self.flush()
