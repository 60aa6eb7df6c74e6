"""Hypothesis strategies for random catalogs: small SKU pools so that sides overlap."""

from __future__ import annotations

from hypothesis import strategies as st

from reconcile.models import (
    Bom,
    BomComponent,
    Product,
    ProductDetails,
    ProductOption,
    ResourceSet,
    VendorDetails,
)
from tests.plan.factories import CLIENT, resources

ITEM_SKUS = ["A", "B", "C", "D"]
KIT_SKUS = ["K1", "K2"]

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8)

vendors = st.builds(VendorDetails, name=_text, number=st.sampled_from(["1", "2"]))
options = st.lists(
    st.builds(
        lambda color, size: ProductOption(color=color, size=size),
        st.sampled_from(["red", "blue"]),
        st.integers(0, 3),
    ),
    max_size=2,
)

products = st.builds(
    lambda sku, kind, description, vendor, region, opts, active: Product(
        clientId=CLIENT,
        sku=sku,
        productType=kind,
        details=ProductDetails(description=description),
        vendorDetails=vendor,
        fulfillmentRegion=region,
        options=opts,
        active=active,
    ),
    st.sampled_from(ITEM_SKUS + KIT_SKUS),
    st.sampled_from(["ITEM", "KIT"]),
    st.one_of(st.none(), _text),
    st.one_of(st.none(), vendors),
    st.sampled_from(["PB_ONLY", "ALL"]),
    st.one_of(st.none(), options),
    st.booleans(),
)

boms = st.builds(
    lambda sku, parts, node, active, notes: Bom(
        clientId=CLIENT,
        sku=sku,
        description="recipe",
        billOfMaterialDetails=[BomComponent(sku=s, quantity=q) for s, q in parts.items()],
        node=node,
        active=active,
        notes=notes,
    ),
    st.sampled_from(KIT_SKUS),
    st.dictionaries(st.sampled_from(ITEM_SKUS), st.integers(1, 3), min_size=1, max_size=3),
    st.sampled_from([None, "N1"]),
    st.booleans(),
    st.one_of(st.none(), st.lists(st.sampled_from(["fragile", "gift"]), max_size=2)),
)


@st.composite
def catalogs(draw: st.DrawFn, *, remote: bool = False) -> ResourceSet:
    """A random catalog; ``remote`` also fills the metadata PB would return."""
    chosen_products = draw(st.lists(products, unique_by=lambda p: p.sku, max_size=6))
    chosen_boms = draw(st.lists(boms, unique_by=lambda b: b.key, max_size=4))
    return resources([*chosen_products, *chosen_boms], remote=remote)
