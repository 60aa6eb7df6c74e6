"""Safety thresholds: refusing plans that touch too much of what PB holds."""

from __future__ import annotations

import pytest

from reconcile.errors import UnsafePlan
from reconcile.plan.build import build_plan
from reconcile.plan.plan import Plan
from reconcile.plan.safety import percent
from reconcile.settings import Safety
from tests.plan.factories import CLIENT, bom, kit, plan_of, product, resources

DEFAULTS = Safety()


def products_plan(existing: int, updated: int = 0, dropped: int = 0) -> Plan:
    """PB holds ``existing`` products; the catalog changes ``updated`` and omits ``dropped``."""
    remote = [product(f"P{i:03}") for i in range(existing)]
    desired = [
        product(f"P{i:03}", description="changed") if i < updated else product(f"P{i:03}")
        for i in range(dropped, existing)
    ]
    return plan_of(desired, remote, environment="prod", prune=True)


def boms_plan(existing: int, requantified: int) -> Plan:
    """PB holds ``existing`` BOMs; the catalog changes the quantity in ``requantified``."""
    parts = [product("A"), kit("K")]
    remote = [*parts, *(bom("K", {"A": 1}, node=f"N{i:02}") for i in range(existing))]
    desired = [
        *parts,
        *(bom("K", {"A": 2 if i < requantified else 1}, node=f"N{i:02}") for i in range(existing)),
    ]
    return plan_of(desired, remote, environment="prod")


class TestThresholds:
    def test_updates_at_the_limit_pass(self) -> None:
        """Exactly 30% of products updated is allowed (the limit is not exceeded)."""
        assert products_plan(100, updated=30).safety_report(DEFAULTS) == []

    def test_updates_over_the_limit_are_refused(self) -> None:
        """31 of 100 products updated breaks the 30% update limit."""
        plan = products_plan(100, updated=31)
        [reason] = plan.safety_report(DEFAULTS)
        assert reason.startswith("31 of 100 products (31%) would be updated, above the 30% limit")
        assert "(safety.max_update_fraction)" in reason
        assert "31% of products change `details.description`" in reason

    def test_deactivations_at_the_limit_pass(self) -> None:
        """Exactly 10% of products deactivated is allowed."""
        assert products_plan(100, dropped=10).safety_report(DEFAULTS) == []

    def test_deactivations_over_the_limit_are_refused(self) -> None:
        """11 of 100 products deactivated breaks the 10% limit; examples are named."""
        [reason] = products_plan(100, dropped=11).safety_report(DEFAULTS)
        assert reason.startswith("11 of 100 products (11%) would be deactivated, above the 10%")
        assert "(product.P000, product.P001, product.P002, …)" in reason

    def test_declared_inactive_products_count_as_deactivations(self) -> None:
        """11 of 100 products declared `active: false` break the deactivation limit, not the
        update limit, though each is an update."""
        remote = [product(f"P{i:03}") for i in range(100)]
        desired = [product(f"P{i:03}", active=i >= 11) for i in range(100)]
        plan = plan_of(desired, remote, environment="prod")
        assert {c.action for c in plan.changes} == {"update"}
        [reason] = plan.safety_report(DEFAULTS)
        assert reason.startswith("11 of 100 products (11%) would be deactivated")
        assert plan_of(desired[5:], remote[5:], environment="prod").safety_report(DEFAULTS) == []

    def test_both_limits_are_reported_together(self) -> None:
        """One plan can break the update and the deactivation limits at once."""
        assert len(products_plan(100, updated=60, dropped=20).safety_report(DEFAULTS)) == 2

    def test_few_existing_resources_are_never_refused(self) -> None:
        """Below min_existing (10), even updating everything is allowed."""
        assert products_plan(9, updated=9).safety_report(DEFAULTS) == []

    def test_min_existing_is_inclusive(self) -> None:
        """At exactly min_existing the fractions apply."""
        assert products_plan(10, updated=10).safety_report(DEFAULTS) != []

    def test_creates_never_count(self) -> None:
        """A first apply into an empty client is all creates and always safe."""
        plan = build_plan(
            resources([product(f"P{i}") for i in range(50)]),
            resources([], remote=True),
            environment="prod",
            client_id=CLIENT,
        )
        assert plan.safety_report(Safety(min_existing=0)) == []

    def test_configured_thresholds_apply(self) -> None:
        """Thresholds from reconcile.yaml replace the defaults."""
        plan = products_plan(100, updated=31)
        assert plan.safety_report(Safety(max_update_fraction=0.5)) == []
        assert plan.safety_report(Safety(min_existing=101)) == []


class TestKinds:
    def test_boms_are_judged_separately_with_their_common_field(self) -> None:
        """18 of 25 BOMs changing a quantity is refused as '72% of BOMs change …'."""
        plan = boms_plan(25, requantified=18)
        [reason] = plan.safety_report(DEFAULTS)
        assert reason.startswith("18 of 25 BOMs (72%) would be updated")
        assert reason.endswith("72% of BOMs change `billOfMaterialDetails`")

    def test_percentages_keep_a_decimal_only_when_needed(self) -> None:
        """0.3 prints as 30%, 1/3 as 33.3%."""
        assert (percent(0.3), percent(1 / 3), percent(0.304)) == ("30%", "33.3%", "30.4%")


class TestRefusal:
    def test_raise_if_unsafe_exits_6_and_mentions_force(self) -> None:
        """An unsafe plan raises UnsafePlan (exit 6) naming the environment and --force."""
        plan = products_plan(100, dropped=20)
        with pytest.raises(UnsafePlan) as caught:
            plan.raise_if_unsafe(DEFAULTS)
        assert caught.value.exit_code == 6
        message = str(caught.value)
        assert "environment 'prod'" in message and "--force" in message
        assert "20 of 100 products" in message

    def test_safe_plan_passes(self) -> None:
        """A safe plan does not raise."""
        products_plan(100, updated=5).raise_if_unsafe(DEFAULTS)
