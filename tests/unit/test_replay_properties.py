"""Properties of the pure core that make replay and batched projection safe."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from casestream.domain.cases import evolve, fold, restore_state
from casestream.domain.catalog import CaseKind
from casestream.domain.envelope import Event, parse_event
from casestream.domain.lifecycle import CaseState
from casestream.producers.simulation import simulate
from tests.events import T0
from tests.strategies import case_events

EVENTS = simulate(random.Random(11), 60, T0, prefix="H")
BY_CASE: dict[str, list[Event[Any]]] = {}
for _event in EVENTS:
    BY_CASE.setdefault(_event.case_id, []).append(_event)
CASE_IDS = sorted(BY_CASE)


@settings(max_examples=200, deadline=None)
@given(case_id=st.sampled_from(CASE_IDS), cuts=st.sets(st.integers(0, 10)))
def test_state_stored_and_restored_between_batches_evolves_like_state_kept_in_memory(
    case_id: str, cuts: set[int]
) -> None:
    events = BY_CASE[case_id]
    state: CaseState | None = None
    for index, event in enumerate(events):
        if state is not None and index in cuts:  # a batch boundary: the projector reloads from JSON
            state = restore_state(
                state.case_kind, json.loads(json.dumps(state.model_dump(mode="json")))
            )
        state = evolve(state, event)
    assert state == fold(events)


@settings(max_examples=100, deadline=None)
@given(case_id=st.sampled_from(CASE_IDS))
def test_replay_from_the_wire_format_is_deterministic(case_id: str) -> None:
    events = BY_CASE[case_id]
    replayed = [parse_event(event.to_json_bytes()) for event in events]
    assert fold(replayed) == fold(events) == fold(list(events))


SOME = CASE_IDS[:12]
SLOTS = [case_id for case_id in SOME for _ in BY_CASE[case_id]]


@settings(max_examples=100, deadline=None)
@given(order=st.permutations(SLOTS))
def test_cases_do_not_influence_each_other_whatever_the_interleaving(order: list[str]) -> None:
    """Events of different cases interleaved any way (each case's own order kept, as one Kafka
    partition keeps it): every case ends as its own events alone make it."""
    states: dict[str, CaseState] = {}
    taken = dict.fromkeys(SOME, 0)
    for case_id in order:
        event = BY_CASE[case_id][taken[case_id]]
        taken[case_id] += 1
        states[case_id] = evolve(states.get(case_id), event)
    for case_id in SOME:  # the oracle: each case folded on its own, from the wire format
        alone = [parse_event(event.to_json_bytes()) for event in BY_CASE[case_id]]
        assert states[case_id] == fold(alone)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), kind=st.sampled_from(list(CaseKind)))
def test_generated_cases_of_every_kind_follow_their_lifecycle(
    data: st.DataObject, kind: CaseKind
) -> None:
    """The sequences the duplicate-delivery properties use are ones a case really goes
    through: folded, they open the case and record no anomaly."""
    events = data.draw(case_events(kind))
    state = fold(events)
    assert state is not None and state.case_kind is kind
    assert state.status != CaseState.UNOPENED and state.anomalies == ()
    assert state.version == len(events)


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(list(CaseKind)), data=st.data())
def test_a_duplicate_event_changes_nothing_for_every_case_kind(
    kind: CaseKind, data: st.DataObject
) -> None:
    """A redelivered event (right after itself or any later) leaves the case as it was."""
    events = data.draw(case_events(kind))
    original = data.draw(st.integers(0, len(events) - 1), label="duplicated")
    again = data.draw(st.integers(original + 1, len(events)), label="delivered again before")
    redelivered = parse_event(events[original].to_json_bytes())  # the same record, read again
    with_duplicate = [*events[:again], redelivered, *events[again:]]
    assert fold(with_duplicate) == fold(events)
