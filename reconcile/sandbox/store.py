"""SQLite state of the emulator: products, BOMs (with their components) and inventory.

One connection shared by every thread behind a re-entrant lock; every write runs inside
``transaction()``, so a bulk request or a fixture load is applied whole or not at all.
The file itself (schema, opening, ``StoreError``) is ``database``.

Searches page linearly (``matches``): the first page of a search lists the row ids of
every match once, in the search's order, and later pages slice that list, so reading N
objects costs O(N), not a count and an ``OFFSET`` scan per page (O(N²)). The list is the
answer a count and ``LIMIT/OFFSET`` would give at that moment: any write (by this store
or another connection to the file) discards it.
"""

from __future__ import annotations

import functools
import json
import pathlib
import sqlite3
import threading
import uuid
from array import array
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from reconcile.sandbox.database import open_database
from reconcile.sandbox.dates import parse_instant

_PRODUCT_COLUMNS = "body, status, pb_create, pb_update"
_BOM_COLUMNS = "id, body, pb_create, pb_update"
#: How many searches keep their list of matches (a walk's concurrent pages share one).
_KEPT_SEARCHES = 16


@dataclass(frozen=True)
class StoredProduct:
    """A product as stored: the client's object (as JSON text) plus the PB-owned stamps."""

    text: str
    status: str
    pb_create: float
    pb_update: float

    @functools.cached_property
    def body(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.text)
        return decoded


@dataclass(frozen=True)
class StoredBom:
    """A BOM as stored: the client's object plus the PB-assigned id and stamps."""

    id: str
    body: dict[str, Any]
    pb_create: float
    pb_update: float


@dataclass(frozen=True)
class Query:
    """A search as SQL: WHERE fragments (ANDed), their parameters, and an ORDER BY."""

    where: Sequence[str]
    params: Sequence[Any]
    order: str
    #: A stable order lists its matches once per search (linear paging); an unstable one
    #: (``stable_order: false``) is drawn afresh for every page, as PB without one would.
    stable: bool = True


