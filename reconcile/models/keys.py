"""Identity of resources, and the documented field constraints shared by models."""

from __future__ import annotations

from typing import Annotated, NamedTuple

from pydantic import ConfigDict, Field

#: Closed models: a typo in a field name is an error, not a silently ignored key.
CLOSED = ConfigDict(strict=True, extra="forbid", frozen=True)
#: Open models keep keys PB documents but we could not read (details, options).
OPEN = ConfigDict(strict=True, extra="allow", frozen=True)

Sku = Annotated[str, Field(min_length=1, max_length=30, description="SKU, at most 30 characters")]
ClientId = Annotated[str, Field(min_length=1, description="PB-assigned client id")]


class ProductKey(NamedTuple):
    """A product is identified by (clientId, sku)."""

    client_id: str
    sku: str

    @property
    def address(self) -> str:
        return f"product.{self.sku}"


class BomKey(NamedTuple):
    """A BOM is identified by (clientId, kit sku, node); PB's own id is never asked for."""

    client_id: str
    sku: str
    node: str  # "" when the BOM names no node

    @property
    def address(self) -> str:
        return f"bom.{self.sku}@{self.node}" if self.node else f"bom.{self.sku}"


ResourceKey = ProductKey | BomKey
