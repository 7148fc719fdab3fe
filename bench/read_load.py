"""The API load bench's requests: reads of one case, filtered lists (and pages deep into them,
each the page after the cursor the previous answer returned), and events posted then read back;
sent on an open-loop schedule (as command_load.py: request i is due at start + i / rate, its
latency counts from that due instant, so a slow server cannot slow the load and hide its
queueing).
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import aiohttp
from command_load import NO_ANSWER

from casestream.domain.catalog import ComplaintReceived

PAGE = 50  # the default limit of GET /cases
Call = Callable[[], Awaitable[int]]  # one request (or request chain); its answer's status
Pick = Callable[[], tuple[str, Call]]  # the next request due: its route label and its call


@dataclass(frozen=True)
class Shot:
    route: str
    status: int  # 0: a transport error or the client's timeout; NO_ANSWER: none by the end
    latency: float  # seconds from the request's due instant to its (last) answer
    send_lag: float  # seconds from the due instant to the send (the generator's own delay)


async def open_loop(
    rate: float,
    seconds: float,
    pick: Pick,
    *,
    drain_timeout: float,
    on_answer: Callable[[], None] = lambda: None,
) -> list[Shot]:
    """rate x seconds requests from `pick`, each sent at its due instant whatever the answers
    do; the answers still missing `drain_timeout` s after the last send count as NO_ANSWER."""
    loop = asyncio.get_running_loop()
    shots: list[Shot] = []
    pending: set[asyncio.Task[None]] = set()

    async def send(route: str, call: Call, due: float) -> None:
        sent = loop.time()
        try:
            status = await call()
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError):
            status = 0
        except asyncio.CancelledError:
            shots.append(Shot(route, NO_ANSWER, loop.time() - due, sent - due))
            raise
        shots.append(Shot(route, status, loop.time() - due, sent - due))
        on_answer()

    total = max(1, round(rate * seconds))
    start = loop.time() + 0.05
    for number in range(total):
        due = start + number / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        route, call = pick()
        task = loop.create_task(send(route, call, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        _done, late = await asyncio.wait(set(pending), timeout=drain_timeout)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
    return shots


async def _status(response: aiohttp.ClientResponse) -> int:
    await response.read()
    return response.status


@dataclass
class CaseReads:
    """GET /cases/{id} of random sampled cases: as a leader (every department) or as the head
    of the case's own department, half each."""

    client: aiohttp.ClientSession
    case_ids: list[tuple[str, str | None]]  # (case id, department)
    leader: dict[str, str]
    head: Callable[[str], dict[str, str]]
    rng: random.Random

    def pick(self) -> tuple[str, Call]:
        case_id, department = self.rng.choice(self.case_ids)
        as_head = department is not None and self.rng.random() < 0.5
        headers = self.head(department) if as_head else self.leader

        async def call() -> int:
            async with self.client.get(f"/cases/{quote(case_id)}", headers=headers) as response:
                return await _status(response)

        return "GET /cases/{id}", call


@dataclass
class Walk:
    """A reader paging through one filtered list: its filters and the cursor of its next page."""

    params: dict[str, str]
    cursor: str
    pages: int = 0


@dataclass
class CaseLists:
    """A mix of GET /cases: one filter each (kind, status, department, enterprise, a week of
    received dates), and pages deep into a list, each after the cursor the previous page of its
    walk returned (walks start at cursors deep into their list; `starts`)."""

    client: aiohttp.ClientSession
    leader: dict[str, str]
    rng: random.Random
    kinds: list[str]
    statuses: list[tuple[str, str]]
    departments: list[str]
    enterprise_names: list[str]
    received: tuple[datetime, datetime]
    starts: list[Walk]  # deep starting points (a cursor made from a row deep in the list)
    idle: list[Walk] = field(default_factory=list)
    walked: int = 0  # pages walked
    ended: int = 0  # walks that reached their list's end

    def pick(self) -> tuple[str, Call]:
        shape = self.rng.randrange(6)
        if shape == 0:
            return self._list("case_kind", {"case_kind": self.rng.choice(self.kinds)})
        if shape == 1:
            return self._list("status", {"status": self.rng.choice(self.statuses)[1]})
        if shape == 2:
            return self._list("department", {"department": self.rng.choice(self.departments)})
        if shape == 3:
            return self._list("enterprise", {"enterprise": self.rng.choice(self.enterprise_names)})
        if shape == 4:
            earliest, latest = self.received
            span = max(0.0, (latest - earliest).total_seconds() - 7 * 86400)
            since = earliest + timedelta(seconds=self.rng.uniform(0, span))
            window = {
                "received_from": since.isoformat(),
                "received_to": (since + timedelta(days=7)).isoformat(),
            }
            return self._list("received_from&received_to", window)
        return self._deep()

    def _list(self, label: str, params: dict[str, str]) -> tuple[str, Call]:
        async def call() -> int:
            async with self.client.get("/cases", params=params, headers=self.leader) as response:
                return await _status(response)

        return f"GET /cases?{label}", call

    def _deep(self) -> tuple[str, Call]:
        walk = self.idle.pop() if self.idle else self._start()

        async def call() -> int:
            params = {**walk.params, "cursor": walk.cursor}
            async with self.client.get("/cases", params=params, headers=self.leader) as response:
                status = response.status
                body: dict[str, Any] = await response.json() if status == 200 else {}
            self.walked += 1
            walk.pages += 1
            next_cursor = body.get("next_cursor")
            if next_cursor:
                walk.cursor = next_cursor
                self.idle.append(walk)
            elif status == 200:
                self.ended += 1
            return status

        filters = "&".join(sorted(walk.params)) or "no filter"
        return f"GET /cases?cursor (deep; {filters})", call

    def _start(self) -> Walk:
        start = self.rng.choice(self.starts)
        return Walk(dict(start.params), start.cursor)


@dataclass
class PostedEvents:
    """POST /events of a new complaint (ComplaintReceived, as a system), then GET /cases/{id}
    with the answer's consistency_token: the latency is until the case is readable."""

    client: aiohttp.ClientSession
    system: dict[str, str]
    run_id: str
    rng: random.Random
    departments: list[str]
    count: int = 0

    def pick(self) -> tuple[str, Call]:
        self.count += 1
        case_id = f"C-E2E-{self.run_id}-{self.count}"
        body = {
            "event_type": ComplaintReceived.__name__,
            "event_id": str(uuid.uuid4()),
            "case_id": case_id,
            "case_kind": "complaint",
            "occurred_at": datetime.now(UTC).isoformat(),
            "payload": {
                "channel": "hotline_12345",
                "subject": "窗口办证拖延",
                "enterprise": False,
                "department": self.rng.choice(self.departments),
            },
        }

        async def call() -> int:
            async with self.client.post("/events", json=body, headers=self.system) as posted:
                if posted.status != 202:
                    await posted.read()
                    return posted.status
                token = (await posted.json())["consistency_token"]
            async with self.client.get(
                f"/cases/{quote(case_id)}",
                params={"consistency_token": token},
                headers=self.system,
            ) as response:
                return await _status(response)

        return "POST /events → GET /cases/{id}", call
