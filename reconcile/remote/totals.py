"""How many products and BOMs PB holds for a client: the safety denominators of a
saved plan, which does not trust the counts written in the plan file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconcile.remote import wire
from reconcile.remote.fetch import both

if TYPE_CHECKING:
    from reconcile.remote.client import PBClient


async def count_existing(client: PBClient, client_id: str) -> tuple[int, int]:
    """How many products and BOMs PB holds for the client now: the safety denominators
    of a saved plan, which does not trust the counts written in the plan file.

    Cheap: one one-item page per kind, read for its ``totalElements`` (products in the
    wide creation window the plan reads, BOMs inactive ones included). A search that
    announces no usable total is walked and counted instead.
    """
    return await both(_product_total(client, client_id), _bom_total(client, client_id))


async def _product_total(client: PBClient, client_id: str) -> int:
    page = await client.search_products_page(client_id, wire.FIRST_PAGE, 1)
    total = _count(page.get(wire.TOTAL_ELEMENTS_FIELD))
    if total is None:
        total = sum([1 async for _ in client.search_products(client_id)])
    return total


async def _bom_total(client: PBClient, client_id: str) -> int:
    page = await client.search_boms_page(client_id, wire.FIRST_PAGE, 1, include_inactive=True)
    total = _count(page.get(wire.TOTAL_ELEMENTS_FIELD))
    if total is None:
        total = sum([1 async for _ in client.search_boms(client_id, include_inactive=True)])
    return total


def _count(value: Any) -> int | None:
    """A total PB announced, if it is a whole number ≥ 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value
