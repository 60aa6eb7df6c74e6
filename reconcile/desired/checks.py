"""Rules that span resources and files: duplicates, kit references, cycles, one client."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconcile.errors import Problem
from reconcile.models import Bom, Product
from reconcile.models.identifiers import Suspect, escaped, suspects

if TYPE_CHECKING:
    from reconcile.desired.source import Loc, SourceFile


class _Located:
    """A resource's mapping at ``loc`` in ``source``, and problems placed inside it."""

    source: SourceFile
    loc: Loc

    def where(self, *field: str | int) -> str:
        line, col = self.source.position((*self.loc, *field))
        return f"{self.source.display}:{line}:{col}"

    def problem(
        self, field: tuple[str | int, ...], message: str, severity: str = "error"
    ) -> Problem:
        line, col = self.source.position((*self.loc, *field))
        return Problem(self.source.display, line, col, message, severity)


@dataclass(frozen=True)
class Declared(_Located):
    """A valid resource and where it was declared (``loc`` of its mapping in ``source``)."""

    model: Product | Bom
    source: SourceFile
    loc: Loc
    #: Component SKUs of a BOM in the order written (the model sorts them by SKU).
    components: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if isinstance(self.model, Bom):
            return _bom_label(self.model.sku, self.model.node)
        return _product_label(self.model.sku)


@dataclass(frozen=True)
class Rejected(_Located):
    """A resource that failed validation, kept for its key: its field errors must not
    hide that it is also declared twice (the user would need a second round)."""

    label: str
    is_bom: bool
    source: SourceFile
    loc: Loc

    @classmethod
    def read(cls, raw: object, *, is_bom: bool, source: SourceFile, loc: Loc) -> Rejected | None:
        """The key of a raw mapping (sku, and node for a BOM), if it can be read as one."""
        if not isinstance(raw, dict) or not isinstance(raw.get("sku"), str):
            return None
        sku, node = raw["sku"], raw.get("node")
        if not is_bom:
            return cls(_product_label(sku), is_bom, source, loc)
        if node is not None and not isinstance(node, str):
            return None
        return cls(_bom_label(sku, node), is_bom, source, loc)


def check_references(
    entries: Sequence[Declared | Rejected], client_id: str, *, from_settings: bool
) -> list[Problem]:
    declared = [e for e in entries if isinstance(e, Declared)]
    products = [d for d in declared if isinstance(d.model, Product)]
    boms = [d for d in declared if isinstance(d.model, Bom)]
    by_sku = {d.model.sku: d for d in reversed(products)}  # the first declaration wins
    problems = list(_check_clients(declared, client_id, from_settings=from_settings))
    problems += _duplicates(e for e in entries if not _is_bom(e))
    problems += _duplicates(e for e in entries if _is_bom(e))
    for bom in boms:
        problems += _check_kit(bom, by_sku)
        problems += _check_components(bom, by_sku)
    problems += _check_cycles(boms)
    problems += _check_identifiers(declared)
    return problems


def _check_identifiers(declared: list[Declared]) -> Iterator[Problem]:
    """Warn about identifiers holding characters a reviewer would misread (see
    ``models.identifiers``): invisible ones, look-alikes from another script, forms
    that NFKC normalisation rewrites. Legal in PB, so warnings, not errors."""
    clients_seen: set[str] = set()
    for d in declared:
        fields: list[tuple[tuple[str | int, ...], str, str]] = [(("sku",), "SKU", d.model.sku)]
        if d.model.clientId not in clients_seen:
            clients_seen.add(d.model.clientId)
            fields.append((("clientId",), "clientId", d.model.clientId))
        if isinstance(d.model, Bom):
            fields[0] = (("sku",), "kit SKU", d.model.sku)
            if d.model.node:
                fields.append((("node",), "node", d.model.node))
            fields += [
                (("billOfMaterialDetails", i, "sku"), "component SKU", sku)
                for i, sku in enumerate(d.components)
            ]
        for field, what, value in fields:
            found = suspects(value)
            if found:
                yield d.problem(field, _suspect_message(what, value, found), "warning")


def _suspect_message(what: str, value: str, found: list[Suspect]) -> str:
    listed = "; ".join(s.describe() for s in found[:3])
    more = f"; and {len(found) - 3} more" if len(found) > 3 else ""
    return (
        f"{what} '{escaped(value)}' contains {listed}{more}: a reviewer reads another "
        "identifier than the one PB stores; retype it in plain characters"
    )


def _product_label(sku: str) -> str:
    return f"product SKU {sku!r}"


