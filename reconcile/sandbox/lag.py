"""Index lag (a probe alternative): new products and BOMs reach search only after a while.

PB's search may well be served by an index that trails the writes. With
``index_lag_seconds`` or ``index_lag_searches`` set, each product or BOM created through
the API stays out of search results until that many seconds have passed on the emulator's
clock and that many searches of its kind have been answered; GET finds it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reconcile.sandbox.core import Sandbox
from reconcile.sandbox.store import Query

Kind = Literal["products", "boms"]
#: The column each kind is hidden by: a product's sku, a BOM's id.
_COLUMN: dict[Kind, str] = {"products": "sku", "boms": "id"}


@dataclass
class _Pending:
    client_id: str
    key: str
    visible_at: float
    searches_left: int


def created(sandbox: Sandbox, kind: Kind, client_id: str, key: str) -> None:
    """Note a new object, hidden from search as the lag settings say."""
    cfg = sandbox.config
    if cfg.index_lag_seconds <= 0 and cfg.index_lag_searches <= 0:
        return
    visible_at = sandbox.clock() + cfg.index_lag_seconds
    sandbox.lagging.setdefault(kind, []).append(
        _Pending(client_id, key, visible_at, cfg.index_lag_searches)
    )


def hide_lagging(sandbox: Sandbox, kind: Kind, client_id: str, query: Query) -> Query:
    """``query`` without the objects of ``client_id`` not yet indexed; counts one search."""
    pending: list[_Pending] = sandbox.lagging.get(kind, [])
    now = sandbox.clock()
    still = [p for p in pending if p.visible_at > now or p.searches_left > 0]
    for p in still:
        p.searches_left -= 1
    sandbox.lagging[kind] = still
    hidden = [p.key for p in still if p.client_id == client_id]
    if not hidden:
        return query
    clause = f"{_COLUMN[kind]} NOT IN ({','.join('?' * len(hidden))})"
    return Query([*query.where, clause], [*query.params, *hidden], query.order)
