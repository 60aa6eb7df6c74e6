"""Answers the emulator never gives, from a hostile PB on 127.0.0.1 (the real emulator
behind a proxy): each is an error (exit 4) naming what was wrong, nothing is written, and
the run ends in bounded time. PB has no DELETE: a write from a misread answer (a BOM
created again, a product created over one PB holds) could never be undone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Run
from tests.support.hostile import (
    API,
    HostilePB,
    apply,
    bom,
    dripping,
    endless,
    item,
    json_answer,
    kit,
    raw_answer,
    rewritten,
    served,
    write_catalog,
)


@pytest.fixture
def hostile() -> Iterator[HostilePB]:
    """PB holding kit K (made of A and B) with its one BOM, as the catalog declares it."""
    pb = HostilePB()
    with served(pb):
        pb.load(products=[item("A"), item("B"), kit("K")], boms=[bom("K", "A", "B")])
        yield pb


@pytest.fixture
def catalog(tmp_path: Path, hostile: HostilePB) -> Path:
    """The catalog of what PB holds, plus product NEW that PB does not hold."""
    products = [item("A"), item("B"), kit("K"), item("NEW")]
    return write_catalog(tmp_path / "cat", hostile.url, products, [bom("K", "A", "B")])


def refused(hostile: HostilePB, catalog: Path, message: str, *, within: float = 30.0) -> Run:
    """The apply exits 4 with ``message`` on stderr, sent no write, and ended in time."""
    result, took = apply(catalog)
    assert result.code == 4, result.output
    assert message in result.stderr, result.stderr
    assert hostile.writes == [], hostile.writes
    assert took < within
    return result


BOM_SEARCH = "bill-of-materials/search"
PRODUCT_SEARCH = "products/search"
PRODUCT_GET = "products/NEW"


class TestTheBaseline:
    def test_the_proxy_alone_changes_nothing(self, hostile: HostilePB, catalog: Path) -> None:
        """Without a hostile answer the apply creates NEW and nothing else: the proxy is
        transparent, so each case below fails because of its answer alone."""
        result, _ = apply(catalog)
        assert result.code == 0, result.output
        assert hostile.writes == [("POST", f"{API}/products/bulk")]


class TestBomSearchThatSaysNothing:
    @pytest.mark.parametrize(
        "answer",
        [
            {"content": None, "totalElements": 1},
            {},
            {"billsOfMaterial": [{"sku": "K"}], "totalElements": 1},
        ],
        ids=["content-null", "empty-object", "renamed-field"],
    )
    def test_no_results_list_is_an_error_not_no_boms(
        self, hostile: HostilePB, catalog: Path, answer: dict[str, Any]
    ) -> None:
        """Read as "no BOMs", these would create K's BOM a second time."""
        hostile.answer("POST", BOM_SEARCH, json_answer(answer))
        refused(hostile, catalog, "has no `content` or `billOfMaterials` or `bomList` list")

    def test_empty_list_with_a_total_is_an_error(self, hostile: HostilePB, catalog: Path) -> None:
        """`content: []` announcing one result: the count does not add up."""
        answer = {"content": [], "totalElements": 1, "totalPages": 1, "size": 100}
        hostile.answer("POST", BOM_SEARCH, json_answer(answer))
        refused(hostile, catalog, "announced 1 results (totalElements) but its pages held 0")


class TestProductGetThatSaysNothing:
    @pytest.mark.parametrize(
        ("answer", "message"),
        [
            (raw_answer(b"<html><h1>404 Not Found</h1></html>", 404), "404 without its error"),
            (raw_answer(b"", 404), "404 without its error object"),
            (json_answer({}), "the answer is about SKU null, not \\"),
            (json_answer(item("OTHER")), 'the answer is about SKU "OTHER", not "NEW"'),
        ],
        ids=["html-404", "empty-404", "empty-object", "another-sku"],
    )
    def test_only_pbs_own_404_means_absent(
        self,
        hostile: HostilePB,
        catalog: Path,
        answer: Callable[..., Any],
        message: str,
    ) -> None:
        """NEW is not in the search, so it is looked up; none of these answers says PB
        lacks it, so no create is sent on them."""
        hostile.answer("GET", PRODUCT_GET, answer)
        refused(hostile, catalog, message.replace("\\", ""))


class TestPagingWithoutAnEnd:
    def test_a_billion_pages_announced_stop_at_once(
        self, hostile: HostilePB, catalog: Path
    ) -> None:
        """`totalPages: 1e9` is refused before page 2, not paged for minutes."""
        hostile.answer(
            "POST",
            PRODUCT_SEARCH,
            rewritten(lambda page: {**page, "totalPages": 1e9, "totalElements": None}),
            upstream_first=True,
        )
        refused(hostile, catalog, "more than `limits.max_search_pages` (50)", within=15)

    def test_never_last_stops_at_the_ceiling(self, hostile: HostilePB, catalog: Path) -> None:
        """Full pages of new objects, no count and never `last`: the walk ends at the
        hard ceiling (50 pages here), an error."""
        counter = iter(range(1_000_000))

        def endless_pages(page: Any) -> Any:
            fresh = [item(f"GEN-{next(counter)}") for _ in range(100)]
            return {"content": fresh, "size": 100}

        hostile.answer("POST", PRODUCT_SEARCH, rewritten(endless_pages), upstream_first=True)
        refused(hostile, catalog, "more than `limits.max_search_pages` (50)", within=30)

    def test_a_page_repeating_objects_is_an_error(self, hostile: HostilePB, catalog: Path) -> None:
        """A server that ignores the page number serves page 1 again: an error, not a loop."""
        same = {"content": [item(f"P{i}") for i in range(100)], "size": 100}
        hostile.answer("POST", PRODUCT_SEARCH, json_answer(same))
        refused(hostile, catalog, "page 2 repeats an object an earlier page held")


class TestTransferWithoutAnEnd:
    def test_a_dripping_body_ends_at_the_deadline(self, hostile: HostilePB, catalog: Path) -> None:
        """One byte every 0.5 s keeps the read timeout happy; the deadline (2 s) ends it."""
        hostile.answer("POST", PRODUCT_SEARCH, dripping(0.5))
        refused(hostile, catalog, "did not finish within 2 s", within=20)

    def test_a_huge_body_is_refused_unread(self, hostile: HostilePB, catalog: Path) -> None:
        """300 MB streamed: refused past 1 MB (`limits.max_response_bytes`), not read whole."""
        hostile.answer("POST", PRODUCT_SEARCH, endless())
        refused(hostile, catalog, "more than `limits.max_response_bytes` (1,000,000)", within=20)