def _bom_label(sku: str, node: str | None) -> str:
    where = f"at node {node!r}" if node else "(no node)"
    return f"BOM for kit {sku!r} {where}"


def _is_bom(entry: Declared | Rejected) -> bool:
    return isinstance(entry.model, Bom) if isinstance(entry, Declared) else entry.is_bom


def _check_clients(
    declared: list[Declared], client_id: str, *, from_settings: bool
) -> Iterator[Problem]:
    source = "client_id of reconcile.yaml" if from_settings else "the catalog's first resource"
    for d in declared:
        if d.model.clientId != client_id:
            yield d.problem(
                ("clientId",),
                f"clientId {d.model.clientId!r} differs from {client_id!r} ({source}); "
                "a catalog describes exactly one client",
            )


def _duplicates(entries: Iterable[Declared | Rejected]) -> Iterator[Problem]:
    """Resources declared twice, each reported at its own place naming the others;
    valid or not, since a field error must not hide a duplicate."""
    groups: dict[str, list[Declared | Rejected]] = defaultdict(list)
    for d in entries:
        groups[d.label].append(d)
    for name, group in groups.items():
        if len(group) < 2:
            continue
        places = [d.where("sku") for d in group]
        for i, d in enumerate(group):
            others = ", ".join(p for j, p in enumerate(places) if j != i)
            yield d.problem(("sku",), f"duplicate {name}: also declared at {others}")


def _check_kit(bom: Declared, by_sku: dict[str, Declared]) -> Iterator[Problem]:
    sku = bom.model.sku
    kit = by_sku.get(sku)
    if kit is None:
        yield bom.problem(
            ("sku",),
            f"kit {sku!r} is not declared in this catalog; it must already exist in PB as a KIT",
            "warning",
        )
    elif isinstance(kit.model, Product) and kit.model.productType != "KIT":
        yield bom.problem(
            ("sku",),
            f"{sku!r} is declared as productType {kit.model.productType} at "
            f"{kit.where('productType')}; a BOM's sku must be a KIT product",
        )


def _check_components(bom: Declared, by_sku: dict[str, Declared]) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for index, sku in enumerate(bom.components):
        here = ("billOfMaterialDetails", index, "sku")
        if sku == bom.model.sku:
            yield bom.problem(here, f"kit {sku!r} lists itself as a component")
        elif sku in seen:
            yield bom.problem(
                here,
                f"component {sku!r} is listed twice (first as entry {seen[sku] + 1}); "
                "merge the quantities into one entry",
            )
        elif sku not in by_sku:
            yield bom.problem(
                here,
                f"component {sku!r} is not declared in this catalog; it must already exist in PB",
                "warning",
            )
        seen.setdefault(sku, index)


def _check_cycles(boms: list[Declared]) -> Iterator[Problem]:
    """A kit may contain kits, but never itself through them."""
    edges: dict[str, list[tuple[str, Declared, int]]] = defaultdict(list)
    for bom in boms:
        for index, sku in enumerate(bom.components):
            if sku != bom.model.sku:
                edges[bom.model.sku].append((sku, bom, index))
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(edges):
        yield from _walk(start, edges, state)


def _walk(
    start: str, edges: dict[str, list[tuple[str, Declared, int]]], state: dict[str, int]
) -> Iterator[Problem]:
    if state.get(start):
        return
    path = [start]
    state[start] = 1
    stack = [iter(edges.get(start, ()))]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            state[path.pop()] = 2
            stack.pop()
            continue
        sku, bom, index = step
        if state.get(sku) == 1:
            cycle = " → ".join([*path[path.index(sku) :], sku])
            yield bom.problem(
                ("billOfMaterialDetails", index, "sku"), f"kits contain each other: {cycle}"
            )
        elif not state.get(sku):
            state[sku] = 1
            path.append(sku)
            stack.append(iter(edges.get(sku, ())))


def check_nodes(entries: Sequence[Declared | Rejected], known: Sequence[str]) -> list[Problem]:
    """Warn about a BOM ``node`` that is no known fulfillment center (the documented ones
    plus `fulfillment_centers` of reconcile.yaml): PB may open centers the list lacks, so
    a warning, not an error."""
    listed = ", ".join(known)
    return [
        d.problem(
            ("node",),
            f"node {d.model.node!r} is not a known fulfillment center (known: {listed}); "
            "if PB opened it for you, add it under `fulfillment_centers:` in reconcile.yaml",
            "warning",
        )
        for d in entries
        if isinstance(d, Declared)
        and isinstance(d.model, Bom)
        and d.model.node
        and d.model.node not in known
    ]
