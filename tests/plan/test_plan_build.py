"""build_plan: actions, order, prune, targeting, dependencies and warnings."""

from __future__ import annotations

import pytest

from reconcile.errors import PlanFileError, RemoteStateError
from reconcile.models import BomComponent, ProductDetails, VendorDetails, digest
from reconcile.plan.change import FieldChange, Precondition
from reconcile.plan.plan import Plan, select_changes
from reconcile.plan.warnings import add_inventory_warnings
from tests.plan.factories import bom, kit, plan_of, product


def actions(plan: Plan) -> list[tuple[str, str]]:
    return [(c.address, c.action) for c in plan.changes]


def messages(plan: Plan) -> list[tuple[str, str]]:
    return [(w.address, w.message) for w in plan.warnings]


class TestActions:
    def test_declared_resource_missing_remotely_is_created(self) -> None:
        """A resource only the catalog has is a create with no before and no precondition."""
        plan = plan_of([product("A")], [])
        [change] = plan.changes
        assert (change.action, change.before, change.precondition) == ("create", None, None)
        assert change.after == product("A").model_dump(mode="json", exclude_none=True)

    def test_differing_resource_is_updated_against_the_remote_state(self) -> None:
        """An update holds both whole objects, the field diff and the remote precondition."""
        remote = product("A", description="old")
        plan = plan_of([product("A", description="new")], [remote])
        [change] = plan.changes
        assert change.action == "update"
        assert change.before is not None and change.before["details"] == {"description": "old"}
        assert change.after is not None and change.after["details"] == {"description": "new"}
        assert change.field_changes == [
            FieldChange(path="details.description", before="old", after="new")
        ]
        assert change.precondition == Precondition(
            pbUpdateDate="2026-01-01T00:00:00Z", digest=digest(remote)
        )

    def test_bom_update_carries_the_pb_id(self) -> None:
        """A BOM write needs PB's billOfMaterialId, taken from the remote metadata."""
        plan = plan_of([product("A"), kit("K"), bom("K", {"A": 2})], [bom("K", {"A": 1})])
        change = plan.change_for("bom.K")
        assert change is not None and change.remote_id == "BOM-0"

    def test_equal_resource_is_a_counted_no_op(self) -> None:
        """A resource PB already matches is not a change but is counted as unchanged."""
        plan = plan_of([product("A"), bom("K", {"A": 1})], [product("A"), bom("K", {"A": 1})])
        assert plan.changes == []
        assert not plan.has_changes
        assert (plan.summary.product.no_op, plan.summary.bom.no_op) == (1, 1)

    def test_detail_of_another_json_type_is_an_update(self) -> None:
        """A detail PB holds as `true` and the catalog declares as `1` is planned as an update."""
        remote = product("A", details=ProductDetails(description="d", fragile=True))
        declared = product("A", details=ProductDetails(description="d", fragile=1))
        plan = plan_of([declared], [remote])
        assert actions(plan) == [("product.A", "update")]

    def test_remote_bom_with_a_duplicate_component_line_is_updated(self) -> None:
        """PB holding K = [A x1, A x2] against a catalog K = [A x2] is an update, not a no-op."""
        remote = bom("K", {"A": 1}).model_copy(
            update={"billOfMaterialDetails": [BomComponent(sku="A", quantity=q) for q in (1, 2)]}
        )
        plan = plan_of(
            [product("A"), kit("K"), bom("K", {"A": 2})], [product("A"), kit("K"), remote]
        )
        assert actions(plan) == [("bom.K", "update")]
        [change] = plan.changes
        assert [fc.path for fc in change.field_changes] == ["billOfMaterialDetails"]

    def test_declared_inactive_resource_is_an_update_of_active(self) -> None:
        """`active: false` in the catalog is an ordinary update, not a prune deactivation."""
        plan = plan_of([product("A", active=False)], [product("A")])
        assert actions(plan) == [("product.A", "update")]
        assert plan.deactivated_product_skus() == ["A"]

    def test_summary_counts_every_action_per_kind(self) -> None:
        """The summary tallies create/update/deactivate/no-op for products and BOMs."""
        plan = plan_of(
            [product("N"), product("U", description="x"), product("S"), bom("K", {"S": 1})],
            [product("U"), product("S"), product("D"), bom("K", {"S": 1}), bom("Q", {"S": 1})],
            prune=True,
        )
        s = plan.summary
        assert (s.product.create, s.product.update, s.product.deactivate, s.product.no_op) == (
            1,
            1,
            1,
            1,
        )
        assert (s.bom.create, s.bom.update, s.bom.deactivate, s.bom.no_op) == (0, 0, 1, 1)
        assert plan.existing.product == 3 and plan.existing.bom == 2


