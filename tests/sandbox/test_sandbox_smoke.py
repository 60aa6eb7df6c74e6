"""The conftest fixtures give working emulators, served and in-process."""

from __future__ import annotations

import anyio
import httpx2 as httpx
from starlette.applications import Starlette

from reconcile.sandbox import SandboxConfig, Store
from tests.support.sandbox import ServedSandboxHandle


class TestFixtures:
    def test_served_sandbox_answers_a_product_round_trip(
        self, sandbox: ServedSandboxHandle
    ) -> None:
        """A product created over HTTP can be read back with the fixture's client."""
        with sandbox.client() as client:
            body = {"clientId": "C1", "sku": "A", "productType": "ITEM", "details": {}}
            assert client.post("/products", json=body).status_code == 201
            assert client.get("/products/A", params={"clientId": "C1"}).json()["sku"] == "A"
        assert sandbox.admin.count("POST", "/products", 201) == 1

    def test_inprocess_sandbox_serves_through_asgi_transport(
        self, inprocess_sandbox: tuple[Starlette, Store, SandboxConfig]
    ) -> None:
        """The in-process app answers the token route through httpx.ASGITransport."""
        app, _, config = inprocess_sandbox

        async def fetch() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as c:
                return await c.post(
                    "/oauth/token",
                    auth=(config.key, config.secret),
                    data={"grant_type": "client_credentials"},
                )

        response = anyio.run(fetch)
        assert response.status_code == 200
        assert response.json()["expiresIn"] == str(config.token_ttl)
