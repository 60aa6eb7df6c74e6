"""Drift: does PB still hold what the catalog declares, and nothing more?

``plan --detailed-exitcode`` sees only changes apply would make: a product someone added
in PB's portal is merely *unmanaged* (without prune), so a nightly job built on it passes.
Drift counts both: the changes apply would make, and every resource PB holds for the
client that the catalog does not declare (unmanaged, and unreadable objects), each listed
with the two ways out: adopt it into the catalog (``import --target``) or deactivate it
(``apply --prune --target``).

The engine makes the plan (with the catalog's own prune setting); this module reads it.
Renderings: text, markdown ready to open as an issue (bounded like a plan comment) and
versioned JSON. Nothing here prints.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from reconcile.plan.markdown import inline_code, markdown_text, render_markdown
from reconcile.plan.plan import Plan
from reconcile.plan.render import render_text

DRIFT_FORMAT_VERSION = "1.0"
#: An issue body (like a comment) holds 65,536 characters; keep the plan's margin.
MAX_MARKDOWN_CHARS = 65_000
#: Unmanaged resources listed one by one in markdown before the rest is counted.
LISTED = 100


@dataclass(frozen=True)
class Drift:
    """What differs between PB and the catalog, read from a plan of the whole catalog."""

    plan: Plan
    #: The catalog directory and ``--env`` as typed, for the commands the hints show.
    directory: str = "."
    env: str | None = None

    @property
    def unmanaged(self) -> list[str]:
        return list(self.plan.unmanaged)

    @property
    def unreadable(self) -> list[str]:
        return list(self.plan.unreadable)

    @property
    def drifted(self) -> bool:
        return self.plan.has_changes or bool(self.unmanaged or self.unreadable)

    def headline(self) -> str:
        if not self.drifted:
            return "No drift: PB matches the catalog and holds nothing it does not declare."
        return (
            f"Drift: {_count(len(self.plan.changes), 'change')} apply would make, "
            f"{_count(len(self.unmanaged) + len(self.unreadable), 'resource')} in PB the "
            "catalog does not declare."
        )

    def adopt_command(self, address: str) -> str:
        """Write it as catalog files (then move them into the catalog)."""
        return self._command("import", "--target", address, "--out", "adopted")

    def prune_command(self, address: str) -> str:
        """Deactivate it in PB (after review: the plan is shown first)."""
        return self._command("apply", self.directory, "--prune", "--target", address)

    def _command(self, *words: str) -> str:
        env = ["--env", self.env] if self.env else []
        where = ["--from", self.directory] if words[0] == "import" else []
        return shlex.join(["reconcile", words[0], *env, *where, *words[1:]])


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# ---- text ---------------------------------------------------------------------------------


def render_drift_text(drift: Drift, *, color: bool) -> Text:
    """The plan as ``reconcile plan`` shows it, then the drift verdict and the ways out."""
    text = render_text(drift.plan, color=color)
    text.append("\n\n")
    if drift.unmanaged:
        example = drift.unmanaged[0]
        text.append(
            "Each resource PB holds that the catalog does not declare is drift: adopt it "
            f"into the catalog (e.g. `{drift.adopt_command(example)}`, then move the "
            f"files into the catalog) or deactivate it (`{drift.prune_command(example)}`).\n"
        )
    if drift.unreadable:
        text.append(
            "Unreadable objects are drift too: fix them in PB (reconcile cannot read them).\n"
        )
    text.append(drift.headline(), style=("bold red" if drift.drifted else "bold") if color else "")
    return text


# ---- markdown: ready to open as an issue --------------------------------------------------


def drift_marker(drift: Drift) -> str:
    """The hidden marker a job uses to find its own open drift issue."""
    return f"<!-- reconcile-drift:{drift.plan.environment}:{drift.plan.client_id} -->"


def render_drift_markdown(drift: Drift, *, max_chars: int = MAX_MARKDOWN_CHARS) -> str:
    """An issue body: the verdict, the unmanaged resources with the commands that adopt
    or deactivate each, then the plan's changes; at most ``max_chars`` characters."""
    plan = drift.plan
    lines = [
        drift_marker(drift),
        f"## Catalog drift: environment {inline_code(plan.environment)}, "
        f"client {inline_code(plan.client_id)}",
        "",
        f"**{markdown_text(drift.headline())}**",
        "",
    ]
    lines += _unmanaged_section(drift)
    if drift.unreadable:
        lines += [f"### Unreadable in PB ({len(drift.unreadable)})", ""]
        lines += [f"- {markdown_text(note)}" for note in drift.unreadable[:LISTED]]
        lines += [*_more(len(drift.unreadable)), ""]
    head = "\n".join(lines) + "\n"
    if not plan.has_changes:
        return head
    changes = render_markdown(plan, max_chars=max(max_chars - len(head), 2_000))
    body = changes.split("\n", 1)[1]  # the plan's own marker belongs to PR comments
    return (head + "### What apply would change\n" + body)[:max_chars]


def _unmanaged_section(drift: Drift) -> list[str]:
    if not drift.unmanaged:
        return []
    lines = [
        f"### In PB, not in the catalog ({len(drift.unmanaged)})",
        "",
        "Adopt each into the catalog (`import` writes it as catalog files to move in), or "
        "deactivate it (`apply --prune`, which shows the plan first).",
        "",
        "| resource | adopt | or deactivate |",
        "|---|---|---|",
    ]
    for address in drift.unmanaged[:LISTED]:
        adopt, prune = drift.adopt_command(address), drift.prune_command(address)
        lines.append(
            f"| {inline_code(address)} | {_cell(inline_code(adopt))} | "
            f"{_cell(inline_code(prune))} |"
        )
    return [*lines, *_more(len(drift.unmanaged)), ""]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _more(total: int) -> list[str]:
    hidden = total - LISTED
    return (
        ["", f"… and {hidden} more (`reconcile drift --format json` lists all)"]
        if hidden > 0
        else []
    )


# ---- JSON ---------------------------------------------------------------------------------


def drift_document(drift: Drift) -> dict[str, Any]:
    """``drift --format json``: the verdict, counts, changes (address, action, fields)
    and the unmanaged and unreadable resources."""
    plan = drift.plan
    return {
        "format_version": DRIFT_FORMAT_VERSION,
        "environment": plan.environment,
        "client_id": plan.client_id,
        "drifted": drift.drifted,
        "fingerprint": plan.fingerprint() if plan.has_changes else None,
        "changes": [
            {
                "address": c.address,
                "action": c.action,
                "fields": [fc.path for fc in c.field_changes],
            }
            for c in plan.changes
        ],
        "unmanaged": drift.unmanaged,
        "unreadable": drift.unreadable,
        "summary": plan.summary.model_dump(),
    }


def render_drift_json(drift: Drift) -> str:
    return json.dumps(drift_document(drift), indent=2, ensure_ascii=False) + "\n"
