"""Length and range errors of the models speak our words, never pydantic's."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from reconcile.desired.messages import describe, field_path
from reconcile.models import Bom, Product
from reconcile.settings import Settings
from tests.desired.catalogs import problems_of, products
from tests.desired.conftest import MakeCatalog

#: A valid document of each model, holding every optional field that carries a constraint.
VALID: dict[type[BaseModel], dict[str, Any]] = {
    Product: {
        "clientId": "DEMO",
        "sku": "A",
        "productType": "ITEM",
        "details": {"description": "d"},
        "vendorDetails": {"name": "n", "number": "1"},
    },
    Bom: {
        "clientId": "DEMO",
        "sku": "K",
        "description": "d",
        "brand": "b",
        "notes": ["n"],
        "billOfMaterialDetails": [{"sku": "A", "quantity": 1}],
    },
    Settings: {"client_id": "DEMO"},
}
#: Words of pydantic's own messages that must never reach a user.
PYDANTIC_WORDS = ("should have", "Input should", "after validation", "item", "Value ")

Constraint = tuple[tuple[str | int, ...], str, Any, str]


def constraints(model: type[BaseModel]) -> Iterator[Constraint]:
    """(loc, JSON Schema keyword, limit, type) of every bound the model declares."""
    schema = model.model_json_schema()
    yield from _walk(schema, schema, ())


def _walk(
    node: dict[str, Any], root: dict[str, Any], loc: tuple[str | int, ...]
) -> Iterator[Constraint]:
    if "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    for branch in node.get("anyOf", ()):
        yield from _walk(branch, root, loc)
    for keyword in sorted(node):
        if keyword.startswith(("min", "max", "exclusive")):
            yield loc, keyword, node[keyword], node.get("type", "")
    for name, sub in node.get("properties", {}).items():
        yield from _walk(sub, root, (*loc, name))
    if isinstance(node.get("items"), dict):
        yield from _walk(node["items"], root, (*loc, 0))
    if isinstance(node.get("additionalProperties"), dict):
        yield from _walk(node["additionalProperties"], root, (*loc, "x"))


def violating(keyword: str, limit: Any, kind: str) -> tuple[Any, str]:
    """A value just outside the bound, and the message it must get (``{path}`` to fill)."""
    number = int if kind == "integer" else float
    if keyword == "minLength" and limit == 1:
        return "", "{path} is empty; write at least 1 character"
    if keyword == "maxLength":
        return "x" * (
            limit + 1
        ), f"{{path}} is {limit + 1} characters long, at most {limit} allowed"
    if keyword == "minItems" and limit == 1:
        return [], "{path} is empty; write at least 1 entry"
    if keyword == "minimum":
        bad = number(limit - 1) if kind == "integer" or limit <= 0 else limit / 2
        return bad, f"{{path}} must be at least {plain(limit)}, not {plain(bad)}"
    if keyword == "maximum":
        bad = number(limit + 1)
        return bad, f"{{path}} must be at most {plain(limit)}, not {plain(bad)}"
    raise AssertionError(f"no case for {keyword}={limit!r}: add one here and in messages.py")


def plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(number)


def set_at(document: dict[str, Any], loc: tuple[str | int, ...], value: Any) -> None:
    """Put ``value`` at ``loc``, creating the mappings and lists on the way."""
    target: Any = document
    for part, following in zip(loc, (*loc[1:], None), strict=True):
        if following is None:
            if isinstance(target, list):
                target[:] = [value]
            else:
                target[part] = value
            return
        if isinstance(target, list):
            target = target[0]
        else:
            target = target.setdefault(part, [] if isinstance(following, int) else {})
    raise AssertionError("empty loc")


def messages(model: type[BaseModel], document: dict[str, Any]) -> list[tuple[str, str]]:
    try:
        model.model_validate(document)
    except ValidationError as e:
        errors = e.errors(include_url=False)
        return [
            (field_path(error["loc"]), describe(error, model, error["loc"])) for error in errors
        ]
    return []


CASES = [
    pytest.param(
        model, loc, keyword, limit, kind, id=f"{model.__name__}.{field_path(loc)}.{keyword}"
    )
    for model in VALID
    for loc, keyword, limit, kind in constraints(model)
]


class TestEveryBound:
    def test_the_walk_finds_the_bounds_of_the_models(self) -> None:
        """The walk below sees each kind of bound the catalog models declare."""
        found = {
            (m.__name__, field_path(loc), kw)
            for m in (Product, Bom)
            for loc, kw, _, _ in constraints(m)
        }
        assert {
            ("Bom", "brand", "maxLength"),
            ("Bom", "description", "minLength"),
            ("Bom", "notes[0]", "maxLength"),
            ("Bom", "billOfMaterialDetails", "minItems"),
            ("Bom", "billOfMaterialDetails[0].quantity", "maximum"),
            ("Product", "vendorDetails.name", "minLength"),
        } <= found

    @pytest.mark.parametrize(("model", "loc", "keyword", "limit", "kind"), CASES)
    def test_each_bound_is_reported_in_our_words(
        self,
        model: type[BaseModel],
        loc: tuple[str | int, ...],
        keyword: str,
        limit: Any,
        kind: str,
    ) -> None:
        """Every min/max length, item count and numeric bound of the models has a sentence."""
        document = copy.deepcopy(VALID[model])
        value, expected = violating(keyword, limit, kind)
        set_at(document, loc, value)
        path = field_path(loc)
        assert messages(model, document) == [(path, expected.format(path=path))]
        assert not any(word in expected for word in PYDANTIC_WORDS)


class TestLengthMessages:
    @pytest.mark.parametrize(
        ("field", "value", "expected"),
        [
            ("brand", "x" * 45, "brand is 45 characters long, at most 30 allowed"),
            ("description", "", "description is empty; write at least 1 character"),
            ("description", "é" * 31, "description is 31 characters long, at most 30 allowed"),
            ("notes", ["x" * 51], "notes[0] is 51 characters long, at most 50 allowed"),
            ("billOfMaterialDetails", [], "billOfMaterialDetails is empty; write at least 1 entry"),
        ],
    )
    def test_bom_lengths(self, field: str, value: Any, expected: str) -> None:
        """The messages of issue 13 (#6): characters and entries counted, the limit named."""
        document = {**VALID[Bom], field: value}
        assert [message for _, message in messages(Bom, document)] == [expected]

    def test_a_long_list_counts_entries(self) -> None:
        """A list over its bound counts entries, not characters (no list has one today)."""
        error: Any = {"type": "too_long", "loc": ("xs",), "input": [1, 2, 3], "msg": ""}
        error["ctx"] = {"field_type": "List", "max_length": 2, "actual_length": 3}
        assert describe(error, Bom, ("xs",)) == "xs has 3 entries, at most 2 allowed"

    def test_a_short_string_counts_characters(self) -> None:
        """A non-empty string under its bound (no such bound today) says how long it is."""
        error: Any = {"type": "string_too_short", "loc": ("x",), "input": "ab", "msg": ""}
        error["ctx"] = {"min_length": 3}
        assert describe(error, Bom, ("x",)) == "x is 2 characters long, at least 3 required"

    def test_located_in_the_file(self, make_catalog: MakeCatalog) -> None:
        """validate reports the new wording at the value's place."""
        text = (
            products("A", kits=("K",))
            + "boms:\n  - sku: K\n    description: ''\n    brand: "
            + "B" * 45
            + "\n    billOfMaterialDetails:\n      - sku: A\n        quantity: 1\n"
        )
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:12:18: description is empty; write at least 1 character",
            "cat/a.yaml:13:12: brand is 45 characters long, at most 30 allowed",
        ]


class TestRangeMessages:
    @pytest.mark.parametrize(
        ("quantity", "expected"),
        [
            (0, "billOfMaterialDetails[0].quantity must be at least 1, not 0"),
            (2**31, "billOfMaterialDetails[0].quantity must be at most 2147483647, not 2147483648"),
        ],
    )
    def test_quantity_bounds(self, quantity: int, expected: str) -> None:
        """A quantity is a whole number from 1 to PB's largest integer."""
        document = {**VALID[Bom], "billOfMaterialDetails": [{"sku": "A", "quantity": quantity}]}
        assert [message for _, message in messages(Bom, document)] == [expected]

    def test_whole_float_bounds_print_as_written(self) -> None:
        """A bound declared as 100 on a float field reads `100`, not `100.0`."""
        document = {"limits": {"requests_per_second": 1000.5}}
        assert messages(Settings, document) == [
            (
                "limits.requests_per_second",
                "limits.requests_per_second must be at most 100, not 1000.5",
            )
        ]
