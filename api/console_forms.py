"""Command forms of the console built from the command catalogue: each field of a `Command`
model becomes an input by its type and bounds, and a posted form becomes the command's fields.

Nothing here is written per command: a command added to the catalogue gets its form. Field
labels come from `console_labels` (FIELD_LABELS), choices from `console_labels.CHOICES`.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from zoneinfo import ZoneInfo

import annotated_types
import pydantic
from pydantic.fields import FieldInfo

from casestream.domain.catalog import EvidenceFile
from casestream.domain.commands import Command

from .console_labels import CHOICES, LITERAL_LABELS, field_label

SHORT_TEXT = 200  # at most this many characters: one line; more: a text area
SCALAR_ECHO = 40  # a number, date or choice typed back into a form: never more than this
DEFAULT_LINES = 100  # a list without a bound: at most this many lines


class Widget(StrEnum):
    text = "text"
    textarea = "textarea"
    date = "date"
    datetime = "datetime"
    number = "number"
    checkbox = "checkbox"
    select = "select"
    checkboxes = "checkboxes"
    lines = "lines"  # one item per line (short texts, or a small model's fields per line)
    files = "files"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    """One input of a command form, with what was typed into it and what is wrong with it."""

    name: str  # the input's name: the command field's, dotted inside a nested model
    label: str
    widget: Widget
    required: bool
    max_length: int | None = None  # characters of the input (of each line, for `lines`)
    minimum: int | None = None
    maximum: int | None = None
    max_items: int | None = None  # lines, files
    choices: tuple[Choice, ...] = ()
    group: str | None = None  # the legend of the nested model it belongs to
    hint: str = ""
    value: str = ""  # as typed (bounded), for text-like inputs
    selected: frozenset[str] = frozenset()  # checkbox ("on"), select, checkboxes
    error: str | None = None

    @property
    def input_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


@dataclass(frozen=True)
class _Shape:
    """A field's type with its Optional and Annotated layers taken off."""

    kind: Any
    optional: bool
    constraints: dict[str, int] = field(default_factory=dict)


