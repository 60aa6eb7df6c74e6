"""Duplicate BOMs PB holds: the clean-up a person would do by hand, as reviewable changes.

PB has no DELETE and accepts several active BOMs for one (clientId, kit sku, node) key
(two writers, or a past mistake). When one of them equals the catalog's BOM, the plan
keeps that one (the first created among the equal ones) and deactivates the others, each
named by its id (``bom.<sku>[@<node>]#<id>``): ordinary deactivations, so the safety
thresholds count them and a reviewer sees them. When none equals the catalog, which one
the catalog means cannot be told: the plan stops (exit 4) naming every id.
"""

from __future__ import annotations

import dataclasses

from reconcile.models import Bom, ResourceSet, comparable, digest
from reconcile.models.codec import BomKey, duplicate_address, key_dict
from reconcile.models.resources import RemoteMeta, creation_rank
from reconcile.plan.change import Change, FieldChange, Precondition
from reconcile.plan.plan import Selector


def resolve_duplicates(
    desired: ResourceSet, current: ResourceSet, selected: Selector
) -> tuple[ResourceSet, list[Change]]:
    """``current`` with each duplicated key standing for the BOM the catalog declares,
    and the deactivations of the others (RemoteStateError when nothing resolves a key)."""
    if not current.duplicates:
        return current, []
    boms, meta = dict(current.boms), dict(current.meta)
    changes: list[Change] = []
    for key, active in sorted(current.duplicates.items()):
        if not selected(key.address, key.sku):
            continue
        want = desired.boms.get(key)
        equal = [p for p in active if want is not None and comparable(p[0]) == comparable(want)]
        if not equal:
            raise current.ambiguity(key)
        kept = min(equal, key=lambda pair: creation_rank(pair[1]))
        boms[key], meta[key] = kept
        changes += [_deactivate(key, bom, m) for bom, m in active if m.bom_id != kept[1].bom_id]
    return dataclasses.replace(current, boms=boms, meta=meta), changes


def _deactivate(key: BomKey, bom: Bom, meta: RemoteMeta) -> Change:
    dump = bom.model_dump(mode="json", exclude_none=True)
    return Change(
        address=duplicate_address(key.address, str(meta.bom_id)),
        kind="bom",
        action="deactivate",
        key=key_dict(key),
        before=dump,
        after={**dump, "active": False},
        field_changes=[FieldChange(path="active", before=True, after=False)],
        precondition=Precondition(pbUpdateDate=meta.pb_update_date, digest=digest(bom)),
        remote_id=meta.bom_id,
        kept=dict(meta.kept),
    )
