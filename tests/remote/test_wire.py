"""remote/wire.py: the JSON ↔ model mapping and every lenient reading of PB's answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reconcile.errors import RemoteStateError
from reconcile.models import Product, ProductDetails
from reconcile.remote import answers, wire

PB_PRODUCT = {
    "clientId": "ACME",
    "sku": "A",
    "productType": "ITEM",
    "details": {"description": "apple", "weight": 3},
    "pbCreateDate": "2026-01-01T00:00:00.000+0000",
    "pbUpdateDate": "2026-02-01T00:00:00.000+0000",
    "status": "PUBLISHED",
    "options": [],
}


class TestProducts:
    """PB's Products object becomes the catalog's Product, and back."""

    def test_server_fields_dropped_and_defaults_normalised(self) -> None:
        """pbCreateDate/status go, pbUpdateDate moves to meta, defaults match YAML's."""
        product, meta = wire.product_from_wire(PB_PRODUCT)
        assert product == Product(
            clientId="ACME",
            sku="A",
            productType="ITEM",
            details=ProductDetails(description="apple", weight=3),
        )
        assert meta.pb_update_date == "2026-02-01T00:00:00.000+0000"

    def test_round_trip_keeps_unknown_detail_fields(self) -> None:
        """Fields PB documents but we could not read survive a PUT."""
        product, _ = wire.product_from_wire(PB_PRODUCT)
        body = wire.bulk_item(product, wire.BULK_UPDATE)
        assert body["details"] == {"description": "apple", "weight": 3}
        assert body["operation"] == "UPDATE" and "pbUpdateDate" not in body

    def test_unreadable_product_is_a_remote_state_error(self) -> None:
        """A product our models cannot hold is an error naming it, not a silent skip."""
        with pytest.raises(RemoteStateError, match=r"product\.A"):
            wire.product_from_wire({**PB_PRODUCT, "productType": "BUNDLE"})

    def test_read_product_never_raises(self) -> None:
        """The non-raising read gives the address and reason, even for a SKU that is a list."""
        odd = wire.read_product({**PB_PRODUCT, "sku": ["A", "B"]})
        assert isinstance(odd, wire.Unreadable)
        assert odd.address == 'product.["A", "B"]' and "sku" in odd.reason

    def test_read_bom_names_its_key_and_id(self) -> None:
        """An unreadable BOM is addressed bom.<sku>@<node> and its reason names PB's id."""
        odd = wire.read_bom({"sku": "K", "node": "N1", "billOfMaterialId": 7, "description": ""})
        assert isinstance(odd, wire.Unreadable)
        assert odd.address == "bom.K@N1" and "BOM 7" in odd.reason and "description" in odd.reason

    def test_unknown_top_level_fields_are_kept_and_written_back(self) -> None:
        """An undocumented field PB returns (here `brand` on a product) is kept in the meta
        and carried unchanged by every full replacement, never refused, never erased."""
        product, meta = wire.product_from_wire({**PB_PRODUCT, "brand": {"name": "Acme"}})
        assert dict(meta.kept) == {"brand": {"name": "Acme"}}
        body = wire.bulk_item(product, wire.BULK_UPDATE, meta.kept)
        assert body["brand"] == {"name": "Acme"} and body["details"]["description"] == "apple"
        put = wire.product_to_wire(product.model_copy(update={"active": False}), meta.kept)
        assert put["brand"] == {"name": "Acme"} and put["active"] is False


class TestBoms:
    """PB's BOM object and its id."""

    def test_bom_id_goes_to_meta(self) -> None:
        """billOfMaterialId is PB's, kept in meta and out of the model."""
        bom, meta = wire.bom_from_wire(
            {
                "clientId": "ACME",
                "sku": "K",
                "description": "kit",
                "billOfMaterialDetails": [{"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 2}],
                "billOfMaterialId": 17,
                "pbUpdateDate": "2026-01-01T00:00:00Z",
            }
        )
        assert meta.bom_id == "17" and bom.component_skus == ["A", "B"]


class TestAnswers:
    """Lenient readings of search pages, bulk answers and inventory records."""

    def test_results_array_found_by_any_known_name(self) -> None:
        """`content` first, else the resource's plural."""
        assert answers.results_of({"content": [{"a": 1}]}, "products") == [{"a": 1}]
        assert answers.results_of({"billOfMaterials": [{"b": 1}]}, "boms") == [{"b": 1}]
        assert answers.results_of({}, "inventory") == []

    def test_bulk_problems_only_for_unstored_items(self) -> None:
        """UNPUBLISHED items (with PB's words when given) are hints; PUBLISHED ones are not."""
        answer = {
            "products": [
                {"sku": "A", "status": "PUBLISHED"},
                {"sku": "B", "status": "UNPUBLISHED", "errors": [{"errorDescription": "bad"}]},
            ]
        }
        assert wire.bulk_item_problems(answer) == {"B": "PB reported UNPUBLISHED: bad"}
        assert wire.bulk_item_problems("not json") == {}

    def test_inventory_record_quantity(self) -> None:
        """The on-hand quantity is read under any assumed name; booleans are not numbers."""
        assert wire.inventory_on_hand({"sku": "A", "quantity": 4}) == ("A", 4)
        assert wire.inventory_on_hand({"sku": "A", "onHand": 2.0}) == ("A", 2)
        assert wire.inventory_on_hand({"sku": "A", "quantity": True}) is None
        assert wire.inventory_on_hand({"quantity": 1}) is None

    def test_inventory_quantity_that_is_not_finite(self) -> None:
        """Infinity or NaN (which JSON parsers accept) is no quantity, not a crash."""
        assert wire.inventory_on_hand({"sku": "A", "onHand": float("inf"), "quantity": 3}) == (
            "A",
            3,
        )
        assert wire.inventory_on_hand({"sku": "A", "quantity": float("nan")}) is None

    def test_window_reaches_back_to_2000(self) -> None:
        """The product search window starts in 2000 and ends after now, in PB's pattern."""
        now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
        (field,) = wire.product_window_search_fields(now)
        assert field["values"] == ["2000-01-01T00:00:00.000+0000", "2026-11-23T12:00:00.000+0000"]
