"""Building small catalogs in tests, and reading back what the loader reports."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

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


#: Characters and words that matter to YAML, for fuzzing.
YAML_CHARS = st.sampled_from(
    [*"-:?[]{},&*!|>'\"#%@` \n\t", "a", "b", "sku", "products", "boms", "0", "1.5", "~"]
)


def mutate(text: str, data: st.DataObject) -> str:
    """Mangle a file line-wise: drop, duplicate, re-indent, insert YAML characters, swap."""
    lines = text.splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        kind = data.draw(st.sampled_from(["drop", "dup", "indent", "insert", "swap"]))
        if kind == "drop" and len(lines) > 1:
            del lines[i]
        elif kind == "dup":
            lines.insert(i, lines[i])
        elif kind == "indent":
            lines[i] = " " * data.draw(st.integers(0, 3)) + lines[i].lstrip(" ")
        elif kind == "insert":
            at = data.draw(st.integers(0, len(lines[i])))
            lines[i] = (
                lines[i][:at] + "".join(data.draw(st.lists(YAML_CHARS, max_size=3))) + lines[i][at:]
            )
        elif kind == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)
