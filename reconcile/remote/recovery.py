"""Lost writes: whether a create whose outcome is unknown had landed, decided by reading PB.

Writes whose outcome is unknown (the request may have reached PB) are never blindly
repeated where a repeat could duplicate:

* BOM create: before each retry, search the BOM's (sku, node) key; a BOM found there
  with the content we sent is the one our lost attempt created, and is returned.
* product create: products are keyed by SKU, so a repeat cannot duplicate; a retry that
  comes back "invalid" (PB's answer to a duplicate SKU) is resolved by reading the
  product: equal to what we sent → returned, otherwise the error stands.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from reconcile.errors import RemoteStateError, ValidationFailed
from reconcile.remote import wire
from reconcile.remote.failure import amended
from reconcile.remote.transport import Retry

log = logging.getLogger("reconcile.remote")

Json = dict[str, Any]


class Reader(Protocol):
    """The reads recovery needs (``PBClient`` has them)."""

    async def get_product(self, client_id: str, sku: str) -> Json | None: ...

    def search_boms(
        self,
        client_id: str,
        search_fields: list[Json] | None = None,
        include_inactive: bool = False,
        on_page: Callable[[int, int], None] | None = None,
    ) -> AsyncIterator[Json]: ...


async def resolve_product_create(reader: Reader, sent: Json, error: ValidationFailed) -> Json:
    """The product a lost create made, read back; else ``error``, amended if PB holds a
    different product under the SKU."""
    stored = await reader.get_product(str(sent.get("clientId", "")), str(sent.get("sku", "")))
    if stored is not None and _holds(stored, sent, wire.PRODUCT_SERVER_FIELDS):
        log.info(
            "product.create %s: an earlier attempt had created it; read back and kept",
            error.resource,
        )
        return stored
    if stored is None:
        raise error
    raise amended(
        error,
        "an earlier attempt may have created it, but PB now holds a product with this SKU "
        "that differs from what was sent",
    )


async def find_created_bom(reader: Reader, bom: Json, failure: Retry) -> Json | None:
    """The BOM a lost create made, None if it made none; never risks a duplicate."""
    fields = [{"name": wire.BOM_PARENT_SKU_SEARCH_FIELD, "values": [bom.get("sku")]}]
    same_key = [
        candidate
        async for candidate in reader.search_boms(
            str(bom.get("clientId", "")), fields, include_inactive=True
        )
        if candidate.get("sku") == bom.get("sku") and candidate.get("node") == bom.get("node")
    ]
    ours = [c for c in same_key if _holds(c, bom, wire.BOM_SERVER_FIELDS)]
    # An active BOM under this key that is not exactly ours may still be ours, altered
    # or normalised by PB: creating another could duplicate it, so stop instead.
    others = [c for c in same_key if c not in ours and c.get("active", True)]
    address, transaction_id = bom_address(bom), failure.error.transaction_id
    if len(ours) == 1 and not others:
        log.info(
            "bom.create %s: the attempt [%s] had gone through (id %s); not repeating it",
            address,
            transaction_id,
            wire.bom_id_of(ours[0]),
        )
        return ours[0]
    if ours or others:
        ids = ", ".join(str(wire.bom_id_of(b)) for b in ours + others)
        raise RemoteStateError(
            f"an attempt's outcome is unknown and PB now holds active BOMs with this key "
            f"(ids {ids}); not retrying, to avoid a duplicate: run plan again to see them",
            operation="bom.create",
            resource=address,
            transaction_id=transaction_id,
        )
    log.info("bom.create %s: the lost attempt [%s] created nothing", address, transaction_id)
    return None


def bom_address(bom: Json) -> str:
    sku, node = bom.get("sku", "?"), bom.get("node")
    return f"bom.{sku}@{node}" if node else f"bom.{sku}"


def _holds(stored: Json, sent: Json, server_fields: frozenset[str]) -> bool:
    """Whether PB's copy carries every field we sent with the same value (lists of
    objects, such as BOM components, in any order)."""
    return all(_same(stored.get(k), v) for k, v in sent.items() if k not in server_fields)


def _same(stored: Any, sent: Any) -> bool:
    if isinstance(stored, list) and isinstance(sent, list) and len(stored) == len(sent):
        return sorted(map(_canonical, stored)) == sorted(map(_canonical, sent))
    return bool(stored == sent)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