def _constraints(metadata: Sequence[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for item in metadata:
        if isinstance(item, FieldInfo):
            found.update(_constraints(item.metadata))
        elif isinstance(item, annotated_types.MaxLen):
            found["max_length"] = item.max_length
        elif isinstance(item, annotated_types.MinLen):
            found["min_length"] = item.min_length
        elif isinstance(item, annotated_types.Ge) and isinstance(item.ge, int):
            found["ge"] = item.ge
        elif isinstance(item, annotated_types.Le) and isinstance(item.le, int):
            found["le"] = item.le
    return found


def _shape(annotation: Any, metadata: Sequence[Any] = ()) -> _Shape:
    constraints = _constraints(metadata)
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = get_args(annotation)
            constraints = {**_constraints(extra), **constraints}
        elif origin in (Union, types.UnionType):
            args = [arg for arg in get_args(annotation) if arg is not type(None)]
            optional = optional or len(args) < len(get_args(annotation))
            if len(args) != 1:
                raise TypeError(f"a form cannot offer a choice of types {annotation!r}")
            annotation = args[0]
        else:
            return _Shape(annotation, optional, constraints)


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, pydantic.BaseModel)


def _choices_of(kind: Any) -> tuple[Choice, ...]:
    if get_origin(kind) is Literal:
        return tuple(Choice(str(v), LITERAL_LABELS.get(str(v), str(v))) for v in get_args(kind))
    table = CHOICES.get(kind, {})
    return tuple(Choice(member.value, table.get(member.value, member.value)) for member in kind)


def _is_choice(kind: Any) -> bool:
    return get_origin(kind) is Literal or (isinstance(kind, type) and issubclass(kind, StrEnum))


def _line_model_hint(model: type[pydantic.BaseModel]) -> str:
    parts = "，".join(field_label(name) for name in model.model_fields)
    return f"每行一项：{parts}（以逗号分隔）"


def _blank(name: str, info: FieldInfo, case_kind: str, group: str | None) -> Iterator[FormField]:
    """The empty inputs of one field (several for a nested model)."""
    shape = _shape(info.annotation, info.metadata)
    kind, bounds = shape.kind, shape.constraints
    required = info.is_required() and not shape.optional
    label = field_label(name.rsplit(".", 1)[-1], case_kind)
    base = FormField(name, label, Widget.text, required, group=group)
    if kind is bool:
        yield replace(base, widget=Widget.checkbox, required=False)
    elif kind is int:
        yield replace(
            base, widget=Widget.number, minimum=bounds.get("ge"), maximum=bounds.get("le")
        )
    elif kind is datetime:
        yield replace(base, widget=Widget.datetime)
    elif kind is date:
        yield replace(base, widget=Widget.date)
    elif _is_choice(kind):
        yield replace(base, widget=Widget.select, choices=_choices_of(kind))
    elif kind is str:
        length = bounds.get("max_length")
        long = length is not None and length > SHORT_TEXT  # unbounded: a pattern's line
        yield replace(base, widget=Widget.textarea if long else Widget.text, max_length=length)
    elif _is_model(kind):
        legend = label
        for sub, sub_info in kind.model_fields.items():
            for inner in _blank(f"{name}.{sub}", sub_info, case_kind, legend):
                yield replace(inner, required=inner.required and required)
    elif get_origin(kind) is list:
        yield _list_field(base, _shape(get_args(kind)[0]), bounds)
    else:
        raise TypeError(f"a form has no input for {name}: {kind!r}")


def _list_field(base: FormField, item: _Shape, bounds: dict[str, int]) -> FormField:
    items = bounds.get("max_length", DEFAULT_LINES)
    required = base.required and bounds.get("min_length", 0) > 0
    if item.kind is EvidenceFile:
        hint = "可选择多个文件：PDF、图片或 Office 文档"
        return replace(base, widget=Widget.files, max_items=items, required=False, hint=hint)
    if _is_choice(item.kind):
        choices = _choices_of(item.kind)
        return replace(base, widget=Widget.checkboxes, choices=choices, required=required)
    if item.kind is str:
        length = item.constraints.get("max_length")
        return replace(
            base,
            widget=Widget.lines,
            max_length=length,
            max_items=items,
            required=required,
            hint="每行一项",
        )
    if _is_model(item.kind):
        hint = _line_model_hint(item.kind)
        return replace(base, widget=Widget.lines, max_items=items, required=required, hint=hint)
    raise TypeError(f"a form has no input for a list of {item.kind!r}")


def command_fields(model: type[Command]) -> tuple[FormField, ...]:
    """The empty form of a command: one input per field (a nested model's fields grouped)."""
    return tuple(
        input_field
        for name, info in model.model_fields.items()
        for input_field in _blank(name, info, model.case_kind.value, None)
    )


# --- a posted form → the command's fields ------------------------------------------------


@dataclass(frozen=True)
class Posted:
    """What a form sent: every value of each input by its name."""

    values: Mapping[str, Sequence[str]]

    def first(self, name: str) -> str:
        found = self.values.get(name, ())
        return found[0] if found else ""

    def every(self, name: str) -> list[str]:
        return list(self.values.get(name, ()))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _line_model(model: type[pydantic.BaseModel], line: str) -> dict[str, str]:
    names = list(model.model_fields)
    parts = [part.strip() for part in line.replace("，", ",").split(",", len(names) - 1)]
    return {name: part for name, part in zip(names, parts, strict=False) if part}


def _value(form_field: FormField, posted: Posted, timezone: str, line_model: Any) -> Any:
    """The command's value of one input, or None to leave the field out (its default)."""
    widget, name = form_field.widget, form_field.name
    if widget is Widget.checkbox:
        return bool(posted.first(name))
    if widget is Widget.checkboxes:
        return posted.every(name)
    raw = posted.first(name)
    if widget is Widget.lines:
        lines = _lines(raw)
        if line_model is not None:
            return [_line_model(line_model, line) for line in lines]
        return lines or (None if not form_field.required else [])
    if not raw.strip():
        # an empty optional input is the field's default; an empty required one is refused
        return "" if form_field.required and widget in (Widget.text, Widget.textarea) else None
    if widget is Widget.datetime:
        try:
            return datetime.fromisoformat(raw).replace(tzinfo=ZoneInfo(timezone))
        except ValueError:
            return raw
    return raw.strip() if widget is not Widget.textarea else raw


def _line_models(model: type[Command]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        kind = _shape(info.annotation, info.metadata).kind
        if get_origin(kind) is list:
            item = _shape(get_args(kind)[0]).kind
            if _is_model(item) and item is not EvidenceFile:
                found[name] = item
    return found


def command_values(
    model: type[Command],
    posted: Posted,
    timezone: str,
    files: Mapping[str, list[EvidenceFile]] | None = None,
) -> dict[str, Any]:
    """The command's fields from a posted form (uploaded evidence files by field name)."""
    line_models = _line_models(model)
    values: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for form_field in command_fields(model):
        if form_field.widget is Widget.files:
            uploaded = (files or {}).get(form_field.name, [])
            if uploaded:
                values[form_field.name] = [file.model_dump(mode="json") for file in uploaded]
            continue
        value = _value(form_field, posted, timezone, line_models.get(form_field.name))
        if value is None:
            continue
        if form_field.group is not None:
            outer, inner = form_field.name.split(".", 1)
            nested.setdefault(outer, {})[inner] = value
        else:
            values[form_field.name] = value
    for outer, inner_values in nested.items():
        if any(value not in ("", False) for value in inner_values.values()):
            values[outer] = inner_values  # a nested model left blank is left out (None)
    return values


def filled(
    fields: Sequence[FormField], posted: Posted | None, errors: Mapping[str, str]
) -> tuple[FormField, ...]:
    """The form's inputs with what was typed (never more than each input's bound) and the
    message of each input at fault."""
    shown = []
    for form_field in fields:
        value, selected = "", frozenset[str]()
        if posted is not None:
            raw = posted.first(form_field.name)
            if form_field.widget in (Widget.checkboxes,):
                selected = frozenset(posted.every(form_field.name))
            elif form_field.widget in (Widget.checkbox, Widget.select):
                selected = frozenset({raw[:SCALAR_ECHO]}) if raw else frozenset()
            elif form_field.widget is not Widget.files:
                value = raw[: _echo_bound(form_field)]
        shown.append(
            replace(form_field, value=value, selected=selected, error=errors.get(form_field.name))
        )
    return tuple(shown)


def with_defaults(
    fields: Sequence[FormField], defaults: Mapping[str, str]
) -> tuple[FormField, ...]:
    """The inputs of a fresh form, some filled in beforehand (e.g. the caller's department)."""
    return tuple(
        replace(f, value=defaults[f.name][: _echo_bound(f)]) if f.name in defaults else f
        for f in fields
    )


def _echo_bound(form_field: FormField) -> int:
    if form_field.widget is Widget.lines:
        per_line = (form_field.max_length or SHORT_TEXT) + 1
        return per_line * (form_field.max_items or DEFAULT_LINES)
    if form_field.widget in (Widget.text, Widget.textarea):
        return form_field.max_length or SHORT_TEXT
    return SCALAR_ECHO


# --- what is wrong, in Chinese --------------------------------------------------------------


def field_of(location: Sequence[str | int], names: Sequence[str]) -> str:
    """The input a validation error's location points at: its dotted name, or "" for the form
    as a whole (list positions are the list's input)."""
    parts: list[str] = []
    for part in location:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            break
        parts.append(str(part))
    while parts:
        name = ".".join(parts)
        if name in names or any(candidate.startswith(name + ".") for candidate in names):
            return name if name in names else _first_under(name, names)
        parts.pop()
    return ""


def _first_under(prefix: str, names: Sequence[str]) -> str:
    return next(name for name in names if name.startswith(prefix + "."))


def chinese_message(error_type: str, context: Mapping[str, Any], message: str) -> str:
    """A field's validation problem in Chinese (the domain's own reason kept after it)."""
    known = {
        "missing": "此项必填。",
        "string_too_short": "此项必填。" if context.get("min_length") == 1 else "内容太短。",
        "string_too_long": f"不能超过 {context.get('max_length')} 个字。",
        "too_short": f"至少填写 {context.get('min_length')} 项。",
        "too_long": f"最多 {context.get('max_length')} 项。",
        "greater_than_equal": f"不能小于 {context.get('ge')}。",
        "less_than_equal": f"不能大于 {context.get('le')}。",
        "int_parsing": "请输入整数。",
        "int_from_float": "请输入整数。",
        "date_from_datetime_parsing": "请输入日期（年-月-日）。",
        "date_parsing": "请输入日期（年-月-日）。",
        "datetime_from_date_parsing": "请输入日期和时间。",
        "datetime_parsing": "请输入日期和时间。",
        "enum": "请从列表中选择一项。",
        "literal_error": "请从列表中选择一项。",
        "string_pattern_mismatch": "格式不正确。",
        "extra_forbidden": "表单中有多余的字段。",
    }
    if error_type in known:
        return known[error_type]
    return f"填写有误：{message[:300]}"


def validation_errors(exc: pydantic.ValidationError, names: Sequence[str]) -> dict[str, str]:
    """The message of each input at fault ("" names the form as a whole)."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        where = field_of(error["loc"], names)
        message = chinese_message(error["type"], error.get("ctx") or {}, str(error["msg"]))
        errors.setdefault(where, message)
    return errors
