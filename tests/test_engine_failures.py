"""Apply when PB refuses or fails some writes: independent work lands, reruns converge."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconcile import engine
from reconcile.errors import StalePlan
from reconcile.models import BomKey, ProductKey
from reconcile.plan.plan import Plan
from reconcile.remote.report import ApplyReport
from reconcile.sandbox.config import API_PREFIX
from tests.support.sandbox import ServedSandboxHandle
from tests.support.world import CLIENT, World, bom, make_world, product, remote

NO_RETRIES = {
    "limits": {
        "requests_per_second": 100,
        "max_in_flight": 16,
        "retry_attempts": 1,
        "read_retry_attempts": 1,
    }
}


#: What PB (the emulator in strict mode) says when a product's productType changes.
REFUSED = "productType may not change"


def refused_product(world: World, sku: str = "BAD") -> dict[str, Any]:
    """A catalog product that validates but PB refuses to write: PB holds it as an ITEM,
    the catalog makes it a KIT, and the emulator's strict mode rejects the change."""
    world.admin.configure(strict_product_type=True)
    world.admin.load(products=[remote(product(sku))])
    return product(sku, kind="KIT")


@pytest.fixture
def world(tmp_path: Path, sandbox: ServedSandboxHandle) -> Iterator[World]:
    """Loopback only: faults and strict modes are runtime switches of the served emulator."""
    for made in make_world("loopback", tmp_path, sandbox):
        made.settings.update(NO_RETRIES)
        yield made


def statuses(report: Any) -> dict[str, str]:
    return {r.address: r.status for r in report.results}


class TestDependencyFailure:
    """A BOM whose kit or component failed is skipped, and a rerun finishes the job."""

    def test_failed_component_skips_its_bom_then_rerun_converges(self, world: World) -> None:
        """The ITEM batch fails (503, no retries): kits land, the BOM is skipped; rerun ends it."""
        world.write(
            products=[product("A"), product("KIT", kind="KIT")],
            boms=[bom("KIT", {"A": 1})],
        )
        world.admin.fault("503", method="POST", path_prefix=f"{API_PREFIX}/products/bulk")
        report = world.apply()
        assert statuses(report) == {
            "product.A": "failed",
            "product.KIT": "done",
            "bom.KIT": "skipped",
        }
        failed = next(r for r in report.results if r.status == "failed")
        assert "503" in failed.message and failed.transaction_id
        skipped = next(r for r in report.results if r.status == "skipped")
        assert skipped.message == "dependency product.A failed"
        assert not report.succeeded

        rerun = world.apply()
        assert statuses(rerun) == {"product.A": "done", "bom.KIT": "done"}
        assert not world.plan().plan.has_changes


class TestBulkFallback:
    """One bad product in a bulk batch does not fail the good ones."""

    def test_rejected_batch_is_written_one_by_one(self, world: World) -> None:
        """The emulator rejects the whole bulk for one bad product; the others still land."""
        world.admin.load(products=[remote(product("B"))])
        world.write(
            products=[product("A"), product("B", description="edited"), refused_product(world)]
        )
        report = world.apply()
        assert statuses(report) == {
            "product.A": "done",
            "product.B": "done",
            "product.BAD": "failed",
        }
        bad = next(r for r in report.results if r.status == "failed")
        assert REFUSED in bad.message and bad.transaction_id
        held = world.remote().products
        assert held[ProductKey(CLIENT, "B")].details.description == "edited"
        assert held[ProductKey(CLIENT, "BAD")].productType == "ITEM"


