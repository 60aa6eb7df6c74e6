"""Plans for people: Terraform-like text, and markdown for pull-request comments.

Renderers only read a plan. User data (names, descriptions, SKUs) is appended to rich
``Text`` as plain strings, never parsed as markup, so a product called ``[/]`` prints as
itself; and every character a terminal would act on (control characters, bidi
overrides) is shown escaped (``printable``), so a SKU cannot clear the screen or retitle
the window (``plan.wording``). Markdown lives in ``plan.markdown``; the JSON rendering is
the plan's own ``Plan.to_json()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text

from reconcile.plan.change import Action, Change
from reconcile.plan.kits import Edge, KitTree, kit_tree
from reconcile.plan.markdown import comment_marker, render_markdown
from reconcile.plan.plan import Plan
from reconcile.plan.wording import (
    ARROW,
    CREATES_HIDDEN,
    DECLARED_INACTIVE,
    STYLE,
    SYMBOL,
    change_lines,
    created_summary,
    deactivation_note,
    fingerprint_line,
    header_line,
    identifier,
    kept_line,
    matched_nothing,
    printable,
    selection_line,
    selection_options,
    style_of,
    summary_line,
    symbol,
    unmanaged_title,
    unreadable_title,
)
from reconcile.settings import Safety

#: Re-exported: what callers of the renderers also use.
__all__ = [
    "comment_marker",
    "matched_nothing",
    "printable",
    "render_markdown",
    "render_summary_json",
    "render_text",
    "selection_options",
    "summary_line",
]

#: Unmanaged addresses listed before the rest is collapsed into a count.
UNMANAGED_SHOWN = 20
#: Above this many creates, the text summarises them (``summarised_creates``); updates
#: and deactivations, which change what PB holds, are always shown field by field.
CREATES_IN_FULL = 200


# ---- text ------------------------------------------------------------------------------


class _TextWriter:
    def __init__(self, color: bool) -> None:
        self.text = Text()
        self.color = color

    def add(self, content: str, style: str = "") -> None:
        """Append ``content`` (user data welcome: it is escaped with ``printable``)."""
        self.text.append(printable(content), style=style if self.color and style else None)

    def line(self, content: str = "", style: str = "") -> None:
        self.add(content, style)
        self.text.append("\n")


def render_text(
    plan: Plan, *, color: bool, violations: Sequence[str] = (), full: bool = False
) -> Text:
    """The plan as Terraform-like text; ``color=False`` gives plain, unstyled text.

    Above ``CREATES_IN_FULL`` creates (an onboarding), creates are summarised per kind
    unless ``full``; the JSON plan (``--out``, ``--format json``) always holds them all.
    It has no final newline, and its lines are meant to be printed unwrapped
    (``Console(soft_wrap=True).print(text)``) so that piping it keeps each field on a line.
    """
    out = _TextWriter(color)
    out.line(header_line(plan), "bold")
    for note in (selection_line(plan), fingerprint_line(plan)):
        if note:
            out.line(note, "dim")
    out.line()
    creates = summarised_creates(plan, full=full)
    for change in plan.changes:
        if not (creates and change.action == "create"):
            _text_change(out, change)
            _text_kit_tree(out, kit_tree(change, plan))
    _text_creates(out, creates)
    _text_deactivations(out, plan)
    warnings = [f"{identifier(w.address)}: {w.message}" for w in plan.warnings]
    _text_notes(out, "Warnings:", warnings, "yellow")
    _text_notes(out, "Unsafe plan:", list(violations), "bold red")
    _text_unmanaged(out, plan)
    if plan.unreadable:
        _text_list(out, unreadable_title(plan), plan.unreadable, "yellow")
    kept = kept_line(plan)
    if kept:
        out.line(kept, "dim")
    out.add(summary_line(plan), "bold")
    return out.text


def _text_change(out: _TextWriter, change: Change) -> None:
    style = style_of(change)
    out.add(f"  {symbol(change)} ", style)
    out.add(identifier(change.address), "bold")
    if change.declared_inactive:
        out.line(f" will be deactivated (an update: {DECLARED_INACTIVE})", style)
    else:
        out.line(f" will be {_past(change.action)}", style)
    lines = change_lines(change)
    width = max((len(name) for name, _, _ in lines), default=0)
    for name, old, new in lines:
        out.add(f"      {name}:".ljust(width + 8))
        if old:
            out.add(old, "red" if change.action != "create" else "")
            out.add(ARROW, "dim")
        out.line(new, "green")
    if change.kept:
        names = ", ".join(identifier(name) for name in sorted(change.kept))
        out.line(f"      (kept as PB holds them: {names})", "dim")
    if change.kind != "bom":
        out.line()


# The kit tree: a changed kit's bill of materials, indented, edges marked.

_TREE_MARKS = {"added": ("+ ", "green", "  (added)"), "removed": ("- ", "red", "  (removed)")}


def _text_kit_tree(out: _TextWriter, tree: KitTree | None) -> None:
    """After a BOM change's fields: the kit and its components as a tree, quantities
    before → after, added and removed components marked, nested kits below theirs."""
    if tree is None:
        return
    out.line(f"      kit {tree.kit}" + (f" @ {tree.node}" if tree.node else ""), "bold")
    _text_edges(out, tree.edges, "      ")
    out.line()


def _text_edges(out: _TextWriter, edges: Sequence[Edge], indent: str) -> None:
    for index, edge in enumerate(edges):
        last = index == len(edges) - 1
        mark, style, note = _TREE_MARKS.get(edge.state, ("", "", ""))
        if edge.state == "changed":
            style, note = "yellow", f"  (was {edge.before})"
        out.add(f"{indent}{'└── ' if last else '├── '}")
        out.line(
            f"{mark}{edge.after if edge.after is not None else edge.before} × {edge.sku}{note}",
            style,
        )
        _text_edges(out, edge.children, indent + ("    " if last else "│   "))


def summarised_creates(plan: Plan, *, full: bool) -> list[Change]:
    """The creates the text summarises instead of listing field by field: all of them
    when there are more than ``CREATES_IN_FULL`` (and ``full`` is not asked), else none."""
    creates = [c for c in plan.changes if c.action == "create"]
    return [] if full or len(creates) <= CREATES_IN_FULL else creates


def _text_creates(out: _TextWriter, creates: Sequence[Change]) -> None:
    """One line per kind of created resource, with a few of their addresses."""
    if not creates:
        return
    for line in created_summary(creates, shown=UNMANAGED_SHOWN // 4):
        out.line(f"  {SYMBOL['create']} {line}", STYLE["create"])
    out.line(f"    {CREATES_HIDDEN}", "dim")
    out.line()


def _past(action: Action) -> str:
    return {"create": "created", "update": "updated", "deactivate": "deactivated"}.get(
        action, "left as is"
    )


def _text_notes(out: _TextWriter, title: str, notes: Sequence[str], style: str) -> None:
    if not notes:
        return
    out.line(title, style)
    for note in notes:
        out.line(f"  ! {note}", style)
    out.line()


def _text_deactivations(out: _TextWriter, plan: Plan) -> None:
    notes = [deactivation_note(c) for c in plan.changes if c.deactivates]
    if notes:
        _text_list(out, f"Deactivations ({len(notes)}):", notes, "red")


def _text_unmanaged(out: _TextWriter, plan: Plan) -> None:
    if plan.unmanaged:
        _text_list(out, unmanaged_title(plan), plan.unmanaged, "cyan")


def _text_list(out: _TextWriter, title: str, items: Sequence[str], style: str) -> None:
    """A titled list, collapsed into a count past ``UNMANAGED_SHOWN`` items."""
    out.line(title, style)
    for item in items[:UNMANAGED_SHOWN]:
        out.line(f"    {item}")
    hidden = len(items) - UNMANAGED_SHOWN
    if hidden > 0:
        out.line(f"    … and {hidden} more (the JSON plan lists them all)", "dim")
    out.line()


# ---- summary JSON ------------------------------------------------------------------------


def render_summary_json(plan: Plan, safety: Safety) -> dict[str, Any]:
    """The counts a pipeline branches on (``--summary-json``), plus the safety verdict."""
    from reconcile.plan.summary_json import PlanSummary

    return PlanSummary.of(plan, safety).model_dump(mode="json")