class TestPrune:
    def test_without_prune_undeclared_remote_resources_are_unmanaged(self) -> None:
        """Without prune, undeclared active resources are listed, never changed."""
        plan = plan_of([product("A")], [product("A"), product("Z"), bom("Z", {"A": 1})])
        assert plan.changes == []
        assert plan.unmanaged == ["product.Z", "bom.Z"]
        assert plan.summary.unmanaged == 2

    def test_with_prune_undeclared_remote_resources_are_deactivated(self) -> None:
        """With prune, an undeclared active resource becomes a deactivation, never a delete."""
        plan = plan_of([product("A")], [product("A"), product("Z")], prune=True)
        [change] = plan.changes
        assert (change.address, change.action) == ("product.Z", "deactivate")
        assert change.before is not None and change.before["active"] is True
        assert change.after == {**change.before, "active": False}
        assert change.field_changes == [FieldChange(path="active", before=True, after=False)]
        assert change.precondition is not None
        assert plan.unmanaged == []

    def test_already_inactive_undeclared_resources_are_left_alone(self) -> None:
        """An undeclared resource PB already holds inactive is neither a change nor unmanaged."""
        for prune in (True, False):
            plan = plan_of([], [product("Z", active=False)], prune=prune)
            assert (plan.changes, plan.unmanaged) == ([], [])


class TestOrder:
    def test_items_then_kits_then_boms_then_by_address(self) -> None:
        """Writes come in apply order: ITEM products, KIT products, BOMs; each by address."""
        plan = plan_of(
            [
                bom("K2", {"B": 1}),
                kit("K2"),
                product("B"),
                bom("K1", {"A": 1}, node="N2"),
                bom("K1", {"A": 1}),
                kit("K1"),
                product("A"),
            ],
            [],
        )
        assert [c.address for c in plan.changes] == [
            "product.A",
            "product.B",
            "product.K1",
            "product.K2",
            "bom.K1",
            "bom.K1@N2",
            "bom.K2",
        ]

    def test_deactivated_kit_sorts_with_kits(self) -> None:
        """Among product deactivations, ITEMs come before KITs (by the remote type)."""
        plan = plan_of([], [kit("A"), product("B")], prune=True)
        assert [c.address for c in plan.changes] == ["product.B", "product.A"]

    def test_product_deactivations_come_after_every_bom_write(self) -> None:
        """Product writes, then BOM writes (deactivations too), then product deactivations."""
        remote = [product("OLD"), product("GONE"), kit("K"), kit("Q"), bom("K", {"OLD": 1})]
        remote.append(bom("Q", {"GONE": 1}))
        desired = [product("NEW"), product("OLD", active=False), kit("K"), bom("K", {"NEW": 1})]
        plan = plan_of(desired, remote, prune=True)
        assert actions(plan) == [
            ("product.NEW", "create"),
            ("bom.K", "update"),
            ("bom.Q", "deactivate"),
            ("product.GONE", "deactivate"),
            ("product.OLD", "update"),
            ("product.Q", "deactivate"),
        ]


UNREADABLE = {"product.X": "unknown field 'brand'", "bom.K@N": "quantity 0 (must be >= 1)"}


