"""Checks of the BOM search and GET by id: includeInactive, the kit filter, the id field,
the component keys."""

from __future__ import annotations

from reconcile.probe.check import Verdict, failed, keys_of, passed, shown, unknown
from reconcile.probe.session import Probe, answered, bom_identity
from reconcile.remote import wire

INCLUDE_INACTIVE = [dict(wire.BOM_INCLUDE_INACTIVE)]


async def sample_boms(probe: Probe) -> None:
    """The BOMs of a plain search and of one with includeInactive (first page each)."""
    facts = probe.facts
    facts.boms_plain = await probe.items("boms", fields=[])
    facts.boms_all = await probe.items("boms", fields=INCLUDE_INACTIVE)
    both = {bom_identity(b): b for b in [*facts.boms_plain, *facts.boms_all]}
    facts.boms = list(both.values())


async def include_inactive(probe: Probe) -> Verdict:
    """includeInactive adds the inactive BOMs to the active ones a plain search shows."""
    if not probe.facts.results_readable:
        return unknown("needs a readable search envelope")
    plain, everything = probe.facts.boms_plain, probe.facts.boms_all
    shown_plain = [bom_identity(b) for b in plain if b.get("active") is False]
    if shown_plain:
        return failed(f"a plain BOM search shows inactive BOMs ({shown(shown_plain)})")
    missing = {bom_identity(b) for b in plain} - {bom_identity(b) for b in everything}
    if missing:
        return failed(
            f"with includeInactive, {len(missing)} active BOMs of the plain search are gone: "
            "reconcile would read active BOMs as absent and create them again"
        )
    inactive = [b for b in everything if b.get("active") is False]
    if not inactive:
        return unknown("no inactive BOM on this account (`probe --write` makes one)")
    return passed(f"adds {len(inactive)} inactive to {len(plain)} active BOMs")


async def kit_filter(probe: Probe) -> Verdict:
    """A parentSku search answers that kit's BOMs and no other (a kit with an active BOM
    is searched plainly; else one with only inactive BOMs, with includeInactive)."""
    plain, everything = probe.facts.boms_plain, probe.facts.boms_all
    pool, extra = (plain, []) if plain else (everything, INCLUDE_INACTIVE)
    if not pool:
        return unknown("needs a BOM")
    kit = str(pool[0].get("sku"))
    fields = [{"name": wire.BOM_PARENT_SKU_SEARCH_FIELD, "values": [kit]}, *extra]
    found = await probe.items("boms", fields=fields)
    others = sorted({str(b.get("sku")) for b in found} - {kit})
    expected = {bom_identity(b) for b in pool if b.get("sku") == kit}
    if others:
        return failed(f"parentSku {kit!r} also answered kits {shown(others)}")
    if not expected <= {bom_identity(b) for b in found}:
        return failed(f"parentSku {kit!r} misses BOMs of that kit the search shows")
    return passed(f"parentSku {kit!r} answers only that kit's BOMs ({len(found)})")


async def id_field(probe: Probe) -> Verdict:
    """Every BOM carries its PB id under ``billOfMaterialId``."""
    if not probe.facts.boms:
        return unknown("needs a BOM")
    without = [b for b in probe.facts.boms if not wire.bom_id_of(b)]
    if without:
        return failed(
            f"{len(without)} BOMs carry no `{wire.BOM_ID_FIELD}` (keys: {keys_of(without[0])}): "
            "reconcile cannot update or deactivate them, nor tell two of one kit apart",
        )
    return passed(f"`{wire.BOM_ID_FIELD}` on all {len(probe.facts.boms)} BOMs")


async def components(probe: Probe) -> Verdict:
    """Each billOfMaterialDetails entry has ``sku`` and a whole ``quantity`` ≥ 1."""
    if not probe.facts.boms:
        return unknown("needs a BOM")
    for bom in probe.facts.boms:
        details = bom.get("billOfMaterialDetails")
        entries = details if isinstance(details, list) else [details]
        for entry in entries:
            if not _component(entry):
                return failed(
                    f"a component entry of kit {shown(bom.get('sku'))} is {shown(entry, 80)}: "
                    'reconcile expects {"sku", "quantity"} and cannot diff this BOM',
                )
    return passed("every component has `sku` and `quantity`")


def _component(entry: object) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("sku"), str):
        return False
    quantity = entry.get("quantity")
    return isinstance(quantity, int) and not isinstance(quantity, bool) and quantity >= 1


async def get_by_id(probe: Probe) -> Verdict:
    """GET /bill-of-materials/{id} answers the BOM its search item shows."""
    with_id = [b for b in probe.facts.boms if wire.bom_id_of(b)]
    if not with_id:
        return unknown("needs a BOM with an id")
    item = with_id[0]
    bom_id = str(wire.bom_id_of(item))
    answer = await probe.get_bom(bom_id)
    if answer.status != 200 or answer.obj is None:
        return failed(
            f"GET id {bom_id} answered {answered(answer)}: reconcile confirms a new BOM by "
            "search alone, and stops creating BOMs when the search does not show one",
        )
    if answer.obj != item:
        differ = sorted(k for k in set(item) | set(answer.obj) if item.get(k) != answer.obj.get(k))
        return failed(f"GET id {bom_id} differs from its search item in {', '.join(differ[:6])}")
    return passed(f"GET id {bom_id} equals its search item")
