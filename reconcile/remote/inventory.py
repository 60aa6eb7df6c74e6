"""Inventory on hand (contract §10): only read for the warnings of deactivated products."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import TYPE_CHECKING

from reconcile.remote import wire
from reconcile.remote.fetch import SEARCH_BATCH

if TYPE_CHECKING:
    from reconcile.remote.client import PBClient


async def fetch_inventory(
    client: PBClient, client_id: str, skus: Collection[str]
) -> dict[str, int]:
    """On-hand quantity per SKU (summed over nodes) for these SKUs; absent means none."""
    wanted = sorted(set(skus))
    on_hand: dict[str, int] = defaultdict(int)
    for start in range(0, len(wanted), SEARCH_BATCH):
        batch = wanted[start : start + SEARCH_BATCH]
        fields = [{"name": wire.INVENTORY_SKU_SEARCH_FIELD, "values": batch}]
        async for record in client.inventory_snapshot(client_id, search_fields=fields):
            parsed = wire.inventory_on_hand(record)
            if parsed is not None and parsed[0] in batch:
                on_hand[parsed[0]] += parsed[1]
    return dict(on_hand)
