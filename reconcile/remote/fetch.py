"""Current state: what PB holds for one client, read into the same models as the catalog.

Products come from a paged search carrying an explicit wide creation-date window (PB
hides products created more than six months ago from a plain search, contract §6.5).
Whether PB honoured the window is checked inside the read itself (``remote/window.py``):
a returned product older than six months proves it; otherwise a small sample of GETs of
the desired products the search did not return, and only if one of them turns out to
exist, a GET for each of them. BOMs come from a paged search that includes inactive
ones, so a desired BOM that was deactivated is found and reactivated by an update
instead of being created a second time.

Objects are decoded page by page as they arrive: no second copy of every raw object is
kept. Only the client's own objects are kept (a search or GET may answer with another
client's). An object reconcile cannot represent does not stop the read: it is listed in
``ResourceSet.unreadable`` by address with the reason, and the plan leaves it alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any, TypeVar

from reconcile.models import Bom, Product, RemoteMeta, ResourceSet
from reconcile.remote import window, wire
from reconcile.remote.bomkeys import unique_boms
from reconcile.remote.progress import NO_PROGRESS, Progress

if TYPE_CHECKING:
    from reconcile.plan.change import Change
    from reconcile.remote.client import PBClient

A = TypeVar("A")
B = TypeVar("B")
T = TypeVar("T")
ProductRead = tuple[Product, RemoteMeta] | wire.Unreadable

#: How many SKUs one filtered search names; a page of results holds at most as many.
SEARCH_BATCH = 100

#: The desired product SKUs, or a function returning an awaitable of them (the catalog
#: still loading): only the window check needs them, so only it waits.
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
    in a thread): both searches run while it resolves, and only the window check waits.

    An object reconcile cannot represent (an unknown field, a value outside the
    documented rules, an odd SKU) does not stop the read: it goes to
    ``ResourceSet.unreadable`` by address, with the reason, and the plan refuses to
    change it.
    """
    products, boms = await both(
        _all_products(client, client_id, progress),
        _search_boms(client, client_id, progress=progress),
    )
    wanted = desired_skus if isinstance(desired_skus, Collection) else await desired_skus()
    missing = sorted(set(wanted) - products.reads.keys())
    if missing and not products.evidence.proven:
        named = (sku for bom in boms for sku in window.skus_named(bom))
        hidden = await _hidden_products(client, client_id, missing, named, progress)
        products.reads.update((sku, wire.read_product(obj)) for sku, obj in hidden.items())
    return _decoded(products.reads.values(), boms)


def decode(products: Iterable[Mapping[str, Any]], boms: Iterable[Mapping[str, Any]]) -> ResourceSet:
    """PB's objects as a ResourceSet: one BOM per key (``unique_boms``), and every object
    that cannot be read in ``unreadable``. An unreadable BOM that is plainly inactive
    (``"active": false``) beside a readable BOM of its key is history and left out."""
    return _decoded((wire.read_product(obj) for obj in products), boms)


def _decoded(products: Iterable[ProductRead], boms: Iterable[Mapping[str, Any]]) -> ResourceSet:
    current = ResourceSet()
    for read in products:
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


class _AccountProducts:
    """A whole-account product search, decoded as it arrives, and what it proves about
    the creation-date window."""

    def __init__(self) -> None:
        self.reads: dict[str, ProductRead] = {}
        self.evidence = window.WindowEvidence()


async def _all_products(client: PBClient, client_id: str, progress: Progress) -> _AccountProducts:
    found = _AccountProducts()
    async for key, obj in _walk_products(client, client_id, progress=progress):
        found.evidence.saw(obj)
        found.reads[key] = wire.read_product(obj)
    return found


async def _hidden_products(
    client: PBClient,
    client_id: str,
    missing: Sequence[str],
    named_by_boms: Iterable[str],
    progress: Progress,
) -> dict[str, dict[str, Any]]:
    """The desired products the search hid, by the sample rule of ``remote/window.py``."""
    sampled = window.sample(missing, named_by_boms)
    found = await _get_products(client, client_id, sampled, progress)
    if not found:
        return {}
    rest = sorted(set(missing) - set(sampled))
    progress.note(window.HIDDEN_NOTE.format(count=len(missing)))
    found.update(await _get_products(client, client_id, rest, progress))
    return found


async def _search_products(
    client: PBClient, client_id: str, skus: Sequence[str]
) -> dict[str, dict[str, Any]]:
    return {key: obj async for key, obj in _walk_products(client, client_id, skus=skus)}


