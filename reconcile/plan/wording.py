"""The words every rendering of a plan shares: symbols, the summary line, field lines.

User data is shown through ``printable``: every character a terminal would act on
(control characters, bidi overrides) is escaped, so a SKU cannot clear the screen or
retitle the window.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from reconcile.models.identifiers import escaped
from reconcile.plan.change import Action, Change
from reconcile.plan.plan import WRITE_ACTIONS, Plan

SYMBOL: dict[Action, str] = {"create": "+", "update": "~", "deactivate": "-", "no-op": " "}
STYLE: dict[Action, str] = {"create": "green", "update": "yellow", "deactivate": "red"}
RISK: dict[Action, int] = {"deactivate": 0, "update": 1, "create": 2}


DECLARED_INACTIVE = "declared active: false in the catalog"
ABSENT = "(absent)"
CLEARED = "(cleared)"
ARROW = " → "

#: Characters a terminal acts on or that reorder what is shown: C0 and C1 controls, DEL,
#: line/paragraph separators and the bidirectional marks, embeddings and overrides.
_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def printable(text: str, *, newlines: bool = False) -> str:
    """``text`` safe to show on a terminal: each control or bidi character is written as
    its escape (``\\x1b``, ``\\u202e``); with ``newlines``, line breaks are kept."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if newlines and char == "\n":
            return char
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escape, text)


def identifier(text: str) -> str:
    """An address or SKU as a plan shows it: ``printable``, and every character a reviewer
    could misread (invisible, a look-alike from another script, a form NFKC rewrites;
    ``models.identifiers``) written as its escape, so two SKUs that look alike never do."""
    return printable(escaped(text))


def kept_line(plan: Plan) -> str | None:
    """The fields PB holds that the catalog cannot declare, named once per plan."""
    kept = plan.summary.kept
    if not kept:
        return None
    named = ", ".join(
        f"{identifier(name)} ({n} object{'s' if n != 1 else ''})" for name, n in kept.items()
    )
    return (
        f"Kept as PB holds them (not declared in the catalog, never diffed, written back "
        f"unchanged by every update): {named}."
    )


def summary_line(plan: Plan) -> str:
    """``Plan: 3 to create, 2 to update (1 of them deactivates), 1 to deactivate, 120
    unchanged.``"""
    if matched_nothing(plan):
        return f"No changes: no resource matched {selection_options(plan)}."
    if not plan.has_changes:
        return "No changes. PB matches the catalog."
    s = plan.summary
    declared = sum(1 for c in plan.changes if c.declared_inactive)
    of_them = f" ({declared} of them deactivate{'s' if declared == 1 else ''})" if declared else ""
    return (
        f"Plan: {s.total('create')} to create, {s.total('update')} to update{of_them}, "
        f"{s.total('deactivate')} to deactivate, {s.total('no_op')} unchanged."
    )


def symbol(change: Change) -> str:
    """``+``, ``~`` or ``-``; an update to ``active: false`` is drawn as the deactivation
    it is."""
    return SYMBOL["deactivate"] if change.deactivates else SYMBOL[change.action]


def style_of(change: Change) -> str:
    return STYLE["deactivate"] if change.deactivates else STYLE.get(change.action, "")


def risk(change: Change) -> int:
    return RISK["deactivate"] if change.deactivates else RISK.get(change.action, len(RISK))


def deactivation_note(change: Change) -> str:
    """The address of a change that deactivates, saying why when it is an update."""
    return identifier(change.address) + (
        f" ({DECLARED_INACTIVE})" if change.declared_inactive else ""
    )


def header_line(plan: Plan) -> str:
    text = f"reconcile plan for environment {plan.environment!r}, client {plan.client_id!r}"
    if plan.base_url:
        text += f" at {plan.base_url}"
    if plan.sandbox_file:
        text += f" (sandbox file {plan.sandbox_file})"
    return text


def fingerprint_line(plan: Plan) -> str | None:
    """``fingerprint 1a2b3c4d5e6f``: match the plan applied to the plan reviewed."""
    return f"fingerprint {plan.short_fingerprint()}" if plan.has_changes else None


def selection_options(plan: Plan) -> str:
    """``--target KIT-* --exclude X``: the selection a plan was made with."""
    parts = [f"--target {t}" for t in plan.targets] + [f"--exclude {e}" for e in plan.excludes]
    return " ".join(parts)


def selection_line(plan: Plan) -> str | None:
    return f"limited to: {selection_options(plan)}" if plan.targets or plan.excludes else None


def matched_nothing(plan: Plan) -> bool:
    """True when ``--target``/``--exclude`` selected no resource at all: most likely a
    mistyped glob, which must not read as "PB matches the catalog"."""
    if not (plan.targets or plan.excludes):
        return False
    s = plan.summary
    return sum(s.total(a) for a in (*WRITE_ACTIONS, "no_op")) + s.unmanaged == 0


def show(value: Any) -> str:
    """A JSON value on one line, as the plan JSON spells it."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


#: Fields whose values are identifiers: shown with look-alikes escaped (``identifier``).
_IDENTIFIER_FIELDS = ("sku", "clientId", "node", "billOfMaterialDetails")


def show_field(path: str, value: Any) -> str:
    """``show``, with identifier fields (SKUs, client id, node, components) escaped."""
    text = show(value)
    return identifier(text) if path.split("[", 1)[0] in _IDENTIFIER_FIELDS else text


def change_lines(change: Change) -> list[tuple[str, str, str]]:
    """``(field, old, new)`` per line of a change; old is empty on a create."""
    if change.action == "create":
        return [(name, "", show_field(name, value)) for name, value in (change.after or {}).items()]
    return [
        (
            fc.path,
            ABSENT if fc.before is None else show_field(fc.path, fc.before),
            CLEARED if fc.after is None else show_field(fc.path, fc.after),
        )
        for fc in change.field_changes
    ]


def unreadable_title(plan: Plan) -> str:
    n = len(plan.unreadable)
    noun, verb = ("object", "was") if n == 1 else ("objects", "were")
    return f"Unreadable: {n} {noun} in PB could not be read and {verb} left alone"


def unmanaged_title(plan: Plan) -> str:
    n = len(plan.unmanaged)
    noun = "resource is" if n == 1 else "resources are"
    return f"Unmanaged: {n} active {noun} in PB but not in the catalog (--prune deactivates them)"


CREATES_HIDDEN = (
    "(creates summarised; `--format full` shows each field, and `--out FILE` or "
    "`--format json` holds the whole plan)"
)


def created_summary(creates: Sequence[Change], *, shown: int) -> list[str]:
    """``12,000 products will be created (ITEM 10,000, KIT 2,000): product.A, … and
    11,995 more``: one line per kind, with the first ``shown`` addresses."""
    lines = []
    for kind in dict.fromkeys(c.kind for c in creates):
        of_kind = [c for c in creates if c.kind == kind]
        types = Counter(str((c.after or {}).get("productType", "")) for c in of_kind)
        split = ", ".join(f"{t} {n:,}" for t, n in sorted(types.items()) if t)
        names = ", ".join(identifier(c.address) for c in of_kind[:shown])
        more = len(of_kind) - shown
        lines.append(
            f"{len(of_kind):,} {kind}s will be created"
            + (f" ({split})" if split else "")
            + f": {names}"
            + (f", … and {more:,} more" if more > 0 else "")
        )
    return lines
