"""remote/fetch.py against the emulator: paged current state, BOM keys, targeted reads."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import httpx2 as httpx
import pytest
from pydantic import SecretStr

from reconcile.errors import RemoteError, RemoteStateError
from reconcile.models import BomKey, ProductKey, ResourceSet
from reconcile.plan.build import build_plan
from reconcile.remote import wire
from reconcile.remote.client import PBClient
from reconcile.remote.fetch import (
    both,
    fetch_current_state,
    read_products,
    reread,
)
from reconcile.remote.inventory import fetch_inventory
from reconcile.sandbox import SandboxConfig
from reconcile.settings import Credentials, Limits
from tests.remote.test_apply import CLIENT, KIT_BOM, Sandbox, catalog, item, run
from tests.remote.test_client import make_client
from tests.support.sandbox import ServedSandboxHandle

T = TypeVar("T")


def wire_product(sku: str, **fields: Any) -> dict[str, Any]:
    body = {"clientId": CLIENT, "sku": sku, "productType": "ITEM", "details": {"description": sku}}
    return {**body, **fields}


def wire_bom(sku: str, parts: dict[str, int], **fields: Any) -> dict[str, Any]:
    lines = [{"sku": s, "quantity": q} for s, q in parts.items()]
    return {
        "clientId": CLIENT,
        "sku": sku,
        "description": "r",
        "billOfMaterialDetails": lines,
        **fields,
    }


async def create(
    client: PBClient, products: list[str], boms: Sequence[dict[str, Any]] = ()
) -> list[str]:
    for sku in products:
        kind = "KIT" if sku.startswith("K") else "ITEM"
        await client.create_product(wire_product(sku, productType=kind))
    ids = []
    for body in boms:
        created = await client.create_bom(body)
        ids.append(str(created["billOfMaterialId"]))
    return ids


class TestCurrentState:
    """Everything PB holds for the client, in the catalog's models."""

    def test_pages_are_all_read(self, inprocess_sandbox: Sandbox) -> None:
        """With a page cap of 3, seven products and their BOMs all come back."""
        inprocess_sandbox[2].page_max = 3

        async def work(client: PBClient) -> Any:
            await create(
                client, [f"P{i}" for i in range(6)] + ["KIT"], [wire_bom("KIT", {"P0": 1})]
            )
            return await fetch_current_state(client, CLIENT, desired_skus=())

        held = run(inprocess_sandbox, work)
        assert len(held.products) == 7 and BomKey(CLIENT, "KIT", "") in held.boms
        assert held.meta[ProductKey(CLIENT, "P0")].pb_update_date is not None

    def test_inactive_boms_are_included(self, inprocess_sandbox: Sandbox) -> None:
        """A deactivated BOM is part of the current state, so it can be reactivated."""

        async def work(client: PBClient) -> Any:
            (bom_id,) = await create(client, ["P0", "KIT"], [wire_bom("KIT", {"P0": 1})])
            await client.update_bom(bom_id, wire_bom("KIT", {"P0": 1}, active=False))
            return await fetch_current_state(client, CLIENT, desired_skus=())

        held = run(inprocess_sandbox, work)
        assert not held.boms[BomKey(CLIENT, "KIT", "")].active

    def test_two_active_boms_for_one_key_are_kept_as_duplicates(
        self, inprocess_sandbox: Sandbox
    ) -> None:
        """Two active BOMs with one (sku, node) are read, both, for the plan to resolve; a
        catalog that declares neither makes the plan raise RemoteStateError naming both ids."""

        async def work(client: PBClient) -> Any:
            ids = await create(
                client, ["P0", "KIT"], [wire_bom("KIT", {"P0": 3}), wire_bom("KIT", {"P0": 2})]
            )
            return ids, await fetch_current_state(client, CLIENT, desired_skus=())

        ids, current = run(inprocess_sandbox, work)
        key = BomKey(CLIENT, "KIT", "")
        assert sorted(str(m.bom_id) for _, m in current.duplicates[key]) == sorted(ids)
        with pytest.raises(RemoteStateError) as caught:
            build_plan(catalog(KIT_BOM), current, environment="t", client_id=CLIENT)
        message = str(caught.value)
        assert all(i in message for i in ids) and "bom.KIT" in message

    def test_other_nodes_are_other_keys(self, inprocess_sandbox: Sandbox) -> None:
        """BOMs of one kit at two nodes are two resources, not duplicates."""

        async def work(client: PBClient) -> Any:
            await create(
                client,
                ["P0", "KIT"],
                [wire_bom("KIT", {"P0": 1}, node="N1"), wire_bom("KIT", {"P0": 1}, node="N2")],
            )
            return await fetch_current_state(client, CLIENT, desired_skus=())

        assert len(run(inprocess_sandbox, work).boms) == 2


