"""Field-level diffs between two versions of a resource."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import textwrap
from typing import Any

from hypothesis import given, settings

from reconcile.models import (
    Bom,
    BomComponent,
    Product,
    ProductDetails,
    ProductOption,
    VendorDetails,
    comparable,
)
from reconcile.plan.change import FieldChange
from reconcile.plan.diff import diff_resources, diff_values, field_name, format_path
from tests.plan.factories import bom, product
from tests.plan.strategies import boms, products


class TestFieldPaths:
    def test_nested_field_is_a_dotted_path(self) -> None:
        """A changed nested value is reported at its own dotted path with old and new."""
        changes = diff_resources(product("A", description="old"), product("A", description="new"))
        assert changes == [FieldChange(path="details.description", before="old", after="new")]

    def test_list_element_field_has_an_index(self) -> None:
        """A field inside a list element is addressed by index, e.g. options[0].color."""
        before = product("A", options=[ProductOption(color="red")])
        after = product("A", options=[ProductOption(color="blue")])
        assert diff_resources(before, after) == [
            FieldChange(path="options[0].color", before="red", after="blue")
        ]

    def test_indices_sort_numerically(self) -> None:
        """options[2] is listed before options[10]."""
        before = product("A", options=[ProductOption(n=i) for i in range(11)])
        after = product("A", options=[ProductOption(n=i + 100) for i in range(11)])
        paths = [c.path for c in diff_resources(before, after)]
        assert paths == [f"options[{i}].n" for i in range(11)]

    def test_component_quantity_is_addressed_by_sku(self) -> None:
        """A component's quantity change names the component by SKU, not by position."""
        changes = diff_resources(bom("K", {"A": 1, "B": 2}), bom("K", {"A": 1, "B": 3}))
        assert changes == [
            FieldChange(path="billOfMaterialDetails[sku=B].quantity", before=2, after=3)
        ]

    def test_added_and_removed_components_carry_the_whole_element(self) -> None:
        """Components are a set keyed by SKU: adding one never shifts the others."""
        changes = diff_resources(bom("K", {"B": 1, "C": 1}), bom("K", {"A": 5, "B": 1}))
        assert changes == [
            FieldChange(path="billOfMaterialDetails[sku=A]", after={"sku": "A", "quantity": 5}),
            FieldChange(path="billOfMaterialDetails[sku=C]", before={"sku": "C", "quantity": 1}),
        ]

    def test_duplicate_component_lines_are_a_whole_list_change(self) -> None:
        """A remote BOM naming one component on two lines differs from one line of it."""
        remote = bom("K", {"A": 1}).model_copy(
            update={"billOfMaterialDetails": [BomComponent(sku="A", quantity=q) for q in (1, 2)]}
        )
        assert diff_resources(remote, bom("K", {"A": 2})) == [
            FieldChange(
                path="billOfMaterialDetails",
                before=[{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 2}],
                after=[{"sku": "A", "quantity": 2}],
            )
        ]

    def test_component_order_is_not_a_change(self) -> None:
        """The same components listed in another order compare equal."""
        assert diff_resources(bom("K", {"A": 1, "B": 2}), bom("K", {"B": 2, "A": 1})) == []

    def test_field_the_desired_side_lacks_is_cleared(self) -> None:
        """A field only the remote has shows with after=None: the PUT clears it."""
        remote = product("A", vendorDetails=VendorDetails(name="Acme", number="7"))
        changes = diff_resources(remote, product("A"))
        assert changes == [
            FieldChange(path="vendorDetails", before={"name": "Acme", "number": "7"}, after=None)
        ]

    def test_field_only_the_desired_side_has_is_added(self) -> None:
        """A field PB lacks shows with before=None."""
        when = "2026-01-31T09:30:00.000+0000"
        assert diff_resources(product("A"), product("A", createDate=when)) == [
            FieldChange(path="createDate", before=None, after=when)
        ]

    def test_extra_detail_keys_are_compared(self) -> None:
        """Undocumented detail keys, kept by the open model, are part of the diff."""
        before = product("A")
        after = before.model_copy(update={"details": ProductDetails(description=None, upc="1")})
        paths = {c.path for c in diff_resources(before, after)}
        assert paths == {"details.description", "details.upc"}

    def test_odd_keys_are_quoted(self) -> None:
        """A key that is not an identifier is written as a quoted subscript."""
        assert format_path(["details", "net weight", 0]) == 'details["net weight"][0]'

    def test_field_name_drops_selectors(self) -> None:
        """The field of a path ignores indices and keys (used to count common changes)."""
        assert field_name("billOfMaterialDetails[sku=A].quantity") == "billOfMaterialDetails"
        assert field_name("details.description") == "details.description"


