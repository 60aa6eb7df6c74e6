"""One active BOM per key with a second writer around (issue: write safety, item 1).

A hostile proxy on 127.0.0.1 plays the second writer at the exact moment that matters
(just before our re-check, or just before our create lands), so each rule is shown
deterministically; the drills run real concurrent applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.hostile import (
    API,
    CLIENT,
    HostilePB,
    apply,
    bom,
    item,
    kit,
    rewritten,
    served,
    write_catalog,
)

CREATE = f"{API}/bill-of-materials"
BOM_SEARCH = f"{API}/bill-of-materials/search"
PRODUCTS = [item("A"), item("B"), kit("K"), kit("L")]
BOMS = [bom("K", "A"), bom("L", "B")]
OLD = "2020-01-01T00:00:00Z"


@pytest.fixture
def hostile() -> Iterator[HostilePB]:
    """PB holding the products, and no BOM yet."""
    pb = HostilePB()
    with served(pb):
        pb.load(products=PRODUCTS)
        yield pb


@pytest.fixture
def catalog(tmp_path: Path, hostile: HostilePB) -> Path:
    return write_catalog(tmp_path / "cat", hostile.url, PRODUCTS, BOMS)


def active(pb: HostilePB, sku: str) -> list[str]:
    return pb.store.active_bom_ids(CLIENT, sku, None)


def plan_searches(pb: HostilePB, catalog: Path) -> int:
    """How many BOM searches reading the plan takes (the re-check is the next one)."""
    from tests.support.cli import run
    from tests.support.hostile import ENV

    run(["plan", str(catalog), "--env", "hostile"], env=ENV)
    searches = pb.count("POST", BOM_SEARCH)
    pb.requests.clear()
    return searches


def outcome(result_stdout: str, address: str) -> str:
    lines = [line for line in result_stdout.splitlines() if address in line]
    return "\n".join(lines)


class TestReCheckBeforeCreating:
    def test_an_equal_bom_that_appeared_is_adopted(self, hostile: HostilePB, catalog: Path) -> None:
        """A second writer created K's BOM after our plan was read: adopted, not created."""
        skip = plan_searches(hostile, catalog)
        hostile.load_before("POST", BOM_SEARCH, skip=skip, boms=[bom("K", "A")])
        result, _ = apply(catalog)
        assert result.code == 0, result.output
        assert "adopted, not created again" in result.output
        assert hostile.count("POST", CREATE) == 1  # L only
        assert len(active(hostile, "K")) == 1 and len(active(hostile, "L")) == 1

    def test_a_different_bom_that_appeared_is_not_created_over(
        self, hostile: HostilePB, catalog: Path
    ) -> None:
        """A different BOM for K appeared: reported (exit 5), K not created a second time."""
        skip = plan_searches(hostile, catalog)
        hostile.load_before("POST", BOM_SEARCH, skip=skip, boms=[bom("K", "B")])
        result, _ = apply(catalog)
        assert result.code == 5, result.output
        assert "appeared in PB since the plan was read" in result.output
        assert hostile.count("POST", CREATE) == 1
        assert len(active(hostile, "K")) == 1


class TestOneSurvivor:
    def test_ours_yields_to_a_bom_created_first(self, hostile: HostilePB, catalog: Path) -> None:
        """Another writer's K lands with an earlier creation just before our create: our
        copy is deactivated, theirs kept, and the change is done (it equals the catalog)."""
        first = {**bom("K", "A"), "billOfMaterialId": "THEIRS", "pbCreateDate": OLD}
        hostile.load_before("POST", CREATE, boms=[first])
        result, _ = apply(catalog)
        assert result.code == 0, result.output
        assert "kept id THEIRS, created first" in result.output
        assert active(hostile, "K") == ["THEIRS"]

    def test_ours_yields_to_a_different_bom_and_says_so(
        self, hostile: HostilePB, catalog: Path
    ) -> None:
        """If the BOM created first differs from the catalog, ours still goes (one rule for
        every run) and the change fails asking for a new plan."""
        first = {**bom("K", "B"), "billOfMaterialId": "THEIRS", "pbCreateDate": OLD}
        hostile.load_before("POST", CREATE, boms=[first])
        result, _ = apply(catalog)
        assert result.code == 5, result.output
        assert "created a different BOM for this key at once" in result.output
        assert active(hostile, "K") == ["THEIRS"]

    def test_ours_survives_a_bom_created_after_it(self, hostile: HostilePB, catalog: Path) -> None:
        """A copy created later ranks after ours: we keep ours (its creator yields)."""
        later = {
            **bom("K", "A"),
            "billOfMaterialId": "LATER",
            "pbCreateDate": "2099-01-01T00:00:00Z",
        }
        hostile.load_before("POST", CREATE, boms=[later])
        result, _ = apply(catalog)
        assert result.code == 0, result.output
        assert "LATER" in active(hostile, "K") and len(active(hostile, "K")) == 2


def hide_new_boms(page: dict[str, Any]) -> dict[str, Any]:
    """A BOM search that never shows a BOM created after the test began (an index that
    does not see new BOMs)."""
    return {**page, "content": [], "totalElements": 0, "totalPages": 0}


class TestSearchThatCannotSeeNewBoms:
    def test_the_first_create_stops_the_rest(self, hostile: HostilePB, catalog: Path) -> None:
        """K is created and found by id, but not by the search: L is not created, and the
        message names the search, never "run apply again"."""
        hostile.answer("POST", BOM_SEARCH, rewritten(hide_new_boms), upstream_first=True)
        result, _ = apply(catalog)
        assert result.code == 5, result.output
        assert "PB's BOM search does not show it" in result.output
        assert "reconcile probe" in result.output
        assert "run apply again" not in result.output.lower()
        assert hostile.count("POST", CREATE) == 1
        assert active(hostile, "L") == []

    def test_a_rerun_creates_nothing_more(self, hostile: HostilePB, catalog: Path) -> None:
        """Each rerun used to add one more copy of every BOM; now none after the first."""
        hostile.answer("POST", BOM_SEARCH, rewritten(hide_new_boms), upstream_first=True)
        apply(catalog)
        apply(catalog)
        assert len(active(hostile, "K")) + len(active(hostile, "L")) <= 2

    def test_without_get_by_id_it_stops_too(self, hostile: HostilePB, catalog: Path) -> None:
        """No GET BOM by id either: whether K landed is unknown; L is not created."""
        hostile.config.bom_get_by_id = False
        hostile.answer("POST", BOM_SEARCH, rewritten(hide_new_boms), upstream_first=True)
        result, _ = apply(catalog)
        assert result.code == 5, result.output
        assert "GET by id does not find it either" in result.output
        assert hostile.count("POST", CREATE) == 1
