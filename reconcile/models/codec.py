"""Identity of resources and its one encoding: key ↔ address ↔ dict (a plan's ``key``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

#: The first part of an address, per kind: ``product.<sku>``, ``bom.<sku>[@<node>]``.
PRODUCT_PREFIX = "product"
BOM_PREFIX = "bom"


class ProductKey(NamedTuple):
    """A product is identified by (clientId, sku)."""

    client_id: str
    sku: str

    @property
    def address(self) -> str:
        return address(PRODUCT_PREFIX, self.sku)


class BomKey(NamedTuple):
    """A BOM is identified by (clientId, kit sku, node); PB's own id is never asked for."""

    client_id: str
    sku: str
    node: str  # "" when the BOM names no node

    @property
    def address(self) -> str:
        return address(BOM_PREFIX, self.sku, self.node)


ResourceKey = ProductKey | BomKey

#: A key's fields as a plan's ``key`` names them: PB's own field names.
_DICT_NAMES = {"client_id": "clientId", "sku": "sku", "node": "node"}
#: Key fields a dict may leave out, with the value their absence means (no node).
_OPTIONAL = {"node": ""}


def address(prefix: str, sku: str, node: str = "") -> str:
    """The address people and plans name a resource by: ``<prefix>.<sku>[@<node>]``."""
    return f"{prefix}.{sku}@{node}" if node else f"{prefix}.{sku}"


#: A BOM beyond the one the plan keeps for its key is named by its PB id as well:
#: ``bom.<sku>[@<node>]#<billOfMaterialId>`` (only deactivations of duplicates carry it).
DUPLICATE_MARK = "#"


def duplicate_address(key_address: str, bom_id: str) -> str:
    return f"{key_address}{DUPLICATE_MARK}{bom_id}"


def product_address(sku: str) -> str:
    return address(PRODUCT_PREFIX, sku)


def key_fields(key_class: type[ResourceKey]) -> tuple[str, ...]:
    """The names a key's dict holds, in order: ``("clientId", "sku"[, "node"])``."""
    return tuple(_DICT_NAMES[name] for name in key_class._fields)


def key_dict(key: ResourceKey) -> dict[str, str]:
    """A key as a plan's ``key`` holds it (a BOM without a node has ``"node": ""``)."""
    return {_DICT_NAMES[name]: value for name, value in zip(key._fields, key, strict=True)}


def key_from_dict(key_class: type[ResourceKey], data: Mapping[str, str]) -> ResourceKey:
    """The key a plan's ``key`` dict names (KeyError when a required field is missing)."""
    values = [
        data.get(_DICT_NAMES[name], _OPTIONAL[name])
        if name in _OPTIONAL
        else data[_DICT_NAMES[name]]
        for name in key_class._fields
    ]
    return key_class(*values)
