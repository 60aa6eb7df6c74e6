"""Plans for people: Terraform-like text, and markdown for pull-request comments.

Renderers only read a plan. User data (names, descriptions, SKUs) is appended to rich
``Text`` as plain strings, never parsed as markup, so a product called ``[/]`` prints as
itself; and every character a terminal would act on (control characters, bidi
overrides) is shown escaped (``printable``), so a SKU cannot clear the screen or retitle
the window. The JSON rendering is the plan's own ``Plan.to_json()``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from rich.text import Text

from reconcile.plan.change import Action, Change, Kind
from reconcile.plan.plan import KINDS, WRITE_ACTIONS, Plan
from reconcile.plan.safety import KIND_PLURAL
from reconcile.settings import Safety

SYMBOL: dict[Action, str] = {"create": "+", "update": "~", "deactivate": "-", "no-op": " "}
STYLE: dict[Action, str] = {"create": "green", "update": "yellow", "deactivate": "red"}
RISK: dict[Action, int] = {"deactivate": 0, "update": 1, "create": 2}

#: Unmanaged addresses listed before the rest is collapsed into a count.
UNMANAGED_SHOWN = 20
#: ``render_markdown`` needs room for its summary; below this it refuses.
MIN_MARKDOWN_CHARS = 2_000

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


def _style(change: Change) -> str:
    return STYLE["deactivate"] if change.deactivates else STYLE.get(change.action, "")


def _risk(change: Change) -> int:
    return RISK["deactivate"] if change.deactivates else RISK.get(change.action, len(RISK))


def deactivation_note(change: Change) -> str:
    """The address of a change that deactivates, saying why when it is an update."""
    return change.address + (f" ({DECLARED_INACTIVE})" if change.declared_inactive else "")


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


def change_lines(change: Change) -> list[tuple[str, str, str]]:
    """``(field, old, new)`` per line of a change; old is empty on a create."""
    if change.action == "create":
        return [(name, "", show(value)) for name, value in (change.after or {}).items()]
    return [
        (
            fc.path,
            ABSENT if fc.before is None else show(fc.before),
            CLEARED if fc.after is None else show(fc.after),
        )
        for fc in change.field_changes
    ]


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


def render_text(plan: Plan, *, color: bool, violations: Sequence[str] = ()) -> Text:
    """The plan as Terraform-like text; ``color=False`` gives plain, unstyled text.

    It has no final newline, and its lines are meant to be printed unwrapped
    (``Console(soft_wrap=True).print(text)``) so that piping it keeps each field on a line.
    """
    out = _TextWriter(color)
    out.line(header_line(plan), "bold")
    for note in (selection_line(plan), fingerprint_line(plan)):
        if note:
            out.line(note, "dim")
    out.line()
    for change in plan.changes:
        _text_change(out, change)
    _text_deactivations(out, plan)
    _text_notes(out, "Warnings:", [f"{w.address}: {w.message}" for w in plan.warnings], "yellow")
    _text_notes(out, "Unsafe plan:", list(violations), "bold red")
    _text_unmanaged(out, plan)
    if plan.unreadable:
        _text_list(out, unreadable_title(plan), plan.unreadable, "yellow")
    out.add(summary_line(plan), "bold")
    return out.text


def _text_change(out: _TextWriter, change: Change) -> None:
    style = _style(change)
    out.add(f"  {symbol(change)} ", style)
    out.add(change.address, "bold")
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
        _text_list(out, _unmanaged_title(plan), plan.unmanaged, "cyan")


def _text_list(out: _TextWriter, title: str, items: Sequence[str], style: str) -> None:
    """A titled list, collapsed into a count past ``UNMANAGED_SHOWN`` items."""
    out.line(title, style)
    for item in items[:UNMANAGED_SHOWN]:
        out.line(f"    {item}")
    hidden = len(items) - UNMANAGED_SHOWN
    if hidden > 0:
        out.line(f"    … and {hidden} more (the JSON plan lists them all)", "dim")
    out.line()


def unreadable_title(plan: Plan) -> str:
    n = len(plan.unreadable)
    noun, verb = ("object", "was") if n == 1 else ("objects", "were")
    return f"Unreadable: {n} {noun} in PB could not be read and {verb} left alone"


def _unmanaged_title(plan: Plan) -> str:
    n = len(plan.unmanaged)
    noun = "resource is" if n == 1 else "resources are"
    return f"Unmanaged: {n} active {noun} in PB but not in the catalog (--prune deactivates them)"


# ---- markdown --------------------------------------------------------------------------


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
    if plan.has_changes:
        lines += [f"Plan fingerprint: {_code(plan.short_fingerprint())}", ""]
    lines += [*_count_table(plan), ""]
    if plan.unmanaged:
        lines += [_md_text(_unmanaged_title(plan)), ""]
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
        [f"- {_code(w.address)}: {_md_text(w.message)}\n" for w in plan.warnings],
        "warnings",
    )
    # Riskiest first, so that a truncated comment still shows what touches existing data.
    by_risk = sorted(plan.changes, key=_risk)
    yield "#### Changes", [_details(c) for c in by_risk], "changes"
    yield (
        f"#### Unmanaged ({len(plan.unmanaged)})",
        [f"- {_code(a)}\n" for a in plan.unmanaged],
        "unmanaged resources",
    )


def _deactivation_item(change: Change) -> str:
    why = f" ({_md_text(DECLARED_INACTIVE)})" if change.declared_inactive else ""
    return _code(change.address) + why


def _details(change: Change) -> str:
    summary = html.escape(f"{symbol(change)} {change.address}")
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


# ---- summary JSON ------------------------------------------------------------------------


def render_summary_json(plan: Plan, safety: Safety) -> dict[str, Any]:
    """The counts a pipeline branches on (``--summary-json``), plus the safety verdict."""
    reasons = plan.safety_report(safety)
    counts: dict[Kind, dict[str, int]] = {
        kind: plan.summary.of(kind).model_dump() for kind in KINDS
    }
    return {
        "format_version": plan.format_version,
        "environment": plan.environment,
        "client_id": plan.client_id,
        "has_changes": plan.has_changes,
        "fingerprint": plan.fingerprint(),
        "counts": counts,
        "totals": {a: plan.summary.total(a) for a in (*WRITE_ACTIONS, "no_op")},
        "unmanaged": plan.summary.unmanaged,
        "unreadable": plan.summary.unreadable,
        "warnings": len(plan.warnings),
        "unsafe": bool(reasons),
        "unsafe_reasons": reasons,
    }
