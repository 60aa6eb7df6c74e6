"""Linear paging in the store: a search lists its matches once, and any write, by this
store or by another connection to the same file, is seen by the very next page."""

from __future__ import annotations

import pathlib

from reconcile.sandbox import Store
from reconcile.sandbox.store import Query

ALL = Query((), (), "sku ASC")


def item(sku: str) -> dict[str, object]:
    return {"clientId": "C1", "sku": sku, "productType": "ITEM", "details": {}}


def skus(store: Store, offset: int, limit: int = 2) -> tuple[int, list[str]]:
    total, found = store.search_products("C1", ALL, limit=limit, offset=offset)
    return total, [p.body["sku"] for p in found]


class TestLinearPaging:
    def test_pages_slice_one_ordered_list(self) -> None:
        """Pages read in any order give the LIMIT/OFFSET answer, the total on each."""
        store = Store()
        for sku in "EDCBA":
            store.put_product(item(sku), "PUBLISHED", 1.0, 1.0)
        assert skus(store, 4) == (5, ["E"])
        assert skus(store, 0) == (5, ["A", "B"])
        assert skus(store, 2) == (5, ["C", "D"])
        assert skus(store, 6) == (5, [])

    def test_a_write_between_pages_is_seen(self) -> None:
        """A product written after page 1 shifts the later pages as OFFSET would."""
        store = Store()
        for sku in "BCD":
            store.put_product(item(sku), "PUBLISHED", 1.0, 1.0)
        assert skus(store, 0) == (3, ["B", "C"])
        store.put_product(item("A"), "PUBLISHED", 1.0, 1.0)
        assert skus(store, 2) == (4, ["C", "D"])

    def test_another_connections_write_is_seen(self, tmp_path: pathlib.Path) -> None:
        """A second store on the same file (the admin app of `local`) invalidates the list."""
        path = tmp_path / "state.db"
        served, other = Store(path), Store(path)
        served.put_product(item("B"), "PUBLISHED", 1.0, 1.0)
        assert skus(served, 0) == (1, ["B"])
        other.put_product(item("A"), "PUBLISHED", 1.0, 1.0)
        assert skus(served, 0) == (2, ["A", "B"])
        served.close()
        other.close()
