"""The client behind fakes of PB's behaviour: ASGI wrappers around the real emulator
(a gateway that times out while PB commits later; search answers of the wrong shape)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.applications import Starlette

from reconcile.errors import RemoteError
from reconcile.models import ResourceSet
from reconcile.remote import wire
from reconcile.remote.client import PBClient
from reconcile.remote.fetch import fetch_current_state, read_boms
from reconcile.sandbox import SandboxConfig, Store
from tests.support.client import asgi_client, run
from tests.support.sandbox import bom, product

Sandbox = tuple[Starlette, Store, SandboxConfig]
Scope = dict[str, Any]
Message = dict[str, Any]


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

        async def work(client: PBClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            for sku, kind in (("P0", "ITEM"), ("KIT", "KIT")):
                await client.create_product(product(sku, productType=kind))
            created = await client.create_bom(bom("KIT", ("P0", 1)))
            fields = [{"name": wire.BOM_PARENT_SKU_SEARCH_FIELD, "values": ["KIT"]}]
            held = [b async for b in client.search_boms("C1", fields, include_inactive=True)]
            return created, held

        created, held = run(asgi_client(gateway, config.key, config.secret), work)
        assert gateway.creates == 2 and gateway.held is None
        assert [b["billOfMaterialId"] for b in held] == [created["billOfMaterialId"]]


Change = Any  # a function of the decoded JSON answer, returning the JSON to send instead


class Reshaped:
    """PB's search answers reshaped by ``change`` (a gateway, or a PB version, that
    answers in another shape); everything else goes to the emulator untouched."""

    def __init__(self, app: Starlette, path: str, change: Change) -> None:
        self.app = app
        self.path = path
        self.change = change

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, keep)
        answer = json.loads(b"".join(chunks))
        body = json.dumps(self.change(answer) if start["status"] == 200 else answer).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def read_behind(sandbox: Sandbox, path: str, change: Change, work: Any, page_max: int = 2) -> Any:
    """Load three products and a BOM, then run ``work(client)`` behind ``Reshaped``."""
    app, _, config = sandbox
    config.page_max = page_max

    async def arrange_then(client: PBClient) -> Any:
        for sku, kind in (("P0", "ITEM"), ("P1", "ITEM"), ("KIT", "KIT")):
            await client.create_product(product(sku, productType=kind))
        await client.create_bom(bom("KIT", ("P0", 1)))
        return await asyncio.wait_for(work(client), timeout=30)  # bounds only a hang

    return run(asgi_client(Reshaped(app, path, change), config.key, config.secret), arrange_then)


async def everything(client: PBClient) -> ResourceSet:
    return await fetch_current_state(client, "C1", desired_skus=())


def with_content(value: Any) -> Change:
    return lambda answer: {**answer, "content": value}


def with_field(name: str, value: Any) -> Change:
    return lambda answer: {**answer, name: value}


def first_item(change: Change) -> Change:
    def apply(answer: dict[str, Any]) -> dict[str, Any]:
        items = list(answer["content"])
        if items:
            items[0] = change(items[0])
        return {**answer, "content": items}

    return apply


class TestSearchAnswerShapes:
    """A search answer of the wrong shape is a RemoteError (exit 4) or read correctly;
    never a Python crash, never silently fewer objects (they would be planned anew)."""

    @pytest.mark.parametrize(
        ("change", "said"),
        [
            (with_content("none"), "`content` is a string, not a list"),
            (with_content({"sku": "P0"}), "`content` is an object, not a list"),
            (first_item(lambda item: 42), "item 0 of the search answer's `content` is a number"),
            (first_item(lambda item: [item]), "item 0 of the search answer's `content` is a list"),
            (
                lambda answer: {k: v for k, v in answer.items() if k != "content"},
                r"announces 3 results \(totalElements\) but has no `content` or `products`",
            ),
        ],
    )
    def test_results_that_are_not_a_list_of_objects(
        self, inprocess_sandbox: Sandbox, change: Change, said: str
    ) -> None:
        """Results that are not a list of objects are refused, naming what came instead."""
        with pytest.raises(RemoteError, match=said) as caught:
            read_behind(inprocess_sandbox, wire.PRODUCTS_SEARCH_PATH, change, everything)
        error = caught.value
        assert error.exit_code == 4 and error.operation == "product.search"
        assert error.transaction_id and error.resource == "page 1"

    @pytest.mark.parametrize("pages", ["2", 2.5, float("inf"), float("nan"), -1, 10**12])
    def test_odd_page_counts_still_read_every_page(
        self, inprocess_sandbox: Sandbox, pages: Any
    ) -> None:
        """A page count that is a string, a fraction, Infinity, NaN, negative or absurd:
        the walk follows the pages themselves and stops at the first empty one."""
        held = read_behind(
            inprocess_sandbox,
            wire.PRODUCTS_SEARCH_PATH,
            with_field("totalPages", pages),
            everything,
            page_max=1,
        )
        assert sorted(key.sku for key in held.products) == ["KIT", "P0", "P1"]

    def test_sku_that_is_a_list_is_unreadable_not_a_crash(self, inprocess_sandbox: Sandbox) -> None:
        """A product whose SKU comes back as a list is listed as unreadable by its JSON."""
        change = first_item(lambda item: {**item, "sku": [item["sku"]]})
        path = wire.PRODUCTS_SEARCH_PATH
        held = read_behind(inprocess_sandbox, path, change, everything, page_max=10)
        (address,) = held.unreadable
        assert address.startswith('product.["') and len(held.products) == 2

    def test_bom_sku_that_is_an_object_in_a_targeted_read(self, inprocess_sandbox: Sandbox) -> None:
        """A targeted BOM read skips a BOM whose SKU is an object instead of crashing."""
        change = first_item(lambda item: {**item, "sku": {"value": item["sku"]}})

        async def kits(client: PBClient) -> Any:
            return await read_boms(client, "C1", ["KIT"])

        assert read_behind(inprocess_sandbox, wire.BOMS_SEARCH_PATH, change, kits) == []
