"""The console's command forms built from command models: each field's input, a posted form read
back into the command's fields (local times in the bureau's zone, blank optional inputs left to
their defaults, one line per item), and validation problems named by input in Chinese."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar
from zoneinfo import ZoneInfo

import pydantic
import pytest
from pydantic import Field

from casestream.api.console_forms import (
    Posted,
    Widget,
    command_fields,
    command_values,
    filled,
    validation_errors,
)
from casestream.domain import catalog as ev
from casestream.domain.command_catalogue import COMMANDS
from casestream.domain.commands import Command, Role

ZONE = "Asia/Shanghai"


class ScheduleVisit(Command):
    """A command of no kind's catalogue, with the field types the catalogue lacks today."""

    name: ClassVar[str] = "schedule_visit"
    case_kind: ClassVar[ev.CaseKind] = ev.CaseKind.complaint
    roles: ClassVar[frozenset[Role]] = frozenset({Role.handler})
    label_zh: ClassVar[str] = "安排回访"
    label_en: ClassVar[str] = "Schedule a visit"

    visit_at: datetime
    visitors: Annotated[list[ev.ShortText], Field(max_length=3)] = Field(default_factory=list)


def _model(kind: ev.CaseKind, name: str) -> type[Command]:
    model: type[Command] = COMMANDS[(kind, name)].model
    return model


def test_each_field_type_becomes_its_input() -> None:
    register = {f.name: f for f in command_fields(_model(ev.CaseKind.complaint, "register"))}
    assert register["channel"].widget is Widget.select
    assert [c.label for c in register["channel"].choices][:2] == ["12345热线", "窗口"]
    assert (register["subject"].widget, register["subject"].max_length) == (Widget.text, 200)
    assert register["subject"].required and not register["department"].required
    assert register["description"].widget is Widget.textarea
    assert register["enterprise"].widget is Widget.checkbox
    assert register["complainant.name"].group == "投诉人"
    assert not register["complainant.name"].required  # the complainant may be left out
    review = {f.name: f for f in command_fields(_model(ev.CaseKind.rectification, "complete"))}
    assert review["evidence"].widget is Widget.lines and review["evidence"].required
    assert review["files"].widget is Widget.files and review["files"].max_items == 20
    causes = command_fields(_model(ev.CaseKind.rectification, "complete_review"))[0]
    assert causes.widget is Widget.checkboxes and causes.choices[0].label == "程序违法"
    visit = {f.name: f for f in command_fields(ScheduleVisit)}
    assert visit["visit_at"].widget is Widget.datetime


def test_a_local_time_is_read_in_the_bureaus_zone() -> None:
    posted = Posted({"visit_at": ["2026-03-20T09:30"], "visitors": ["张三\n\n李四 \n"]})
    values = command_values(ScheduleVisit, posted, ZONE)
    command = ScheduleVisit.model_validate(values)
    assert command.visit_at == datetime(2026, 3, 20, 9, 30, tzinfo=ZoneInfo(ZONE))
    assert command.visitors == ["张三", "李四"]


def test_blank_optional_inputs_leave_their_defaults_and_a_blank_person_is_left_out() -> None:
    model = _model(ev.CaseKind.complaint, "register")
    posted = Posted(
        {"channel": ["window"], "subject": ["事由"], "complainant.name": [""], "department": [""]}
    )
    command = model.model_validate(command_values(model, posted, ZONE))
    assert command.model_dump(exclude_defaults=True) == {"channel": "window", "subject": "事由"}


def test_a_list_of_small_models_is_one_item_a_line_with_its_fields_comma_separated() -> None:
    model = _model(ev.CaseKind.litigation, "record_hearing")
    posted = Posted({"held_on": ["2026-03-20"], "appeared": ["李明，副局长\n王芳, 法制大队\n赵强"]})
    command = model.model_validate(command_values(model, posted, ZONE))
    assert command.model_dump()["appeared"] == [
        {"name": "李明", "title": "副局长"},
        {"name": "王芳", "title": "法制大队"},
        {"name": "赵强", "title": None},
    ]


def test_problems_are_named_by_input_in_chinese_and_typed_values_kept_within_bounds() -> None:
    model = _model(ev.CaseKind.complaint, "register")
    fields = command_fields(model)
    posted = Posted(
        {"subject": ["长" * 300], "complainant.name": ["张三"], "complainant.phone": ["abc"]}
    )
    with pytest.raises(pydantic.ValidationError) as caught:
        model.model_validate(command_values(model, posted, ZONE))
    errors = validation_errors(caught.value, [f.name for f in fields])
    assert errors == {
        "channel": "此项必填。",
        "subject": "不能超过 200 个字。",
        "complainant.phone": "格式不正确。",
    }
    shown = {f.name: f for f in filled(fields, posted, errors)}
    assert shown["subject"].value == "长" * 200 and shown["subject"].error == "不能超过 200 个字。"
    assert shown["complainant.name"].value == "张三" and shown["complainant.name"].error is None
