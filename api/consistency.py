"""Consistency tokens: where a write landed in Kafka, so a later read can wait until it is projected."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from casestream.domain.lifecycle import CaseState

log = logging.getLogger(__name__)
K = TypeVar("K")


class BadToken(ValueError):
    """A consistency token this server did not issue."""


@dataclass(frozen=True)
class ConsistencyToken:
    topic: str
    partition: int
    offset: int

    def encode(self) -> str:
        raw = f"{self.topic}\x1f{self.partition}\x1f{self.offset}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> ConsistencyToken:
        refused = BadToken("consistency_token is not one this server issued")
        if len(token) > 400:
            raise refused
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            topic, partition, offset = raw.split("\x1f")
            found = cls(topic, int(partition), int(offset))
        except (ValueError, UnicodeDecodeError) as exc:
            raise refused from exc
        bounded = 0 < len(found.topic) <= 249 and 0 <= found.partition < 2**31
        if not bounded or not 0 <= found.offset < 2**62:
            raise refused
        return found


POLL_CEILING = 0.05
"""The longest pause between two looks at the read models while a write waits for them."""


async def wait_until(condition: Callable[[], bool], timeout_seconds: float) -> bool:
    """Poll `condition` (a read-model query, run off the event loop) until true or time is up."""
    deadline = time.monotonic() + timeout_seconds
    delay = 0.02
    while True:
        if await asyncio.to_thread(condition):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        # at most POLL_CEILING late: the projector writes a batch every 0.2 s or sooner, and an
        # answer waiting for it should follow the batch, not the next doubling of the delay
        delay = min(delay * 2, POLL_CEILING)


class ProjectedVersions(Generic[K]):
    """Waits of this API process for keys to reach a version in the read models, answered by
    one look for all of them at a time (`look(keys) -> {key: version}`), every `interval`
    seconds while any wait is open: at 100 commands a second the database is asked once per
    interval, not once per waiting request and interval. Keys are case ids (a case's version)
    or (topic, partition) (the projector's next offset there)."""

    def __init__(
        self,
        look: Callable[[Collection[K]], Mapping[K, int]],
        interval: float = 0.01,
    ) -> None:
        self._look = look
        self._interval = interval
        self._waiting: dict[K, list[tuple[int, asyncio.Future[None]]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def reached(self, key: K, version: int, timeout_seconds: float) -> bool:
        """Whether `key` is at `version` or later in the read models within the time."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests): the old one's waits are gone
            self._loop, self._task, self._waiting = loop, None, {}
        arrived: asyncio.Future[None] = loop.create_future()
        entry = (version, arrived)
        self._waiting.setdefault(key, []).append(entry)
        if self._task is None:
            self._task = loop.create_task(self._watch())
        try:
            await asyncio.wait_for(arrived, max(0.0, timeout_seconds))
        except TimeoutError:
            return False
        finally:
            waits = self._waiting.get(key, [])
            if entry in waits:
                waits.remove(entry)
            if not waits:
                self._waiting.pop(key, None)
        return True

    async def _watch(self) -> None:
        try:
            while self._waiting:
                try:
                    found = await asyncio.to_thread(self._look, list(self._waiting))
                except Exception:  # the database away: the waits run out into 202s
                    log.warning("could not read the projected versions", exc_info=True)
                    found = {}
                for case_id, waits in self._waiting.items():
                    have = found.get(case_id, 0)
                    for version, arrived in waits:
                        if have >= version and not arrived.done():
                            arrived.set_result(None)
                await asyncio.sleep(self._interval)
        finally:
            if self._task is asyncio.current_task():
                self._task = None


class OutboxMarks:
    """Outbox rows this API process has sent, marked sent together (`mark(event_ids)`) every
    `interval` seconds while any are pending: one statement for all the commands of the
    interval, none on a command's own path. A row not marked (the process stopped, the
    database away) is sent again by the worker's relay: the projector applies it once."""

    def __init__(self, mark: Callable[[list[str]], None], interval: float = 0.05) -> None:
        self._mark = mark
        self._interval = interval
        self._pending: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, event_ids: Iterable[str]) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (tests): the old one's task is gone
            self._loop, self._task = loop, None
        self._pending.extend(event_ids)
        if self._task is None and self._pending:
            self._task = loop.create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._pending:
                await asyncio.sleep(self._interval)
                marked, self._pending = self._pending, []
                try:
                    await asyncio.to_thread(self._mark, marked)
                except Exception:  # the relay sends them again: nothing lost, nothing doubled
                    log.warning("could not mark %d outbox rows sent", len(marked), exc_info=True)
        finally:
            if self._task is asyncio.current_task():
                self._task = None


class RecentWrites:
    """The cases this API process wrote lately (bounded): where each write landed and the state
    it made. Until the read models hold that write, a decision on the case is made on this
    state, so a client posting one event after another is judged on what its own earlier
    events made, without waiting for the projector."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._capacity = capacity
        self._writes: OrderedDict[str, tuple[ConsistencyToken, CaseState]] = OrderedDict()

    def remember(self, case_id: str, token: ConsistencyToken, after: CaseState) -> None:
        self._writes[case_id] = (token, after)
        self._writes.move_to_end(case_id)
        while len(self._writes) > self._capacity:
            self._writes.popitem(last=False)

    def last(self, case_id: str) -> tuple[ConsistencyToken, CaseState] | None:
        return self._writes.get(case_id)
