"""The window self-check (remote/window.py): few GETs when the search can be trusted,
every hidden product found when it cannot, and a hidden create reported, never overwritten."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconcile import engine
from reconcile.errors import StalePlan
from reconcile.models import ProductKey
from reconcile.remote import window
from tests.support.sandbox import ServedSandboxHandle
from tests.support.world import CLIENT, World, bom, make_world, product, remote

YEAR_AGO = (datetime.now(UTC) - timedelta(days=365)).isoformat()


@pytest.fixture
def world(tmp_path: Path, sandbox: ServedSandboxHandle) -> Iterator[World]:
    yield from make_world("loopback", tmp_path, sandbox)


def gets(world: World) -> int:
    return world.admin.count(method="GET", route="products/{sku}")


def hold_old(world: World, skus: list[str], **fields: str) -> None:
    """PB holds these products, all created a year ago."""
    world.admin.load(products=[remote(product(s, **fields)) for s in skus])
    for sku in skus:
        world.admin.backdate(CLIENT, sku, YEAR_AGO)


def planned(result: engine.PlanResult) -> dict[str, str]:
    return {c.address: c.action for c in result.plan.changes if c.action != "no-op"}


class TestTrustedSearch:
    """Against a PB that honours the explicit window, absent products cost few GETs."""

    def test_brand_new_catalog_gets_at_most_five_percent(self, world: World) -> None:
        """A 200-product onboarding plans 200 creates with at most 10 product GETs."""
        world.write(products=[product(f"P{i:03}") for i in range(200)])
        result = world.plan()
        assert set(planned(result).values()) == {"create"} and len(planned(result)) == 200
        assert gets(world) <= 200 * 0.05

    def test_an_old_product_in_the_search_proves_the_window(self, world: World) -> None:
        """A year-old product the search returned proves the window: no GET at all."""
        hold_old(world, ["OLD"])
        world.write(products=[product("OLD"), *(product(f"N{i}") for i in range(50))])
        result = world.plan()
        assert "product.OLD" not in planned(result) and len(planned(result)) == 50
        assert gets(world) == 0


class TestWindowIgnored:
    """Against a PB that hides old products whatever the window, none is planned as a create."""

    def test_old_products_plan_their_true_updates_and_no_create(self, world: World) -> None:
        """30 year-old products, 3 edited in the catalog: 3 updates, no create."""
        skus = [f"OLD{i:02}" for i in range(30)]
        hold_old(world, skus)
        world.admin.configure(six_month_window_always=True)
        edited = {"OLD03", "OLD17", "OLD29"}
        world.write(
            products=[product(s, description="edited" if s in edited else None) for s in skus]
        )
        assert planned(world.plan()) == {f"product.{s}": "update" for s in sorted(edited)}

    def test_a_component_named_by_a_bom_is_sampled_first(self, world: World) -> None:
        """A hidden product a PB BOM names is among the sampled GETs, so it is found even
        when it is one of 201 products the search did not return."""
        hold_old(world, ["HIDDEN"])
        world.admin.load(
            products=[remote(product("KIT", kind="KIT"))],
            boms=[remote(bom("KIT", {"HIDDEN": 1}))],
        )
        world.admin.configure(six_month_window_always=True)
        news = [product(f"N{i:03}") for i in range(200)]
        world.write(
            products=[product("HIDDEN"), product("KIT", kind="KIT"), *news],
            boms=[bom("KIT", {"HIDDEN": 1})],
        )
        changes = planned(world.plan())
        assert "product.HIDDEN" not in changes and len(changes) == 200


class TestHiddenCreate:
    """The backstop: a create PB refuses for a product it holds is reported, not overwritten."""

    def test_create_answered_already_exists_names_the_hidden_search(self, world: World) -> None:
        """A hidden product the sample misses: its create fails as "PB's search hid this
        product", pointing to `reconcile probe`; PB's product is left as it was."""
        news = [f"N{i:03}" for i in range(100)]
        hidden = "N0005"  # sorts between N000 and N001: not one of the evenly spread GETs
        assert hidden not in window.sample(sorted([*news, hidden]), [])
        hold_old(world, [hidden], description="PB's own words")
        world.admin.configure(six_month_window_always=True)
        world.write(products=[product(s) for s in [*news, hidden]])
        result = world.plan()
        assert planned(result)[f"product.{hidden}"] == "create"
        report = world.apply_result(result)
        outcome = {r.address: r for r in report.results}[f"product.{hidden}"]
        assert outcome.status == "failed"
        assert outcome.message.startswith("PB's search hid this product")
        assert "reconcile probe" in outcome.message
        world.admin.configure(six_month_window_always=False)  # to read it back
        held = world.remote().products[ProductKey(CLIENT, hidden)]
        assert held.details.description == "PB's own words"
        assert sum(r.status == "done" for r in report.results) == 100


class TestCheckAfterApproval:
    """The check before applying a saved plan costs searches, not one read per resource."""

    def test_saved_plan_of_creates_is_checked_without_gets(self, world: World) -> None:
        """A saved plan of 250 creates and a BOM: checked and applied with no product GET."""
        world.write(
            products=[*(product(f"P{i:03}") for i in range(250)), product("K", kind="KIT")],
            boms=[bom("K", {"P000": 1})],
        )
        plan = world.plan().plan
        before = gets(world)
        report = asyncio.run(
            engine.apply_saved_plan(world.directory, plan, env=world.env, environ=world.environ)
        )
        assert report.succeeded and gets(world) == before

    def test_changed_update_is_still_refused_when_the_search_hides_it(self, world: World) -> None:
        """An old product edited in PB after the plan is found by GET and refuses the plan."""
        hold_old(world, ["OLD"])
        world.admin.configure(six_month_window_always=True)
        world.write(products=[product("OLD", description="ours")])
        plan = world.plan().plan
        world.admin.load(products=[remote(product("OLD", description="someone else's"))])
        world.admin.backdate(CLIENT, "OLD", YEAR_AGO)
        with pytest.raises(StalePlan, match=r"product\.OLD: updated in PB"):
            asyncio.run(
                engine.apply_saved_plan(world.directory, plan, env=world.env, environ=world.environ)
            )
