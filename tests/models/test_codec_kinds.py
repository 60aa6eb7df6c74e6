"""The key codec (key ↔ address ↔ dict) and the registry of resource kinds."""

from __future__ import annotations

import pytest

from reconcile.models import BomKey, ProductKey, ResourceSet
from reconcile.models.codec import key_dict, key_fields, key_from_dict, product_address
from reconcile.models.kinds import BOM, KINDS, PRODUCT, resource_kind


class TestCodec:
    @pytest.mark.parametrize(
        ("key", "address", "as_dict"),
        [
            (ProductKey("C", "A"), "product.A", {"clientId": "C", "sku": "A"}),
            (BomKey("C", "K", ""), "bom.K", {"clientId": "C", "sku": "K", "node": ""}),
            (BomKey("C", "K", "N1"), "bom.K@N1", {"clientId": "C", "sku": "K", "node": "N1"}),
        ],
    )
    def test_a_key_round_trips_through_its_dict(
        self, key: ProductKey | BomKey, address: str, as_dict: dict[str, str]
    ) -> None:
        """Each key has one address and one dict, and the dict gives the key back."""
        assert key.address == address
        assert key_dict(key) == as_dict
        assert key_from_dict(type(key), as_dict) == key

    def test_a_bom_dict_without_node_means_no_node(self) -> None:
        """A BOM key dict may leave out the node; a required field may not be left out."""
        assert key_from_dict(BomKey, {"clientId": "C", "sku": "K"}) == BomKey("C", "K", "")
        with pytest.raises(KeyError):
            key_from_dict(ProductKey, {"sku": "A"})

    def test_key_fields_and_product_address(self) -> None:
        """The dict field names come in key order; a bare SKU names its product."""
        assert key_fields(BomKey) == ("clientId", "sku", "node")
        assert product_address("A") == ProductKey("", "A").address


class TestKinds:
    def test_the_registry_lists_kinds_in_apply_phase_order(self) -> None:
        """Products are written before the BOMs that name them; each name finds its kind."""
        assert [k.name for k in KINDS] == ["product", "bom"]
        assert [k.phase for k in KINDS] == sorted(k.phase for k in KINDS)
        assert resource_kind("bom") is BOM

    def test_a_kind_reads_its_section_of_a_resource_set(self) -> None:
        """``of`` is the kind's field of a ResourceSet, named like its catalog section."""
        resources = ResourceSet()
        assert PRODUCT.of(resources) is resources.products
        assert BOM.of(resources) is resources.boms
        assert (PRODUCT.section, BOM.section) == ("products", "boms")