def served(sandbox: ServedSandboxHandle, work: Callable[[PBClient], Awaitable[T]]) -> T:
    """Run ``work`` with a client of the served emulator (its fixtures loaded by admin)."""

    async def main() -> T:
        async with make_client(sandbox) as client:
            return await work(client)

    return asyncio.run(main())


def history(*boms: tuple[str, str, bool]) -> list[dict[str, Any]]:
    """KIT BOMs as raw fixtures: (billOfMaterialId, pbUpdateDate, active) each."""
    return [
        wire_bom("KIT", {"P0": 1}, billOfMaterialId=i, pbUpdateDate=d, active=a) for i, d, a in boms
    ]


async def current_state(client: PBClient) -> ResourceSet:
    return await fetch_current_state(client, CLIENT, desired_skus=())


class TestBomHistory:
    """Several remote BOMs for one (sku, node) key: which one the catalog's BOM is."""

    KEY = BomKey(CLIENT, "KIT", "")

    def test_latest_inactive_is_the_keys_bom(self, sandbox: ServedSandboxHandle) -> None:
        """With no active BOM, the most recently updated inactive one is chosen (not the
        highest id), and a declared BOM reactivates it by an update."""
        sandbox.admin.load(
            boms=history(
                ("900", "2024-01-01T00:00:00Z", False),
                ("12", "2025-06-01T00:00:00Z", False),
                ("35", "2024-12-31T00:00:00Z", False),
            )
        )
        current = served(sandbox, current_state)
        assert current.meta[self.KEY].bom_id == "12" and not current.boms[self.KEY].active
        plan = build_plan(catalog(KIT_BOM), current, environment="t", client_id=CLIENT)
        assert [(c.action, c.remote_id) for c in plan.changes] == [("update", "12")]

    def test_same_date_falls_back_to_the_highest_id(self, sandbox: ServedSandboxHandle) -> None:
        """Inactive BOMs updated at the same moment: the numerically highest id wins."""
        when = "2025-06-01T00:00:00Z"
        sandbox.admin.load(boms=history(("9", when, False), ("10", when, False)))
        assert served(sandbox, current_state).meta[self.KEY].bom_id == "10"

    def test_inactive_beside_one_active_is_left_out(self, sandbox: ServedSandboxHandle) -> None:
        """An inactive BOM, even a newer one, beside one active BOM is history."""
        sandbox.admin.load(
            boms=history(("1", "2024-01-01T00:00:00Z", True), ("2", "2025-01-01T00:00:00Z", False))
        )
        current = served(sandbox, current_state)
        assert current.meta[self.KEY].bom_id == "1" and current.boms[self.KEY].active

    def test_two_active_name_only_the_active_ids(self, sandbox: ServedSandboxHandle) -> None:
        """Two active BOMs (and an inactive one) are duplicates: the first created stands
        for the key, and an unresolved plan's error names the two active ids only."""
        sandbox.admin.load(
            boms=history(
                ("71", "2024-01-01T00:00:00Z", True),
                ("72", "2024-02-01T00:00:00Z", True),
                ("73", "2024-03-01T00:00:00Z", False),
            )
        )
        current = served(sandbox, current_state)
        assert current.meta[self.KEY].bom_id == "71"
        error = str(current.ambiguity(self.KEY))
        assert "2 active BOMs" in error and "71, 72" in error and "73" not in error


