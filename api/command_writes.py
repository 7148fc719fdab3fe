"""Carrying out a command with one writer per case (README, "Commands and one writer per case").

A command is decided on the case as the read models hold it once every command reserved on it
earlier is projected; the version decided on is reserved with the events' outbox rows in one
transaction (another command on the same version fails on the primary key: 409), then the
events are handed to Kafka and the answer waits for them in the read models. Off the event
loop this takes two trips, one reading the case, one reserving and handing the events to the
producer; no thread waits for Kafka's acknowledgement, and sent outbox rows are marked in
batches (`consistency.OutboxMarks`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
from fastapi import HTTPException
from fastapi.concurrency import run_in_threadpool

from casestream.domain.cases import evolve, restore_state
from casestream.domain.catalog import CaseKind, Payload, cited_files
from casestream.domain.commands import Command, Context, RoleRefused, decide
from casestream.domain.commands import Refusal as DomainRefusal
from casestream.domain.envelope import Event, field_errors, new_event
from casestream.domain.lifecycle import CaseState
from casestream.policy import date_window
from casestream.producers.intake import refuse_implausible
from casestream.producers.kafka_producer import Delivered, SendFailed
from casestream.read_models.command_reservations import (
    CommandReservations,
    Reservation,
    VersionTaken,
    command_event_id,
)

from .auth import Principal, not_found, visible_department
from .consistency import ConsistencyToken
from .deps import Services
from .evidence import uploaded_files
from .problems import unprocessable
from .writes import conflict

BUSY = (
    "an earlier command on this case is not in the read models yet; retry in a moment "
    "(nothing was done)"
)


@dataclass(frozen=True)
class CommandTarget:
    """The case a command is given on, as the caller names it."""

    case_id: str
    what: str  # how a 404 names it: "case 'C-1'", "rectification 'RECT-1'"
    expected_version: int | None = None  # the caller decided on this version (stale: 409)
    fields_at: str = ""  # where the command's fields are in the body ("fields" of POST /cases)


@dataclass(frozen=True)
class Carried:
    """A command carried out: its events reserved and committed to the outbox; `delivered` is
    None when Kafka did not confirm them (the worker's outbox relay sends them)."""

    case_id: str
    version: int  # the case's version once the events are applied
    events: tuple[Event[Any], ...]
    delivered: tuple[Delivered, ...] | None

    @property
    def event_ids(self) -> list[str]:
        return [str(event.event_id) for event in self.events]

    @property
    def token(self) -> ConsistencyToken | None:
        if not self.delivered:
            return None
        last = self.delivered[-1]
        return ConsistencyToken(last.topic, last.partition, last.offset)


@dataclass(frozen=True)
class Standing:
    """A case as the read models hold it, for deciding a command on it."""

    state: CaseState | None
    reserved: int  # the version it has once every command reserved on it is applied

    @property
    def projected(self) -> int:  # its version in the read models (0: not there)
        return self.state.version if self.state else 0

    @property
    def kind(self) -> CaseKind | None:
        return None if self.state is None else self.state.case_kind


def read_standing(services: Services, case_id: str) -> Standing:
    """The case and its reservations, read in one connection (blocking: off the event loop)."""
    reserved, found = CommandReservations(services.queries.engine).standing(case_id)
    state = None if found is None else restore_state(CaseKind(found[0]), found[1])
    return Standing(state, reserved)


async def _settled(services: Services, case_id: str, standing: Standing | None) -> Standing:
    """The case once every command reserved on it earlier is in the read models: a client that
    sends one command after another is judged on what its own earlier ones made (409 busy when
    they are not there within CASESTREAM_COMMAND_WAIT_SECONDS)."""
    if standing is None:
        standing = await run_in_threadpool(read_standing, services, case_id)
    if standing.reserved <= standing.projected:
        return standing
    reached = await services.projected.reached(
        case_id, standing.reserved, services.settings.command_wait_seconds
    )
    if not reached:
        raise HTTPException(
            409,
            {"reason": BUSY, "current_version": standing.projected},
            headers={"Retry-After": "1"},
        )
    return await run_in_threadpool(read_standing, services, case_id)


def _decided(
    state: CaseState | None, command: Command, context: Context, target: CommandTarget
) -> tuple[Payload, ...]:
    """The domain's decision, or the answer refusing it (403 role, 404 unknown, 409 state)."""
    try:
        decision = decide(state, command, context)
    except RoleRefused as exc:
        raise HTTPException(403, str(exc)) from exc
    except LookupError as exc:
        raise not_found(target.what) from exc
    if isinstance(decision, DomainRefusal):
        raise conflict(decision.reason, state.version if state else 0)
    return decision


def _events(
    services: Services,
    principal: Principal,
    command: Command,
    version: int,
    payloads: tuple[Payload, ...],
    now: datetime,
    target: CommandTarget,
) -> tuple[Event[Any], ...]:
    """The events of the decision, with ids from (case, version decided on); 422 for a date
    outside the plausible window, named as the body's field."""
    try:
        events = tuple(
            new_event(
                payload,
                case_id=target.case_id,
                case_kind=command.case_kind,
                # one microsecond apart: the outbox relay sends in (occurred_at, event_id) order
                occurred_at=now + timedelta(microseconds=index),
                source=principal.source,
                actor=principal.subject,
                event_id=command_event_id(target.case_id, version, index),
            )
            for index, payload in enumerate(payloads)
        )
        for event in events:
            refuse_implausible(event, now=now, window=date_window(services.settings))
    except pydantic.ValidationError as exc:  # the payload's fields are the body's
        at = f"{target.fields_at}." if target.fields_at else ""
        problems = [(at + field.removeprefix("payload."), msg) for field, msg in field_errors(exc)]
        raise unprocessable("body", problems) from exc
    return events


async def _files_uploaded(
    services: Services, principal: Principal, events: tuple[Event[Any], ...], at: str
) -> None:
    """422 naming `files.<i>` of each file the command cites that was not completely uploaded,
    or whose type or size differs from the upload's."""
    field = f"{at}.files" if at else "files"
    for event in events:
        cited = cited_files(event.payload)
        if not cited:
            continue
        uploads = await uploaded_files(
            services, principal, [file.sha256 for file in cited], field=field
        )
        wrong = [
            (
                f"{field}.{i}",
                f"the file uploaded under this digest is {upload.media_type.value} "
                f"of {upload.size} bytes",
            )
            for i, (file, upload) in enumerate(zip(cited, uploads, strict=True))
            if (file.media_type, file.size) != (upload.media_type, upload.size)
        ]
        if wrong:
            raise unprocessable("body", wrong)


def _require_kafka(services: Services, events: tuple[Event[Any], ...]) -> None:
    if not services.settings.kafka_bootstrap:
        raise HTTPException(
            503,
            {
                "reason": "this API has no Kafka to send events to (CASESTREAM_KAFKA_BOOTSTRAP "
                "is unset); nothing was done",
                "event_id": str(events[0].event_id) if events else "",
                "retry": "set CASESTREAM_KAFKA_BOOTSTRAP and restart the API, then give the "
                "same command again",
            },
        )


def _known_rule(services: Services, command: Command, target: CommandTarget) -> None:
    """422 naming `rule` when a command names a deadline rule its case kind does not have (an
    extension of a misspelt rule would otherwise move no clock and still answer 200)."""
    named = getattr(command, "rule", None)
    if not isinstance(named, str):
        return
    rules = services.rulebook.rules
    if named in rules and command.case_kind in rules[named].case_kinds:
        return
    kind = command.case_kind
    known = ", ".join(sorted(rule_id for rule_id, rule in rules.items() if kind in rule.case_kinds))
    at = f"{target.fields_at}." if target.fields_at else ""
    problem = f"no deadline rule of a {kind} has this id; known: {known}"
    raise unprocessable("body", [(f"{at}rule", problem)])


def _reserve_and_send(
    services: Services,
    reservation: Reservation,
    events: tuple[Event[Any], ...],
    on_done: Callable[[tuple[Delivered, ...] | None], None],
) -> bool:
    """Reserve the version with the events' outbox rows (VersionTaken when another command had
    it first), then hand the events to the producer, whose answer `on_done` hears; False when
    no producer could connect (the events wait in the outbox for the worker's relay)."""
    CommandReservations(services.queries.engine).reserve(reservation, events)
    try:
        producer = services.producer  # connects on the first send: the broker may be away
    except SendFailed:
        return False
    producer.send_nowait(events, on_done)
    return True


async def _reserved_and_sent(
    services: Services, reservation: Reservation, events: tuple[Event[Any], ...]
) -> tuple[Delivered, ...] | None:
    """Reserve and send (one trip off the event loop; no thread waits for Kafka): where Kafka
    stored the events, or None when it did not confirm them (their outbox rows stay for the
    worker's relay: nothing is lost, nothing doubled). Sent rows are marked in batches."""
    loop = asyncio.get_running_loop()
    acked: asyncio.Future[tuple[Delivered, ...] | None] = loop.create_future()

    def answered(delivered: tuple[Delivered, ...] | None) -> None:  # on the producer's thread
        loop.call_soon_threadsafe(_settle, acked, delivered)

    if not await run_in_threadpool(_reserve_and_send, services, reservation, events, answered):
        return None
    try:
        delivered = await asyncio.wait_for(acked, services.producer.timeout_seconds + 1.0)
    except TimeoutError:
        services.producer.unanswered()
        return None
    if delivered is not None:
        services.sent_marks.add(str(event.event_id) for event in events)
    return delivered


def _settle(
    acked: asyncio.Future[tuple[Delivered, ...] | None], delivered: tuple[Delivered, ...] | None
) -> None:
    if not acked.done():
        acked.set_result(delivered)


async def carry_out(
    services: Services,
    principal: Principal,
    target: CommandTarget,
    command: Command,
    standing: Standing | None = None,
) -> Carried:
    """Decide `command` on the case as the read models hold it (`standing`, when the caller has
    just read it), reserve the version decided on with the events in the outbox (one
    transaction), then send them to Kafka.

    Answers (as HTTPException) 404 for a case the caller may not see or that does not exist, 403
    for a role the command does not allow, 409 when the state refuses it, `expected_version` is
    stale, another command was decided on the same version first, or an earlier one is not
    projected in time; 422 for an implausible date; 503 without Kafka."""
    standing = await _settled(services, target.case_id, standing)
    state, scope = standing.state, visible_department(principal)
    if state is not None and scope is not None and state.department != scope:
        if command.opens_case:
            raise conflict(f"case {target.case_id} is already registered", 0)
        raise not_found(target.what)
    if state is None and not command.opens_case:
        raise not_found(target.what)
    version = state.version if state else 0
    if target.expected_version is not None and target.expected_version != version:
        raise conflict(
            f"the case is at version {version}, not {target.expected_version}: read it again",
            version,
        )
    _known_rule(services, command, target)
    now = datetime.now(UTC)
    # decided on the bureau's clock: a day the staff name (a hearing held today) is its day
    local_now = now.astimezone(ZoneInfo(services.settings.timezone))
    context = Context(principal.subject, principal.role, local_now, target.case_id)
    payloads = _decided(state, command, context, target)
    events = _events(services, principal, command, version, payloads, now, target)
    after = state
    for event in events:
        after = evolve(after, event)
    if command.opens_case and scope is not None and after is not None and after.department != scope:
        raise HTTPException(403, f"a {principal.role.value} registers cases of {scope} only")
    await _files_uploaded(services, principal, events, target.fields_at)
    _require_kafka(services, events)
    reservation = Reservation(target.case_id, version, command.name, principal.subject, now)
    try:
        delivered = await _reserved_and_sent(services, reservation, events)
    except VersionTaken as exc:
        current = await run_in_threadpool(read_standing, services, target.case_id)
        raise conflict(
            f"{exc}; read the case and decide again", max(current.projected, current.reserved)
        ) from exc
    for event in events:  # accepted: committed with the reservation, sent now or by the relay
        services.metrics.events_posted.labels(event.event_type).inc()
    carried = Carried(target.case_id, reservation.next_version(events), events, delivered)
    if carried.token is not None and after is not None:
        services.recent_writes.remember(target.case_id, carried.token, after)
    return carried


async def applied_within(services: Services, carried: Carried) -> bool:
    """Whether the read models hold the command's events within CASESTREAM_COMMAND_WAIT_SECONDS."""
    if carried.delivered is None:
        return False
    return await services.projected.reached(
        carried.case_id, carried.version, services.settings.command_wait_seconds
    )
