"""Plans as markdown for pull-request comments, always within a size limit."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator, Sequence

from reconcile.plan.change import Change
from reconcile.plan.kits import Edge, KitTree, kit_trees
from reconcile.plan.plan import KINDS, Plan
from reconcile.plan.safety import KIND_PLURAL
from reconcile.plan.wording import (
    ABSENT,
    CLEARED,
    DECLARED_INACTIVE,
    change_lines,
    identifier,
    kept_line,
    printable,
    risk,
    selection_line,
    summary_line,
    symbol,
    unmanaged_title,
    unreadable_title,
)

#: ``render_markdown`` needs room for its summary; below this it refuses.
MIN_MARKDOWN_CHARS = 2_000


def comment_marker(plan: Plan) -> str:
    """The hidden marker a CI job uses to find and update its own PR comment."""
    return f"<!-- reconcile-plan:{plan.environment}:{plan.client_id} -->"


def render_markdown(plan: Plan, *, max_chars: int = 65_000, violations: Sequence[str] = ()) -> str:
    """The plan as a pull-request comment, always at most ``max_chars`` characters.

    The summary always appears whole; risky items (safety, deactivations, warnings) come
    next; details follow in collapsible sections and are cut, with a note, when the
    limit is reached.
    """
    if max_chars < MIN_MARKDOWN_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_MARKDOWN_CHARS}, got {max_chars}")
    budget = _Budget(printable(_markdown_summary(plan), newlines=True), max_chars)
    for title, blocks, unit in _markdown_sections(plan, violations):
        safe = [printable(block, newlines=True) for block in blocks]
        budget.section(printable(title), safe, unit)
    return budget.finish()


def _markdown_summary(plan: Plan) -> str:
    lines = [
        comment_marker(plan),
        f"### reconcile plan: environment {_code(plan.environment)}, "
        f"client {_code(plan.client_id)}",
        "",
    ]
    if plan.base_url:
        lines += [f"PB host: {_code(plan.base_url)}", ""]
    if plan.sandbox_file:
        lines += [f"Sandbox file: {_code(plan.sandbox_file)}", ""]
    selection = selection_line(plan)
    if selection:
        lines += [f"Limited to: {_code(selection.removeprefix('limited to: '))}", ""]
    lines += [f"**{summary_line(plan)}**", ""]
    kept = kept_line(plan)
    if kept:
        lines += [_md_text(kept), ""]
    if plan.has_changes:
        lines += [f"Plan fingerprint: {_code(plan.short_fingerprint())}", ""]
    lines += [*_count_table(plan), ""]
    if plan.unmanaged:
        lines += [_md_text(unmanaged_title(plan)), ""]
    if plan.unreadable:
        lines += [f"**{_md_text(unreadable_title(plan))}**", ""]
    return "\n".join(lines) + "\n"


def _count_table(plan: Plan) -> list[str]:
    rows = ["| | create | update | deactivate | unchanged |", "|---|--:|--:|--:|--:|"]
    for kind in KINDS:
        c = plan.summary.of(kind)
        name = KIND_PLURAL[kind]
        rows.append(f"| {name} | {c.create} | {c.update} | {c.deactivate} | {c.no_op} |")
    return rows


Section = tuple[str, list[str], str]


def _markdown_sections(plan: Plan, violations: Sequence[str]) -> Iterator[Section]:
    yield "#### ⛔ Unsafe plan", [f"- {_md_text(v)}\n" for v in violations], "safety reasons"
    deactivations = [c for c in plan.changes if c.deactivates]
    yield (
        f"#### Deactivations ({len(deactivations)})",
        [f"- {_deactivation_item(c)}\n" for c in deactivations],
        "deactivations",
    )
    yield (
        f"#### Unreadable ({len(plan.unreadable)})",
        [f"- {_md_text(note)}\n" for note in plan.unreadable],
        "unreadable objects",
    )
    yield (
        f"#### Warnings ({len(plan.warnings)})",
        [f"- {_code(identifier(w.address))}: {_md_text(w.message)}\n" for w in plan.warnings],
        "warnings",
    )
    # Riskiest first, so that a truncated comment still shows what touches existing data.
    by_risk = sorted(plan.changes, key=risk)
    yield "#### Changes", [_details(c) for c in by_risk], "changes"
    trees = kit_trees(plan)
    yield f"#### Kits ({len(trees)})", [_kit_graph(t) for t in trees], "kit graphs"
    yield (
        f"#### Unmanaged ({len(plan.unmanaged)})",
        [f"- {_code(a)}\n" for a in plan.unmanaged],
        "unmanaged resources",
    )


def _deactivation_item(change: Change) -> str:
    why = f" ({_md_text(DECLARED_INACTIVE)})" if change.declared_inactive else ""
    return _code(identifier(change.address)) + why


def _details(change: Change) -> str:
    summary = html.escape(f"{symbol(change)} {identifier(change.address)}")
    label = "update (deactivates)" if change.declared_inactive else change.action
    body = "\n".join(_diff_lines(change))
    fence = _fence(body)
    return (
        f"<details><summary><code>{summary}</code> {label}</summary>\n\n"
        f"{fence}diff\n{body}\n{fence}\n\n</details>\n"
    )


def _diff_lines(change: Change) -> Iterable[str]:
    for name, old, new in change_lines(change):
        if old and old != ABSENT:
            yield f"- {name}: {old}"
        if new != CLEARED:
            yield f"+ {name}: {new}"


# ---- kits as Mermaid graphs (GitHub draws them in comments) ----

#: Edges one graph draws before the rest is counted in one node: a graph stays readable
#: and its size bounded (about 100 characters an edge).
MAX_GRAPH_EDGES = 40
_ARROWS = {"added": "-->", "removed": "-.->", "changed": "==>", "same": "-->"}
_EDGE_LABELS = {"added": "+ {}", "removed": "− {}", "changed": "{}", "same": "{}"}
_CLASSES = (
    "  classDef kit font-weight:bold\n"
    "  classDef added fill:#dafbe1,stroke:#1a7f37\n"
    "  classDef removed fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4 3\n"
    "  classDef changed fill:#fff8c5,stroke:#9a6700\n"
)


def _kit_graph(tree: KitTree) -> str:
    """A kit's components as a Mermaid flowchart: added edges green, removed ones dashed
    red, changed quantities thick yellow (``1 → 2``); nested kits drawn below theirs."""
    change = tree.change
    label = "update (deactivates)" if change.declared_inactive else change.action
    lines = ["flowchart LR", f'  k0[["{_mermaid_text(_kit_label(tree))}"]]:::kit']
    counter = _Counter()
    _graph_edges(lines, "k0", tree.edges, counter)
    if counter.hidden:
        lines.append(f'  k0 --- more["… {counter.hidden} more components"]')
    fence = _fence("\n".join(lines))
    return (
        f"{_code(change.address)} {label}\n\n{fence}mermaid\n"
        + "\n".join(lines)
        + f"\n{_CLASSES}{fence}\n\n"
    )


class _Counter:
    def __init__(self) -> None:
        self.drawn = 0
        self.hidden = 0

    def take(self) -> int | None:
        if self.drawn >= MAX_GRAPH_EDGES:
            self.hidden += 1
            return None
        self.drawn += 1
        return self.drawn


def _graph_edges(lines: list[str], parent: str, edges: tuple[Edge, ...], counter: _Counter) -> None:
    for edge in edges:
        number = counter.take()
        if number is None:
            continue
        node = f"n{number}"
        shape = ('[["', '"]]') if edge.children else ('["', '"]')
        quantity = _EDGE_LABELS[edge.state].format(edge.quantity_label())
        style = f":::{edge.state}" if edge.state != "same" else ""
        lines.append(
            f'  {parent} {_ARROWS[edge.state]}|"{_mermaid_text(quantity)}"| '
            f"{node}{shape[0]}{_mermaid_text(edge.sku)}{shape[1]}{style}"
        )
        _graph_edges(lines, node, edge.children, counter)


def _kit_label(tree: KitTree) -> str:
    return f"{tree.kit} @ {tree.node}" if tree.node else tree.kit


def _mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: entity codes for what Mermaid would read."""
    text = printable(text).replace("#", "#35;")
    for char, code in (('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("`", "#96;")):
        text = text.replace(char, code)
    return text


class _Budget:
    """Appends sections while they fit under the limit, keeping room for a final note."""

    NOTE_ROOM = 400

    def __init__(self, head: str, max_chars: int) -> None:
        self.parts = [head]
        self.size = len(head)
        self.limit = max_chars - self.NOTE_ROOM
        self.omitted: list[str] = []

    def section(self, title: str, blocks: list[str], unit: str) -> None:
        if not blocks:
            return
        if self.omitted or not self._fits(f"\n{title}\n\n{blocks[0]}"):
            self.omitted.append(f"{len(blocks):,} {unit}")
            return
        self._put(f"\n{title}\n\n")
        for index, block in enumerate(blocks):
            if not self._fits(block):
                self.omitted.append(f"{len(blocks) - index:,} more {unit}")
                return
            self._put(block)

    def _fits(self, text: str) -> bool:
        return self.size + len(text) <= self.limit

    def _put(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def finish(self) -> str:
        if self.omitted:
            self._put(
                f"\n_Truncated to fit a comment: {', '.join(self.omitted)} not shown. "
                "Run `reconcile show` on the saved plan for everything._\n"
            )
        return "".join(self.parts)


def _fence(body: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def inline_code(text: str) -> str:
    """Inline code that survives backticks inside ``text`` (for other markdown renderers)."""
    return _code(text)


def markdown_text(text: str) -> str:
    """Plain text that markdown and HTML render literally (for other markdown renderers)."""
    return _md_text(text)


def _code(text: str) -> str:
    """Inline code that survives backticks inside ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


_MARKDOWN_SPECIAL = re.compile(r"([\\*_\[\]<>|#])")


def _md_text(text: str) -> str:
    """Plain text that markdown and HTML render literally (backtick spans are kept)."""
    pieces = re.split(r"(`[^`]*`)", text)
    return "".join(
        p if p.startswith("`") and p.endswith("`") and len(p) > 1 else _escape(p) for p in pieces
    )


def _escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text.replace("&", "&amp;"))