class TestUnavailable:
    """Server faults after every retry fail only the writes they hit."""

    def test_bom_create_fault_fails_only_that_bom(self, world: World) -> None:
        """A 503 on one BOM create fails it with a transaction id; products are done."""
        world.write(
            products=[product("A"), product("K1", kind="KIT"), product("K2", kind="KIT")],
            boms=[bom("K1", {"A": 1}), bom("K2", {"A": 2})],
        )
        planned = world.plan()
        # The next BOM create after the plan (the keys' re-check search passes).
        world.admin.fault("503", method="POST", path=f"{API_PREFIX}/bill-of-materials")
        report = world.apply_result(planned)
        result = statuses(report)
        assert [a for a, s in result.items() if s == "failed"] in (["bom.K1"], ["bom.K2"])
        assert sum(s == "done" for s in result.values()) == 4
        failed = next(r for r in report.results if r.status == "failed")
        assert "503" in failed.message and failed.transaction_id
        rerun = world.apply()
        assert rerun.succeeded and len(rerun.results) == 1
        assert len(world.remote().boms) == 2

    def test_bulk_fault_with_unknown_outcome_is_confirmed_by_reread(self, world: World) -> None:
        """A bulk that committed but answered 503 is reported done after the re-read."""
        world.write(products=[product("A"), product("B")])
        world.admin.fault(
            "503", method="POST", path_prefix=f"{API_PREFIX}/products/bulk", after_commit=True
        )
        report = world.apply()
        assert statuses(report) == {"product.A": "done", "product.B": "done"}

    def test_bom_key_unique_after_lost_create(self, world: World) -> None:
        """A BOM create that committed but failed leaves one BOM, reported done."""
        world.write(products=[product("A"), product("K", kind="KIT")], boms=[bom("K", {"A": 1})])
        planned = world.plan()
        world.admin.fault(
            "503",
            method="POST",
            path=f"{API_PREFIX}/bill-of-materials",
            after_commit=True,
        )
        report = world.apply_result(planned)
        assert statuses(report)["bom.K"] == "done"
        assert BomKey(CLIENT, "K", "") in world.remote().boms
        assert not world.plan().plan.has_changes


class TestSixMonthFallback:
    """When the search hides old products despite our window, GETs still find them."""

    def test_hidden_old_product_found_by_get(self, world: World) -> None:
        """A year-old product the search never returns plans as no-op, via one GET."""
        world.admin.load(products=[remote(product("OLD")), remote(product("NEW"))])
        year_ago = (datetime.now(UTC) - timedelta(days=365)).isoformat()
        world.admin.backdate(CLIENT, "OLD", year_ago)
        world.admin.configure(six_month_window_always=True)
        world.write(products=[product("OLD"), product("NEW")])
        before = world.admin.count(method="GET")
        assert not world.plan().plan.has_changes
        assert world.admin.count(method="GET") - before == 1


class TestConfirmation:
    """Nothing is reported done unless a re-read saw it."""

    def test_failed_reread_reports_failed_not_done(self, world: World) -> None:
        """When the confirming search fails, the written product is reported failed."""
        world.write(products=[product("A")])
        planned = world.plan()
        world.admin.fault("503", method="POST", path_prefix=f"{API_PREFIX}/products/search")
        report = world.apply_result(planned)
        (result,) = report.results
        assert result.status == "failed"
        assert result.message.startswith("written, but the confirming re-read failed")
        assert not world.plan().plan.has_changes, "the write itself had landed"


class TestSavedPlanRerun:
    """A saved plan that partly failed can be applied again to finish it."""

    def test_rerun_skips_what_landed_and_finishes(self, world: World) -> None:
        """The first run's own writes are 'already applied', not a stale plan (exit 7)."""
        world.write(
            products=[product("A"), product("K", kind="KIT")],
            boms=[bom("K", {"A": 1}, node="N2")],
        )
        plan = world.plan().plan
        world.admin.configure(node_allow_list=["N1"])
        first = apply_saved(world, plan)
        assert statuses(first) == {"product.A": "done", "product.K": "done", "bom.K@N2": "failed"}
        world.admin.configure(node_allow_list=["N1", "N2"])
        second = apply_saved(world, plan)
        assert [(r.address, r.status, r.message) for r in second.results] == [
            ("product.A", "done", "already applied"),
            ("product.K", "done", "already applied"),
            ("bom.K@N2", "done", ""),
        ]
        assert not world.plan().plan.has_changes


