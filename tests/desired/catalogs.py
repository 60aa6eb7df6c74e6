"""Building small catalogs in tests, and reading back what the loader reports."""

from __future__ import annotations

from pathlib import Path

from reconcile.desired import load_catalog
from reconcile.errors import CatalogError


def problems_of(directory: Path) -> list[str]:
    """Every problem the loader reports, as printed (`path:line:col: message`)."""
    try:
        catalog = load_catalog(directory)
    except CatalogError as e:
        return [str(p) for p in e.problems]
    return [str(p) for p in catalog.problems]


ITEM = """\
  - sku: {sku}
    productType: ITEM
    details:
      description: Item {sku}
"""
KIT = """\
  - sku: {sku}
    productType: KIT
    details:
      description: Kit {sku}
"""


def products(*skus: str, kits: tuple[str, ...] = ()) -> str:
    """A `products:` file with ITEMs ``skus`` and KITs ``kits``, 4 lines each."""
    body = "".join(ITEM.format(sku=s) for s in skus) + "".join(KIT.format(sku=k) for k in kits)
    return "products:\n" + body


def bom(kit: str, *components: str, node: str | None = None) -> str:
    """One BOM entry (5 + 2 per component lines when node is None)."""
    text = f"  - sku: {kit}\n    description: Kit {kit}\n"
    if node:
        text += f"    node: {node}\n"
    text += "    billOfMaterialDetails:\n"
    for sku in components:
        text += f"      - sku: {sku}\n        quantity: 1\n"
    return text
