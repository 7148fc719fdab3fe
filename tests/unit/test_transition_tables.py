"""Every lifecycle's transition table names real event types of its own kind, and statuses of
its own lifecycle: a transition keyed by a class outside the catalog, or by a type of another
kind, would silently disable a check."""

from __future__ import annotations

import pytest

from casestream.domain.cases import LIFECYCLES
from casestream.domain.catalog import PAYLOAD_TYPES, CaseKind


@pytest.mark.parametrize("kind", list(CaseKind))
def test_each_transition_names_an_event_type_of_its_kind_and_statuses_of_its_lifecycle(
    kind: CaseKind,
) -> None:
    lifecycle = LIFECYCLES[kind]
    for payload_type, transition in lifecycle.transitions.items():
        event_type = payload_type.__name__
        assert PAYLOAD_TYPES.get(event_type) is payload_type, (
            f"{kind.value}: no event type {event_type!r}"
        )
        assert kind in payload_type.case_kinds, (kind.value, event_type)
        named = set(transition.allowed_from or ()) | ({transition.to} if transition.to else set())
        assert named <= set(lifecycle.statuses), (kind.value, event_type, named)
