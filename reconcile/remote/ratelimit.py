"""Pacing of all requests of a run: a rate limit plus a bound on requests in flight."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class RateLimiter:
    """A leaky bucket with no burst: request starts are spaced ``1 / rate`` seconds apart.

    No burst means that in any window of ``w`` seconds at most ``w * rate + 1`` requests
    start, which is what PB's per-second traffic shaping counts (contract §8.3).
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock = clock
        self._next_start = 0.0

    def reserve(self) -> float:
        """Book the next start slot; return how long to wait for it."""
        # No await between reading and writing _next_start: atomic under asyncio.
        now = self._clock()
        start = max(now, self._next_start)
        self._next_start = start + self.interval
        return start - now

    async def wait(self) -> None:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


class Pacer:
    """At most ``max_in_flight`` requests at once, each started through the rate limiter."""

    def __init__(self, requests_per_second: float, max_in_flight: int) -> None:
        self.limiter = RateLimiter(requests_per_second)
        self.max_in_flight = max_in_flight
        self._slots = asyncio.Semaphore(max_in_flight)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        # Take the in-flight slot first, so a booked start time is never wasted waiting.
        async with self._slots:
            await self.limiter.wait()
            yield
