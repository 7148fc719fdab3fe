"""Consistency tokens: where a write landed in Kafka, so a later read can wait until it is projected."""

from __future__ import annotations

import asyncio
import base64
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from casestream.domain.lifecycle import CaseState
from casestream.read_models.queries import CaseQueries


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


async def wait_for_token(
    queries: CaseQueries, token: ConsistencyToken, timeout_seconds: float
) -> bool:
    return await wait_until(
        lambda: queries.offset_visible(token.topic, token.partition, token.offset), timeout_seconds
    )


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
