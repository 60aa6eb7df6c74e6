"""End-to-end behaviour of the engine against the emulator, in-process and over loopback."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconcile import engine
from reconcile.desired import load_settings
from reconcile.environments import connect
from reconcile.errors import RemoteStateError, StalePlan, UnsafePlan
from reconcile.models import BomKey, ProductKey
from reconcile.plan.plan import Plan
from reconcile.remote.report import ApplyReport
from tests.support.world import CLIENT, World, bom, make_world, product, remote

EXAMPLES = Path(__file__).parent.parent / "catalog-examples"
MODES = ["inprocess", "loopback"]


@pytest.fixture(params=MODES)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    sandbox = request.getfixturevalue("sandbox") if request.param == "loopback" else None
    yield from make_world(request.param, tmp_path, sandbox)


def example_dirs() -> list[Path]:
    found = [p.parent for p in EXAMPLES.rglob("reconcile.yaml") if ".reconcile" not in p.parts]
    return sorted(p for p in found if "invalid" not in p.parts)


def actions(plan: Plan) -> list[tuple[str, str]]:
    return [(c.address, c.action) for c in plan.changes]


KIT_CATALOG = {
    "products": [product("A"), product("B"), product("KIT", kind="KIT")],
    "boms": [bom("KIT", {"A": 2, "B": 1})],
}


class TestConvergence:
    """Apply, then plan again: nothing left to do."""

    @pytest.mark.parametrize("example", example_dirs(), ids=lambda p: p.name)
    def test_every_example_converges(self, world: World, example: Path) -> None:
        """Applying each example catalog leaves a plan with no changes."""
        shutil.copytree(example, world.directory, dirs_exist_ok=True, ignore=_no_state)
        if world.mode == "loopback":
            _add_test_environment(world)
        report = world.apply()
        assert report.succeeded, report.results
        assert report.results, "the example declares resources"
        assert not world.plan().plan.has_changes

    def test_second_apply_does_nothing(self, world: World) -> None:
        """A converged catalog applies as zero changes and zero writes."""
        world.write(**KIT_CATALOG)
        world.apply()
        report = world.apply()
        assert report.results == [] and report.requests == 0


def _add_test_environment(world: World) -> None:
    """Point a copied example at the served emulator through an extra environment."""
    settings = world.directory / "reconcile.yaml"
    url = world.settings["environments"]["test"]["base_url"]
    entry = f"  test:\n    base_url: {url}\n"
    text = settings.read_text()
    if "\nenvironments:\n" in text:
        text = text.replace("\nenvironments:\n", f"\nenvironments:\n{entry}", 1)
    else:
        text += f"\nenvironments:\n{entry}"
    settings.write_text(text)


def _no_state(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n == ".reconcile"]


class TestActions:
    """Create, update, deactivate and no-op, each as PB ends up holding it."""

    def test_create_update_and_noop(self, world: World) -> None:
        """An edited field is planned as an update with its path, and applied."""
        world.write(**KIT_CATALOG)
        world.apply()
        world.write(
            products=[product("A", description="new"), product("B"), product("KIT", kind="KIT")],
            boms=[bom("KIT", {"A": 3, "B": 1})],
        )
        plan = world.plan().plan
        assert actions(plan) == [("product.A", "update"), ("bom.KIT", "update")]
        paths = {fc.path for c in plan.changes for fc in c.field_changes}
        assert {"details.description", "billOfMaterialDetails[sku=A].quantity"} <= paths
        assert plan.summary.product.no_op == 2
        assert world.apply().succeeded
        held = world.remote()
        assert held.products[ProductKey(CLIENT, "A")].details.description == "new"
        assert held.boms[BomKey(CLIENT, "KIT", "")].billOfMaterialDetails[0].quantity == 3

    def test_update_clears_fields_the_catalog_dropped(self, world: World) -> None:
        """PUT replaces the whole object: a field removed from YAML is cleared in PB."""
        world.write(products=[product("A", vendorDetails={"name": "V", "number": "1"})])
        world.apply()
        world.write(products=[product("A")])
        plan = world.plan().plan
        assert [fc.path for fc in plan.changes[0].field_changes] == ["vendorDetails"]
        world.apply()
        assert world.remote().products[ProductKey(CLIENT, "A")].vendorDetails is None

    def test_unmanaged_listed_without_prune(self, world: World) -> None:
        """Remote resources the catalog does not declare are listed, never changed."""
        world.admin.load(products=[remote(product("EXTRA"))])
        world.write(products=[product("A")])
        plan = world.plan().plan
        assert plan.unmanaged == ["product.EXTRA"]
        assert actions(plan) == [("product.A", "create")]
        world.apply()
        assert world.remote().products[ProductKey(CLIENT, "EXTRA")].active

    def test_prune_deactivates_undeclared(self, world: World) -> None:
        """With --prune, undeclared remote products and BOMs become inactive, never deleted."""
        world.admin.load(
            products=[remote(p) for p in KIT_CATALOG["products"]],
            boms=[remote(b) for b in KIT_CATALOG["boms"]],
        )
        world.write(products=[product("A")])
        plan = world.plan(prune=True).plan
        assert sorted(actions(plan)) == [
            ("bom.KIT", "deactivate"),
            ("product.B", "deactivate"),
            ("product.KIT", "deactivate"),
        ]
        assert world.apply(prune=True).succeeded
        held = world.remote()
        assert not held.products[ProductKey(CLIENT, "B")].active
        assert not held.boms[BomKey(CLIENT, "KIT", "")].active
        assert not world.plan(prune=True).plan.has_changes

    def test_prune_from_settings(self, world: World) -> None:
        """`prune: true` in reconcile.yaml turns pruning on without the flag."""
        world.admin.load(products=[remote(product("EXTRA"))])
        world.write(products=[product("A")], prune=True)
        assert ("product.EXTRA", "deactivate") in actions(world.plan().plan)

    def test_deactivated_bom_is_reactivated_not_recreated(self, world: World) -> None:
        """A desired BOM PB holds inactive is found (includeInactive) and updated in place."""
        loaded = world.admin.load(
            products=[remote(p) for p in KIT_CATALOG["products"]],
            boms=[remote({**KIT_CATALOG["boms"][0], "active": False})],
        )
        bom_id = loaded["boms"][0]["billOfMaterialId"]
        world.write(**KIT_CATALOG)
        plan = world.plan().plan
        assert actions(plan) == [("bom.KIT", "update")]
        assert plan.changes[0].remote_id == bom_id
        world.apply()
        held = world.remote()
        assert held.boms[BomKey(CLIENT, "KIT", "")].active
        assert held.meta[BomKey(CLIENT, "KIT", "")].bom_id == bom_id

    def test_inventory_warning_on_deactivation(self, world: World) -> None:
        """Deactivating a product with stock on hand warns with the quantity."""
        world.admin.load(
            products=[remote(product("A")), remote(product("GONE"))],
            inventory=[{"clientId": CLIENT, "sku": "GONE", "node": "N1", "quantity": 7}],
        )
        world.write(products=[product("A")])
        plan = world.plan(prune=True).plan
        assert any("7 units" in w.message for w in plan.warnings), plan.warnings


class TestOrdering:
    """Writes reach PB in dependency order."""

    def test_items_then_kits_then_boms(self, world: World) -> None:
        """The plan orders ITEM products, KIT products, BOMs, and apply writes in that order."""
        world.write(**KIT_CATALOG)
        plan = world.plan().plan
        assert [c.address for c in plan.changes] == [
            "product.A",
            "product.B",
            "product.KIT",
            "bom.KIT",
        ]
        assert plan.changes[-1].depends_on == ["product.A", "product.B", "product.KIT"]
        world.admin.reset() if world.mode == "loopback" else None
        world.apply()
        writes = [e["route"] for e in world.admin.log() if e["method"] in ("POST", "PUT")]
        writes = [r for r in writes if r.endswith(("/products/bulk", "/bill-of-materials"))]
        if world.mode == "loopback":  # the in-process admin app has its own request log
            assert writes[:2] == [writes[0]] * 2 and writes[0].endswith("/products/bulk")
            assert writes[-1].endswith("/bill-of-materials")


class TestSafety:
    """Plans that touch too much of PB are refused before any write."""

    def test_unsafe_plan_refused_unless_forced(self, world: World) -> None:
        """Updating most of 10 existing products breaks the 30% threshold (exit 6)."""
        skus = [f"P{i}" for i in range(10)]
        world.admin.load(products=[remote(product(s)) for s in skus])
        world.write(products=[product(s, description="changed") for s in skus])
        result = world.plan()
        with pytest.raises(UnsafePlan, match="description"):
            result.plan.raise_if_unsafe(result.settings.safety)
        assert asyncio.run(engine.apply_planned(result, environ=world.environ)).succeeded


class TestTargeting:
    """--target and --exclude narrow the plan to matching addresses or SKUs."""

    def test_target_and_exclude(self, world: World) -> None:
        """Only targeted resources are planned and applied; the rest stay untouched."""
        world.write(**KIT_CATALOG)
        plan = world.plan(targets=["KIT"]).plan
        assert actions(plan) == [("product.KIT", "create"), ("bom.KIT", "create")]
        plan = world.plan(targets=["product.*"], excludes=["B"]).plan
        assert actions(plan) == [("product.A", "create"), ("product.KIT", "create")]
        world.apply(targets=["A"])
        assert set(world.remote().products) == {ProductKey(CLIENT, "A")}


class TestSixMonthTrap:
    """Products created long ago are found, not planned as creates."""

    def test_backdated_product_is_not_recreated(self, world: World) -> None:
        """A product PB created a year ago plans as no-op (and is updated, not created)."""
        world.admin.load(products=[remote(product("OLD"))])
        year_ago = (datetime.now(UTC) - timedelta(days=365)).isoformat()
        world.admin.backdate(CLIENT, "OLD", year_ago)
        world.write(products=[product("OLD")])
        assert not world.plan().plan.has_changes
        world.write(products=[product("OLD", description="edited")])
        assert actions(world.plan().plan) == [("product.OLD", "update")]
        assert world.apply().succeeded


class TestRemoteState:
    """Remote state reconcile cannot plan against is an error, not a guess."""

    def test_duplicate_bom_key_none_equal_names_both_ids(self, world: World) -> None:
        """Two active BOMs for one (sku, node), neither the catalog's: the plan stops
        naming both BOM ids."""
        loaded = world.admin.load(
            products=[remote(p) for p in KIT_CATALOG["products"]],
            boms=[remote(bom("KIT", {"A": 3})), remote(bom("KIT", {"A": 1}))],
        )
        ids = [b["billOfMaterialId"] for b in loaded["boms"]]
        world.write(**KIT_CATALOG)
        with pytest.raises(RemoteStateError) as caught:
            world.plan()
        assert all(str(i) in str(caught.value) for i in ids)
        assert caught.value.exit_code == 4

    def test_duplicate_bom_key_one_equal_plans_the_clean_up(self, world: World) -> None:
        """Two active BOMs, one equal to the catalog's: the plan keeps it and deactivates
        the other, named by its id; applied, PB holds one active BOM and converges."""
        loaded = world.admin.load(
            products=[remote(p) for p in KIT_CATALOG["products"]],
            boms=[
                remote({**KIT_CATALOG["boms"][0], "pbCreateDate": "2024-01-01T00:00:00Z"}),
                remote({**bom("KIT", {"A": 1}), "pbCreateDate": "2023-01-01T00:00:00Z"}),
            ],
        )
        keep, extra = (b["billOfMaterialId"] for b in loaded["boms"])
        world.write(**KIT_CATALOG)
        planned = world.plan().plan
        assert [(c.address, c.action, c.remote_id) for c in planned.changes] == [
            (f"bom.KIT#{extra}", "deactivate", extra)
        ]
        assert world.apply().succeeded
        assert world.remote().meta[BomKey(CLIENT, "KIT", "")].bom_id == keep
        assert not world.plan().plan.has_changes

    def test_inactive_duplicate_beside_active_is_ignored(self, world: World) -> None:
        """An old inactive BOM beside the active one of its key is history, not ambiguity."""
        world.admin.load(
            products=[remote(p) for p in KIT_CATALOG["products"]],
            boms=[
                remote({**bom("KIT", {"A": 1}), "active": False}),
                remote(KIT_CATALOG["boms"][0]),
            ],
        )
        world.write(**KIT_CATALOG)
        assert not world.plan().plan.has_changes


class TestSavedPlans:
    """A saved plan applies exactly as reviewed, or not at all."""

    def test_saved_plan_applies(self, world: World) -> None:
        """A plan round-tripped through JSON applies and converges."""
        world.write(**KIT_CATALOG)
        plan = Plan.from_json(world.plan().plan.to_json())
        report = asyncio.run(
            engine.apply_saved_plan(world.directory, plan, env=world.env, environ=world.environ)
        )
        assert report.succeeded and len(report.results) == 4
        assert not world.plan().plan.has_changes

    def test_stale_plan_refused_whole(self, world: World) -> None:
        """A resource changed in PB after the plan refuses the whole apply (exit 7)."""
        world.write(**KIT_CATALOG)
        world.apply()
        world.write(
            products=[
                product("A", description="x"),
                product("B", description="y"),
                product("KIT", kind="KIT"),
            ],
            boms=KIT_CATALOG["boms"],
        )
        plan = world.plan().plan
        world.admin.load(products=[remote(product("A", description="changed by someone"))])
        with pytest.raises(StalePlan, match=r"product\.A") as caught:
            asyncio.run(
                engine.apply_saved_plan(world.directory, plan, env=world.env, environ=world.environ)
            )
        assert "product.B" not in str(caught.value)
        assert caught.value.exit_code == 7
        held = world.remote().products
        assert held[ProductKey(CLIENT, "B")].details.description == "B description"

    def test_create_of_existing_is_stale(self, world: World) -> None:
        """A planned create whose resource now exists (with other content) is refused."""
        world.write(products=[product("A")])
        plan = world.plan().plan
        world.admin.load(products=[remote(product("A", description="someone else's"))])
        with pytest.raises(StalePlan, match="now exists"):
            asyncio.run(
                engine.apply_saved_plan(world.directory, plan, env=world.env, environ=world.environ)
            )

    def test_other_client_refused(self, world: World) -> None:
        """A plan made for another client id is refused before anything is read."""
        world.write(products=[product("A")])
        plan = world.plan().plan.model_copy(update={"client_id": "OTHER"})
        with pytest.raises(StalePlan, match="client 'OTHER'"):
            asyncio.run(
                engine.apply_saved_plan(world.directory, plan, env=world.env, environ=world.environ)
            )

    def test_other_environment_refused(self, world: World) -> None:
        """A plan made for another environment is refused."""
        world.write(products=[product("A")])
        plan = world.plan().plan.model_copy(update={"environment": "production"})
        with pytest.raises(StalePlan, match="environment 'production'"):
            asyncio.run(
                engine.apply_saved_plan(world.directory, plan, env=world.env, environ=world.environ)
            )

    def test_edit_within_the_plans_second_is_stale(self, world: World) -> None:
        """An edit that keeps pbUpdateDate (PB stamps BOMs to the second) is caught by digest."""
        world.write(**KIT_CATALOG)
        world.apply()
        world.write(products=KIT_CATALOG["products"], boms=[bom("KIT", {"A": 5, "B": 1})])
        plan = world.plan().plan
        edited = {**KIT_CATALOG["boms"][0], "description": "someone else's edit"}
        _edit_bom(world, edited)
        plan = _as_if_seen_now(world, plan, BomKey(CLIENT, "KIT", ""))
        with pytest.raises(StalePlan, match=r"bom\.KIT: its content in PB changed"):
            _apply_saved(world, plan)
        assert world.remote().boms[BomKey(CLIENT, "KIT", "")].description == edited["description"]

    def test_rerun_of_identical_create_counts_as_applied(self, world: World) -> None:
        """A planned create PB already holds exactly is reported done, without a write."""
        world.write(products=[product("A"), product("B")])
        plan = world.plan().plan
        world.admin.load(products=[remote(product("A"))])
        report = _apply_saved(world, plan)
        assert [(r.address, r.status, r.message) for r in report.results] == [
            ("product.A", "done", "already applied"),
            ("product.B", "done", ""),
        ]
        assert report.already_applied == 1

    def test_change_for_another_client_is_never_written(self, world: World) -> None:
        """A change keyed to another client refuses the whole apply before any write."""
        world.write(products=[product("A"), product("B")])
        plan = world.plan().plan
        foreign = plan.changes[1].model_copy(
            update={"key": {**plan.changes[1].key, "clientId": "OTHER"}}
        )
        plan = plan.model_copy(update={"changes": [plan.changes[0], foreign]})
        with pytest.raises(StalePlan, match=r"product\.B: the change is for client 'OTHER'"):
            _apply_saved(world, plan)
        assert not world.remote().products

    def test_plan_for_another_pb_host_refused(self, world: World) -> None:
        """A plan made against another PB host than the environment's now is refused."""
        world.write(products=[product("A")])
        plan = world.plan().plan
        served = world.settings.get("environments", {}).get("test", {}).get("base_url")
        assert plan.base_url == served, "the served emulator's URL; None when embedded"
        moved = plan.model_copy(update={"base_url": "https://elsewhere.example"})
        with pytest.raises(StalePlan, match=r"made against PB at https://elsewhere\.example"):
            _apply_saved(world, moved)
        assert not world.remote().products


