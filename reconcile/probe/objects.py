"""Checks of the objects: do they read into the models, GET product, an absent SKU,
and the inventory snapshot's records."""

from __future__ import annotations

from collections import Counter

from reconcile.models import Bom, Product
from reconcile.probe.check import Verdict, failed, keys_of, passed, shown, unknown
from reconcile.probe.session import Probe, answered, results
from reconcile.remote import answers, wire

#: An SKU no account holds (longer than nothing PB would assign, within the 30 allowed).
ABSENT_SKU = "RCPROBE-NO-SUCH-SKU"


async def models(probe: Probe) -> Verdict:
    """Every sampled product and BOM reads into reconcile's models; unknown fields listed."""
    products, boms = probe.facts.products, probe.facts.boms
    if not products and not boms:
        return unknown("needs a product or a BOM")
    unknown_fields: Counter[str] = Counter()
    unreadable: list[str] = []
    for obj in products:
        unknown_fields.update(set(obj) - set(Product.model_fields) - wire.PRODUCT_SERVER_FIELDS)
        read = wire.read_product(obj)
        if isinstance(read, wire.Unreadable):
            unreadable.append(read.reason)
    for obj in boms:
        if not wire.bom_id_of(obj):
            continue  # a renamed id field: the `bom id field` check reports these
        unknown_fields.update(set(obj) - set(Bom.model_fields) - wire.BOM_SERVER_FIELDS)
        bom = wire.read_bom(obj)
        if isinstance(bom, wire.Unreadable):
            unreadable.append(bom.reason)
    sampled = f"{len(products)} products and {len(boms)} BOMs"
    if unknown_fields:
        listed = ", ".join(f"{k} ({n})" for k, n in sorted(unknown_fields.items()))
        return failed(
            f"fields the contract does not know, on {sampled}: {listed}; reconcile cannot "
            "represent these objects and leaves them unchanged; send `probe --record` output",
        )
    if unreadable:
        return failed(f"{len(unreadable)} of {sampled} cannot be read: {unreadable[0]}")
    return passed(f"{sampled} read into the models, no unknown field")


async def get_product(probe: Probe) -> Verdict:
    """GET of a sampled product answers the object its search item shows."""
    if not probe.facts.products:
        return unknown("needs a product")
    item = probe.facts.products[0]
    sku = str(item.get("sku"))
    answer = await probe.get_product(sku)
    if answer.status != 200 or answer.obj is None:
        return failed(f"GET {sku!r} answered {answered(answer)}; the search shows it")
    differ = sorted(k for k in set(item) | set(answer.obj) if item.get(k) != answer.obj.get(k))
    if differ:
        return failed(
            f"GET {sku!r} differs from its search item in {', '.join(differ[:6])}: "
            "reconcile treats both as the same object",
        )
    return passed(f"GET {sku!r} equals its search item")


async def absent_product(probe: Probe) -> Verdict:
    """An SKU nobody has answers 404 with PB's unified error object."""
    answer = await probe.get_product(ABSENT_SKU)
    if answer.status == 404 and answers.is_unified_error(answer.body):
        return passed(f"GET {ABSENT_SKU!r}: 404 with the unified error object")
    if answer.status == 404:
        return failed(
            f"GET {ABSENT_SKU!r}: 404 without PB's error object ({answered(answer)}): "
            "reconcile cannot tell 'no such product' from a proxy's 404, so it stops",
        )
    return failed(f"GET {ABSENT_SKU!r} answered {answered(answer)}, not 404")


async def inventory(probe: Probe) -> Verdict:
    """The snapshot's records carry an SKU and an on-hand quantity reconcile reads."""
    if not probe.facts.results_readable:
        return unknown("needs a readable search envelope")
    first = probe.facts.first_page if probe.facts.first_page is not None else wire.FIRST_PAGE
    answer = await probe.search("inventory", first, 5)
    if answer.status != 200:
        return failed(f"the snapshot answered {answered(answer)}")
    records = results(answer, "inventory")
    if not records:
        return unknown(f"no inventory record to look at (keys: {keys_of(answer.obj)})")
    odd = [r for r in records if wire.inventory_on_hand(r) is None]
    if odd:
        names = "`, `".join(wire.INVENTORY_QUANTITY_FIELDS)
        return failed(
            f"records with keys {keys_of(odd[0])}: reconcile looks for `sku` and one of "
            f"`{names}`, so its stock warning before a deactivation stays silent",
        )
    return passed(f"{len(records)} records with sku and quantity, e.g. {shown(records[0], 80)}")