class TestUnreadable:
    def test_unreadable_objects_are_listed_and_never_pruned(self) -> None:
        """Objects PB holds that reconcile cannot read are listed with the reason, not pruned."""
        plan = plan_of(
            [product("A")],
            [product("A"), product("Z")],
            prune=True,
            unreadable={"product.X": "unknown field 'brand'"},
        )
        assert actions(plan) == [("product.Z", "deactivate")]
        assert plan.unreadable == ["product.X: unknown field 'brand'"]
        assert plan.summary.unreadable == 1

    def test_unreadable_object_in_current_state_is_left_alone(self) -> None:
        """Even when the fetch also returned a model for it, an unreadable object is skipped."""
        plan = plan_of([], [product("X")], prune=True, unreadable={"product.X": "odd"})
        assert plan.changes == [] and plan.unmanaged == []

    def test_declaring_an_unreadable_object_is_refused(self) -> None:
        """A catalog declaring an object PB holds unreadably is a remote-state error (exit 4)
        naming each address and reason."""
        desired = [product("X"), product("A"), kit("K"), bom("K", {"A": 1}, node="N")]
        with pytest.raises(RemoteStateError) as caught:
            plan_of(desired, [], unreadable=UNREADABLE)
        message = str(caught.value)
        assert caught.value.exit_code == 4
        assert "  bom.K@N: quantity 0 (must be >= 1)\n  product.X: unknown field 'brand'" in message
        assert "--exclude" in message

    def test_an_untargeted_unreadable_object_does_not_block(self) -> None:
        """Leaving the unreadable object out with --exclude lets the rest be planned."""
        plan = plan_of([product("X"), product("A")], [], unreadable=UNREADABLE, excludes=["X"])
        assert actions(plan) == [("product.A", "create")]
        assert len(plan.unreadable) == 2

    def test_unreadable_component_is_named_in_the_warning(self) -> None:
        """A BOM naming a component PB holds unreadably says so, not 'exists neither'."""
        plan = plan_of([kit("K"), bom("K", {"X": 1})], [], unreadable={"product.X": "odd"})
        assert messages(plan) == [
            ("bom.K", "component product.X is in PB but could not be read: odd")
        ]

    def test_base_url_is_kept(self) -> None:
        """The PB host a plan was made against is stored on it (None when embedded)."""
        assert (
            plan_of([], [], base_url="https://api.pb.example").base_url == "https://api.pb.example"
        )
        assert plan_of([], []).base_url is None


class TestTargets:
    def test_targets_match_the_address_or_the_bare_sku(self) -> None:
        """`--target K*` plans the kit product and its BOMs, nothing else."""
        desired = [product("A"), kit("K1"), bom("K1", {"A": 1}, node="N")]
        plan = plan_of(desired, [], targets=["K*"])
        assert [c.address for c in plan.changes] == ["product.K1", "bom.K1@N"]
        assert plan.targets == ["K*"]

    def test_target_by_address_selects_one_kind(self) -> None:
        """`--target bom.*` plans only BOMs."""
        plan = plan_of([product("A"), bom("K", {"A": 1})], [], targets=["bom.*"])
        assert [c.address for c in plan.changes] == ["bom.K"]

    def test_excludes_remove_matches(self) -> None:
        """`--exclude` drops matching resources, including from the unmanaged list."""
        plan = plan_of([product("A"), product("B")], [product("Z")], excludes=["B", "product.Z"])
        assert [c.address for c in plan.changes] == ["product.A"]
        assert plan.unmanaged == []

    def test_untargeted_resources_are_not_counted(self) -> None:
        """Resources outside the targets are neither changes nor no-ops."""
        plan = plan_of([product("A"), product("B")], [product("A")], targets=["A"])
        assert plan.changes == [] and plan.summary.product.no_op == 1