class TestRecheckAfterPrompt:
    """A plan that waited at the confirmation prompt is checked against PB again."""

    def test_bom_created_meanwhile_refuses_instead_of_duplicating(self, world: World) -> None:
        """Someone creating the planned BOM during the prompt stops the apply (exit 7)."""
        world.write(**KIT_CATALOG)
        result = world.plan()
        other = {**KIT_CATALOG["boms"][0], "description": "made by someone else"}
        world.admin.load(products=[remote(p) for p in KIT_CATALOG["products"]])
        world.admin.load(boms=[remote(other)])
        with pytest.raises(StalePlan, match=r"bom\.KIT: now exists in PB") as caught:
            asyncio.run(engine.apply_planned(result, recheck=True, environ=world.environ))
        assert "plan against PB's current state" in str(caught.value)
        assert caught.value.exit_code == 7
        assert world.remote().boms[BomKey(CLIENT, "KIT", "")].description == other["description"]

    def test_identical_changes_meanwhile_are_already_applied(self, world: World) -> None:
        """Resources someone made exactly as planned are reported done, not written twice."""
        world.write(**KIT_CATALOG)
        result = world.plan()
        world.admin.load(
            products=[remote(p) for p in KIT_CATALOG["products"]],
            boms=[remote(KIT_CATALOG["boms"][0])],
        )
        report = asyncio.run(engine.apply_planned(result, recheck=True, environ=world.environ))
        assert report.succeeded and report.already_applied == 4
        assert not world.plan().plan.has_changes, "one BOM, no duplicate"


