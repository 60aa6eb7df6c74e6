"""Is PB still where a saved plan left it? The stale-plan rule, applied to a re-read.

Before ``apply --plan`` writes, the resources the plan changes are read again; each change
is then still to do, already done (PB holds its ``after``), or stale (refused). A change
for another client than the run's is refused before anything is read or written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reconcile.errors import StalePlan
from reconcile.models import Bom, Product, RemoteMeta, ResourceSet, comparable, digest
from reconcile.models.codec import BomKey
from reconcile.models.kinds import resource_kind
from reconcile.plan.change import Change

#: The message of a change reported done because PB already held its ``after``.
ALREADY_APPLIED = "already applied"


@dataclass(frozen=True)
class Freshness:
    """What a re-read of the planned resources says about each planned change."""

    #: Addresses of changes PB already holds the ``after`` of (e.g. a rerun after a
    #: partly failed apply): report them done, write nothing.
    applied: frozenset[str]
    #: One line per change whose precondition no longer holds: refuse the plan.
    stale: list[str]


def check_freshness(changes: Sequence[Change], current: ResourceSet) -> Freshness:
    """Sort planned changes by a re-read ``current``: still to do, already done, or stale.

    A resource that already equals the change's ``after`` (compared as the diff compares)
    counts as applied, whoever wrote it. Otherwise a create is stale if the resource now
    exists, and an update or deactivation if the resource is gone, is another PB BOM, or
    its ``pbUpdateDate`` or content digest differs from the plan's precondition (PB
    stamps BOM dates to the second, so an edit in the plan's second keeps the date and
    only the digest shows it).
    """
    applied: set[str] = set()
    stale: list[str] = []
    for change in changes:
        reason = _stale_reason(change, current)
        if reason == ALREADY_APPLIED:
            applied.add(change.address)
        elif reason is not None:
            stale.append(f"{change.address}: {reason}")
    return Freshness(frozenset(applied), stale)


def _stale_reason(change: Change, current: ResourceSet) -> str | None:
    """None when the change is still to do, ``ALREADY_APPLIED`` when PB holds its after."""
    unreadable = current.unreadable.get(change.address)
    if unreadable is not None:
        return f"PB now holds it in a form reconcile cannot read ({unreadable})"
    kind = resource_kind(change.kind)
    key = kind.key_from_dict(change.key)
    remote = kind.of(current).get(key)
    meta = current.meta.get(key, RemoteMeta())
    if isinstance(key, BomKey) and change.address != key.address:
        # The deactivation of a duplicate BOM (plan.duplicates): find it by its id.
        found = [p for p in current.duplicates.get(key, []) if p[1].bom_id == change.remote_id]
        if not found:
            return ALREADY_APPLIED  # no longer one of the key's active BOMs
        remote, meta = found[0]
    moved = kind.remote_id and change.remote_id and meta.bom_id != change.remote_id
    if remote is not None and moved:
        return f"is now PB BOM {meta.bom_id}, not the planned {change.remote_id}"
    if remote is not None and change.after is not None and _holds_after(remote, change):
        return ALREADY_APPLIED
    if change.action == "create":
        return None if remote is None else "now exists in PB; the plan would create it again"
    if remote is None:
        return "no longer found in PB"
    pre = change.precondition
    if pre is None:
        return "the plan records no precondition for it; make the plan again"
    seen, now = pre.pbUpdateDate, meta.pb_update_date
    if seen is not None and now is not None and seen != now:
        return f"updated in PB at {meta.pb_update_date} (the plan saw {pre.pbUpdateDate})"
    return None if digest(remote) == pre.digest else "its content in PB changed since the plan"


def _holds_after(remote: Product | Bom, change: Change) -> bool:
    return comparable(remote) == comparable(change.after_model())


def check_client(changes: Sequence[Change], client_id: str) -> None:
    """Refuse, before any write, a change keyed to or holding another client's object."""
    for change in changes:
        owners = {change.key.get("clientId"), (change.after or {}).get("clientId", client_id)}
        if owners != {client_id}:
            others = ", ".join(sorted(repr(o) for o in owners - {client_id}))
            raise StalePlan(
                f"{change.address}: the change is for client {others}, but this apply writes "
                f"for client {client_id!r}; nothing was applied. Make a new plan"
            )
