"""Products, BOMs and resource sets for plan tests, built directly from the models."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from reconcile.models import Bom, BomComponent, Product, ProductDetails, RemoteMeta, ResourceSet
from reconcile.plan.build import build_plan
from reconcile.plan.plan import Plan

CLIENT = "ACME"


def product(sku: str, *, kind: str = "ITEM", description: str = "", **fields: Any) -> Product:
    fields.setdefault("details", ProductDetails(description=description or f"{sku} description"))
    return Product(clientId=CLIENT, sku=sku, productType=kind, **fields)  # type: ignore[arg-type]


def kit(sku: str, **fields: Any) -> Product:
    return product(sku, kind="KIT", **fields)


def bom(sku: str, components: dict[str, int], *, node: str | None = None, **fields: Any) -> Bom:
    return Bom(
        clientId=CLIENT,
        sku=sku,
        description=fields.pop("description", f"{sku} recipe"),
        billOfMaterialDetails=[BomComponent(sku=s, quantity=q) for s, q in components.items()],
        node=node,
        **fields,
    )


def resources(items: Iterable[Product | Bom], *, remote: bool = False) -> ResourceSet:
    """A resource set; ``remote`` fills RemoteMeta as the fetch layer would."""
    result = ResourceSet()
    for index, item in enumerate(items):
        if isinstance(item, Product):
            meta = RemoteMeta(pb_update_date=f"2026-01-01T00:00:{index % 60:02d}Z")
            result.add_product(item, meta if remote else None)
        else:
            meta = RemoteMeta(pb_update_date="2026-01-02T00:00:00Z", bom_id=f"BOM-{index}")
            result.add_bom(item, meta if remote else None)
    return result


def plan_of(
    desired: Iterable[Product | Bom],
    remote: Iterable[Product | Bom],
    *,
    unreadable: dict[str, str] | None = None,
    **options: Any,
) -> Plan:
    """The plan from ``desired`` to ``remote`` for environment ``local`` unless told;
    ``unreadable`` are remote objects the fetch could not read (address → reason)."""
    settings: dict[str, Any] = {"environment": "local", "client_id": CLIENT, **options}
    current = resources(remote, remote=True)
    current.unreadable.update(unreadable or {})
    return build_plan(resources(desired), current, **settings)