def _apply_saved(world: World, plan: Plan) -> ApplyReport:
    return asyncio.run(
        engine.apply_saved_plan(world.directory, plan, env=world.env, environ=world.environ)
    )


def _edit_bom(world: World, body: dict[str, object]) -> None:
    """Someone else's PUT of a kit's BOM, through the real client."""
    bom_id = world.remote().meta[BomKey(CLIENT, str(body["sku"]), "")].bom_id
    assert bom_id is not None
    asyncio.run(_put_bom(world, body, bom_id))


async def _put_bom(world: World, body: dict[str, object], bom_id: str) -> None:
    settings = load_settings(world.directory)
    client, _ = connect(settings, world.env, catalog_dir=world.directory, environ=world.environ)
    async with client:
        await client.update_bom(bom_id, {"clientId": CLIENT, **body})


def _as_if_seen_now(world: World, plan: Plan, key: BomKey) -> Plan:
    """The plan, its precondition for ``key`` carrying PB's current pbUpdateDate: what a
    plan made in the same second as the edit would hold (deterministic, no clock race)."""
    now = world.remote().meta[key].pb_update_date
    changes = [
        c.model_copy(
            update={"precondition": c.precondition.model_copy(update={"pbUpdateDate": now})}
        )
        if c.address == key.address and c.precondition is not None
        else c
        for c in plan.changes
    ]
    return plan.model_copy(update={"changes": changes})


