"""Safety thresholds: refuse a plan that touches too much of what PB holds.

A catalog refactor gone wrong (a renamed directory, a wrong client id, a bad merge)
shows up as a plan that updates or deactivates a large share of the existing catalog.
A deactivation is a prune or an update to ``active: false`` (``Change.deactivates``).
The thresholds are fractions of the resources PB holds, per kind, and only apply once
at least ``min_existing`` of that kind exist (a new client's first apply is all creates).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from reconcile.models.kinds import KINDS
from reconcile.plan.change import Change, Kind
from reconcile.plan.diff import field_name
from reconcile.settings import Safety

KIND_PLURAL: dict[Kind, str] = {kind.name: kind.plural for kind in KINDS}

#: How many addresses a deactivation violation names as examples.
EXAMPLES = 3

FORCE_HINT = (
    "Review the plan; re-run with --force to apply it anyway, "
    "or change the limits under `safety:` in reconcile.yaml."
)


def kind_violations(
    kind: Kind, existing: int, changes: Sequence[Change], safety: Safety
) -> list[str]:
    """Why the changes to one kind of resource break the thresholds (empty when safe)."""
    if existing == 0 or existing < safety.min_existing:
        return []
    # An update to `active: false` counts as a deactivation (not also as an update).
    deactivations = [c for c in changes if c.kind == kind and c.deactivates]
    updates = [c for c in changes if c.kind == kind and c.action == "update" and not c.deactivates]
    found = []
    if len(updates) / existing > safety.max_update_fraction:
        found.append(_update_violation(kind, existing, updates, safety.max_update_fraction))
    if len(deactivations) / existing > safety.max_deactivate_fraction:
        found.append(
            _deactivate_violation(kind, existing, deactivations, safety.max_deactivate_fraction)
        )
    return found


def _update_violation(kind: Kind, existing: int, updates: Sequence[Change], limit: float) -> str:
    text = _share(
        kind, len(updates), existing, verb="updated", limit=limit, setting="max_update_fraction"
    )
    common = most_common_field(updates)
    if common is not None:
        name, count = common
        text += f"; {percent(count / existing)} of {KIND_PLURAL[kind]} change `{name}`"
    return text


def _deactivate_violation(
    kind: Kind, existing: int, deactivations: Sequence[Change], limit: float
) -> str:
    text = _share(
        kind,
        len(deactivations),
        existing,
        verb="deactivated",
        limit=limit,
        setting="max_deactivate_fraction",
    )
    examples = ", ".join(c.address for c in deactivations[:EXAMPLES])
    more = ", …" if len(deactivations) > EXAMPLES else ""
    return f"{text} ({examples}{more})"


def _share(kind: Kind, count: int, existing: int, *, verb: str, limit: float, setting: str) -> str:
    return (
        f"{count} of {existing} {KIND_PLURAL[kind]} ({percent(count / existing)}) would be "
        f"{verb}, above the {percent(limit)} limit (safety.{setting})"
    )


def most_common_field(changes: Sequence[Change]) -> tuple[str, int] | None:
    """The field most changes touch, and how many touch it (ties: alphabetical)."""
    counts: Counter[str] = Counter()
    for change in changes:
        counts.update({field_name(fc.path) for fc in change.field_changes})
    if not counts:
        return None
    return min(counts.items(), key=lambda item: (-item[1], item[0]))


def percent(fraction: float) -> str:
    """0.3 → ``30%``, 0.304 → ``30.4%``: one decimal only when it is needed."""
    return f"{fraction * 100:.1f}".removesuffix(".0") + "%"
