"""The client behind a gateway that times out but lets PB commit later (ASGI wrapper)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.applications import Starlette

from reconcile.remote import wire
from reconcile.remote.client import PBClient
from reconcile.sandbox import SandboxConfig, Store
from reconcile.settings import Credentials, Limits
from tests.support.sandbox import bom, product

Sandbox = tuple[Starlette, Store, SandboxConfig]
Scope = dict[str, Any]
Message = dict[str, Any]
FAST = Limits(retry_wait_initial_seconds=0.01, retry_wait_max_seconds=0.02, requests_per_second=100)


async def _json_answer(send: Any, status: int, body: Any, headers: list[Any]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": data})


class LateCommitGateway:
    """First BOM create: 504 at once, PB commits it only when the next request after
    the second create arrives. Second BOM create: 429 (refused, not applied)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.creates = 0
        self.held: tuple[Scope, bytes] | None = None
        self.release_armed = False

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.release_armed and self.held is not None:
            await self._commit_held()
        if scope["method"] == "POST" and scope["path"] == wire.BOMS_PATH:
            self.creates += 1
            if self.creates == 1:
                self.held = (scope, await _body(receive))
                await _json_answer(send, 504, {"errors": []}, [])
                return
            if self.creates == 2:
                self.release_armed = True
                await _json_answer(send, 429, {"errors": []}, [(b"retry-after", b"0")])
                return
        await self.app(scope, receive, send)

    async def _commit_held(self) -> None:
        assert self.held is not None
        scope, body = self.held
        self.held = None
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def discard(message: Message) -> None:
            return None

        await self.app(scope, replay, discard)


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


class TestLateCommit:
    """An attempt with an unknown outcome is checked before every later attempt."""

    def test_refused_retry_between_does_not_hide_a_late_commit(
        self, inprocess_sandbox: Sandbox
    ) -> None:
        """504 (may land) → nothing found → 429 → the key is searched again, and the
        late-committed BOM is returned instead of a duplicate being created."""
        app, _, config = inprocess_sandbox
        gateway = LateCommitGateway(app)

        async def main() -> tuple[dict[str, Any], list[dict[str, Any]]]:
            async with PBClient(
                base_url="http://sandbox",
                credentials=Credentials(SecretStr(config.key), SecretStr(config.secret)),
                limits=FAST,
                environment="test",
                transport=httpx.ASGITransport(app=gateway),
            ) as client:
                for sku, kind in (("P0", "ITEM"), ("KIT", "KIT")):
                    await client.create_product(product(sku, productType=kind))
                created = await client.create_bom(bom("KIT", ("P0", 1)))
                fields = [{"name": wire.BOM_PARENT_SKU_SEARCH_FIELD, "values": ["KIT"]}]
                held = [b async for b in client.search_boms("C1", fields, include_inactive=True)]
                return created, held

        created, held = asyncio.run(main())
        assert gateway.creates == 2 and gateway.held is None
        assert [b["billOfMaterialId"] for b in held] == [created["billOfMaterialId"]]
