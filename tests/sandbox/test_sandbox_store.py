"""The SQLite store: atomic transactions, file databases, concurrency."""

from __future__ import annotations

import pathlib
import sqlite3
import threading

import pytest

from reconcile.sandbox import Store
from reconcile.sandbox.store import Query

ALL = Query((), (), "sku ASC")


def item(sku: str, client_id: str = "C1") -> dict[str, object]:
    return {"clientId": client_id, "sku": sku, "productType": "ITEM", "details": {}}


class TestTransactions:
    def test_a_failing_transaction_leaves_nothing_behind(self) -> None:
        """An exception inside transaction() rolls back every write made in it."""
        store = Store()
        with pytest.raises(RuntimeError), store.transaction():
            store.put_product(item("A"), "PUBLISHED", 1.0, 1.0)
            store.put_bom({"clientId": "C1", "sku": "A"}, 1.0, 1.0, components=["B"])
            raise RuntimeError("crash half-way")
        assert store.get_product("C1", "A") is None
        assert store.search_boms("C1", Query((), (), "seq"), limit=10, offset=0)[0] == 0

    def test_nested_transactions_join_the_outer_one(self) -> None:
        """A write in a nested transaction is undone when the outer one fails."""
        store = Store()
        with pytest.raises(RuntimeError), store.transaction():
            with store.transaction():
                store.put_product(item("A"), "PUBLISHED", 1.0, 1.0)
            raise RuntimeError("outer fails")
        assert store.get_product("C1", "A") is None

    def test_wipe_empties_every_table(self) -> None:
        """wipe removes products, BOMs and inventory."""
        store = Store()
        store.put_product(item("A"), "PUBLISHED", 1.0, 1.0)
        store.put_bom({"clientId": "C1", "sku": "A"}, 1.0, 1.0, components=["B"])
        store.add_inventory([{"sku": "A"}])
        store.wipe()
        assert store.search_products("C1", ALL, limit=10, offset=0) == (0, [])
        assert store.search_inventory("C1", Query((), (), "sku"), limit=10, offset=0) == (0, [])

    def test_concurrent_writers_do_not_lose_updates(self) -> None:
        """Writes from several threads through one store all land (the lock serialises them)."""
        store = Store()

        def write(start: int) -> None:
            for i in range(start, start + 50):
                store.put_product(item(f"S{i:04d}"), "PUBLISHED", 1.0, 1.0)

        threads = [threading.Thread(target=write, args=(n * 50,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert store.search_products("C1", ALL, limit=1, offset=0)[0] == 400


class TestFileDatabase:
    def test_missing_parent_directories_are_created(self, tmp_path: pathlib.Path) -> None:
        """Store(path) creates the directories leading to a new database file."""
        path = tmp_path / "catalog" / ".reconcile" / "sandbox.db"
        Store(path).close()
        assert path.is_file()

    def test_data_survives_reopening(self, tmp_path: pathlib.Path) -> None:
        """A file store keeps its data across instances (the embedded local environment)."""
        path = tmp_path / "sandbox.db"
        first = Store(path)
        first.put_product(item("A"), "PUBLISHED", 1.0, 2.0)
        first.close()
        reopened = Store(path).get_product("C1", "A")
        assert reopened is not None and reopened.pb_update == 2.0

    def test_file_databases_use_wal(self, tmp_path: pathlib.Path) -> None:
        """File stores run in WAL mode."""
        path = tmp_path / "sandbox.db"
        Store(path).close()
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