class TestDependencies:
    def test_bom_depends_on_writes_of_its_kit_and_components(self) -> None:
        """A BOM waits for the creates and updates of the products it names."""
        plan = plan_of(
            [
                product("A"),
                product("B", description="new"),
                product("C"),
                kit("K"),
                bom("K", {"A": 1, "B": 1, "C": 1}),
            ],
            [product("B"), product("C")],
        )
        change = plan.change_for("bom.K")
        assert change is not None
        assert change.depends_on == ["product.A", "product.B", "product.K"]

    def test_products_depend_on_nothing(self) -> None:
        """Products, kits included, can be written first in any order."""
        plan = plan_of([product("A"), kit("K"), bom("K", {"A": 1})], [])
        assert [c.depends_on for c in plan.changes if c.kind == "product"] == [[], []]

    def test_pruned_component_waits_for_the_bom_that_drops_it(self) -> None:
        """A component deactivation depends on the BOM update that stops using it."""
        remote = [product("A"), product("B"), kit("K"), bom("K", {"A": 1, "B": 1})]
        plan = plan_of([product("B"), kit("K"), bom("K", {"B": 1})], remote, prune=True)
        change = plan.change_for("product.A")
        assert change is not None and change.depends_on == ["bom.K"]

    def test_pruned_kit_waits_for_its_bom_deactivations(self) -> None:
        """A kit deactivation depends on the deactivation of each of its BOMs."""
        remote = [product("A"), kit("K"), bom("K", {"A": 1}), bom("K", {"A": 1}, node="N")]
        plan = plan_of([product("A")], remote, prune=True)
        change = plan.change_for("product.K")
        assert change is not None and change.depends_on == ["bom.K", "bom.K@N"]

    def test_declared_inactive_component_waits_and_is_no_bom_dependency(self) -> None:
        """A component declared inactive waits for the BOM dropping it, never the reverse."""
        remote = [product("A"), product("B"), kit("K"), bom("K", {"A": 1})]
        desired = [product("A", active=False), product("B"), kit("K"), bom("K", {"B": 1})]
        plan = plan_of(desired, remote)
        index = plan.by_address()
        assert index["product.A"].depends_on == ["bom.K"]
        assert index["bom.K"].depends_on == []

    def test_deactivation_of_a_product_no_bom_used_depends_on_nothing(self) -> None:
        """A pruned product no BOM change concerns has no dependency."""
        plan = plan_of([kit("K"), bom("K", {"A": 1})], [product("A"), product("Z")], prune=True)
        assert plan.by_address()["product.Z"].depends_on == []

    def test_bom_deactivation_depends_on_nothing(self) -> None:
        """Deactivating a BOM needs no product write first."""
        plan = plan_of(
            [product("A", description="x")], [product("A"), bom("K", {"A": 1})], prune=True
        )
        change = plan.change_for("bom.K")
        assert change is not None and change.depends_on == []


class TestWarnings:
    def test_component_inactive_in_pb(self) -> None:
        """A declared BOM whose component PB holds inactive (and stays so) is flagged."""
        plan = plan_of([kit("K"), bom("K", {"A": 1})], [product("A", active=False), kit("K")])
        assert messages(plan) == [("bom.K", "component product.A is inactive in PB")]

    def test_component_declared_inactive(self) -> None:
        """A BOM whose component the catalog declares inactive (already so in PB) is flagged."""
        desired = [product("A", active=False), kit("K"), bom("K", {"A": 1})]
        plan = plan_of(desired, [product("A", active=False), kit("K")])
        assert messages(plan) == [
            ("bom.K", "component product.A is declared inactive in the catalog")
        ]

    def test_kit_reactivation_left_out_by_targets(self) -> None:
        """A kit declared active but inactive in PB, outside --target, is not called
        declared inactive: its reactivation is simply not in this plan."""
        desired = [product("A"), kit("K"), bom("K", {"A": 1})]
        plan = plan_of(desired, [product("A"), kit("K", active=False)], targets=["bom.*"])
        assert messages(plan) == [
            (
                "bom.K",
                "kit product.K is inactive in PB and its reactivation is not in this plan "
                "(--target/--exclude)",
            )
        ]

    def test_reactivated_component_is_fine(self) -> None:
        """A component the plan reactivates raises no warning."""
        desired = [product("A"), kit("K"), bom("K", {"A": 1})]
        plan = plan_of(desired, [product("A", active=False), kit("K")])
        assert plan.warnings == []

    def test_missing_component(self) -> None:
        """A BOM naming a product neither PB nor the catalog has is flagged."""
        plan = plan_of([kit("K"), bom("K", {"GHOST": 1})], [])
        assert messages(plan) == [
            ("bom.K", "component product.GHOST exists neither in PB nor in the catalog")
        ]

    def test_component_left_out_by_targets(self) -> None:
        """A targeted BOM whose new component is not targeted is flagged."""
        plan = plan_of([product("A"), kit("K"), bom("K", {"A": 1})], [kit("K")], targets=["bom.*"])
        assert messages(plan) == [
            ("bom.K", "component product.A is declared but not in this plan (--target/--exclude)")
        ]

    def test_pruned_product_still_used_by_an_active_bom(self) -> None:
        """Deactivating a product an active BOM still uses is flagged once, on the product."""
        desired = [kit("K"), bom("K", {"A": 1})]
        plan = plan_of(desired, [product("A"), kit("K"), bom("K", {"A": 1})], prune=True)
        assert messages(plan) == [
            ("product.A", "prune deactivates it, but active BOMs still use it: bom.K")
        ]

    def test_declared_inactive_product_used_by_an_unmanaged_bom(self) -> None:
        """Remote BOMs the catalog does not manage count as users too."""
        plan = plan_of([product("A", active=False)], [product("A"), bom("Z", {"A": 1})])
        assert ("product.A", "declared inactive, but active BOMs still use it: bom.Z") in messages(
            plan
        )

    def test_kit_left_without_an_active_bom(self) -> None:
        """Deactivating the only BOM of a kit that stays active is flagged."""
        plan = plan_of(
            [kit("K"), product("A")], [kit("K"), product("A"), bom("K", {"A": 1})], prune=True
        )
        assert messages(plan) == [
            ("bom.K", "kit product.K stays active but will have no active BOM")
        ]

    def test_kit_with_another_active_bom_is_fine(self) -> None:
        """Deactivating one of several BOMs of a kit raises no warning."""
        remote = [kit("K"), product("A"), bom("K", {"A": 1}), bom("K", {"A": 1}, node="N")]
        desired = [kit("K"), product("A"), bom("K", {"A": 1}, node="N")]
        plan = plan_of(desired, remote, prune=True)
        assert actions(plan) == [("bom.K", "deactivate")]
        assert plan.warnings == []

    def test_product_type_change(self) -> None:
        """Changing a product's type is flagged: PB may refuse it."""
        plan = plan_of([kit("A")], [product("A")])
        assert messages(plan) == [
            (
                "product.A",
                "changes productType ITEM → KIT; PB may refuse to change a product's type",
            )
        ]


