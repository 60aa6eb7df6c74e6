"""The app in-process through httpx.ASGITransport (how the embedded local environment runs)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import httpx2 as httpx
import pytest
from starlette.applications import Starlette

from reconcile.sandbox import DropConnection, SandboxConfig, Store, create_app, sandbox_of
from reconcile.sandbox.faults import ScriptedFault
from tests.support.sandbox import API, bom, product

T = TypeVar("T")
InProcess = tuple[Starlette, Store, SandboxConfig]


def run(
    app: Starlette, config: SandboxConfig, work: Callable[[httpx.AsyncClient], Awaitable[T]]
) -> T:
    """Run ``work`` with an authenticated async client on the in-process app."""

    async def main() -> T:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            token = await client.post(
                "/oauth/token",
                auth=(config.key, config.secret),
                data={"grant_type": "client_credentials"},
            )
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
            client.headers["X-PB-TransactionId"] = "inproc"
            return await work(client)

    return anyio.run(main)


class TestInProcess:
    def test_writes_land_in_the_given_store(self, inprocess_sandbox: InProcess) -> None:
        """A product created through the ASGI app is in the Store passed to create_app."""
        app, store, config = inprocess_sandbox

        async def work(client: httpx.AsyncClient) -> int:
            return (await client.post(f"{API}/products", json=product("A1"))).status_code

        assert run(app, config, work) == 201
        stored = store.get_product("C1", "A1")
        assert stored is not None and stored.body["sku"] == "A1"

    def test_config_object_is_read_live(self, inprocess_sandbox: InProcess) -> None:
        """Changing the SandboxConfig passed to create_app changes behaviour at once."""
        app, _, config = inprocess_sandbox
        config.page_max = 2

        async def work(client: httpx.AsyncClient) -> Any:
            return (
                await client.post(f"{API}/products/search?size=50", json={"clientId": "C1"})
            ).json()

        assert run(app, config, work)["size"] == 2

    def test_a_drop_fault_raises_in_process(self, inprocess_sandbox: InProcess) -> None:
        """Without a socket to close, a dropped connection surfaces as DropConnection."""
        app, _, config = inprocess_sandbox
        sandbox_of(app).faults.add(ScriptedFault("drop", path_prefix=f"{API}/products"))

        async def work(client: httpx.AsyncClient) -> Any:
            return await client.get(f"{API}/products/A1")

        with pytest.raises(DropConnection):
            run(app, config, work)

    def test_bom_id_field_is_a_setting(self) -> None:
        """bom_id_field renames the PB-assigned id in answers and in search fields."""
        config = SandboxConfig(key="k", secret="s", bom_id_field="id")
        app = create_app(Store(), config)
        sandbox_of(app).store.put_product(product("K", productType="KIT"), "PUBLISHED", 1.0, 1.0)
        sandbox_of(app).store.put_product(product("A"), "PUBLISHED", 1.0, 1.0)

        async def work(client: httpx.AsyncClient) -> tuple[Any, Any]:
            created = (
                await client.post(f"{API}/bill-of-materials", json=bom("K", ("A", 1)))
            ).json()
            body = {"clientId": "C1", "searchFields": [{"name": "id", "values": [created["id"]]}]}
            found = (await client.post(f"{API}/bill-of-materials/search", json=body)).json()
            return created, found

        created, found = run(app, config, work)
        assert "billOfMaterialId" not in created
        assert [b["id"] for b in found["content"]] == [created["id"]]

    def test_storage_failures_answer_500_in_the_unified_shape(
        self, inprocess_sandbox: InProcess
    ) -> None:
        """An unexpected failure (here a closed database) is a 500 with code 1000005."""
        app, store, config = inprocess_sandbox

        async def work(client: httpx.AsyncClient) -> httpx.Response:
            store.close()
            return await client.get(f"{API}/products/A1")

        response = run(app, config, work)
        assert response.status_code == 500
        assert response.json()["errors"][0]["errorCode"] == "1000005"

    def test_sandbox_of_refuses_other_apps(self) -> None:
        """sandbox_of only accepts apps made by create_app."""
        with pytest.raises(TypeError):
            sandbox_of(Starlette())
