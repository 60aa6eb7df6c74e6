"""Paged searches: page 1, then the remaining pages concurrently, yielded in page order."""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from itertools import islice
from typing import Any

from reconcile.remote import wire
from reconcile.remote.transport import Call, Session

OnPage = Callable[[int, int], None]
Json = dict[str, Any]


@dataclass(frozen=True)
class Search:
    """One paged search: its operation name, path, body, and results kind
    (a key of ``wire.RESULTS_FIELDS``)."""

    operation: str
    path: str
    body: Json
    resource: str


def search_body(client_id: str, fields: list[Json], sort: list[str] | None) -> Json:
    body: Json = {"clientId": client_id, wire.SEARCH_FIELDS_FIELD: fields}
    if sort:
        body[wire.SORT_FIELD] = sort
    return body


class Pager:
    """Walks the pages of a client's searches, and ends the page requests still in
    flight when the client closes."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._pending: set[asyncio.Task[Json]] = set()

    async def cancel(self) -> None:
        """Pages of a search the caller stopped reading must not outlive the connection."""
        pending = list(self._pending)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def page(self, search: Search, page: int, size: int) -> Json:
        call = Call(search.operation, f"page {page}", "POST", search.path, search.body)
        call.params = {wire.PAGE_PARAM: page, wire.SIZE_PARAM: size}
        call.check = lambda answer: wire.page_problem(answer, search.resource)
        return await self._session.run(call)

    async def paged(self, search: Search, on_page: OnPage | None) -> AsyncIterator[Json]:
        """Page 1, then the remaining pages concurrently, yielded in page order.

        Later pages are asked with the page size PB actually used on page 1 (it may cap
        the size asked), and the walk follows ``totalPages``/``last``.
        """
        resource = search.resource
        first = await self.page(search, wire.FIRST_PAGE, self._session.limits.page_size)
        items = wire.results_of(first, resource)
        size = _positive_int(first.get(wire.PAGE_SIZE_FIELD)) or len(items) or 1
        total = _positive_int(first.get(wire.TOTAL_PAGES_FIELD))
        progress = _Progress(on_page, total or 1)
        progress.page_done()
        for item in items:
            yield item
        if _is_last(first, wire.FIRST_PAGE, total, items, size):
            return
        page_no, page = wire.FIRST_PAGE, first
        if total is not None and total > wire.FIRST_PAGE:
            numbers = range(2, total + 1)
            pages = self._concurrent_pages(search, numbers, size)
            async with aclosing(pages):
                page_no = wire.FIRST_PAGE
                async for page in pages:
                    page_no += 1
                    progress.page_done()
                    items = wire.results_of(page, resource)
                    for item in items:
                        yield item
                    if not items:  # the pages ran out before the announced total
                        break
        # Unknown page count, or more pages appeared meanwhile: walk on one by one.
        while not _is_last(page, page_no, None, wire.results_of(page, resource), size):
            page_no += 1
            page = await self.page(search, page_no, size)
            progress.grow(page_no)
            progress.page_done()
            for item in wire.results_of(page, resource):
                yield item

    async def _concurrent_pages(
        self, search: Search, numbers: range, size: int
    ) -> AsyncGenerator[Json, None]:
        # A sliding window of requests keeps every in-flight slot busy while bounding
        # the pages held in memory to the window, however large the account.
        window = 2 * self._session.limits.max_in_flight
        upcoming = iter(numbers)
        tasks: deque[asyncio.Task[Json]] = deque()

        def launch() -> None:
            for number in islice(upcoming, max(0, window - len(tasks))):
                task = asyncio.create_task(self.page(search, number, size))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
                tasks.append(task)

        try:
            launch()
            while tasks:
                page = await tasks.popleft()
                launch()
                yield page
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


class _Progress:
    def __init__(self, on_page: OnPage | None, total: int) -> None:
        self._on_page = on_page
        self.total = total
        self.done = 0

    def page_done(self) -> None:
        self.done += 1
        if self._on_page is not None:
            self._on_page(self.done, max(self.total, self.done))

    def grow(self, page_no: int) -> None:
        self.total = max(self.total, page_no)


def _is_last(page: Json, page_no: int, total: int | None, items: list[Json], size: int) -> bool:
    if not items:  # past the end, whatever `last` or `totalPages` claim
        return True
    last = page.get(wire.LAST_PAGE_FIELD)
    if isinstance(last, bool):
        return last
    if total is not None:
        return page_no >= total
    return len(items) < size


def _positive_int(value: Any) -> int | None:
    """A count PB sent, if it is one (JSON may carry strings, Infinity, NaN, 2.5...)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value) if value > 0 else None