class TestSavedPlanHost:
    """A saved plan applies only to the PB host it was made against."""

    def test_environment_repointed_after_the_plan_refused(self, world: World) -> None:
        """reconcile.yaml pointing the plan's environment at another host refuses it (7)."""
        world.write(products=[product("A")])
        plan = world.plan().plan
        world.settings["environments"]["test"] = {"base_url": "http://127.0.0.1:9"}
        world.write(products=[product("A")])
        with pytest.raises(StalePlan) as caught:
            apply_saved(world, plan)
        assert f"made against PB at {plan.base_url}" in str(caught.value)
        assert "now points at PB at http://127.0.0.1:9" in str(caught.value)
        assert caught.value.exit_code == 7


class TestApplyPhases:
    """Product deactivations come last, after the BOM writes that stop using them."""

    def test_bom_update_lands_before_its_old_component_is_deactivated(self, world: World) -> None:
        """Dropping component B from a kit and pruning B: the BOM PUT precedes B's bulk."""
        world.admin.load(
            products=[remote(product(s)) for s in ("A", "B")] + [remote(product("K", kind="KIT"))],
            boms=[remote(bom("K", {"A": 1, "B": 1}))],
        )
        world.write(products=[product("A"), product("K", kind="KIT")], boms=[bom("K", {"A": 1})])
        result = world.plan(prune=True)
        assert {(c.address, c.action) for c in result.plan.changes} == {
            ("product.B", "deactivate"),
            ("bom.K", "update"),
        }
        since = world.admin.log()[-1]["ts"]
        assert world.apply_result(result).succeeded
        log = world.admin.log(since=since)
        writes = [e["route"].rsplit("/", 1)[-1] for e in log if is_write(e)]
        assert writes == ["{id}", "bulk"], "the BOM PUT first, then the bulk deactivation"
        assert not world.remote().products[ProductKey(CLIENT, "B")].active

    def test_deactivation_skipped_when_its_bom_change_failed(self, world: World) -> None:
        """A product deactivation depending on a failed BOM change is skipped, not written."""
        world.admin.load(
            products=[remote(product(s)) for s in ("A", "B")] + [remote(product("K", kind="KIT"))],
            boms=[remote(bom("K", {"A": 1, "B": 1}))],
        )
        world.write(products=[product("A"), product("K", kind="KIT")], boms=[bom("K", {"A": 1})])
        plan = world.plan(prune=True).plan
        plan = plan.model_copy(
            update={
                "changes": [
                    c.model_copy(update={"depends_on": ["bom.K"]}) if c.kind == "product" else c
                    for c in plan.changes
                ]
            }
        )
        world.admin.fault("503", method="PUT", path_prefix=f"{API_PREFIX}/bill-of-materials")
        report = apply_saved(world, plan)
        assert statuses(report) == {"bom.K": "failed", "product.B": "skipped"}
        assert world.remote().products[ProductKey(CLIENT, "B")].active


class TestInventoryCheck:
    """Inventory only feeds warnings: failing to read it never fails the plan."""

    def test_failed_snapshot_read_is_a_warning(self, world: World) -> None:
        """A 503 on the inventory snapshot plans anyway, with a warning saying why."""
        world.admin.load(products=[remote(product("A")), remote(product("GONE"))])
        world.write(products=[product("A")])
        world.admin.fault("503", method="POST", path_prefix=f"{API_PREFIX}/inventory")
        plan = world.plan(prune=True).plan
        assert [(c.address, c.action) for c in plan.changes] == [("product.GONE", "deactivate")]
        (warning,) = [w for w in plan.warnings if w.address == "inventory"]
        assert warning.message.startswith("inventory could not be checked:")
        assert "503" in warning.message


def is_write(entry: dict[str, Any]) -> bool:
    """A logged request that writes: a PUT, or a POST that is not a search."""
    searching = entry["route"].endswith(("/search", "/snapshot", "/token"))
    return entry["method"] == "PUT" or (entry["method"] == "POST" and not searching)


def apply_saved(world: World, plan: Plan) -> ApplyReport:
    return asyncio.run(
        engine.apply_saved_plan(world.directory, plan, env=world.env, environ=world.environ)
    )
