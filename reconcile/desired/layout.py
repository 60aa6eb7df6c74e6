"""The canonical layout of catalog files: key order and indentation (shared by fmt and import)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from ruamel.yaml import YAML

#: Top-level keys of a catalog file.
FILE_ORDER = ("products", "boms")
#: Identity first, then type and status, then content; PB's own field names.
PRODUCT_ORDER = (
    "clientId",
    "sku",
    "productType",
    "active",
    "fulfillmentRegion",
    "vendorDetails",
    "details",
    "options",
    "createDate",
    "updateDate",
)
DETAILS_ORDER = ("description",)
VENDOR_ORDER = ("name", "number")
BOM_ORDER = (
    "clientId",
    "sku",
    "node",
    "description",
    "brand",
    "active",
    "notes",
    "instructions",
    "createDate",
    "updateDate",
    "billOfMaterialDetails",
)
COMPONENT_ORDER = ("sku", "quantity")
INSTRUCTION_ORDER = ("instruction", "active")

Path_ = tuple[str, ...]  # a path pattern: "*" stands for any list index
#: Which mappings have a canonical key order, by their path from the file's root.
ORDERS: dict[Path_, Sequence[str]] = {
    (): FILE_ORDER,
    ("products", "*"): PRODUCT_ORDER,
    ("products", "*", "details"): DETAILS_ORDER,
    ("products", "*", "vendorDetails"): VENDOR_ORDER,
    ("boms", "*"): BOM_ORDER,
    ("boms", "*", "billOfMaterialDetails", "*"): COMPONENT_ORDER,
    ("boms", "*", "instructions", "*"): INSTRUCTION_ORDER,
}


K = TypeVar("K")


def canonical_order(keys: Iterable[K], order: Sequence[str]) -> list[K]:
    """Known keys in ``order``, then unknown ones in their original order."""
    rank = {name: i for i, name in enumerate(order)}
    return sorted(keys, key=lambda k: rank.get(k, len(order)) if isinstance(k, str) else len(order))


def round_trip_yaml() -> YAML:
    """The round-trip YAML of fmt: comments and quotes kept, mapping 2, sequence 4, offset 2."""
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml
