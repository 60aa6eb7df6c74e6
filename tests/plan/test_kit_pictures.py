"""Pictures of kits: the text plan's indented tree and the markdown plan's Mermaid graphs,
bounded and counted in the comment's budget."""

from __future__ import annotations

import re

from reconcile.plan.kits import kit_trees
from reconcile.plan.markdown import MAX_GRAPH_EDGES
from reconcile.plan.render import render_markdown, render_text
from tests.plan.factories import bom, kit, plan_of, product


def nested_plan():  # type: ignore[no-untyped-def]
    """An outer kit whose inner kit's BOM also changes; one edge added, one removed, one
    changed."""
    desired = [
        *(product(s) for s in ("A", "B", "C")),
        kit("INNER"),
        kit("OUTER"),
        bom("INNER", {"A": 2, "C": 1}),
        bom("OUTER", {"INNER": 1, "B": 3}),
    ]
    remote = [
        *(product(s) for s in ("A", "B", "C")),
        kit("INNER"),
        kit("OUTER"),
        bom("INNER", {"A": 1, "B": 1}),
        bom("OUTER", {"INNER": 1}),
    ]
    return plan_of(desired, remote)


class TestKitTree:
    def test_edges_are_marked_and_nested_kits_drawn(self) -> None:
        """Added, removed and changed edges; the inner kit's edges hang below it."""
        trees = {t.kit: t for t in kit_trees(nested_plan())}
        inner = {e.sku: e.state for e in trees["INNER"].edges}
        assert inner == {"A": "changed", "B": "removed", "C": "added"}
        (nested,) = [e for e in trees["OUTER"].edges if e.sku == "INNER"]
        assert {e.sku for e in nested.children} == {"A", "B", "C"}

    def test_text_tree(self) -> None:
        """The text plan draws the outer kit with the inner one indented below it."""
        text = render_text(nested_plan(), color=False).plain
        assert "      kit OUTER\n      ├── + 3 × B  (added)\n      └── 1 × INNER\n" in text
        assert "          ├── 2 × A  (was 1)\n          ├── - 1 × B  (removed)\n" in text


class TestMermaid:
    def test_each_changed_kit_is_a_graph(self) -> None:
        """A mermaid block per changed kit: arrows and classes by edge state."""
        md = render_markdown(nested_plan())
        graphs = re.findall(r"```mermaid\n(.*?)```", md, flags=re.S)
        assert len(graphs) == 2
        inner = next(g for g in graphs if '[["INNER"]]:::kit' in g.splitlines()[1])
        assert '==>|"1 → 2"|' in inner and ":::changed" in inner
        assert '-.->|"− 1"|' in inner and ":::removed" in inner
        assert '-->|"+ 1"|' in inner and ":::added" in inner

    def test_labels_cannot_break_the_graph(self) -> None:
        """Quotes, brackets and # in a SKU become Mermaid entity codes."""
        desired = [kit("K"), product('A"]-->X'), bom("K", {'A"]-->X': 1})]
        md = render_markdown(plan_of(desired, []))
        graph = re.findall(r"```mermaid\n(.*?)```", md, flags=re.S)[0]
        assert "A#quot;]--#gt;X" in graph and 'A"]' not in graph

    def test_a_big_kit_is_bounded(self) -> None:
        """Past MAX_GRAPH_EDGES components one node counts the rest."""
        parts = {f"P{i:03d}": 1 for i in range(MAX_GRAPH_EDGES + 25)}
        desired = [kit("K"), *(product(s) for s in parts), bom("K", parts)]
        md = render_markdown(plan_of(desired, []))
        graph = re.findall(r"```mermaid\n(.*?)```", md, flags=re.S)[0]
        assert graph.count("-->") == MAX_GRAPH_EDGES
        assert "… 25 more components" in graph

    def test_graphs_count_in_the_budget(self) -> None:
        """Many changed kits never push the comment past its limit; cut graphs are noted."""
        desired = [product(f"P{i}") for i in range(30)]
        for k in range(200):
            desired += [kit(f"K{k}"), bom(f"K{k}", {f"P{i}": k + 1 for i in range(30)})]
        md = render_markdown(plan_of(desired, []), max_chars=20_000)
        assert len(md) <= 20_000
        assert "kit graphs" in md.rsplit("_Truncated", 1)[-1]
