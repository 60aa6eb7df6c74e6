"""The registry of resource kinds: for each, its model, key, catalog section, address
prefix and apply phase. A new kind is one model file plus one entry here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reconcile.models import codec
from reconcile.models.bom import Bom
from reconcile.models.codec import BomKey, ProductKey, ResourceKey
from reconcile.models.product import Product
from reconcile.models.resources import ResourceSet

Kind = Literal["product", "bom"]
Resource = Product | Bom


@dataclass(frozen=True)
class ResourceKind:
    name: Kind
    model: type[Product] | type[Bom]
    key: type[ProductKey] | type[BomKey]
    #: Its section in catalog files, and its field of ``ResourceSet``.
    section: str
    #: Its addresses' first part: ``<prefix>.<sku>``.
    prefix: str
    #: Its name in sentences ("3 of 40 BOMs").
    plural: str
    #: Kinds' creates and updates apply in increasing phase: a BOM names products PB holds.
    phase: int
    #: Its deactivations wait for every other write, since other kinds' objects use it.
    retire_last: bool = False
    #: PB assigns its objects an id (billOfMaterialId) that updates address.
    remote_id: bool = False
    #: The order of its writes within its phase, from their state (lower first).
    rank: Callable[[Mapping[str, Any]], int] = lambda state: 0

    def of(self, resources: ResourceSet) -> Mapping[ResourceKey, Resource]:
        """The resources of this kind in a set, by key."""
        held: Mapping[ResourceKey, Resource] = getattr(resources, self.section)
        return held

    def parse(self, data: Mapping[str, Any]) -> Resource:
        """Plan JSON of this kind as its model (pydantic ValidationError if it does not parse)."""
        return self.model.model_validate(data)

    @property
    def key_fields(self) -> tuple[str, ...]:
        return codec.key_fields(self.key)

    def key_from_dict(self, data: Mapping[str, str]) -> ResourceKey:
        return codec.key_from_dict(self.key, data)


def _kits_last(state: Mapping[str, Any]) -> int:
    return 1 if state.get("productType") == "KIT" else 0


PRODUCT = ResourceKind(
    name="product",
    model=Product,
    key=ProductKey,
    section="products",
    prefix=codec.PRODUCT_PREFIX,
    plural="products",
    phase=0,
    retire_last=True,
    rank=_kits_last,
)
BOM = ResourceKind(
    name="bom",
    model=Bom,
    key=BomKey,
    section="boms",
    prefix=codec.BOM_PREFIX,
    plural="BOMs",
    phase=1,
    remote_id=True,
)
#: Every kind, in apply-phase order.
KINDS: tuple[ResourceKind, ...] = (PRODUCT, BOM)
_BY_NAME: dict[str, ResourceKind] = {kind.name: kind for kind in KINDS}


def resource_kind(name: str) -> ResourceKind:
    """The kind a plan's ``kind`` names (KeyError for an unknown one)."""
    return _BY_NAME[name]
