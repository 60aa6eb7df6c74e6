"""Warnings: what a release manager would want flagged before a plan is applied.

They never block an apply. Each looks at the state PB will be in once the plan has been
applied: the remote resources, overlaid with every planned change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from reconcile.models import ResourceSet
from reconcile.models.codec import product_address
from reconcile.plan.change import Change, Kind, PlanWarning, component_skus
from reconcile.plan.plan import Plan

#: ``--target``/``--exclude`` as a predicate on (address, sku).
Selected = Callable[[str, str], bool]


def plan_warnings(
    desired: ResourceSet, current: ResourceSet, changes: Sequence[Change], selected: Selected
) -> list[PlanWarning]:
    """What a release manager would want flagged before applying the plan."""
    final = _FinalState(desired, current, changes)
    found = [
        *_bom_part_warnings(desired, final, selected),
        *_deactivated_in_use_warnings(final, changes),
        *_kit_without_bom_warnings(final, changes),
        *_product_type_warnings(changes),
    ]
    return sorted(set(found), key=lambda w: (w.address, w.message))


class _FinalState:
    """Each product's and BOM's state once the plan has been applied."""

    def __init__(
        self, desired: ResourceSet, current: ResourceSet, changes: Sequence[Change]
    ) -> None:
        self.unreadable = current.unreadable
        self.desired_products = {k.sku: p for k, p in desired.products.items()}
        self.remote_products = {k.sku: p for k, p in current.products.items()}
        self.changes = {c.address: c for c in changes}
        self.boms: dict[str, tuple[bool, str, list[str]]] = {}
        for key, bom in current.boms.items():
            self.boms[key.address] = (bom.active, bom.sku, bom.component_skus)
        for change in changes:
            if change.kind == "bom" and change.after is not None:
                after = change.after
                self.boms[change.address] = (
                    bool(after.get("active", True)),
                    str(after["sku"]),
                    component_skus(after),
                )

    def product_active(self, sku: str) -> bool | None:
        """True/False once applied; None when the product will not exist in PB."""
        change = self.changes.get(product_address(sku))
        if change is not None and change.after is not None:
            return bool(change.after.get("active", True))
        remote = self.remote_products.get(sku)
        return None if remote is None else remote.active

    def active_boms_using(self, sku: str) -> list[str]:
        return sorted(
            address
            for address, (active, kit, parts) in self.boms.items()
            if active and (kit == sku or sku in parts)
        )

    def active_boms_of_kit(self, sku: str) -> list[str]:
        return [a for a, (active, kit, _) in self.boms.items() if active and kit == sku]


def _bom_part_warnings(
    desired: ResourceSet, final: _FinalState, selected: Selected
) -> Iterable[PlanWarning]:
    """Declared active BOMs whose kit or component will be missing or inactive in PB.

    A part this plan deactivates is reported once, on the product (see below).
    """
    for key, bom in desired.boms.items():
        if not bom.active or not selected(key.address, key.sku):
            continue
        for role, sku in [("kit", bom.sku)] + [("component", s) for s in bom.component_skus]:
            message = _part_problem(final, role, sku)
            if message:
                yield PlanWarning(address=key.address, message=message)


def _part_problem(final: _FinalState, role: str, sku: str) -> str | None:
    address = product_address(sku)
    state = final.product_active(sku)
    if state is None:
        if address in final.unreadable:
            return f"{role} {address} is in PB but could not be read: {final.unreadable[address]}"
        if sku in final.desired_products:
            return f"{role} {address} is declared but not in this plan (--target/--exclude)"
        return f"{role} {address} exists neither in PB nor in the catalog"
    if state is True:
        return None
    change = final.changes.get(address)
    if change is not None and change.turns_inactive:
        return None  # reported once, on the product this plan deactivates
    declared = final.desired_products.get(sku)
    if declared is None:
        return f"{role} {address} is inactive in PB"
    if not declared.active:
        return f"{role} {address} is declared inactive in the catalog"
    return (
        f"{role} {address} is inactive in PB and its reactivation is not in this plan "
        "(--target/--exclude)"
    )


def _deactivated_in_use_warnings(
    final: _FinalState, changes: Sequence[Change]
) -> Iterable[PlanWarning]:
    for change in _turning_inactive(changes, "product"):
        users = final.active_boms_using(change.key["sku"])
        if users:
            how = "prune deactivates it" if change.action == "deactivate" else "declared inactive"
            yield PlanWarning(
                address=change.address,
                message=f"{how}, but active BOMs still use it: {_some(users)}",
            )


def _kit_without_bom_warnings(
    final: _FinalState, changes: Sequence[Change]
) -> Iterable[PlanWarning]:
    for change in _turning_inactive(changes, "bom"):
        kit = change.key["sku"]
        if final.product_active(kit) and not final.active_boms_of_kit(kit):
            yield PlanWarning(
                address=change.address,
                message=f"kit {product_address(kit)} stays active but will have no active BOM",
            )


def _turning_inactive(changes: Sequence[Change], kind: Kind) -> Iterator[Change]:
    return (c for c in changes if c.kind == kind and c.turns_inactive)


def _product_type_warnings(changes: Sequence[Change]) -> Iterable[PlanWarning]:
    for change in changes:
        for fc in change.field_changes:
            if change.kind == "product" and fc.path == "productType":
                yield PlanWarning(
                    address=change.address,
                    message=f"changes productType {fc.before} → {fc.after}; "
                    "PB may refuse to change a product's type",
                )


def _some(addresses: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(addresses[:limit])
    return shown + (f" and {len(addresses) - limit} more" if len(addresses) > limit else "")


# ---- inventory ---------------------------------------------------------------------------


def add_inventory_warnings(plan: Plan, on_hand: Mapping[str, int]) -> Plan:
    """The plan plus a warning per product it deactivates while PB still holds stock.

    ``on_hand`` maps SKU → on-hand quantity; fetch it for
    ``plan.deactivated_product_skus()`` only.
    """
    extra = [
        PlanWarning(
            address=product_address(sku),
            message=f"deactivated while {on_hand[sku]} units are on hand",
        )
        for sku in plan.deactivated_product_skus()
        if on_hand.get(sku, 0) > 0
    ]
    if not extra:
        return plan
    warnings = sorted({*plan.warnings, *extra}, key=lambda w: (w.address, w.message))
    return plan.model_copy(update={"warnings": warnings})
