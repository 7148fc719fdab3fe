"""Masking of personal data (个人信息脱敏) of complainants, applicants, plaintiffs and informants.

Who sees what: the persons of a record made anonymously (an anonymous informant) are shown to
no one (domain/anonymity.py); other personal data is shown as recorded to legal (法制),
supervisor (督察) and system callers, and masked for leader, department_head and handler:
name 王小明 → 王**, phone 13812341234 → 138****1234, id_number → first 6 + **** + last 4.

What is personal data is said by the models themselves: every field whose type is marked
`catalog.PersonalData`, however deep in the model, is masked (a newly marked field needs no
change here). Use `shown_to(principal, view)` on a response model that holds case state, or
`event_shown_to(principal, body)` on a stored event's JSON body.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel

from casestream.credentials import Principal
from casestream.domain.anonymity import without_anonymous_persons
from casestream.domain.catalog import PAYLOAD_TYPES, PersonalData
from casestream.domain.commands import Role
from casestream.domain.envelope import EVENT_MODELS
from casestream.domain.upcasting import UnreadableVersion, check_readable, upcast_payload

UNMASKED_ROLES = frozenset({Role.legal, Role.supervisor, Role.system})
"""Roles that need the personal data of named persons as recorded (legal review, 督察
inspection, system sync); an anonymous person is withheld from them too."""

M = TypeVar("M", bound=BaseModel)


def mask_name(name: str) -> str:
    """王小明 → 王**: the first character stays."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else name


def mask_phone(phone: str) -> str:
    """13812341234 → 138****1234; a short number keeps only its last two characters."""
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return "*" * max(1, len(phone) - 2) + phone[-2:]


def mask_id_number(id_number: str) -> str:
    """110101199001011234 → 110101****1234 (region code and last four only)."""
    if len(id_number) >= 10:
        return id_number[:6] + "****" + id_number[-4:]
    return "*" * len(id_number)


def mask_whole(value: str) -> str:
    """Personal data of another kind (an address …): nothing of it stays."""
    return "*" * len(value)


_MASKERS: dict[str, Callable[[str], str]] = {
    "name": mask_name,
    "phone": mask_phone,
    "id_number": mask_id_number,
}


def mask_fields(model: type[BaseModel], data: Any) -> Any:
    """`data`, the JSON form of a `model`, with every field the model's types mark as
    `PersonalData` masked, in nested models, lists and optional values too."""
    if not isinstance(data, Mapping):
        return data
    found = dict(data)
    for key, mask in _plan(model):
        if key in found:
            found[key] = mask(found[key])
    return found


Masker = Callable[[Any], Any]

_PLANS: dict[type[BaseModel], tuple[tuple[str, Masker], ...]] = {}
_PLANNING: set[type[BaseModel]] = set()


def _plan(model: type[BaseModel]) -> tuple[tuple[str, Masker], ...]:
    """The fields of `model` that can hold personal data, each with the function masking its
    JSON value; worked out once per model (walking the annotations was most of a masked read)."""
    found = _PLANS.get(model)
    if found is None:
        _PLANNING.add(model)
        try:
            plan = []
            for name, field in model.model_fields.items():
                mask = _masker(field.annotation, tuple(field.metadata))
                if mask is not None:
                    plan.append((field.alias or name, mask))
        finally:
            _PLANNING.discard(model)
        found = _PLANS[model] = tuple(plan)
    return found


def _masker(annotation: Any, metadata: tuple[Any, ...]) -> Masker | None:
    """The function masking a JSON value of `annotation` (carrying `metadata`), or None when
    nothing in it is personal data."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _masker(args[0], (*metadata, *args[1:]))
    inner: Masker | None = None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        model = annotation
        if model in _PLANNING or _plan(model):  # a model holding itself: decided when used
            inner = functools.partial(mask_fields, model)
    elif origin in (Union, types.UnionType):
        members = [mask for mask in (_masker(member, metadata) for member in args) if mask]
        if members:
            inner = functools.partial(_each, tuple(members))
    elif origin in (list, tuple, set, frozenset):
        item = _masker(args[0] if args else Any, ())
        if item is not None:
            inner = functools.partial(_items, item)
    elif origin is dict and len(args) == 2:
        value = _masker(args[1], ())
        if value is not None:
            inner = functools.partial(_values, value)
    marks = [mark for mark in metadata if isinstance(mark, PersonalData)]
    if not marks:
        return inner
    return functools.partial(_marked, _MASKERS.get(marks[0].kind, mask_whole), inner)


def _marked(mask: Callable[[str], str], inner: Masker | None, value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    return value if inner is None else inner(value)


def _each(masks: tuple[Masker, ...], value: Any) -> Any:
    for mask in masks:
        value = mask(value)
    return value


def _items(mask: Masker, value: Any) -> Any:
    if isinstance(value, list | tuple):
        return type(value)(mask(element) for element in value)
    return value


def _values(mask: Masker, value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: mask(element) for key, element in value.items()}
    return value


def sees_personal_data(principal: Principal) -> bool:
    """Whether `principal` sees the personal data of named (not anonymous) persons unmasked."""
    return principal.role in UNMASKED_ROLES


def shown_to(principal: Principal, view: M) -> M:
    """`view` as `principal` may see it: anonymous persons withheld from every role; the personal
    data of the other persons as recorded for UNMASKED_ROLES, masked for the rest."""
    data = without_anonymous_persons(view.model_dump(mode="json"))
    if not sees_personal_data(principal):
        data = mask_fields(type(view), data)
    return type(view).model_validate(data)


def current_form(body: Mapping[str, Any]) -> dict[str, Any]:
    """A stored event in the current model of its type: the history keeps an event as it was
    published, perhaps at an older `schema_version`; readers are shown (and masked after) the
    model of today, read through the upcasters. A body that cannot be read so stays as it is."""
    data = dict(body)
    event_type, version, payload = (
        data.get("event_type"),
        data.get("schema_version"),
        data.get("payload"),
    )
    payload_type = PAYLOAD_TYPES.get(str(event_type))
    if payload_type is None or not isinstance(version, int) or not isinstance(payload, dict):
        return data
    latest = payload_type.schema_version
    if version == latest:
        return data
    try:
        check_readable(str(event_type), version)
    except UnreadableVersion:
        return data
    return {
        **data,
        "schema_version": latest,
        "payload": upcast_payload(str(event_type), version, payload),
    }


def event_shown_to(principal: Principal, body: Mapping[str, Any]) -> dict[str, Any]:
    """A stored event's JSON `body` as `principal` may see it (see `shown_to`), masked after
    the envelope and payload of its event type."""
    data: dict[str, Any] = without_anonymous_persons(current_form(body))
    if sees_personal_data(principal):
        return data
    model = EVENT_MODELS.get(str(data.get("event_type")))
    if model is None:  # not a type of the catalog: nothing of its payload can be vouched for
        return {**data, "payload": {}}
    masked: dict[str, Any] = mask_fields(model, data)
    return masked
