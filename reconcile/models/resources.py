"""A set of products and BOMs indexed by identity: what a catalog or PB holds."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from reconcile.errors import RemoteStateError
from reconcile.models.bom import Bom
from reconcile.models.codec import BomKey, ProductKey, ResourceKey
from reconcile.models.product import Product


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


#: Lists that are sets keyed by one of their elements' fields: list name → key field.
KEYED_LISTS: dict[str, str] = {"billOfMaterialDetails": "sku"}


def comparable(model: BaseModel | None) -> dict[str, Any]:
    """A resource as the JSON value the diff compares (empty when the resource is absent).

    Absent and null are the same thing to PB (a PUT without the field clears it), so
    None values are dropped; keyed lists become dicts keyed by their element key. A list
    holding one key twice (PB accepts a BOM naming a component on two lines) stays a
    list: as a dict one line would silently hide the other.
    """
    if model is None:
        return {}
    data = model.model_dump(mode="json", exclude_none=True)
    for name, key_field in KEYED_LISTS.items():
        if isinstance(data.get(name), list):
            keyed = {element[key_field]: element for element in data[name]}
            if len(keyed) == len(data[name]):
                data[name] = keyed
    return data


def digest(model: BaseModel) -> str:
    """sha256 of a model's canonical JSON: the precondition when PB gives no pbUpdateDate."""
    data = model.model_dump(mode="json", exclude_none=True)
    return "sha256:" + hashlib.sha256(canonical_json(data).encode()).hexdigest()


@dataclass(frozen=True)
class RemoteMeta:
    """What PB told us about a resource besides its managed fields."""

    pb_update_date: str | None = None
    bom_id: str | None = None  # PB-assigned billOfMaterialId; None for products
    #: PB's creation stamp (BOMs): the survivor order of duplicates (``remote.duplicates``).
    pb_create_date: str | None = None
    #: Top-level fields PB returned that the models do not know, as PB sent them: never
    #: diffed (the catalog does not declare them), carried unchanged through every full
    #: replacement so that a PUT cannot erase them.
    kept: Mapping[str, Any] = field(default_factory=dict, hash=False)


_NEVER = datetime.max.replace(tzinfo=UTC)


def creation_rank(meta: RemoteMeta) -> tuple[datetime, str]:
    """The survivor order of duplicate BOMs: created first, then the lowest id. Every run
    computes it alike from what PB holds; an unreadable date sorts last."""
    try:
        text = meta.pb_create_date or ""
        created = datetime.fromisoformat(text.replace("Z", "+00:00")) if text else _NEVER
    except ValueError:
        created = _NEVER
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created, meta.bom_id or ""


@dataclass
class ResourceSet:
    products: dict[ProductKey, Product] = field(default_factory=dict)
    boms: dict[BomKey, Bom] = field(default_factory=dict)
    #: Only filled for the remote side.
    meta: dict[ResourceKey, RemoteMeta] = field(default_factory=dict)
    #: Remote side only: objects PB holds that reconcile cannot represent (an unknown
    #: field, a value outside the documented rules), by address, with the reason.
    #: Nothing may be planned for them, since a PUT would overwrite what was not read.
    unreadable: dict[str, str] = field(default_factory=dict)
    #: Remote side only: keys PB holds two or more ACTIVE BOMs for, with all of them
    #: (``boms``/``meta`` hold the earliest). The plan resolves them (``plan.build``).
    duplicates: dict[BomKey, list[tuple[Bom, RemoteMeta]]] = field(default_factory=dict)

    def ambiguity(self, key: BomKey) -> RemoteStateError:
        """The error for duplicates nothing in the catalog resolves."""
        found = self.duplicates.get(key, [])
        ids = ", ".join(sorted(str(meta.bom_id) for _, meta in found))
        return RemoteStateError(
            f"PB holds {len(found)} active BOMs for one key (kit {key.sku!r}, node "
            f"{key.node or '(none)'!r}): billOfMaterialId {ids}; reconcile cannot tell which "
            "one the catalog means (it keeps one only when the catalog declares exactly that "
            "one). Deactivate all but one of them (or give them different nodes), or declare "
            "one of them exactly, and plan again",
            operation="read",
            resource=key.address,
        )

    def add_product(self, product: Product, meta: RemoteMeta | None = None) -> None:
        self.products[product.key] = product
        if meta is not None:
            self.meta[product.key] = meta

    def add_bom(self, bom: Bom, meta: RemoteMeta | None = None) -> None:
        self.boms[bom.key] = bom
        if meta is not None:
            self.meta[bom.key] = meta

    def __len__(self) -> int:
        return len(self.products) + len(self.boms)
