"""Convergence as a property: for random desired and remote catalogs, apply makes PB hold
the desired catalog and a second plan is empty (in-process emulator, fresh per example)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2 as httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from reconcile.models import Bom, BomComponent, Product, ProductDetails, ResourceSet
from reconcile.plan.build import build_plan
from reconcile.remote.apply import apply_changes
from reconcile.remote.client import PBClient
from reconcile.remote.fetch import fetch_current_state
from reconcile.sandbox import SandboxConfig, Store, create_app
from reconcile.settings import Credentials, Limits

CLIENT = "ACME"
ITEMS = ["A", "B", "C", "D"]
KITS = ["K1", "K2"]

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=6)


@st.composite
def products(draw: st.DrawFn) -> list[Product]:
    skus = draw(st.lists(st.sampled_from(ITEMS + KITS), unique=True, max_size=6))
    return [
        Product(
            clientId=CLIENT,
            sku=sku,
            productType="KIT" if sku in KITS else "ITEM",
            details=ProductDetails(description=draw(st.one_of(st.none(), _text))),
            fulfillmentRegion=draw(st.sampled_from(["PB_ONLY", "ALL"])),
            active=draw(st.booleans()),
        )
        for sku in skus
    ]


@st.composite
def boms(draw: st.DrawFn, held: list[Product]) -> list[Bom]:
    """BOMs whose kit and components are among ``held`` (PB checks that they exist)."""
    kits = [p.sku for p in held if p.productType == "KIT"]
    items = [p.sku for p in held if p.productType == "ITEM"]
    if not kits or not items:
        return []
    chosen = draw(
        st.lists(
            st.tuples(st.sampled_from(kits), st.sampled_from([None, "N1"])),
            unique=True,
            max_size=3,
        )
    )
    return [
        Bom(
            clientId=CLIENT,
            sku=kit,
            node=node,
            description=draw(st.sampled_from(["recipe", "v2"])),
            billOfMaterialDetails=[
                BomComponent(sku=s, quantity=q)
                for s, q in draw(
                    st.dictionaries(st.sampled_from(items), st.integers(1, 3), min_size=1)
                ).items()
            ],
            active=draw(st.booleans()),
        )
        for kit, node in chosen
    ]


@st.composite
def catalogs(draw: st.DrawFn) -> ResourceSet:
    chosen = draw(products())
    result = ResourceSet()
    for product in chosen:
        result.add_product(product)
    for bom in draw(boms(chosen)):
        result.add_bom(bom)
    return result


def fixture_body(held: ResourceSet) -> dict[str, Any]:
    return {
        "products": [p.model_dump(mode="json", exclude_none=True) for p in held.products.values()],
        "boms": [b.model_dump(mode="json", exclude_none=True) for b in held.boms.values()],
    }


async def converge(desired: ResourceSet, remote: ResourceSet, prune: bool) -> None:
    config = SandboxConfig.generate()
    store = Store()
    transport = httpx.ASGITransport(app=create_app(store, config))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as admin:
        answer = await admin.post("/__sandbox/fixtures", json=fixture_body(remote))
        assert answer.status_code == 200, answer.text
    client = PBClient(
        base_url="http://sandbox",
        credentials=Credentials(SecretStr(config.key), SecretStr(config.secret)),
        limits=Limits(requests_per_second=100, max_in_flight=8),
        environment="test",
        transport=transport,
    )
    async with client:
        current = await fetch_current_state(client, CLIENT, desired_skus=list(_skus(desired)))
        plan = build_plan(desired, current, environment="t", client_id=CLIENT, prune=prune)
        report = await apply_changes(client, plan.changes, client_id=CLIENT)
        assert report.succeeded, [r for r in report.results if r.status != "done"]

        after = await fetch_current_state(client, CLIENT, desired_skus=list(_skus(desired)))
        for key, product in desired.products.items():
            assert after.products[key] == product
        for key, bom in desired.boms.items():
            assert after.boms[key] == bom
        if prune:
            declared = {*desired.products, *desired.boms}
            held = [*after.products.items(), *after.boms.items()]
            assert all(not r.active for key, r in held if key not in declared)
        again = build_plan(desired, after, environment="t", client_id=CLIENT, prune=prune)
        assert not again.has_changes, [c.address for c in again.changes]
    store.close()


def _skus(resources: ResourceSet) -> set[str]:
    return {k.sku for k in resources.products}


class TestConvergenceProperty:
    """apply(desired) over any remote state converges."""

    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(desired=catalogs(), remote=catalogs(), prune=st.booleans())
    def test_apply_converges(self, desired: ResourceSet, remote: ResourceSet, prune: bool) -> None:
        """After one apply, PB holds every desired resource as declared and plans no change."""
        asyncio.run(converge(desired, remote, prune))
