"""The apply order, in one place: the phases ``apply`` runs, and the order of a plan.

``apply`` runs the phases one after another: product creates and updates (ITEM
products, then KIT products), then every BOM write, then product deactivations. A plan
lists its changes in that order, and each change names what must succeed before it
(``depends_on``): a BOM waits for the products it names, a product deactivation for the
BOMs that stop using it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from reconcile.models.kinds import KINDS, resource_kind
from reconcile.plan.change import Change, Kind, component_skus


def apply_phases(changes: Iterable[Change]) -> list[tuple[Kind, list[Change]]]:
    """The changes grouped into the phases ``apply`` runs one after another (see
    ``apply_order``), each phase one kind's changes, in the order given."""
    phases: dict[tuple[int, int], list[Change]] = defaultdict(list)
    for change in changes:
        phases[_phase(change)].append(change)
    return [(phases[p][0].kind, phases[p]) for p in sorted(phases)]


def _phase(change: Change) -> tuple[int, int]:
    """Creates and updates run in their kind's phase, split by rank (KIT products after
    ITEM products); the deactivations of a kind others use run after every other write."""
    kind = resource_kind(change.kind)
    if kind.retire_last and change.deactivates:
        return len(KINDS) + kind.phase, 0
    return kind.phase, _rank(change)


def _rank(change: Change) -> int:
    return resource_kind(change.kind).rank(change.after or change.before or {})


def in_apply_order(product_changes: list[Change], bom_changes: list[Change]) -> list[Change]:
    """The changes of a plan in apply order, each naming what must succeed before it."""
    boms_after_products = with_dependencies(bom_changes, product_changes)
    products_after_boms = deactivations_after_boms(product_changes, bom_changes)
    return sorted([*products_after_boms, *boms_after_products], key=apply_order)


def apply_order(change: Change) -> tuple[int, int, str]:
    """The apply order, in three phases, each ITEM products before KIT products and then
    by address:

    1. product creates and updates (a BOM may only name products PB holds, and a
       reactivation must land before a BOM uses the product again);
    2. every BOM write, deactivations included;
    3. product deactivations (prune, or an update to ``active: false``), so that a
       component or kit is deactivated only after the BOMs that drop it.
    """
    return _phase(change)[0], _rank(change), change.address


def with_dependencies(bom_changes: list[Change], product_changes: list[Change]) -> list[Change]:
    """A BOM create/update waits for the creates and updates of its kit and components:
    PB checks that they exist (and a reactivation must land before the BOM uses it).
    Product deactivations come after BOMs and are never a BOM's dependency."""
    writes = {c.key["sku"]: c.address for c in product_changes if not c.deactivates}
    result = []
    for change in bom_changes:
        if change.action == "deactivate" or change.after is None:
            result.append(change)
            continue
        skus = [change.key["sku"], *component_skus(change.after)]
        needs = sorted({writes[s] for s in skus if s in writes})
        result.append(change.model_copy(update={"depends_on": needs}))
    return result


def deactivations_after_boms(
    product_changes: list[Change], bom_changes: list[Change]
) -> list[Change]:
    """A product deactivation waits for the BOM changes that stop using it (as kit or
    component): if such a BOM write fails, the product stays active and the BOM intact."""
    stopped_by: dict[str, list[str]] = {}
    for change in bom_changes:
        for sku in _skus_used(change.before) - _skus_used(change.after):
            stopped_by.setdefault(sku, []).append(change.address)
    result = []
    for change in product_changes:
        users = stopped_by.get(change.key["sku"], []) if change.deactivates else []
        result.append(change.model_copy(update={"depends_on": sorted(users)}) if users else change)
    return result


def _skus_used(bom: Mapping[str, Any] | None) -> set[str]:
    """The kit and component SKUs an active BOM (plan JSON) uses; none when inactive."""
    if bom is None or bom.get("active", True) is False:
        return set()
    return {str(bom["sku"]), *component_skus(bom)}