async def _walk_products(
    client: PBClient,
    client_id: str,
    *,
    skus: Sequence[str] | None = None,
    progress: Progress = NO_PROGRESS,
) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """The client's products a search returns (only ``skus`` when given), keyed by SKU."""
    fields = wire.product_window_search_fields()
    if skus is not None:
        fields.append({"name": wire.PRODUCT_SKU_SEARCH_FIELD, "values": list(skus)})
    pages = _PageProgress(progress, "product pages")
    items = client.search_products(client_id, search_fields=fields, on_page=pages)
    wanted = None if skus is None else set(skus)
    async for obj in items:
        sku = obj.get("sku")
        if not _belongs(obj, client_id):
            continue
        if wanted is None:
            # The whole account: an object with an odd SKU (not a string) is kept under
            # its address, so that decoding reports it as unreadable.
            yield (sku if isinstance(sku, str) else wire.product_address(obj)), obj
        elif isinstance(sku, str) and sku in wanted:
            # A server that ignores the SKU filter still gives a correct (larger) answer.
            yield sku, obj


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
    client: PBClient,
    client_id: str,
    skus: Collection[str],
    *,
    absent_before: Collection[str] = frozenset(),
    progress: Progress = NO_PROGRESS,
) -> dict[str, dict[str, Any]]:
    """These products, by SKU-filtered searches (one page per ``SEARCH_BATCH``); one the
    searches do not return is read by GET (the search may hide an old product), except
    those in ``absent_before``: a product created since they were found absent is
    younger than six months, so every search shows it."""
    found: dict[str, dict[str, Any]] = {}
    searches = (
        _ticking(_search_products(client, client_id, batch), progress, len(batch))
        for batch in _batches(skus)
    )
    for part in await all_of(searches):
        found.update(part)
    missing = [s for s in sorted(set(skus)) if s not in found and s not in absent_before]
    found.update(await _get_products(client, client_id, missing, NO_PROGRESS))
    return found


#: The progress task of the check that a plan still holds (``reread``).
CHECK_TASK = "checking plan"


async def _ticking(work: Awaitable[T], progress: Progress, units: int) -> T:
    """``work``, then ``units`` more of ``CHECK_TASK`` done."""
    result = await work
    progress.update(CHECK_TASK, advance=units)
    return result


def _batches(skus: Collection[str]) -> list[list[str]]:
    wanted = sorted(set(skus))
    return [wanted[i : i + SEARCH_BATCH] for i in range(0, len(wanted), SEARCH_BATCH)]


async def read_boms(
    client: PBClient, client_id: str, kit_skus: Collection[str]
) -> list[tuple[Bom, RemoteMeta]]:
    """Every BOM (active or not) of these kits, duplicates included.

    Raises ``RemoteStateError`` if one of them cannot be read (``reread`` does not).
    """
    return [wire.bom_from_wire(obj) for obj in await _bom_objects(client, client_id, kit_skus)]


async def _bom_objects(
    client: PBClient,
    client_id: str,
    kit_skus: Collection[str],
    progress: Progress = NO_PROGRESS,
) -> list[dict[str, Any]]:
    parts = await all_of(
        _ticking(_search_boms(client, client_id, kit_skus=batch), progress, len(batch))
        for batch in _batches(kit_skus)
    )
    return [obj for part in parts for obj in part]


async def reread(
    client: PBClient,
    client_id: str,
    changes: Sequence[Change],
    progress: Progress = NO_PROGRESS,
) -> ResourceSet:
    """The current state of the resources a plan changes, for its stale check; those PB
    now holds in a form reconcile cannot read are in ``unreadable``.

    It costs pages, not resources: one SKU-filtered search per ``SEARCH_BATCH`` products
    and per ``SEARCH_BATCH`` kits. A product the plan updates or deactivates that the
    search does not return is read by GET (PB may hide it as older than six months); a
    planned create needs no GET, since a product created since the plan is young and
    every search shows it. ``progress`` counts the planned resources checked
    (``CHECK_TASK``).
    """
    products = [c.key["sku"] for c in changes if c.kind == "product"]
    kits = {c.key["sku"] for c in changes if c.kind == "bom"}
    created = {c.key["sku"] for c in changes if c.kind == "product" and c.before is None}
    progress.update(CHECK_TASK, total=len(set(products)) + len(kits))
    found, boms = await both(
        _product_objects(client, client_id, products, absent_before=created, progress=progress),
        _bom_objects(client, client_id, kits, progress),
    )
    progress.done(CHECK_TASK)
    return decode(found.values(), boms)