class TestUnreadable:
    """An object reconcile cannot represent is set aside by address; the read goes on."""

    def test_unknown_field_is_kept_not_refused(self, sandbox: ServedSandboxHandle) -> None:
        """A product with an undocumented top-level field is readable: the field is kept
        as PB sent it (to be written back with every full replacement), never diffed."""
        sandbox.admin.load(products=[wire_product("ODD", brand="Acme"), wire_product("OK")])
        current = served(sandbox, current_state)
        assert set(current.products) == {ProductKey(CLIENT, "OK"), ProductKey(CLIENT, "ODD")}
        assert current.unreadable == {}
        assert dict(current.meta[ProductKey(CLIENT, "ODD")].kept) == {"brand": "Acme"}
        assert dict(current.meta[ProductKey(CLIENT, "OK")].kept) == {}

    def test_a_value_outside_the_rules_sets_one_product_aside(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """A product with a documented field holding a value the rules refuse is listed with
        the reason, and the rest of the account is read as usual."""
        sandbox.admin.load(products=[wire_product("ODD", productType="GADGET"), wire_product("OK")])
        current = served(sandbox, current_state)
        assert set(current.products) == {ProductKey(CLIENT, "OK")}
        assert set(current.unreadable) == {"product.ODD"}
        assert "productType" in current.unreadable["product.ODD"]

    def test_invalid_bom_is_listed_under_its_key(self, sandbox: ServedSandboxHandle) -> None:
        """A BOM with a value outside the rules is listed as bom.<sku>@<node>, with its id."""
        bad = wire_bom("KIT", {"P0": 0}, node="N1", billOfMaterialId="41")
        sandbox.admin.load(boms=[bad, wire_bom("KIT", {"P0": 1}, node="N2")])
        current = served(sandbox, current_state)
        assert set(current.boms) == {BomKey(CLIENT, "KIT", "N2")}
        assert list(current.unreadable) == ["bom.KIT@N1"]
        assert "BOM 41" in current.unreadable["bom.KIT@N1"]

    def test_inactive_unreadable_bom_beside_a_readable_one_is_history(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """An unreadable BOM marked inactive, beside a readable BOM of its key, is left out."""
        old = wire_bom("KIT", {"P0": 1}, active=False, legacyFlag=True)
        sandbox.admin.load(boms=[old, wire_bom("KIT", {"P0": 2})])
        current = served(sandbox, current_state)
        assert current.unreadable == {} and BomKey(CLIENT, "KIT", "") in current.boms

    def test_reread_lists_what_became_unreadable(self, sandbox: ServedSandboxHandle) -> None:
        """A saved plan's stale check sees a planned product PB now holds unreadably."""
        sandbox.admin.load(products=[wire_product("A")])

        async def work(client: PBClient) -> tuple[ResourceSet, str]:
            current = await current_state(client)
            plan = build_plan(
                catalog(item("A", description="new")), current, environment="t", client_id=CLIENT
            )
            sandbox.admin.load(products=[wire_product("A", productType="GADGET")])
            again = await reread(client, CLIENT, plan.changes)
            with pytest.raises(RemoteStateError, match=r"product\.A.*productType") as caught:
                await read_products(client, CLIENT, ["A"])
            assert not again.products
            return again, str(caught.value)

        again, message = served(sandbox, work)
        assert list(again.unreadable) == ["product.A"] and "does not change it" in message


class TestTargetedReads:
    """Re-reads of exactly the resources a plan or a batch wrote."""

    def test_read_products_finds_only_those_asked(self, inprocess_sandbox: Sandbox) -> None:
        """A SKU-filtered read returns the SKUs asked that exist, nothing else."""

        async def work(client: PBClient) -> Any:
            await create(client, ["A", "B", "C"])
            return await read_products(client, CLIENT, ["A", "C", "MISSING"])

        assert set(run(inprocess_sandbox, work)) == {"A", "C"}

    def test_reread_covers_planned_resources(self, inprocess_sandbox: Sandbox) -> None:
        """reread returns the planned products and BOMs with their metadata."""

        async def work(client: PBClient) -> Any:
            await create(client, ["A", "B", "KIT"], [wire_bom("KIT", {"A": 1})])
            current = await fetch_current_state(client, CLIENT, desired_skus=())
            desired = catalog(item("A", description="new"))
            plan = build_plan(desired, current, environment="t", client_id=CLIENT, prune=True)
            return await reread(client, CLIENT, plan.changes)

        again = run(inprocess_sandbox, work)
        assert set(again.products) == {ProductKey(CLIENT, s) for s in ("A", "B", "KIT")}
        assert set(again.boms) == {BomKey(CLIENT, "KIT", "")}
        assert again.meta[BomKey(CLIENT, "KIT", "")].bom_id

    def test_inventory_is_summed_over_nodes(self, inprocess_sandbox: Sandbox) -> None:
        """On-hand quantities of one SKU at two nodes add up; unknown SKUs are absent."""
        inprocess_sandbox[1].add_inventory(
            [
                {"clientId": CLIENT, "sku": "A", "node": "N1", "quantity": 2},
                {"clientId": CLIENT, "sku": "A", "node": "N2", "quantity": 3},
                {"clientId": CLIENT, "sku": "B", "node": "N1", "quantity": 0},
            ]
        )

        async def work(client: PBClient) -> Any:
            return await fetch_inventory(client, CLIENT, ["A", "B", "Z"])

        assert run(inprocess_sandbox, work) == {"A": 5, "B": 0}


def run_behind(app: Any, config: SandboxConfig, work: Callable[[PBClient], Awaitable[T]]) -> T:
    """Run ``work`` with a client of ``app``: the emulator behind a fake gateway."""

    async def main() -> T:
        async with PBClient(
            base_url="http://sandbox",
            credentials=Credentials(SecretStr(config.key), SecretStr(config.secret)),
            limits=Limits(requests_per_second=100, max_in_flight=4),
            environment="test",
            transport=httpx.ASGITransport(app=app),
        ) as client:
            return await work(client)

    return asyncio.run(main())


class OlderGetPage:
    """The emulator behind PB's older GET-product page, which ignores ``?clientId=``
    (contract §6.4): a fake of PB's behaviour, wrapped around the real emulator."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith(f"{wire.PRODUCTS_PATH}/")
        ):
            scope = {**scope, "query_string": b""}
        await self.app(scope, receive, send)


class TestOtherClients:
    """Objects of another client never enter the current state, whatever PB answers."""

    def test_get_answering_another_clients_product_is_an_error(
        self, inprocess_sandbox: Sandbox
    ) -> None:
        """A GET that answers with another client's product with the same SKU says nothing
        about ours: it is unreadable (exit 4), never "absent", so nothing is created on it."""
        app, _, config = inprocess_sandbox
        config.six_month_window_always = True  # every desired SKU goes through the GET

        async def work(client: PBClient) -> Any:
            await client.create_product({**wire_product("A"), "clientId": "OTHER"})
            return await fetch_current_state(client, CLIENT, desired_skus=["A"])

        with pytest.raises(RemoteError, match='the answer is about client "OTHER", not "ACME"'):
            run_behind(OlderGetPage(app), config, work)


class TestBoth:
    """fetch.both runs two reads at once and fails as soon as either fails."""

    def test_second_failing_first_cancels_the_first(self) -> None:
        """A fast failure of the second read is raised at once and cancels the first."""
        cancelled = []

        async def endless() -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancelled.append(True)
                raise

        async def failing() -> None:
            raise RemoteStateError("boom", operation="read")

        async def main() -> None:
            # The timeout only bounds the failure case (the old code waited forever).
            await asyncio.wait_for(both(endless(), failing()), timeout=10)

        with pytest.raises(RemoteStateError, match="boom"):
            asyncio.run(main())
        assert cancelled == [True]

    def test_results_come_in_argument_order(self) -> None:
        """Both results are returned as (first, second) whichever finishes first."""

        async def later() -> str:
            await asyncio.sleep(0)
            return "first"

        async def now() -> str:
            return "second"

        assert asyncio.run(both(later(), now())) == ("first", "second")
