"""Running writes concurrently: an interruption stops new writes, never the ones in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable


class Stopped(Exception):
    """Raised instead of starting a write once the run is being interrupted."""


async def run_all(coroutines: Iterable[Awaitable[None]]) -> None:
    """Run concurrently; an interruption stops new writes, not the ones already started."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    if not tasks:
        return
    try:
        results = await asyncio.gather(*tasks, return_exceptions=True)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        raise
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, Stopped):
            raise result
