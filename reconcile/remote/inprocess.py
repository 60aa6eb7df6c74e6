"""An ASGI app in this process as a client's transport, opened and closed with the client.

The app is not built until the client is entered (``async with``): whatever it holds
(a store, a lock) is taken then and given back when the client closes. What the app is
stays with the caller (``reconcile.environments`` hands over the embedded sandbox), so
``remote/`` knows nothing of the emulator.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx2 as httpx

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class InProcessApp(Protocol):
    """An app that holds something while open."""

    def open(self) -> ASGIApp:
        """Take what the app needs and build it; raise if it cannot be had."""

    def close(self) -> None:
        """Give back what ``open`` took."""


class InProcessTransport(httpx.AsyncBaseTransport):
    """``httpx.ASGITransport`` over an app opened when the client is entered."""

    def __init__(self, app: InProcessApp) -> None:
        self._app = app
        self._asgi: httpx.ASGITransport | None = None

    async def __aenter__(self) -> InProcessTransport:
        self._asgi = httpx.ASGITransport(app=self._app.open())
        return self

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._asgi is None:
            raise RuntimeError("the in-process app is not open: enter the client first")
        return await self._asgi.handle_async_request(request)

    async def aclose(self) -> None:
        asgi, self._asgi = self._asgi, None
        if asgi is None:
            return
        try:
            await asgi.aclose()
        finally:
            self._app.close()
