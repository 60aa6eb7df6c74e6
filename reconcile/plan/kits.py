"""The bill of materials of each changed kit as a tree, for pictures of a plan.

A kit's tree is its components with their quantities before and after the change, each
edge marked added, removed, changed or the same; a component that is itself a kit whose
BOM this plan also changes is drawn below it (nested kits), a few levels deep. The text
plan draws it indented (``plan.render``), the markdown plan as a Mermaid graph
(``plan.markdown``). Pure values read from a plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from reconcile.plan.change import Change
from reconcile.plan.plan import Plan

EdgeState = Literal["added", "removed", "changed", "same"]

#: Nested kits are drawn this many levels below the changed kit, no deeper.
MAX_DEPTH = 3


@dataclass(frozen=True)
class Edge:
    """One component of a kit: its quantity before and after (None: not there)."""

    sku: str
    before: int | None
    after: int | None
    #: The component's own BOM, when it is a kit whose BOM this plan changes.
    children: tuple[Edge, ...] = ()

    @property
    def state(self) -> EdgeState:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "same" if self.before == self.after else "changed"

    def quantity_label(self) -> str:
        if self.state == "changed":
            return f"{self.before} → {self.after}"
        return str(self.after if self.after is not None else self.before)


@dataclass(frozen=True)
class KitTree:
    """A changed kit BOM and its components."""

    change: Change
    edges: tuple[Edge, ...]

    @property
    def kit(self) -> str:
        return self.change.key.get("sku", "")

    @property
    def node(self) -> str:
        return self.change.key.get("node", "")

    def edge_count(self) -> int:
        return _count(self.edges)


def kit_trees(plan: Plan) -> list[KitTree]:
    """A tree per BOM change of the plan, in plan order."""
    boms = [c for c in plan.changes if c.kind == "bom"]
    return [KitTree(c, _edges(c, boms, depth=1, seen=(c.key.get("sku", ""),))) for c in boms]


def kit_tree(change: Change, plan: Plan) -> KitTree | None:
    """The tree of one BOM change (None for a product change)."""
    if change.kind != "bom":
        return None
    boms = [c for c in plan.changes if c.kind == "bom"]
    return KitTree(change, _edges(change, boms, depth=1, seen=(change.key.get("sku", ""),)))


def _edges(
    change: Change, boms: Sequence[Change], *, depth: int, seen: tuple[str, ...]
) -> tuple[Edge, ...]:
    before, after = _components(change.before), _components(change.after)
    edges = []
    for sku in sorted(before.keys() | after.keys()):
        nested = _bom_of(sku, change.key.get("node", ""), boms)
        children: tuple[Edge, ...] = ()
        if nested is not None and depth < MAX_DEPTH and sku not in seen:
            children = _edges(nested, boms, depth=depth + 1, seen=(*seen, sku))
        edges.append(Edge(sku, before.get(sku), after.get(sku), children))
    return tuple(edges)


def _bom_of(sku: str, node: str, boms: Sequence[Change]) -> Change | None:
    """The plan's change of kit ``sku``'s BOM: at the same node first, then any."""
    matches = [c for c in boms if c.key.get("sku") == sku]
    same_node = [c for c in matches if c.key.get("node", "") == node]
    found = same_node or matches
    return found[0] if found else None


def _components(bom: Mapping[str, Any] | None) -> dict[str, int]:
    """``{sku: quantity}`` of a BOM object as the plan holds it (absent: empty)."""
    found: dict[str, int] = {}
    for line in (bom or {}).get("billOfMaterialDetails") or []:
        if isinstance(line, Mapping) and isinstance(line.get("sku"), str):
            quantity = line.get("quantity")
            found[line["sku"]] = quantity if isinstance(quantity, int) else 0
    return found


def _count(edges: Sequence[Edge]) -> int:
    return sum(1 + _count(e.children) for e in edges)
