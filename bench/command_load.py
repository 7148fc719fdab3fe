"""The command bench's load: the cases it drives (complaints and rectifications, each a script of
legal commands given in order), the open-loop schedule that sends them, and what each answer
took.

Open loop: request i is due at start + i / rate whatever the earlier answers do, and its latency
counts from that due instant, not from when the generator got round to sending it, so a slow
server cannot slow the load down and hide its own queueing (no coordinated omission).

One writer per case: a case is given its next command only after the answer to its previous
one, so the commands on one case are sequential, as a member of staff gives them; the load is
spread over many cases at once (--active cases waiting for their next command).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

DEPARTMENTS = ("治安大队", "交警大队", "出入境管理大队", "户政科", "城关派出所", "东城派出所")
NO_ANSWER = -1  # the status of a request still unanswered when its phase's wait ended
RETRIES = 3  # a 409 "retry" (an earlier command not yet projected) is retried this often


@dataclass(frozen=True)
class Step:
    """One request of a case's script: POST path with body; `opens` for the registration."""

    name: str
    path: str
    body: dict[str, Any]
    opens: bool = False


@dataclass
class Case:
    case_id: str
    department: str
    steps: list[Step]
    done: int = 0
    retries: int = 0

    @property
    def finished(self) -> bool:
        return self.done >= len(self.steps)


def _command(case_id: str, name: str, body: dict[str, Any]) -> Step:
    return Step(name, f"/cases/{case_id}/commands/{name}", body)


def complaint(case_id: str, department: str, rng: random.Random) -> Case:
    """登记 → 受理 → 交办 → 答复 (1-2) → 办结 → 回访."""
    opened = Step(
        "complaint.register",
        "/cases",
        {
            "case_kind": "complaint",
            "command": "register",
            "case_id": case_id,
            "fields": {
                "channel": rng.choice(["window", "letter", "online"]),
                "subject": rng.choice(
                    ["窗口办证拖延", "执法态度粗暴", "罚款不出具票据", "户口迁移受阻"]
                ),
                "department": department,
            },
        },
        opens=True,
    )
    replies = [
        _command(case_id, "reply", {"reply": f"已核实情况并答复（第{n + 1}次）"})
        for n in range(rng.randint(1, 2))
    ]
    return Case(
        case_id,
        department,
        [
            opened,
            _command(case_id, "accept", {}),
            _command(case_id, "assign", {"department": department, "handler": "张三"}),
            *replies,
            _command(case_id, "resolve", {"outcome": rng.choice(["explained", "substantiated"])}),
            _command(case_id, "record_follow_up", {"satisfaction": rng.randint(3, 5)}),
        ],
    )


def rectification(case_id: str, department: str, rng: random.Random) -> Case:
    """开启 → measures and progress reports interleaved (4-8) → 整改完成."""
    deadline = (datetime.now(UTC) + timedelta(days=rng.randint(20, 90))).date().isoformat()
    opened = Step(
        "rectification.open",
        "/cases",
        {
            "case_kind": "rectification",
            "command": "open",
            "case_id": case_id,
            "fields": {
                "department": department,
                "responsible_person": rng.choice(["李四", "王五", "赵六"]),
                "deadline": deadline,
                "description": "执法质量考评发现的问题",
            },
        },
        opens=True,
    )
    middle: list[Step] = []
    percent = 0
    for n in range(rng.randint(4, 8)):
        if n % 2 == 0:
            middle.append(
                _command(case_id, "add_measure", {"measure": f"整改措施{n + 1}：全员培训"})
            )
        else:
            percent = min(95, percent + rng.randint(10, 30))
            body = {"progress": f"已完成{percent}%", "percent": percent}
            middle.append(_command(case_id, "report_progress", body))
    done = _command(case_id, "complete", {"evidence": ["整改报告"], "summary": "已整改"})
    return Case(case_id, department, [opened, *middle, done])


@dataclass
class Answer:
    step: str  # the command's name ("complaint.register", "accept", …)
    opens: bool
    status: int  # 0: a transport error or the client's timeout; NO_ANSWER: none by the end
    latency: float  # seconds from the request's due instant to its answer
    send_lag: float  # seconds from the due instant to the send (the generator's own delay)


@dataclass
class Phase:
    """One rate's run: every answer and how the generator kept to its schedule."""

    rate: float
    seconds: float
    answers: list[Answer] = field(default_factory=list)
    cases_opened: int = 0
    cases_finished: int = 0


class CaseSource:
    """New cases in the mix: complaints with probability `complaint_share`, else rectifications."""

    def __init__(self, run_id: str, complaint_share: float, rng: random.Random) -> None:
        self._run_id = run_id
        self._share = complaint_share
        self._rng = rng
        self._count = 0
        self.ready: list[Case] = []  # cases waiting for their next command, kept across phases

    def new(self) -> Case:
        self._count += 1
        department = self._rng.choice(DEPARTMENTS)
        if self._rng.random() < self._share:
            return complaint(f"C-BENCH-{self._run_id}-{self._count}", department, self._rng)
        return rectification(f"RECT-BENCH-{self._run_id}-{self._count}", department, self._rng)


async def drive(
    client: aiohttp.ClientSession,
    headers: Callable[[str], dict[str, str]],
    source: CaseSource,
    rng: random.Random,
    phase: Phase,
    *,
    active: int,
    drain_timeout: float,
    on_answer: Callable[[], None] = lambda: None,
    record: bool = True,
) -> None:
    """Send rate x seconds requests on the open-loop schedule; wait (bounded) for their answers."""
    loop = asyncio.get_running_loop()
    ready = source.ready
    pending: set[asyncio.Task[None]] = set()

    async def send(case: Case, due: float) -> None:
        step = case.steps[case.done]
        sent = loop.time()
        try:
            async with client.post(
                step.path, json=step.body, headers=headers(case.department)
            ) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, TimeoutError):
            status = 0
        except asyncio.CancelledError:  # still unanswered when the phase's wait ended
            if record:
                lost = Answer(step.name, step.opens, NO_ANSWER, loop.time() - due, sent - due)
                phase.answers.append(lost)
            raise
        answered = loop.time()
        if record:
            phase.answers.append(Answer(step.name, step.opens, status, answered - due, sent - due))
        on_answer()
        if status in (200, 201, 202):
            case.done += 1
            case.retries = 0
        elif status == 409 and case.retries < RETRIES and not step.opens:
            case.retries += 1  # behind an earlier command not yet projected: give it again
        else:
            return  # refused or failed: the case leaves the mix
        if case.finished:
            phase.cases_finished += 1
        else:
            ready.append(case)

    total = max(1, round(phase.rate * phase.seconds))
    start = loop.time() + 0.05
    for number in range(total):
        due = start + number / phase.rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(ready) < active:
            case = source.new()
            phase.cases_opened += 1
        else:
            case = ready.pop(rng.randrange(len(ready)))
        task = loop.create_task(send(case, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        _done, late = await asyncio.wait(set(pending), timeout=drain_timeout)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