class TestInventory:
    def test_deactivation_with_stock_on_hand_is_flagged(self) -> None:
        """A product deactivated while PB holds stock gets a warning; others do not."""
        plan = plan_of([], [product("A"), product("B"), product("C")], prune=True)
        assert plan.deactivated_product_skus() == ["A", "B", "C"]
        flagged = add_inventory_warnings(plan, {"A": 3, "B": 0})
        assert messages(flagged) == [("product.A", "deactivated while 3 units are on hand")]
        assert plan.warnings == []  # the original value is unchanged

    def test_created_inactive_product_needs_no_stock_check(self) -> None:
        """A product created inactive is not a deactivation, so no inventory is asked for."""
        plan = plan_of([product("N", active=False), product("A", active=False)], [product("A")])
        assert plan.deactivated_product_skus() == ["A"]

    def test_no_stock_returns_the_same_plan(self) -> None:
        """Without stock on hand the plan is returned as is."""
        plan = plan_of([], [product("A")], prune=True)
        assert add_inventory_warnings(plan, {}) is plan


class TestLookup:
    def test_select_changes_keeps_plan_order(self) -> None:
        """Looking changes up by address returns them in apply order."""
        plan = plan_of([product("A"), kit("K"), bom("K", {"A": 1})], [])
        picked = select_changes(plan, ["bom.K", "product.A"])
        assert [c.address for c in picked] == ["product.A", "bom.K"]

    def test_by_address_indexes_every_change(self) -> None:
        """by_address maps each change's address to it."""
        plan = plan_of([product("A"), kit("K"), bom("K", {"A": 1})], [])
        index = plan.by_address()
        assert list(index) == ["product.A", "product.K", "bom.K"]
        assert index["bom.K"] is plan.change_for("bom.K")
        assert plan.change_for("bom.Q") is None

    def test_select_changes_names_unknown_addresses(self) -> None:
        """An address the plan does not hold is an error naming it."""
        plan = plan_of([product("A")], [])
        with pytest.raises(PlanFileError, match=r"product\.Q") as caught:
            select_changes(plan, ["product.A", "product.Q"])
        assert caught.value.exit_code == 64

    def test_vendor_details_cleared_by_update(self) -> None:
        """An update lists the remote fields the PUT will clear."""
        remote = product("A", vendorDetails=VendorDetails(name="V", number="1"))
        plan = plan_of([product("A")], [remote])
        change = plan.change_for("product.A")
        assert change is not None
        assert [(f.path, f.after) for f in change.field_changes] == [("vendorDetails", None)]
