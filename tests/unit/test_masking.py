"""Personal data is masked because the models mark it, not because the masker names it: a newly
marked field is masked with no change to the masker, every field whose name says it is personal
data is marked, and the public state views show exactly the fields of the domain states."""

from __future__ import annotations

import json
import re
import types
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from casestream.api.masking import event_shown_to, mask_fields, shown_to
from casestream.api.state_views import PersonView, state_view
from casestream.credentials import Principal
from casestream.domain.cases import LIFECYCLES
from casestream.domain.catalog import PAYLOAD_TYPES, CaseKind, Person, PersonalData
from casestream.domain.commands import Role

HANDLER = Principal("staff", Role.handler, "治安大队")
LEGAL = Principal("staff", Role.legal, None)


class Witness(BaseModel):
    """A model the masker has never heard of, with a personal field of a new kind."""

    name: Annotated[str, PersonalData("name")]
    home_address: Annotated[str, PersonalData("address")] | None = None
    remark: str = ""


class Statement(BaseModel):
    witnesses: tuple[Witness, ...] = ()
    first: Witness | None = None
    by_role: dict[str, Witness] = {}


def test_a_newly_marked_field_is_masked_without_any_change_to_the_masker() -> None:
    witness = Witness(name="赵六", home_address="北京市东城区某街1号", remark="可联系")
    statement = Statement(witnesses=(witness,), first=witness, by_role={"main": witness})

    shown = shown_to(HANDLER, statement)

    for masked in (shown.witnesses[0], shown.first, shown.by_role["main"]):
        assert masked is not None
        assert masked.name == "赵*"
        assert masked.home_address == "*" * len("北京市东城区某街1号")
        assert masked.remark == "可联系"
    assert shown_to(LEGAL, statement) == statement  # legal sees it as recorded


class Referral(BaseModel):
    """A model holding itself: its masking is worked out once and applies at every depth."""

    name: Annotated[str, PersonalData("name")]
    referred_by: Referral | None = None


Referral.model_rebuild()


def test_a_model_holding_itself_is_masked_at_every_depth_each_time() -> None:
    chain = Referral(
        name="王小明", referred_by=Referral(name="李四", referred_by=Referral(name="张三"))
    )
    for _ in range(2):  # worked out on the first, remembered for the second
        shown = shown_to(HANDLER, chain)
        assert shown.name == "王**"
        assert shown.referred_by is not None and shown.referred_by.name == "李*"
        assert shown.referred_by.referred_by is not None
        assert shown.referred_by.referred_by.name == "张*"
    assert mask_fields(Referral, {"name": "王小明", "referred_by": None})["referred_by"] is None


def test_a_field_marked_in_catalog_person_is_masked_in_every_case_view() -> None:
    stored = {
        "case_id": "R-1",
        "case_kind": "reconsideration",
        "status": "applied",
        "applicant": {"name": "王小明", "phone": "13812341234", "id_number": "110101199001011234"},
    }
    shown = shown_to(HANDLER, state_view(stored))
    assert shown.applicant == PersonView(
        name="王**", phone="138****1234", id_number="110101****1234"
    )
    assert mask_fields(Person, {"name": "王小明", "other": "王小明"})["other"] == "王小明"


PERSONAL_NAME = re.compile(
    r"(^|_)(name|phone|mobile|id_number|id_card|address|email|birth|gender)($|_)"
)
NOT_PERSONAL = {
    "enterprise_name": "the name of a company, not of a person",
    # staff names (handler, supervisor, approved_by) are not masked either
    "BureauAppearance.name": "an official or agent who appeared for the bureau in open court",
    "EvidenceFile.name": "the name of an evidence file, which every role that sees the case "
    "downloads it under",
}
"""Fields (`field` or `Model.field`) whose name sounds personal but that hold no personal data
of the public, and why."""


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [found for arg in get_args(annotation) for found in _models(arg)]


def _marked(annotation: Any, metadata: list[Any]) -> bool:
    if any(isinstance(mark, PersonalData) for mark in metadata):
        return True
    if get_origin(annotation) is Annotated:
        base, *extra = get_args(annotation)
        return _marked(base, extra)
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_marked(arg, []) for arg in get_args(annotation))
    return False


def _every_field() -> list[tuple[str, str, Any, list[Any]]]:
    """(model, field, annotation, metadata) of every payload and state, and the models in them."""
    roots: list[type[BaseModel]] = [*PAYLOAD_TYPES.values()]
    roots += [lifecycle.state_type for lifecycle in LIFECYCLES.values()]
    seen: set[type[BaseModel]] = set()
    found = []
    while roots:
        model = roots.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            found.append((model.__name__, name, field.annotation, list(field.metadata)))
            roots += _models(field.annotation)
    return found


def test_every_field_whose_name_says_personal_data_is_marked_as_such() -> None:
    fields = _every_field()
    assert ("Person", "phone") in {(model, name) for model, name, _, _ in fields}
    unmarked = [
        f"{model}.{name}"
        for model, name, annotation, metadata in fields
        if PERSONAL_NAME.search(name)
        and name not in NOT_PERSONAL
        and f"{model}.{name}" not in NOT_PERSONAL
        and not _marked(annotation, metadata)
    ]
    assert unmarked == [], "mark these with catalog.PersonalData (or say why not in NOT_PERSONAL)"


@pytest.mark.parametrize("kind", list(CaseKind))
def test_each_kinds_public_view_shows_exactly_the_fields_of_its_domain_state(
    kind: CaseKind,
) -> None:
    state_type = LIFECYCLES[kind].state_type
    stored = state_type(case_id="X-1", case_kind=kind, status="open").model_dump(mode="json")
    view = state_view({**stored, "internal_only": "never shown"})
    assert isinstance(view, state_type)
    assert view.model_dump(mode="json") == stored


@pytest.mark.parametrize("principal", [HANDLER, LEGAL], ids=["masked", "unmasked"])
def test_an_event_stored_at_an_older_version_is_shown_and_masked_in_todays_model(
    principal: Principal,
) -> None:
    """History keeps an event as published; readers see it in the current model, so masking
    after today's fields cannot miss a field an older version named otherwise."""
    stored = json.loads(
        (Path(__file__).parents[1] / "fixtures/events/ReplySubmitted/v1.json").read_text()
    )
    shown = event_shown_to(principal, stored)
    assert shown["schema_version"] == PAYLOAD_TYPES["ReplySubmitted"].schema_version == 2
    assert shown["payload"] == {"summary": "提交答复书及证据", "evidence_count": 7}
    assert stored["payload"] == {"summary": "提交答复书及证据", "evidence_items": 7}  # untouched
