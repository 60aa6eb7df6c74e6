"""What a reviewer sees: look-alike identifiers escaped, kept fields named (write safety)."""

from __future__ import annotations

from reconcile.models import Product, ProductDetails, RemoteMeta, ResourceSet
from reconcile.plan.build import build_plan
from reconcile.plan.markdown import render_markdown
from reconcile.plan.render import render_text

CLIENT = "C1"


def product(sku: str, description: str = "d") -> Product:
    return Product(
        clientId=CLIENT,
        sku=sku,
        productType="ITEM",
        details=ProductDetails(description=description),
    )


def resources(*items: Product, kept: dict[str, object] | None = None) -> ResourceSet:
    found = ResourceSet()
    for item in items:
        found.add_product(
            item, RemoteMeta(pb_update_date="2026-01-01T00:00:00.000+0000", kept=kept or {})
        )
    return found


class TestIdentifiers:
    def test_a_cyrillic_look_alike_is_escaped_in_text_and_markdown(self) -> None:
        """TEE-A with a Cyrillic A cannot pass for TEE-A in a plan."""
        plan = build_plan(
            resources(product("TEE-\u0410")), ResourceSet(), environment="t", client_id=CLIENT
        )
        text = render_text(plan, color=False).plain
        assert "product.TEE-\\u0410" in text and "TEE-\u0410" not in text.replace("\\u0410", "")
        assert "product.TEE-\\u0410" in render_markdown(plan)

    def test_invisible_characters_are_escaped(self) -> None:
        """A zero-width space in a SKU shows as \\u200b."""
        plan = build_plan(
            resources(product("A\u200bB")), ResourceSet(), environment="t", client_id=CLIENT
        )
        assert "product.A\\u200bB" in render_text(plan, color=False).plain

    def test_plain_skus_are_shown_as_they_are(self) -> None:
        """ASCII and composed accents are left alone."""
        plan = build_plan(
            resources(product("CAF\u00c9")), ResourceSet(), environment="t", client_id=CLIENT
        )
        assert "product.CAF\u00c9 will be created" in render_text(plan, color=False).plain


class TestKeptFields:
    def test_the_change_and_the_summary_name_the_kept_fields(self) -> None:
        """An update of a product carrying `brand` says it is kept, once per change and
        once for the plan with the number of objects carrying it."""
        current = resources(product("A"), product("B"), kept={"brand": "Kiln"})
        desired = resources(product("A", "new"), product("B"))
        plan = build_plan(desired, current, environment="t", client_id=CLIENT)
        assert plan.summary.kept == {"brand": 2}
        text = render_text(plan, color=False).plain
        assert "(kept as PB holds them: brand)" in text
        assert "Kept as PB holds them (not declared in the catalog, never diffed" in text
        assert "brand (2 objects)" in text
        assert "brand (2 objects)" in render_markdown(plan)
