"""The one client harness of the tests: a ``PBClient`` of the served emulator, of an ASGI
app in this process (the emulator, or a fake PB in front of it), and ``run`` to use it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx2 as httpx
from pydantic import SecretStr

from reconcile.remote.client import PBClient
from reconcile.settings import Credentials, Limits
from tests.support.sandbox import ServedSandboxHandle

T = TypeVar("T")

#: Retry waits short enough for tests (set through limits, as a user would).
FAST: dict[str, Any] = {
    "retry_wait_initial_seconds": 0.01,
    "retry_wait_max_seconds": 0.05,
    "retry_timeout_seconds": 20.0,
    "requests_per_second": 100.0,
}
ENV_VARS = ("PB_TEST_API_KEY", "PB_TEST_API_SECRET")
IN_PROCESS_URL = "http://sandbox"


def pb_client(
    base_url: str,
    key: str,
    secret: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.monotonic,
    **limits: Any,
) -> PBClient:
    """A client of environment "test" with fast retries (``limits`` override them)."""
    return PBClient(
        base_url=base_url,
        credentials=Credentials(SecretStr(key), SecretStr(secret)),
        limits=Limits(**{**FAST, **limits}),
        environment="test",
        transport=transport,
        credential_vars=ENV_VARS,
        clock=clock,
    )


def make_client(
    sandbox: ServedSandboxHandle,
    *,
    key: str | None = None,
    secret: str | None = None,
    **settings: Any,
) -> PBClient:
    """A client of the served emulator over loopback (its credentials unless given)."""
    return pb_client(sandbox.url, key or sandbox.key, secret or sandbox.secret, **settings)


def asgi_client(app: Any, key: str, secret: str, **settings: Any) -> PBClient:
    """A client of an ASGI app in this process, over ``httpx.ASGITransport``."""
    transport = httpx.ASGITransport(app=app)
    return pb_client(IN_PROCESS_URL, key, secret, transport=transport, **settings)


def run(client: PBClient, work: Callable[[PBClient], Awaitable[T]]) -> T:
    """``work(client)`` with the client open, inside one event loop."""

    async def main() -> T:
        async with client:
            return await work(client)

    return asyncio.run(main())


async def collect(items: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item async for item in items]
