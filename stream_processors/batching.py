"""Batching consumed messages so that batch N is written while batch N+1 is being collected.

A message is acknowledged to the consumer only after the transaction holding its batch (and
its offset) has committed, so the consumer group never commits past the read models.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class PipelinedBatches(Generic[T]):
    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[object]],
        ack: Callable[[T], Awaitable[object]],
        batch_size: int,
        max_wait_seconds: float,
    ) -> None:
        self._write = write
        self._ack = ack
        self._batch_size = batch_size
        self._max_wait = max_wait_seconds
        self._buffer: list[T] = []
        self._first_at: float | None = None
        self._lock = asyncio.Lock()  # batches enter the queue in the order they were filled
        self._queue: asyncio.Queue[list[T]] = asyncio.Queue(maxsize=1)

    async def add(self, item: T) -> None:
        if self._first_at is None:
            self._first_at = time.monotonic()
        self._buffer.append(item)
        if len(self._buffer) >= self._batch_size:
            await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            if not self._buffer:
                return
            batch, self._buffer, self._first_at = self._buffer, [], None
            await self._queue.put(batch)

    async def run_writer(self) -> None:
        """Write queued batches one after the other; ack each message once its batch committed."""
        while True:
            batch = await self._queue.get()
            await self._write(batch)
            for item in batch:
                await self._ack(item)

    async def run_timer(self) -> None:
        """Flush a partly filled batch once its oldest message has waited `max_wait_seconds`."""
        while True:
            await asyncio.sleep(self._max_wait / 2)
            if self._first_at is not None and time.monotonic() - self._first_at >= self._max_wait:
                await self.flush()