class TestWholeResources:
    def test_create_lists_every_field_as_added(self) -> None:
        """Against nothing, every present field is an addition."""
        changes = diff_resources(None, product("A"))
        assert {c.path for c in changes} == set(comparable(product("A")))
        assert all(c.before is None for c in changes)

    def test_absent_resource_is_empty(self) -> None:
        """A missing resource compares as an empty object."""
        assert comparable(None) == {}

    def test_defaults_are_normalised(self) -> None:
        """Explicit defaults equal omitted ones (server-filled region and active)."""
        assert diff_resources(product("A"), product("A", fulfillmentRegion="PB_ONLY")) == []
        assert diff_resources(product("A", options=[]), product("A")) == []


class TestPrefilter:
    def test_equal_values_return_without_deepdiff(self) -> None:
        """Equal resources are settled by ==; deepdiff is never even imported for them."""
        script = textwrap.dedent(
            """
            import sys
            from reconcile.plan.build import build_plan
            from tests.plan.factories import bom, kit, product, resources
            items = [product(f"P{i}") for i in range(500)] + [kit("K"), bom("K", {"P1": 2})]
            plan = build_plan(resources(items), resources(items, remote=True),
                              environment="local", client_id="ACME")
            assert plan.summary.product.no_op == 501, plan.summary
            assert "deepdiff" not in sys.modules, "deepdiff was imported for equal resources"
            """
        )
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr

    def test_equal_dicts_give_no_changes(self) -> None:
        """diff_values of equal dicts is empty."""
        assert diff_values({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []

    def test_bool_and_int_are_different_values(self) -> None:
        """`fragile: 1` in the catalog is not PB's `true`, though Python says True == 1."""
        remote = product("A", details=ProductDetails(description="d", fragile=True))
        declared = product("A", details=ProductDetails(description="d", fragile=1))
        assert diff_resources(remote, declared) == [
            FieldChange(path="details.fragile", before=True, after=1)
        ]

    def test_int_and_float_are_different_values(self) -> None:
        """`1` and `1.0` differ, also deep inside lists."""
        assert diff_values({"a": [{"n": 1}]}, {"a": [{"n": 1.0}]}) == [
            FieldChange(path="a[0].n", before=1, after=1.0)
        ]


def apply_field_changes(data: dict[str, Any], changes: list[FieldChange]) -> dict[str, Any]:
    """Replay field changes on a comparable dict (the test oracle for paths and values)."""
    result = copy.deepcopy(data)
    for change in changes:
        if change.after is not None:
            *parents, last = parse_path(change.path)
            parent = walk(result, parents)
            if isinstance(parent, list) and last == len(parent):
                parent.append(change.after)
            else:
                parent[last] = change.after
    removals = [parse_path(c.path) for c in changes if c.after is None]
    # Last index first, so that the earlier indices of a list stay valid.
    for *parents, last in sorted(removals, reverse=True):
        del walk(result, parents)[last]
    return result


def walk(data: Any, parts: list[Any]) -> Any:
    for part in parts:
        data = data[part]
    return data


_TOKEN = re.compile(r'\[sku=([^\]]*)\]|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([A-Za-z_][\w-]*)')


def parse_path(path: str) -> list[Any]:
    parts: list[Any] = []
    for m in _TOKEN.finditer(path):
        sku, index, quoted, name = m.groups()
        if sku is not None:
            parts.append(sku)
        elif index is not None:
            parts.append(int(index))
        elif quoted is not None:
            parts.append(json.loads(quoted))
        else:
            parts.append(name)
    return parts


class TestDiffProperty:
    @settings(max_examples=150, deadline=None)
    @given(products, products)
    def test_product_changes_replay_to_the_target(self, before: Product, after: Product) -> None:
        """Replaying a product diff's field changes on `before` gives exactly `after`."""
        changes = diff_resources(before, after)
        assert (changes == []) == (comparable(before) == comparable(after))
        assert apply_field_changes(comparable(before), changes) == comparable(after)

    @settings(max_examples=150, deadline=None)
    @given(boms, boms)
    def test_bom_changes_replay_to_the_target(self, before: Bom, after: Bom) -> None:
        """Replaying a BOM diff's field changes on `before` gives exactly `after`."""
        changes = diff_resources(before, after)
        assert apply_field_changes(comparable(before), changes) == comparable(after)
