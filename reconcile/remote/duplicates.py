"""One active BOM per key, even with two writers: the rule every run applies the same way.

PB has no DELETE and accepts any number of BOMs for one (clientId, kit sku, node) key, so
two runs creating the same BOM at once would leave two active BOMs for good. Three
defences, in order:

1. Just before creating a batch of BOMs, their keys are searched again (one filtered
   search per batch): a BOM that appeared since the plan was read is adopted when it
   equals the catalog's BOM, else reported like a stale resource; it is never created a
   second time.
2. After creating, the confirming search reads every BOM of the key. When it holds two
   or more active BOMs, the **survivor** is the one created first (earliest
   ``pbCreateDate``, then the lowest ``billOfMaterialId``): a total order every run
   computes alike from what PB holds. A run deactivates the BOMs it created that are not
   the survivor and says so; the survivor's creator keeps it. So two runs never both
   deactivate. Once all its creates are confirmed, a run searches the keys it kept once
   more and yields where another copy now ranks first (committed after its confirming
   read, but in the same second with a lower id): both keep only if the other copy
   commits after that second read too, and then the next plan shows the duplicate and
   offers to deactivate it, as for any duplicate PB holds.
3. A BOM that PB accepted and that GET by id finds, but that the key search does not
   show, means PB's BOM search does not show new BOMs (index lag, or a search that
   misses them): every later BOM create of the run stops, since its re-check and
   confirmation would be blind too.
"""

from __future__ import annotations

from collections.abc import Iterable

from reconcile.models import Bom, RemoteMeta
from reconcile.models.resources import creation_rank

#: The message of a run stopped because PB's BOM search does not show new BOMs.
SEARCH_BLIND = (
    "PB accepted the BOM (id {bom_id}) and GET by id finds it, but PB's BOM search does not "
    "show it; reconcile cannot check a key it cannot see, so it stops creating BOMs in this "
    "run (a rerun would create duplicates). Run `reconcile probe` to check the BOM search"
)
SEARCH_BLIND_SKIPPED = (
    "not created: PB's BOM search does not show new BOMs (see {address}); "
    "run `reconcile probe` to check it"
)


def survivor(active: Iterable[tuple[Bom, RemoteMeta]]) -> tuple[Bom, RemoteMeta] | None:
    """The active BOM of a key that every run keeps (None when there is none)."""
    return min(active, key=lambda pair: creation_rank(pair[1]), default=None)


def ids(pairs: Iterable[tuple[Bom, RemoteMeta]]) -> str:
    return ", ".join(sorted(str(meta.bom_id) for _, meta in pairs))
