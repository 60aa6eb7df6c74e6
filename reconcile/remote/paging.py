"""Paged searches: page 1, then the remaining pages concurrently, yielded in page order."""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from itertools import islice
from typing import Any, NoReturn

from reconcile.errors import RemoteStateError
from reconcile.remote import answers, wire
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


def search_body(client_id: str, fields: list[Json], sort: list[str] | None, resource: str) -> Json:
    """A search request body; without ``sort``, the walk's explicit stable order."""
    body: Json = {"clientId": client_id, wire.SEARCH_FIELDS_FIELD: fields}
    body[wire.SORT_FIELD] = sort or list(wire.SEARCH_SORT[resource])
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
        call.check = lambda answer: answers.page_problem(answer, search.resource)
        call.read = True
        return await self._session.run(call)

    async def paged(self, search: Search, on_page: OnPage | None) -> AsyncIterator[Json]:
        """Page 1, then the remaining pages concurrently, yielded in page order.

        Strict (an answer not understood is an error, never "nothing there"): page 1
        must not deny being the first; later pages are asked with the size PB served on
        page 1; the walk stops at ceil(totalElements / size) (or ``totalPages``, or the
        first short page) and never beyond ``limits.max_search_pages``; a page that
        repeats an object already seen is an error; and the distinct objects read must
        number ``totalElements`` when PB gave it.
        """
        first = await self.page(search, wire.FIRST_PAGE, self._session.limits.page_size)
        walk = _Walk(search, first, self._session.limits.max_search_pages)
        progress = _Progress(on_page, walk.pages or 1)
        progress.page_done()
        for item in walk.take(first, wire.FIRST_PAGE):
            yield item
        page_no, page = wire.FIRST_PAGE, first
        if walk.pages is not None and walk.pages > wire.FIRST_PAGE:
            pages = self._concurrent_pages(search, range(2, walk.pages + 1), walk.size)
            async with aclosing(pages):
                async for page in pages:
                    page_no += 1
                    progress.page_done()
                    for item in walk.take(page, page_no):
                        yield item
                    if walk.ended:
                        break
        while not walk.ended and walk.pages is None:  # no count announced: page to a short one
            page_no += 1
            walk.check_ceiling(page_no)
            page = await self.page(search, page_no, walk.size)
            progress.grow(page_no)
            progress.page_done()
            for item in walk.take(page, page_no):
                yield item
        walk.check_total()

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


class _Walk:
    """The rules of one strict walk through a search's pages."""

    def __init__(self, search: Search, first: Json, ceiling: int) -> None:
        self.search = search
        self.ceiling = ceiling
        self.seen: set[str] = set()
        self.count = 0
        self.ended = False
        if first.get(wire.FIRST_FIELD) is False:
            self.fail(f"page {wire.FIRST_PAGE} says it is not the first (`first: false`)")
        items = answers.results_of(first, search.resource)
        self.total = answers.count_field(first, wire.TOTAL_ELEMENTS_FIELD)
        self.size = _positive_int(first.get(wire.PAGE_SIZE_FIELD)) or len(items) or 1
        self.pages = self._pages(first)
        if self.pages is not None:
            self.check_ceiling(self.pages)

    def _pages(self, first: Json) -> int | None:
        """How many pages to read: from totalElements when given, else totalPages."""
        if self.total is not None:
            return math.ceil(self.total / self.size)
        announced = _positive_int(first.get(wire.TOTAL_PAGES_FIELD))
        if announced is None and first.get(wire.TOTAL_PAGES_FIELD) is not None:
            return None if first.get(wire.LAST_PAGE_FIELD) is not True else 1
        return announced

    def take(self, page: Json, page_no: int) -> list[Json]:
        items = answers.results_of(page, self.search.resource)
        for item in items:
            key = answers.identity(item, self.search.resource)
            if key is None:
                continue
            if key in self.seen:
                self.fail(
                    f"page {page_no} repeats an object an earlier page held ({key}); the "
                    "order shifted under the walk or PB ignores the page number"
                )
            self.seen.add(key)
        self.count += len(items)
        last = page.get(wire.LAST_PAGE_FIELD)
        short = len(items) < self.size
        at_end = self.pages is not None and page_no >= self.pages
        self.ended = not items or short or last is True or at_end
        return items

    def check_ceiling(self, pages: int) -> None:
        if pages > self.ceiling:
            self.fail(
                f"the walk would need {pages:,} pages, more than `limits.max_search_pages` "
                f"({self.ceiling:,}); raise it if the account really holds that much"
            )

    def check_total(self) -> None:
        if self.total is not None and self.count != self.total:
            self.fail(
                f"the search announced {self.total:,} results ({wire.TOTAL_ELEMENTS_FIELD}) "
                f"but its pages held {self.count:,}; what is missing would be planned as "
                "absent, so nothing is planned"
            )

    def fail(self, problem: str) -> NoReturn:
        raise RemoteStateError(
            f"PB's search answer cannot be trusted: {problem}. Run `reconcile probe` to "
            "check this account's search",
            operation=self.search.operation,
            resource=f"{self.search.resource} search",
        )


def _positive_int(value: Any) -> int | None:
    """A count PB sent, if it is one (JSON may carry strings, Infinity, NaN, 2.5...)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value) if value > 0 else None
