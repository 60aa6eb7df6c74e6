"""Turning pydantic errors into one-line messages that name the key and the fix."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

#: Errors that are about a key rather than its value: point at the key.
KEY_ERRORS = frozenset({"extra_forbidden", "invalid_key"})
#: Length constraints (min_length/max_length) on strings and lists, before or after a validator.
LENGTH_ERRORS = frozenset({"string_too_short", "string_too_long", "too_short", "too_long"})
_YAML_1_1_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})


def field_path(loc: Sequence[str | int]) -> str:
    """`details.description`, `billOfMaterialDetails[2].sku`: a loc as users write it."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def type_name(value: Any) -> str:
    names = {str: "string", bool: "boolean", int: "integer", float: "number"}
    names |= {list: "list", dict: "mapping", type(None): "empty value"}
    return names.get(type(value), type(value).__name__)


def describe(error: ErrorDetails, model: type[BaseModel], loc: Sequence[str | int]) -> str:
    """A message for one pydantic error; ``loc`` is relative to ``model``."""
    kind, ctx = error["type"], error.get("ctx") or {}
    value = error.get("input")
    path = field_path(loc) or "value"
    name = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        return f"unknown field '{name}'{did_you_mean(name, fields_at(model, loc[:-1]))}"
    if kind == "missing":
        return f"missing required field '{path}'"
    if kind in LENGTH_ERRORS:
        return _length_message(kind, path, value, ctx)
    if kind == "literal_error":
        return f"{path} must be one of {ctx['expected']}, not {value!r}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return f"{path} {_bound_text(kind, ctx)}, not {_number(value)}"
    if kind == "invalid_key":
        return f"key {value!r} in {field_path(loc[:-1]) or 'mapping'} must be a string"
    if kind.endswith("_type") or kind in ("int_from_float", "model_attributes_type"):
        return _type_message(kind, path, value)
    message = error["msg"].removeprefix("Value error, ")
    return f"{path}: {message}" if loc else message


def _length_message(kind: str, path: str, value: Any, ctx: dict[str, Any]) -> str:
    """`brand is 45 characters long, at most 30 allowed`; `description is empty; ...`.

    pydantic reports a constraint placed after a validator (``Annotated[PlainText,
    Field(max_length=30)]``) as a generic ``too_long`` of "items", even on a string, so
    the unit follows the value, not the error type."""
    too_long = kind.endswith("too_long")
    limit = ctx["max_length"] if too_long else ctx["min_length"]
    unit = "character" if isinstance(value, str) else "entry"
    size = len(value) if isinstance(value, str | list | dict) else ctx.get("actual_length")
    if not size and not too_long:
        return f"{path} is empty; write at least {_count(limit, unit)}"
    measured = (
        f"is {_count(size, unit)} long" if unit == "character" else f"has {_count(size, unit)}"
    )
    allowed = f"at most {limit} allowed" if too_long else f"at least {limit} required"
    return f"{path} {measured}, {allowed}"


def _count(n: Any, unit: str) -> str:
    if n == 1:
        return f"1 {unit}"
    return f"{n} {'entries' if unit == 'entry' else unit + 's'}"


def _number(value: Any) -> str:
    """100.0 as `100`, 0.01 as `0.01`: bounds and values as a user would write them."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _bound_text(kind: str, ctx: dict[str, Any]) -> str:
    words = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("greater than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    word, key = words[kind]
    return f"must be {word} {_number(ctx[key])}"


def _type_message(kind: str, path: str, value: Any) -> str:
    expected = {
        "string_type": "a string",
        "bool_type": "true or false",
        "int_type": "a whole number",
        "int_from_float": "a whole number",
        "float_type": "a number",
        "list_type": "a list",
        "dict_type": "a mapping",
        "model_type": "a mapping",
        "model_attributes_type": "a mapping",
    }.get(kind, kind.removesuffix("_type"))
    got = (
        f"{type_name(value)} {value!r}" if not isinstance(value, list | dict) else type_name(value)
    )
    hint = ""
    if kind == "string_type" and isinstance(value, int | float | bool):
        hint = "; quote it to keep it as written (YAML reads unquoted digits as numbers)"
    elif kind == "bool_type" and isinstance(value, str) and value.lower() in _YAML_1_1_BOOLEANS:
        hint = " (YAML 1.2 reads yes/no/on/off as strings)"
    return f"{path} must be {expected}, got {got}{hint}"


def yaml_key(key: Any) -> str:
    """A mapping key as YAML writes it: 'name', true, null, 1."""
    if isinstance(key, str):
        return repr(key)
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    if candidates:
        return f"; expected one of: {', '.join(candidates)}"
    return ""


def fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The field names of the model found by following ``loc`` from ``model``."""
    tp: Any = model
    for part in loc:
        tp = _unwrap(tp, index=isinstance(part, int))
        if isinstance(part, int):
            continue
        if typing.get_origin(tp) is dict:  # environments: name -> Environment
            tp = typing.get_args(tp)[1]
            continue
        if not (isinstance(tp, type) and issubclass(tp, BaseModel)) or part not in tp.model_fields:
            return []
        tp = tp.model_fields[part].annotation
    tp = _unwrap(tp, index=False)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def _unwrap(tp: Any, *, index: bool) -> Any:
    """Strip Annotated and Optional; for a list index, step to the element type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = args[0] if len(args) == 1 else tp
            if len(args) != 1:
                return tp
        elif index and origin is list:
            tp, index = typing.get_args(tp)[0], False
        else:
            return tp
