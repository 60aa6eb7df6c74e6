"""Every request of a client through the run's pacer, with a deadline and a size ceiling.

One slot of the shared rate limit and in-flight bound per exchange (token requests
included); the whole exchange (connect, send, the whole body) within
``limits.request_deadline_seconds``; a body past ``limits.max_response_bytes`` refused as
soon as it outgrows it, never read whole.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx2 as httpx

from reconcile.remote import wire
from reconcile.remote.failure import AnswerTooLarge, DeadlineExceeded
from reconcile.remote.ratelimit import Pacer
from reconcile.settings import Limits

log = logging.getLogger("reconcile.remote")


class PacedTransport(httpx.AsyncBaseTransport):
    """Every request of the client, token requests included, through one pacer.

    The body is read inside the slot, so ``max_in_flight`` bounds whole exchanges.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        pacer: Pacer,
        on_request: Callable[[], None],
        limits: Limits | None = None,
    ) -> None:
        self._inner = inner
        self._pacer = pacer
        self._on_request = on_request
        self._limits = limits or Limits()

    async def __aenter__(self) -> PacedTransport:
        await self._inner.__aenter__()
        return self

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with self._pacer.slot():
            self._on_request()
            started = time.monotonic()
            deadline = self._limits.request_deadline_seconds
            try:
                async with asyncio.timeout(deadline):
                    response = await self._inner.handle_async_request(request)
                    try:
                        content = await self._read_body(response)
                    finally:
                        await response.aclose()
            except TimeoutError:
                raise DeadlineExceeded(
                    f"the whole exchange did not finish within {deadline:g} s "
                    "(`limits.request_deadline_seconds`)",
                    request=request,
                ) from None
        log.debug(
            "%s %s -> %s in %.0f ms [%s]",
            request.method,
            request.url.path,
            response.status_code,
            (time.monotonic() - started) * 1000,
            request.headers.get(wire.TRANSACTION_ID_HEADER, "-"),
        )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=content,
            extensions=response.extensions,
        )

    async def _read_body(self, response: httpx.Response) -> bytes:
        """The raw body, refused as soon as it outgrows ``limits.max_response_bytes``."""
        ceiling = self._limits.max_response_bytes
        announced = response.headers.get("content-length", "")
        if announced.isdigit() and int(announced) > ceiling:
            raise AnswerTooLarge(_too_large(ceiling, f"announces {int(announced):,} bytes"))
        chunks, size = [], 0
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > ceiling:
                raise AnswerTooLarge(_too_large(ceiling, f"ran past {ceiling:,} bytes"))
            chunks.append(chunk)
        return b"".join(chunks)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _too_large(ceiling: int, what: str) -> str:
    return f"the answer {what}, more than `limits.max_response_bytes` ({ceiling:,}); refused unread"