class Store:
    """Transactional, thread-safe SQLite storage for one emulator instance."""

    def __init__(self, path: str | pathlib.Path = ":memory:") -> None:
        """Open (or create) the database; ``StoreError`` says why a file cannot be used
        (not a directory, not SQLite, another schema, read-only)."""
        self.path = str(path)
        self._lock = threading.RLock()
        self._depth = 0
        self._db = open_database(self.path)
        self._searches: OrderedDict[tuple[Any, ...], array[int]] = OrderedDict()
        self._version: tuple[int, int] = (0, 0)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one SQLite transaction; nested use joins the outer one."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._db
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
                self._searches.clear()
            finally:
                self._depth = 0

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def wipe(self) -> None:
        """Delete every product, BOM and inventory record."""
        with self.transaction() as db:
            for table in ("bom_components", "boms", "products", "inventory"):
                db.execute(f"DELETE FROM {table}")

    # ---- products ----

    def get_product(self, client_id: str | None, sku: str) -> StoredProduct | None:
        """The product with ``sku`` (of ``client_id`` when given), or None."""
        if client_id is None:
            sql = f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE sku = ? ORDER BY client_id"
            rows = self._read(sql + " LIMIT 1", (sku,))
        else:
            sql = f"SELECT {_PRODUCT_COLUMNS} FROM products WHERE client_id = ? AND sku = ?"
            rows = self._read(sql, (client_id, sku))
        return _product(rows[0]) if rows else None

    def product_types(self, client_id: str, skus: Sequence[str]) -> dict[str, str | None]:
        """productType of each existing sku of ``client_id``."""
        marks = ",".join("?" * len(skus))
        sql = f"SELECT sku, product_type FROM products WHERE client_id = ? AND sku IN ({marks})"
        return {r[0]: r[1] for r in self._read(sql, (client_id, *skus))}

    def put_product(
        self, body: dict[str, Any], status: str, pb_create: float, pb_update: float
    ) -> None:
        """Insert or fully replace one product (callers decide which is allowed)."""
        row = (
            body["clientId"],
            body["sku"],
            body.get("productType"),
            0 if body.get("active") is False else 1,
            body.get("fulfillmentRegion"),
            status,
            *_stamps_and_body(body, pb_create, pb_update),
        )
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO products (client_id, sku, product_type, active, region,"
                " status, create_ts, update_ts, pb_create, pb_update, body)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                row,
            )

    def backdate_product(self, client_id: str, sku: str, pb_create: float) -> bool:
        """Set a product's pbCreateDate; False when there is no such product."""
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE products SET pb_create = ?, pb_update = max(pb_update, ?)"
                " WHERE client_id = ? AND sku = ?",
                (pb_create, pb_create, client_id, sku),
            )
            return cur.rowcount > 0

    def search_products(
        self, client_id: str, query: Query, limit: int, offset: int
    ) -> tuple[int, list[StoredProduct]]:
        """Total matches and one page of products of ``client_id``."""
        rows, total = self._page(
            "products", _PRODUCT_COLUMNS, client_id, query, limit=limit, offset=offset
        )
        return total, [_product(r) for r in rows]

    # ---- BOMs ----

    def get_bom(self, bom_id: str) -> StoredBom | None:
        rows = self._read(f"SELECT {_BOM_COLUMNS} FROM boms WHERE id = ?", (bom_id,))
        return _bom(rows[0]) if rows else None

    def active_bom_ids(self, client_id: str, sku: str, node: str | None) -> list[str]:
        """Ids of the active BOMs for one (clientId, kit sku, node)."""
        sql = "SELECT id FROM boms WHERE client_id = ? AND sku = ? AND node IS ? AND active = 1"
        return [r[0] for r in self._read(sql, (client_id, sku, node))]

    def put_bom(
        self,
        body: dict[str, Any],
        pb_create: float,
        pb_update: float,
        bom_id: str | None = None,
        components: Sequence[str] = (),
    ) -> str:
        """Insert a BOM (new id unless given) or fully replace the one with ``bom_id``."""
        bom_id = bom_id or uuid.uuid4().hex[:20]
        fields = (
            body["clientId"],
            body["sku"],
            body.get("node") if isinstance(body.get("node"), str) else None,
            body.get("brand") if isinstance(body.get("brand"), str) else None,
            0 if body.get("active") is False else 1,
            *_stamps_and_body(body, pb_create, pb_update),
        )
        with self.transaction() as db:
            seq = self._bom_seq(bom_id)
            if seq is None:
                seq = db.execute(
                    "INSERT INTO boms (id, client_id, sku, node, brand, active, create_ts,"
                    " update_ts, pb_create, pb_update, body) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (bom_id, *fields),
                ).lastrowid
            else:
                db.execute(
                    "UPDATE boms SET client_id=?, sku=?, node=?, brand=?, active=?, create_ts=?,"
                    " update_ts=?, pb_create=?, pb_update=?, body=? WHERE seq = ?",
                    (*fields, seq),
                )
                db.execute("DELETE FROM bom_components WHERE bom_seq = ?", (seq,))
            db.executemany(
                "INSERT INTO bom_components (bom_seq, client_id, sku) VALUES (?,?,?)",
                [(seq, body["clientId"], sku) for sku in dict.fromkeys(components)],
            )
        return bom_id

    def _bom_seq(self, bom_id: str) -> int | None:
        rows = self._read("SELECT seq FROM boms WHERE id = ?", (bom_id,))
        return int(rows[0][0]) if rows else None

    def search_boms(
        self, client_id: str, query: Query, limit: int, offset: int
    ) -> tuple[int, list[StoredBom]]:
        rows, total = self._page("boms", _BOM_COLUMNS, client_id, query, limit=limit, offset=offset)
        return total, [_bom(r) for r in rows]

    # ---- inventory (emulator-side fixture records, contract §10) ----

    def add_inventory(self, records: Sequence[dict[str, Any]]) -> None:
        rows = [(r.get("clientId"), r["sku"], to_json(r)) for r in records]
        with self.transaction() as db:
            db.executemany("INSERT INTO inventory (client_id, sku, body) VALUES (?,?,?)", rows)

    def search_inventory(
        self, client_id: str, query: Query, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """Records of ``client_id`` (and records loaded without a clientId)."""
        rows, total = self._page(
            "inventory",
            "body",
            client_id,
            query,
            limit=limit,
            offset=offset,
            owner="(client_id = ? OR client_id IS NULL)",
        )
        return total, [json.loads(r[0]) for r in rows]

    def _page(
        self,
        table: str,
        columns: str,
        client_id: str,
        query: Query,
        *,
        limit: int,
        offset: int,
        owner: str = "client_id = ?",
    ) -> tuple[list[tuple[Any, ...]], int]:
        clause = " AND ".join([owner, *query.where])
        params = (client_id, *query.params)
        with self._lock:
            ids = self._matches(table, clause, params, query)
            chunk = ids[offset : offset + limit].tolist()
            if not chunk:
                return [], len(ids)
            marks = ",".join("?" * len(chunk))
            found = self._db.execute(
                f"SELECT rowid, {columns} FROM {table} WHERE rowid IN ({marks})", chunk
            ).fetchall()
        by_id = {row[0]: row[1:] for row in found}
        return [by_id[i] for i in chunk], len(ids)

    def _matches(self, table: str, clause: str, params: Sequence[Any], query: Query) -> array[int]:
        """The row ids of a search's matches in its order, listed once per search while
        nothing is written (the caller holds the lock)."""
        version = (self._db.total_changes, self._data_version())
        if version != self._version:  # a write here, or another connection's commit
            self._searches.clear()
            self._version = version
        key = (table, clause, tuple(params), query.order)
        ids = self._searches.get(key) if query.stable else None
        if ids is None:
            sql = f"SELECT rowid FROM {table} WHERE {clause} ORDER BY {query.order}"
            ids = array("q", (row[0] for row in self._db.execute(sql, params)))
            if query.stable:
                self._searches[key] = ids
            while len(self._searches) > _KEPT_SEARCHES:
                self._searches.popitem(last=False)
        else:
            self._searches.move_to_end(key)
        return ids

    def _data_version(self) -> int:
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])


def _product(row: tuple[Any, ...]) -> StoredProduct:
    return StoredProduct(row[0], row[1], row[2], row[3])


def _bom(row: tuple[Any, ...]) -> StoredBom:
    return StoredBom(row[0], json.loads(row[1]), row[2], row[3])


def to_json(value: Any) -> str:
    """Compact JSON text, as stored and as sent."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _stamps_and_body(
    body: dict[str, Any], pb_create: float, pb_update: float
) -> tuple[float | None, float | None, float, float, str]:
    """The trailing columns products and BOMs share: client and PB dates, then the JSON."""
    created, updated = _instant(body.get("createDate")), _instant(body.get("updateDate"))
    return created, updated, pb_create, pb_update, to_json(body)


def _instant(value: Any) -> float | None:
    return parse_instant(value) if isinstance(value, str) else None