class TestNeverErase:
    """A field PB holds that reconcile does not know survives every full replacement."""

    def test_unknown_field_survives_an_update_of_the_description(self, world: World) -> None:
        """PB's product carries `brand` (undocumented); the catalog changes its description:
        the plan shows `brand` kept, the PUT carries it, and PB still holds it after."""
        world.admin.load(products=[{**remote(product("A")), "brand": {"name": "Kiln"}}])
        world.write(products=[product("A", description="new words")])
        planned = world.plan().plan
        (change,) = planned.changes
        assert change.action == "update" and change.kept == {"brand": {"name": "Kiln"}}
        assert [f.path for f in change.field_changes] == ["details.description"]
        assert world.apply().succeeded
        held = world.remote()
        assert held.products[ProductKey(CLIENT, "A")].details.description == "new words"
        assert dict(held.meta[ProductKey(CLIENT, "A")].kept) == {"brand": {"name": "Kiln"}}
        assert not world.plan().plan.has_changes

    def test_unknown_field_survives_a_prune_deactivation(self, world: World) -> None:
        """Deactivating (a full PUT with active false) keeps the field as well."""
        world.admin.load(
            products=[remote(product("A")), {**remote(product("GONE")), "brand": "Kiln"}]
        )
        world.write(products=[product("A")])
        assert world.apply(prune=True).succeeded
        held = world.remote()
        assert not held.products[ProductKey(CLIENT, "GONE")].active
        assert dict(held.meta[ProductKey(CLIENT, "GONE")].kept) == {"brand": "Kiln"}
