"""Command bodies cannot drift from the events they become: each field a command takes has the
bounds of the event field it fills (a body the command accepts is never one the event refuses)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from casestream.api import schemas
from casestream.domain import catalog
from casestream.domain import rectification_commands as commands
from casestream.domain.command_catalogue import COMMANDS

PAIRS = [
    (commands.OpenRectification, catalog.RectificationOpened),
    (commands.CompleteReview, catalog.ReviewCompleted),
    (commands.AddMeasure, catalog.MeasureAdded),
    (commands.ReportProgress, catalog.ProgressReported),
    (commands.Complete, catalog.RectificationCompleted),
    (commands.Verify, catalog.RectificationVerified),
    (commands.Reject, catalog.RectificationRejected),
    (commands.Reopen, catalog.RectificationReopened),
    (commands.ExtendDeadline, catalog.RectificationDeadlineExtended),
    (commands.Reassign, catalog.ResponsiblePersonChanged),
    (schemas.Complete, catalog.RectificationCompleted),  # the completion route's own body
]
# fields a body takes as digests of uploaded evidence files and the event holds described
# (api/evidence.py): as many items, each resolved from its upload
CITED_BY_DIGEST = {(schemas.Complete, "files")}


def _bounds(model: type[BaseModel], field: str) -> dict[str, Any]:
    schema = model.model_json_schema()
    found = dict(schema["properties"][field])
    for loose in ("title", "default", "description"):
        found.pop(loose, None)
    return found


@pytest.mark.parametrize(("command", "event"), PAIRS, ids=lambda m: m.__name__)
def test_each_command_field_has_the_bounds_of_its_event_field(
    command: type[BaseModel], event: type[BaseModel]
) -> None:
    shared = set(command.model_fields) & set(event.model_fields)
    assert shared, f"{command.__name__} fills no field of {event.__name__}"
    for field in sorted(shared):
        command_bounds, event_bounds = _bounds(command, field), _bounds(event, field)
        if (command, field) in CITED_BY_DIGEST:
            assert command_bounds["items"] == {"pattern": "^[0-9a-f]{64}$", "type": "string"}
            command_bounds.pop("items"), event_bounds.pop("items")
        # $defs references differ in name only when the enum is the same class
        assert command_bounds == event_bounds, (field, command_bounds, event_bounds)


def test_no_command_body_is_refused_as_a_whole_so_each_422_names_a_field() -> None:
    whole = [
        f"{kind}.{name}"
        for (kind, name), handler in sorted(COMMANDS.items())
        if handler.model.__pydantic_decorators__.model_validators
    ]
    assert whole == [], "check across fields in a field validator of the field at fault"
