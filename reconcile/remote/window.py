"""The window self-check: whether the product search can be trusted to show every product.

PB's product search hides products created more than six months ago unless the request
carries a date filter (contract §6.5); reconcile sends a wide ``pbCreateDate`` window.
Whether a given PB honours that window is not documented, and a product the search hid
would be planned as a create. Reading every desired product the search did not return by
GET settles it, but costs one request per new product (an onboarding of 10,000 products
sent 12,000 GETs, 85% of its requests). So the read proves what it can from itself:

1. **Proof in the read.** The search returned a product created more than
   ``PROOF_AGE`` ago: a search that applied the six-month window could not have, so the
   window is honoured and what it did not return is absent. No GET.
2. **A sample otherwise** (no old product returned, or nothing at all): GET a few of the
   desired products the search did not return. First those PB's BOMs name (a BOM names its
   kit and components, products PB holds even when the search hides them), then products
   spread evenly over the rest: one per ``SAMPLE_EVERY``, at most ``SAMPLE_MAX``.
3. **A sampled GET that finds a product** proves the search hides products: every desired
   product it did not return is then read by GET (the old rule), and the run says so.
4. **The backstop** for a hidden product the sample missed: PB refuses to create a SKU it
   holds, and apply reports that create as "PB's search hid this product", pointing to
   ``reconcile probe`` (``remote/apply.py``); it is never turned into an update.

Costs: a brand-new catalog, at most ``SAMPLE_MAX`` GETs; an account whose search shows
an old product, none; a PB that ignores the window, one GET per desired product it hides.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from reconcile.remote import wire

#: Older than any reading of "six months" (contract §6.5), with days to spare.
PROOF_AGE = timedelta(days=200)
#: One sampled GET per this many desired products the search did not return...
SAMPLE_EVERY = 20
#: ...and never more than this many.
SAMPLE_MAX = 20

HIDDEN_NOTE = (
    "PB's product search hid products older than six months although reconcile asked for "
    "every creation date; reading the {count} catalog products it did not return one by "
    "one. Run `reconcile probe` to check this account's search."
)


class WindowEvidence:
    """What the objects of one whole-account product search prove about its window."""

    def __init__(self, now: datetime | None = None) -> None:
        self.cutoff = (now or datetime.now(UTC)) - PROOF_AGE
        self.proven = False

    def saw(self, obj: Mapping[str, Any]) -> None:
        """Note one object the search returned."""
        if self.proven:
            return
        created = obj.get(wire.PRODUCT_WINDOW_FIELD)
        if not isinstance(created, str):
            return
        try:
            self.proven = wire.parse_pb_date(created) < self.cutoff
        except ValueError:
            return


def sample(missing: Sequence[str], named_by_boms: Iterable[str]) -> list[str]:
    """The desired SKUs to GET when the search proved nothing: those PB's BOMs name first,
    then an even spread over the rest (sorted ``missing``), one per ``SAMPLE_EVERY``."""
    size = min(SAMPLE_MAX, math.ceil(len(missing) / SAMPLE_EVERY))
    absent = set(missing)
    chosen = list(dict.fromkeys(s for s in sorted(set(named_by_boms)) if s in absent))[:size]
    step = len(missing) / size if size else 0
    spread = (missing[int(i * step)] for i in range(size))
    return list(dict.fromkeys([*chosen, *spread]))[:size]


def skus_named(bom: Mapping[str, Any]) -> list[str]:
    """The kit and component SKUs a PB BOM object names (odd entries skipped)."""
    named = [bom.get("sku")]
    lines = bom.get("billOfMaterialDetails")
    for line in lines if isinstance(lines, list) else []:
        if isinstance(line, Mapping):
            named.append(line.get("sku"))
    return [s for s in named if isinstance(s, str)]
