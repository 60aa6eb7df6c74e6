"""Current state: what PB holds for one client, read into the same models as the catalog.

Products come from a paged search carrying an explicit wide creation-date window, then a
GET for each desired SKU that the search did not return: PB hides products created more
than six months ago from a plain search (contract §6.5), and a search that ignored our
window must never turn an existing product into a planned create. BOMs come from a paged
search that includes inactive ones, so a desired BOM that was deactivated is found and
reactivated by an update instead of being created a second time.

Only the client's own objects are kept (a search or GET may answer with another
client's). An object reconcile cannot represent does not stop the read: it is listed in
``ResourceSet.unreadable`` by address with the reason, and the plan leaves it alone.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from reconcile.models import Bom, BomKey, Product, RemoteMeta, ResourceSet
from reconcile.models.resources import creation_rank
from reconcile.remote import wire
from reconcile.remote.progress import NO_PROGRESS, Progress

if TYPE_CHECKING:
    from reconcile.plan.change import Change
    from reconcile.remote.client import PBClient

A = TypeVar("A")
B = TypeVar("B")
T = TypeVar("T")

#: How many SKUs one filtered search names; a page of results holds at most as many.
SEARCH_BATCH = 100

#: The desired product SKUs, or a function returning an awaitable of them (the catalog
#: still loading): only the fallback GETs need them, so only they wait.
SkuSource = Collection[str] | Callable[[], Awaitable[Collection[str]]]


async def fetch_current_state(
    client: PBClient,
    client_id: str,
    *,
    desired_skus: SkuSource,
    progress: Progress = NO_PROGRESS,
) -> ResourceSet:
    """Everything PB holds for ``client_id``, plus any desired product a search hid.

    ``desired_skus`` may be a function returning an awaitable (the catalog still loading
    in a thread): both searches run while it resolves, and only the fallback GETs wait.

    An object reconcile cannot represent (an unknown field, a value outside the
    documented rules, an odd SKU) does not stop the read: it goes to
    ``ResourceSet.unreadable`` by address, with the reason, and the plan refuses to
    change it.
    """
    products, boms = await both(
        _all_products(client, client_id, desired_skus, progress),
        _search_boms(client, client_id, progress=progress),
    )
    return decode(products.values(), boms)


def decode(products: Iterable[Mapping[str, Any]], boms: Iterable[Mapping[str, Any]]) -> ResourceSet:
    """PB's objects as a ResourceSet: one BOM per key (``unique_boms``), and every object
    that cannot be read in ``unreadable``. An unreadable BOM that is plainly inactive
    (``"active": false``) beside a readable BOM of its key is history and left out."""
    current = ResourceSet()
    for obj in products:
        read = wire.read_product(obj)
        if isinstance(read, wire.Unreadable):
            _note(current, read)
        else:
            current.add_product(*read)
    readable: list[tuple[Bom, RemoteMeta]] = []
    unreadable: list[tuple[Mapping[str, Any], wire.Unreadable]] = []
    for obj in boms:
        read_bom = wire.read_bom(obj)
        if isinstance(read_bom, wire.Unreadable):
            unreadable.append((obj, read_bom))
        else:
            readable.append(read_bom)
    for bom, meta in unique_boms(readable, current.duplicates):
        current.add_bom(bom, meta)
    read_keys = {key.address for key in current.boms}
    for obj, why in unreadable:
        if not (obj.get("active") is False and why.address in read_keys):
            _note(current, why)
    return current


def _note(current: ResourceSet, why: wire.Unreadable) -> None:
    known = current.unreadable.get(why.address)
    current.unreadable[why.address] = f"{known}; and {why.reason}" if known else why.reason


async def both(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Run two awaitables concurrently; the first failure cancels the other and is raised
    as itself (a TaskGroup would wrap it in an ExceptionGroup)."""
    one, two = asyncio.ensure_future(first), asyncio.ensure_future(second)
    try:
        done, _ = await asyncio.wait((one, two), return_when=asyncio.FIRST_EXCEPTION)
        for task in (one, two):
            if task in done and not task.cancelled() and task.exception() is not None:
                task.result()  # raises that failure, as itself
        return one.result(), two.result()
    finally:
        for task in (one, two):
            task.cancel()
        await asyncio.gather(one, two, return_exceptions=True)


