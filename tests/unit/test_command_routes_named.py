"""A raw POST of a staff decision is refused with the route that makes it: every payload of
origin `command` names its route."""

from __future__ import annotations

from casestream.api.events import COMMAND_ROUTES
from casestream.domain.catalog import PAYLOAD_TYPES, Origin


def test_every_staff_decision_names_the_route_that_makes_it() -> None:
    decisions = {cls for cls in PAYLOAD_TYPES.values() if cls.origin is Origin.command}
    assert decisions and decisions == set(COMMAND_ROUTES)
