"""One BOM per key: which of the BOMs PB holds for a (kit sku, node) is the key's BOM."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

from reconcile.models import Bom, BomKey, RemoteMeta, ResourceSet
from reconcile.models.resources import creation_rank
from reconcile.remote import wire


def unique_boms(
    pairs: Iterable[tuple[Bom, RemoteMeta]],
    duplicates: dict[BomKey, list[tuple[Bom, RemoteMeta]]] | None = None,
) -> list[tuple[Bom, RemoteMeta]]:
    """One BOM per (sku, node) key, chosen among the remote BOMs of that key.

    Inactive BOMs are history: beside exactly one active BOM they are left out; with no
    active one, the most recently updated inactive BOM (latest ``pbUpdateDate``, then
    highest id) is the key's BOM, so a declared BOM reactivates it. Two or more ACTIVE
    BOMs for one key are duplicates: with ``duplicates`` given, the one created first
    stands for the key and all of them go there for the plan to resolve (``plan.
    duplicates``); without, they are an error naming each id.
    """
    by_key: dict[BomKey, list[tuple[Bom, RemoteMeta]]] = defaultdict(list)
    for bom, meta in pairs:
        by_key[bom.key].append((bom, meta))
    chosen = []
    for key, found in by_key.items():
        active = [pair for pair in found if pair[0].active]
        if len(active) > 1 and duplicates is not None:
            duplicates[key] = sorted(active, key=lambda pair: creation_rank(pair[1]))
        chosen.append(_one_bom(key, found, keep_duplicates=duplicates is not None))
    return chosen


def _one_bom(
    key: BomKey, found: list[tuple[Bom, RemoteMeta]], *, keep_duplicates: bool
) -> tuple[Bom, RemoteMeta]:
    active = [pair for pair in found if pair[0].active]
    if len(active) == 1:
        return active[0]
    if not active:
        return max(found, key=lambda pair: _recency(pair[1]))
    if keep_duplicates:
        return min(active, key=lambda pair: creation_rank(pair[1]))
    raise ResourceSet(duplicates={key: active}).ambiguity(key)


_NEVER = datetime.min.replace(tzinfo=UTC)


def _recency(meta: RemoteMeta) -> tuple[datetime, int, str]:
    """Sort key of an inactive BOM: its last update, then its id (numerically if it is
    a number). A missing or unreadable date sorts first."""
    try:
        updated = wire.parse_pb_date(meta.pb_update_date) if meta.pb_update_date else _NEVER
    except ValueError:
        updated = _NEVER
    bom_id = meta.bom_id or ""
    return updated, int(bom_id) if bom_id.isascii() and bom_id.isdigit() else -1, bom_id