async def all_of(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """``asyncio.gather``, except that the first failure also cancels the rest."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _all_products(
    client: PBClient, client_id: str, desired_skus: SkuSource, progress: Progress
) -> dict[str, dict[str, Any]]:
    found = await _search_products(client, client_id, progress=progress)
    wanted = desired_skus if isinstance(desired_skus, Collection) else await desired_skus()
    missing = sorted(set(wanted) - found.keys())
    found.update(await _get_products(client, client_id, missing, progress))
    return found


async def _search_products(
    client: PBClient,
    client_id: str,
    *,
    skus: Sequence[str] | None = None,
    progress: Progress = NO_PROGRESS,
) -> dict[str, dict[str, Any]]:
    fields = wire.product_window_search_fields()
    if skus is not None:
        fields.append({"name": wire.PRODUCT_SKU_SEARCH_FIELD, "values": list(skus)})
    pages = _PageProgress(progress, "product pages")
    items = client.search_products(client_id, search_fields=fields, on_page=pages)
    wanted = None if skus is None else set(skus)
    found: dict[str, dict[str, Any]] = {}
    async for obj in items:
        sku = obj.get("sku")
        if not _belongs(obj, client_id):
            continue
        if wanted is None:
            # The whole account: an object with an odd SKU (not a string) is kept under
            # its address, so that decoding reports it as unreadable.
            found[sku if isinstance(sku, str) else wire.product_address(obj)] = obj
        elif isinstance(sku, str) and sku in wanted:
            # A server that ignores the SKU filter still gives a correct (larger) answer.
            found[sku] = obj
    return found


async def _get_products(
    client: PBClient, client_id: str, skus: Sequence[str], progress: Progress
) -> dict[str, dict[str, Any]]:
    """GET each SKU concurrently (the client bounds requests in flight); absent ones skipped.

    An answer for another client or another SKU counts as absent: the older GET page
    ignores ``?clientId=`` (contract §6.4) and may answer with another client's product.
    """
    if not skus:
        return {}
    progress.update("product lookups", total=len(skus))

    async def get(sku: str) -> dict[str, Any] | None:
        obj = await client.get_product(client_id, sku)
        progress.update("product lookups", advance=1)
        return obj

    results = await all_of(get(sku) for sku in skus)
    progress.done("product lookups")
    return {
        sku: obj
        for sku, obj in zip(skus, results, strict=True)
        if obj is not None and obj.get("sku") == sku and _belongs(obj, client_id)
    }


def _belongs(obj: dict[str, Any], client_id: str) -> bool:
    """Whether a PB object is ``client_id``'s (one that names no client is taken as asked)."""
    return bool(obj.get("clientId", client_id) == client_id)


async def _search_boms(
    client: PBClient,
    client_id: str,
    *,
    kit_skus: Sequence[str] | None = None,
    progress: Progress = NO_PROGRESS,
) -> list[dict[str, Any]]:
    fields = None
    if kit_skus is not None:
        fields = [{"name": wire.BOM_PARENT_SKU_SEARCH_FIELD, "values": list(kit_skus)}]
    pages = _PageProgress(progress, "BOM pages")
    items = client.search_boms(
        client_id, search_fields=fields, include_inactive=True, on_page=pages
    )
    wanted = None if kit_skus is None else set(kit_skus)
    return [
        obj
        async for obj in items
        if _belongs(obj, client_id) and (wanted is None or _text_in(obj.get("sku"), wanted))
    ]


def _text_in(value: Any, wanted: set[str]) -> bool:
    """``value in wanted`` for anything PB may send (a list or an object is unhashable)."""
    return isinstance(value, str) and value in wanted


class _PageProgress:
    """The client's ``on_page(done, total)`` as progress of one task, done at the end."""

    def __init__(self, progress: Progress, task: str) -> None:
        self.progress = progress
        self.task = task

    def __call__(self, done: int, total: int) -> None:
        self.progress.update(self.task, advance=1, total=total)
        if done >= total:
            self.progress.done(self.task)


def unique_boms(
    pairs: Iterable[tuple[Bom, RemoteMeta]],
    duplicates: dict[BomKey, list[tuple[Bom, RemoteMeta]]] | None = None,
) -> list[tuple[Bom, RemoteMeta]]:
    """One BOM per (sku, node) key, chosen among the remote BOMs of that key.

    Inactive BOMs are history: beside exactly one active BOM they are left out; with no
    active one, the most recently updated inactive BOM (latest ``pbUpdateDate``, then
    highest id) is the key's BOM, so a declared BOM reactivates it. Two or more ACTIVE
    BOMs for one key are duplicates: the one created first stands for the key, and all
    of them go to ``duplicates`` for the plan to resolve (or to refuse, naming each id).
    """
    by_key: dict[BomKey, list[tuple[Bom, RemoteMeta]]] = defaultdict(list)
    for bom, meta in pairs:
        by_key[bom.key].append((bom, meta))
    chosen = []
    for key, found in by_key.items():
        active = [pair for pair in found if pair[0].active]
        if len(active) > 1 and duplicates is not None:
            duplicates[key] = sorted(active, key=lambda pair: creation_rank(pair[1]))
        chosen.append(_one_bom(key, found, duplicates is not None))
    return chosen


def _one_bom(
    key: BomKey, found: list[tuple[Bom, RemoteMeta]], keep_duplicates: bool
) -> tuple[Bom, RemoteMeta]:
    active = [pair for pair in found if pair[0].active]
    if len(active) == 1:
        return active[0]
    if not active:
        return max(found, key=lambda pair: _recency(pair[1]))
    if keep_duplicates:
        return min(active, key=lambda pair: creation_rank(pair[1]))
    resources = ResourceSet(duplicates={key: active})
    raise resources.ambiguity(key)


_NEVER = datetime.min.replace(tzinfo=UTC)


def _recency(meta: RemoteMeta) -> tuple[datetime, int, str]:
    """Sort key of an inactive BOM: its last update, then its id (numerically if it is
    a number). A missing or unreadable date sorts first."""
    try:
        updated = wire.parse_pb_date(meta.pb_update_date) if meta.pb_update_date else _NEVER
    except ValueError:
        updated = _NEVER
    bom_id = meta.bom_id or ""
    return updated, int(bom_id) if bom_id.isascii() and bom_id.isdigit() else -1, bom_id


# ---- targeted reads: verification after writes, stale checks of saved plans -------------


async def read_products(
    client: PBClient, client_id: str, skus: Collection[str]
) -> dict[str, tuple[Product, RemoteMeta]]:
    """The current state of exactly these products (absent ones are left out).

    Raises ``RemoteStateError`` if one of them cannot be read (``reread`` does not).
    """
    found = await _product_objects(client, client_id, skus)
    return {sku: wire.product_from_wire(obj) for sku, obj in found.items()}


async def _product_objects(
    client: PBClient, client_id: str, skus: Collection[str]
) -> dict[str, dict[str, Any]]:
    wanted = sorted(set(skus))
    batches = [wanted[i : i + SEARCH_BATCH] for i in range(0, len(wanted), SEARCH_BATCH)]
    found: dict[str, dict[str, Any]] = {}
    for part in await all_of(_search_products(client, client_id, skus=b) for b in batches):
        found.update(part)
    missing = [s for s in wanted if s not in found]
    found.update(await _get_products(client, client_id, missing, NO_PROGRESS))
    return found


async def read_boms(
    client: PBClient, client_id: str, kit_skus: Collection[str]
) -> list[tuple[Bom, RemoteMeta]]:
    """Every BOM (active or not) of these kits, duplicates included.

    Raises ``RemoteStateError`` if one of them cannot be read (``reread`` does not).
    """
    return [wire.bom_from_wire(obj) for obj in await _bom_objects(client, client_id, kit_skus)]


async def _bom_objects(
    client: PBClient, client_id: str, kit_skus: Collection[str]
) -> list[dict[str, Any]]:
    wanted = sorted(set(kit_skus))
    batches = [wanted[i : i + SEARCH_BATCH] for i in range(0, len(wanted), SEARCH_BATCH)]
    parts = await all_of(_search_boms(client, client_id, kit_skus=b) for b in batches)
    return [obj for part in parts for obj in part]


async def reread(client: PBClient, client_id: str, changes: Sequence[Change]) -> ResourceSet:
    """The current state of the resources a saved plan changes, for its stale check;
    those PB now holds in a form reconcile cannot read are in ``unreadable``."""
    product_skus = [c.key["sku"] for c in changes if c.kind == "product"]
    kit_skus = [c.key["sku"] for c in changes if c.kind == "bom"]
    products, boms = await both(
        _product_objects(client, client_id, product_skus),
        _bom_objects(client, client_id, kit_skus),
    )
    return decode(products.values(), boms)


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
