"""The text rendering of an onboarding: creates summarised above a threshold, the rest in full."""

from __future__ import annotations

from reconcile.plan.plan import Plan
from reconcile.plan.render import CREATES_IN_FULL, render_text
from tests.plan.factories import kit, plan_of, product


def onboarding(creates: int) -> Plan:
    desired = [product(f"N{i:04}") for i in range(creates)] + [
        kit("K"),
        product("OLD", description="new"),
    ]
    return plan_of(desired, [product("OLD", description="old")])


class TestSummarisedCreates:
    def test_many_creates_are_one_line_per_kind(self) -> None:
        """Above the threshold, creates are counted per kind with a few addresses; the
        update is still shown field by field."""
        text = render_text(onboarding(CREATES_IN_FULL + 50), color=False).plain
        assert f"+ {CREATES_IN_FULL + 51:,} products will be created (ITEM 250, KIT 1)" in text
        assert "product.N0000, product.N0001" in text and "… and 246 more" in text
        assert "product.N0249 will be created" not in text
        assert "~ product.OLD will be updated" in text and "details.description" in text
        assert "`--format full` shows each field" in text
        assert "Plan: 251 to create, 1 to update" in text

    def test_full_lists_every_create(self) -> None:
        """``full`` (``--format full``) shows every create field by field."""
        text = render_text(onboarding(CREATES_IN_FULL + 50), color=False, full=True).plain
        assert "product.N0249 will be created" in text and "summarised" not in text

    def test_a_small_plan_is_shown_in_full(self) -> None:
        """At or under the threshold nothing is summarised."""
        text = render_text(onboarding(10), color=False).plain
        assert "product.N0009 will be created" in text and "summarised" not in text
