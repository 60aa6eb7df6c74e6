"""Product and BOM models: the documented PB constraints and their normal forms."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from reconcile.models import Bom, BomKey, Product, ProductKey, ResourceSet, digest


def product(**fields: Any) -> dict[str, Any]:
    return {"clientId": "C", "sku": "A", "productType": "ITEM", "details": {}, **fields}


def bom(**fields: Any) -> dict[str, Any]:
    components = [{"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 2}]
    return {
        "clientId": "C",
        "sku": "K",
        "description": "Kit",
        "billOfMaterialDetails": components,
        **fields,
    }


def error_types(exc: pytest.ExceptionInfo[ValidationError]) -> list[tuple[Any, ...]]:
    return [(tuple(e["loc"]), e["type"]) for e in exc.value.errors()]


class TestProduct:
    def test_defaults_match_pb(self) -> None:
        """fulfillmentRegion defaults to PB_ONLY and active to true, as PB fills them in."""
        model = Product.model_validate(product())
        assert (model.fulfillmentRegion, model.active, model.key) == (
            "PB_ONLY",
            True,
            ProductKey("C", "A"),
        )

    def test_vendor_details_need_both_fields(self) -> None:
        """vendorDetails with only a name is refused (both-or-none)."""
        with pytest.raises(ValidationError) as caught:
            Product.model_validate(product(vendorDetails={"name": "V"}))
        assert error_types(caught) == [(("vendorDetails", "number"), "missing")]

    def test_vendor_lengths(self) -> None:
        """vendorDetails.name allows 50 characters and number 30."""
        Product.model_validate(product(vendorDetails={"name": "N" * 50, "number": "1" * 30}))
        with pytest.raises(ValidationError) as caught:
            Product.model_validate(product(vendorDetails={"name": "N" * 51, "number": "1" * 31}))
        assert [t for _, t in error_types(caught)] == ["string_too_long"] * 2

    def test_details_and_options_keep_unknown_keys(self) -> None:
        """details and options are open; their unknown keys survive a dump."""
        model = Product.model_validate(
            product(details={"description": "d", "weight": 2}, options=[{"color": "red"}])
        )
        dumped = model.model_dump(mode="json", exclude_none=True)
        assert dumped["details"] == {"description": "d", "weight": 2}
        assert dumped["options"] == [{"color": "red"}]

    def test_other_levels_forbid_unknown_keys(self) -> None:
        """A typo at the product level is an error, not silently ignored."""
        with pytest.raises(ValidationError) as caught:
            Product.model_validate(product(activ=True))
        assert error_types(caught) == [(("activ",), "extra_forbidden")]

    def test_strict_types(self) -> None:
        """Strings are not coerced to booleans, nor numbers to strings."""
        with pytest.raises(ValidationError) as caught:
            Product.model_validate(product(active="true", sku=12))
        assert sorted(t for _, t in error_types(caught)) == ["bool_type", "string_type"]

    def test_empty_options_mean_none(self) -> None:
        """`options: []` and no options compare equal (PB cannot tell them apart)."""
        assert Product.model_validate(product(options=[])) == Product.model_validate(product())


class TestBom:
    def test_components_are_sorted_by_sku(self) -> None:
        """Component order carries no meaning; the model sorts it away."""
        model = Bom.model_validate(bom())
        assert model.component_skus == ["A", "B"]
        assert model.key == BomKey("C", "K", "")

    def test_quantity_at_least_one(self) -> None:
        """A quantity of 0 is refused."""
        with pytest.raises(ValidationError) as caught:
            Bom.model_validate(bom(billOfMaterialDetails=[{"sku": "A", "quantity": 0}]))
        assert error_types(caught) == [
            (("billOfMaterialDetails", 0, "quantity"), "greater_than_equal")
        ]

    def test_description_and_notes_lengths(self) -> None:
        """description allows 30 characters, each note 50."""
        Bom.model_validate(bom(description="D" * 30, notes=["N" * 50]))
        with pytest.raises(ValidationError) as caught:
            Bom.model_validate(bom(description="D" * 31, notes=["N" * 51]))
        assert sorted(loc for loc, _ in error_types(caught)) == [("description",), ("notes", 0)]

    def test_node_is_part_of_the_key(self) -> None:
        """BOMs of one kit at two nodes have different keys."""
        assert Bom.model_validate(bom(node="N1")).key == BomKey("C", "K", "N1")


HIDDEN = [
    ("E\x1b[2J\x1b]0;pwned\x07", "U+001B"),
    ("A\x00", "U+0000"),
    ("A\tB", "U+0009"),
    ("A\x85", "U+0085"),
    ("A\u202eB", "U+202E"),
    ("A\u2066B", "U+2066"),
]


class TestHiddenCharacters:
    """Strings reviewers read in plans cannot hide control characters or bidi overrides."""

    @pytest.mark.parametrize(("text", "code"), HIDDEN)
    def test_skus_client_ids_and_bom_texts_refuse_them(self, text: str, code: str) -> None:
        """SKU, clientId, node, BOM description and brand name the character and its place."""
        cases = [
            (Product, product(sku=text), "sku"),
            (Product, product(clientId=text), "clientId"),
            (Bom, bom(node=text), "node"),
            (Bom, bom(description=text), "description"),
            (Bom, bom(brand=text), "brand"),
            (Bom, bom(billOfMaterialDetails=[{"sku": text, "quantity": 1}]), "sku"),
        ]
        for model, data, field in cases:
            with pytest.raises(ValidationError) as caught:
                model.model_validate(data)
            (error,) = caught.value.errors()
            assert error["loc"][-1] == field
            assert f"({code}) at position 2;" in error["msg"]

    @pytest.mark.parametrize("sku", [".", "..", "A/B", "/"])
    def test_skus_that_break_the_url_path_are_refused(self, sku: str) -> None:
        """`.`, `..` and SKUs with `/` cannot be one segment of /products/{sku}."""
        with pytest.raises(ValidationError) as caught:
            Product.model_validate(product(sku=sku))
        assert error_types(caught) == [(("sku",), "value_error")]

    @pytest.mark.parametrize("sku", ["A.B", ".A", "A..B", "Ünïcode-ß", "A B"])
    def test_ordinary_skus_still_pass(self, sku: str) -> None:
        """Dots inside a SKU, spaces and non-ASCII letters remain valid."""
        assert Product.model_validate(product(sku=sku)).sku == sku


class TestDates:
    """createDate and updateDate are ISO 8601 date-times with an offset, as PB requires."""

    @pytest.mark.parametrize(
        "value",
        ["2026-01-31T09:30:00.000+0000", "2026-01-31T09:30:00Z", "2026-01-31T09:30:00+01:00"],
    )
    def test_documented_forms_pass(self, value: str) -> None:
        """PB's two documented patterns and the extended offset form are accepted."""
        assert Product.model_validate(product(createDate=value)).createDate == value
        assert Bom.model_validate(bom(updateDate=value)).updateDate == value

    @pytest.mark.parametrize(
        "value", ["not a date", "2026-01-31", "2026-01-31T09:30:00", "2026-13-01T00:00:00Z"]
    )
    def test_other_strings_name_the_pattern(self, value: str) -> None:
        """Anything else (no offset, no time, impossible month) names the expected pattern."""
        with pytest.raises(ValidationError) as caught:
            Product.model_validate(product(createDate=value))
        assert "write it as YYYY-MM-DDThh:mm:ss.sss±hhmm" in caught.value.errors()[0]["msg"]
        with pytest.raises(ValidationError) as caught:
            Bom.model_validate(bom(updateDate=value))
        assert "write it as YYYY-MM-DDThh:mm:ssZ, e.g." in caught.value.errors()[0]["msg"]


class TestResourceSet:
    def test_indexes_by_key_and_counts(self) -> None:
        """add_product/add_bom index by identity; len counts both kinds."""
        resources = ResourceSet()
        resources.add_product(Product.model_validate(product()))
        resources.add_bom(Bom.model_validate(bom()))
        assert len(resources) == 2
        assert ProductKey("C", "A") in resources.products

    def test_digest_ignores_component_order(self) -> None:
        """Two BOMs differing only in component order have one digest."""
        flipped = bom(billOfMaterialDetails=list(reversed(bom()["billOfMaterialDetails"])))
        assert digest(Bom.model_validate(bom())) == digest(Bom.model_validate(flipped))
