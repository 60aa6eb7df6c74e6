"""The one door to PB: every read and write of the engine goes through ``PBClient``.

Per request: a bearer token (``auth.py``), a fresh ``X-PB-TransactionId``
(``transaction.py``), ``Content-Type: application/json`` and
``X-PB-UnifiedErrorStructure: true``; a slot from the run's shared rate limiter and
in-flight bound (``ratelimit.py``). Per operation: retries with exponential backoff and
jitter (stamina) on network faults and 429/500/502/503/504, honouring ``Retry-After``,
bounded by ``limits.retry_attempts`` and ``limits.retry_timeout_seconds``.

Writes whose outcome is unknown (the request may have reached PB) are never blindly
repeated where a repeat could duplicate:

* BOM create: before each retry, search the BOM's (sku, node) key; a BOM found there
  with the content we sent is the one our lost attempt created, and is returned.
* product create: products are keyed by SKU, so a repeat cannot duplicate; a retry that
  comes back "invalid" (PB's answer to a duplicate SKU) is resolved by reading the
  product: equal to what we sent → returned, otherwise the error stands.
* bulk products: retried as is (keyed by SKU, no duplicates possible); items the lost
  attempt already created come back as per-item failures, which the engine resolves by
  re-reading those products.
* updates (PUT) replace the whole object and are idempotent: retried as is.

Every failure is a ``reconcile.errors.RemoteError`` carrying operation, resource,
status, PB's error details and the transaction id. The key, secret and token never
appear in log lines, error messages or reprs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from itertools import islice
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
import stamina

from reconcile import __version__
from reconcile.errors import (
    AuthError,
    NotFoundError,
    RemoteError,
    RemoteStateError,
    ValidationFailed,
)
from reconcile.remote import wire
from reconcile.remote.auth import TokenSource, access_token
from reconcile.remote.failure import (
    RETRYABLE_STATUSES,
    Context,
    error_from_response,
    error_from_transport,
    json_object,
    maybe_applied,
    retry_after_seconds,
)
from reconcile.remote.ratelimit import Pacer
from reconcile.remote.redact import Redactor
from reconcile.remote.tls import check_base_url, proxy_for, tls_context
from reconcile.remote.transaction import OperationIds, TransactionIds, check_run_id, new_run_id
from reconcile.settings import Credentials, Limits

log = logging.getLogger("reconcile.remote")

T = TypeVar("T")
E = TypeVar("E", bound=RemoteError)

OnPage = Callable[[int, int], None]
Json = dict[str, Any]

# Retries are logged here, with operation, resource and reason; stamina's own warning
# ("stamina.retry_scheduled", no details) would only add noise on stderr.
stamina.instrumentation.set_on_retry_hooks([])


def quiet_http_logs() -> None:
    """Keep httpx's per-request INFO lines (and httpcore's trace) out of normal runs.

    A level set explicitly (the CLI's ``-v`` does, for httpx) is never touched.
    """
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


class _Retry(Exception):
    """An attempt failed in a way worth another one (internal to the retry loop)."""

    def __init__(self, error: RemoteError, *, retry_after: float | None, applied: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        self.maybe_applied = applied
        self.wait_too_long = False


#: Called before a retry whose predecessor may have been applied; a result ends the call.
BeforeRetry = Callable[[_Retry], Awaitable[Json | None]]


@dataclass
class _Call:
    """One logical PB operation, however many HTTP requests it takes."""

    operation: str
    resource: str
    method: str
    path: str
    body: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    #: Vets a 2xx answer: the reason it cannot be used, or None.
    check: Callable[[Json], str | None] | None = None


@dataclass(frozen=True)
class _Search:
    """One paged search: its operation name, path, body, and results kind
    (a key of ``wire.RESULTS_FIELDS``)."""

    operation: str
    path: str
    body: Json
    resource: str


class _PacedTransport(httpx.AsyncBaseTransport):
    """Every request of the client, token requests included, through one pacer.

    The body is read inside the slot, so ``max_in_flight`` bounds whole exchanges.
    """

    def __init__(
        self, inner: httpx.AsyncBaseTransport, pacer: Pacer, on_request: Callable[[], None]
    ) -> None:
        self._inner = inner
        self._pacer = pacer
        self._on_request = on_request

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with self._pacer.slot():
            self._on_request()
            started = time.monotonic()
            response = await self._inner.handle_async_request(request)
            try:
                content = b"".join([chunk async for chunk in response.aiter_raw()])
            finally:
                await response.aclose()
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

    async def aclose(self) -> None:
        await self._inner.aclose()


class PBClient:
    """Async client for the PB Fulfillment API (products, BOMs, inventory snapshot)."""

    def __init__(
        self,
        *,
        base_url: str,
        credentials: Credentials,
        limits: Limits,
        environment: str,
        transport: httpx.AsyncBaseTransport | None = None,
        run_id: str | None = None,
        credential_vars: tuple[str, ...] = (),
        on_close: Callable[[], None] | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        """``pacer``: share one rate limit and in-flight bound between several clients of
        a run (default: a new one from ``limits``)."""
        quiet_http_logs()
        self.environment = environment
        self._on_close = on_close
        self.run_id = check_run_id(run_id) if run_id else new_run_id()
        self.request_count = 0
        self.limits = limits
        self._ids = TransactionIds(self.run_id)
        self._credential_vars = credential_vars
        self._redact = Redactor(
            credentials.key.get_secret_value(), credentials.secret.get_secret_value()
        )
        if transport is None:  # the real network: only safe URLs, TLS >= 1.2
            self.base_url = check_base_url(base_url)
            transport = httpx.AsyncHTTPTransport(
                verify=tls_context(),
                proxy=proxy_for(self.base_url),
                limits=httpx.Limits(
                    max_connections=limits.max_in_flight,
                    max_keepalive_connections=limits.max_in_flight,
                ),
            )
        else:  # injected (the embedded sandbox, in-process): trusted
            self.base_url = base_url.rstrip("/")
        self.pacer = pacer or Pacer(limits.requests_per_second, limits.max_in_flight)
        self._transport = _PacedTransport(transport, self.pacer, self._count_request)
        self._tokens = TokenSource(credentials, self._fetch_token, self._redact)
        self._http: httpx.AsyncClient | None = None
        self._pending: set[asyncio.Task[Json]] = set()

    def __repr__(self) -> str:
        return (
            f"PBClient(environment={self.environment!r}, base_url={self.base_url!r}, "
            f"run_id={self.run_id!r}, requests={self.request_count})"
        )

    def _count_request(self) -> None:
        self.request_count += 1

    async def __aenter__(self) -> Self:
        limits = self.limits
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=self._transport,
            timeout=httpx.Timeout(
                connect=limits.connect_timeout_seconds,
                read=limits.read_timeout_seconds,
                write=limits.write_timeout_seconds,
                pool=limits.pool_timeout_seconds,
            ),
            headers={
                "User-Agent": f"reconcile/{__version__}",
                "Accept": wire.JSON_CONTENT_TYPE,
                wire.UNIFIED_ERRORS_HEADER: "true",
            },
            follow_redirects=False,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        # Pages of a search the caller stopped reading must not outlive the connection.
        pending = list(self._pending)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("use PBClient as `async with PBClient(...) as client:`")
        return self._http

    # -- products ------------------------------------------------------------------------

    async def create_product(self, product: Json) -> Json:
        """POST one product; a retry answered "invalid" is resolved by reading it back."""
        sku = str(product.get("sku", "?"))
        call = _Call("product.create", f"product.{sku}", "POST", wire.PRODUCTS_PATH, product)
        unknown: list[_Retry] = []

        async def remember(failure: _Retry) -> None:
            unknown.append(failure)

        try:
            return await self._run(call, before_retry=remember)
        except ValidationFailed as error:
            if not unknown:
                raise
            return await self._resolve_product_create(product, error)

    async def _resolve_product_create(self, sent: Json, error: ValidationFailed) -> Json:
        stored = await self.get_product(str(sent.get("clientId", "")), str(sent.get("sku", "")))
        if stored is not None and _holds(stored, sent, wire.PRODUCT_SERVER_FIELDS):
            log.info(
                "product.create %s: an earlier attempt had created it; read back and kept",
                error.resource,
            )
            return stored
        if stored is None:
            raise error
        raise _amended(
            error,
            "an earlier attempt may have created it, but PB now holds a product with this SKU "
            "that differs from what was sent",
        )

    async def update_product(self, sku: str, product: Json) -> Json:
        """PUT (full replacement) of one product."""
        path = f"{wire.PRODUCTS_PATH}/{quote(sku, safe='')}"
        return await self._run(_Call("product.update", f"product.{sku}", "PUT", path, product))

    async def bulk_products(self, items: list[Json]) -> Json:
        """POST up to ``wire.BULK_MAX_ITEMS`` products, each carrying its ``operation``."""
        if not 0 < len(items) <= wire.BULK_MAX_ITEMS:
            raise ValueError(
                f"a bulk call takes 1 to {wire.BULK_MAX_ITEMS} items, not {len(items)}"
            )
        skus = [str(item.get("sku", "?")) for item in items]
        resource = f"{len(items)} products ({skus[0]}…{skus[-1]})" if len(skus) > 1 else skus[0]
        body = {wire.BULK_ITEMS_FIELD: items}
        return await self._run(
            _Call("product.bulk", resource, "POST", wire.PRODUCTS_BULK_PATH, body)
        )

    async def get_product(self, client_id: str, sku: str) -> Json | None:
        """One product by SKU, or None if PB has none."""
        path = f"{wire.PRODUCTS_PATH}/{quote(sku, safe='')}"
        call = _Call("product.get", f"product.{sku}", "GET", path)
        call.params = {wire.CLIENT_ID_PARAM: client_id}
        try:
            return await self._run(call)
        except NotFoundError:
            return None

    def search_products(
        self,
        client_id: str,
        search_fields: list[Json] | None = None,
        sort: list[str] | None = None,
        on_page: OnPage | None = None,
    ) -> AsyncIterator[Json]:
        """Every product matching; ``search_fields=None`` means all (the six-month
        default window of PB's search is widened by ``wire.product_window_search_fields``);
        pass ``[]`` to send no filter at all."""
        fields = wire.product_window_search_fields() if search_fields is None else search_fields
        body = _search_body(client_id, fields, sort)
        search = _Search("product.search", wire.PRODUCTS_SEARCH_PATH, body, "products")
        return self._paged(search, on_page)

    async def search_products_page(self, client_id: str, page: int, size: int) -> Json:
        """One raw page of the product search (used by ``doctor``)."""
        body = _search_body(client_id, wire.product_window_search_fields(), None)
        search = _Search("product.search", wire.PRODUCTS_SEARCH_PATH, body, "products")
        return await self._page(search, page, size)

    # -- BOMs ----------------------------------------------------------------------------

    async def create_bom(self, bom: Json) -> Json:
        """POST one BOM. If an attempt's outcome is unknown, its (sku, node) key is
        searched before any retry, and a BOM found there with our content is returned."""
        call = _Call("bom.create", _bom_address(bom), "POST", wire.BOMS_PATH, bom)

        async def find_ours(failure: _Retry) -> Json | None:
            return await self._find_created_bom(bom, failure)

        return await self._run(call, before_retry=find_ours)

    async def _find_created_bom(self, bom: Json, failure: _Retry) -> Json | None:
        """The BOM a lost create made, None if it made none; never risks a duplicate."""
        fields = [{"name": wire.BOM_PARENT_SKU_SEARCH_FIELD, "values": [bom.get("sku")]}]
        same_key = [
            candidate
            async for candidate in self.search_boms(
                str(bom.get("clientId", "")), fields, include_inactive=True
            )
            if candidate.get("sku") == bom.get("sku") and candidate.get("node") == bom.get("node")
        ]
        ours = [c for c in same_key if _holds(c, bom, wire.BOM_SERVER_FIELDS)]
        # An active BOM under this key that is not exactly ours may still be ours, altered
        # or normalised by PB: creating another could duplicate it, so stop instead.
        others = [c for c in same_key if c not in ours and c.get("active", True)]
        address, transaction_id = _bom_address(bom), failure.error.transaction_id
        if len(ours) == 1 and not others:
            log.info(
                "bom.create %s: the attempt [%s] had gone through (id %s); not repeating it",
                address,
                transaction_id,
                wire.bom_id_of(ours[0]),
            )
            return ours[0]
        if ours or others:
            ids = ", ".join(str(wire.bom_id_of(b)) for b in ours + others)
            raise RemoteStateError(
                f"an attempt's outcome is unknown and PB now holds active BOMs with this key "
                f"(ids {ids}); not retrying, to avoid a duplicate: run plan again to see them",
                operation="bom.create",
                resource=address,
                transaction_id=transaction_id,
            )
        log.info("bom.create %s: the lost attempt [%s] created nothing", address, transaction_id)
        return None

    async def update_bom(self, bom_id: str, bom: Json) -> Json:
        """PUT (full replacement) of one BOM by PB's id."""
        path = f"{wire.BOMS_PATH}/{quote(bom_id, safe='')}"
        resource = f"{_bom_address(bom)} (id {bom_id})"
        return await self._run(_Call("bom.update", resource, "PUT", path, bom))

    def search_boms(
        self,
        client_id: str,
        search_fields: list[Json] | None = None,
        include_inactive: bool = False,
        on_page: OnPage | None = None,
    ) -> AsyncIterator[Json]:
        """Every BOM matching; inactive ones only with ``include_inactive``."""
        fields = list(search_fields or [])
        if include_inactive:
            fields.append(dict(wire.BOM_INCLUDE_INACTIVE))
        body = _search_body(client_id, fields, None)
        return self._paged(_Search("bom.search", wire.BOMS_SEARCH_PATH, body, "boms"), on_page)

    async def search_boms_page(
        self, client_id: str, page: int, size: int, *, include_inactive: bool = False
    ) -> Json:
        """One raw page of the BOM search (its ``totalElements`` counts the client's BOMs)."""
        fields = [dict(wire.BOM_INCLUDE_INACTIVE)] if include_inactive else []
        body = _search_body(client_id, fields, None)
        search = _Search("bom.search", wire.BOMS_SEARCH_PATH, body, "boms")
        return await self._page(search, page, size)

    # -- inventory -----------------------------------------------------------------------

    def inventory_snapshot(
        self,
        client_id: str,
        search_fields: list[Json] | None = None,
        on_page: OnPage | None = None,
    ) -> AsyncIterator[Json]:
        """Every inventory record matching."""
        body = _search_body(client_id, list(search_fields or []), None)
        search = _Search("inventory.snapshot", wire.INVENTORY_SNAPSHOT_PATH, body, "inventory")
        return self._paged(search, on_page)

    # -- token ---------------------------------------------------------------------------

    async def check_token(self) -> float:
        """Fetch a token (with retries); return its lifetime in seconds (for ``doctor``)."""
        await self._retrying(_Call("token", "", "POST", wire.TOKEN_PATH), self._tokens.get)
        return self._tokens.expires_in or 0.0

    async def _fetch_token(self, headers: dict[str, str], form: dict[str, str]) -> Json:
        ids = self._ids.operation("token")
        transaction_id = ids.next()
        request = self.http.build_request(
            "POST",
            wire.TOKEN_PATH,
            headers={**headers, wire.TRANSACTION_ID_HEADER: transaction_id},
            data=form,
        )
        context = self._context("token", "", transaction_id)
        response = await self._exchange(request, context)
        if not response.is_success:
            raise self._credentials_error(response, context)
        try:
            body = json_object(response, context)
            access_token(body)
        except RemoteError as e:
            message = f"could not read PB's token answer: {e.message}"
            raise context.error(AuthError, message, response.status_code) from e
        return body

    def _credentials_error(self, response: httpx.Response, context: Context) -> RemoteError:
        error = error_from_response(response, context)
        if response.status_code not in (400, 401, 403):
            return error
        read = ", ".join(self._credential_vars) or "the sandbox's generated credentials"
        message = (
            f"PB refused the credentials for environment {self.environment!r} (read from "
            f"{read}); check that they are this environment's API key and secret"
        )
        return context.error(AuthError, message, response.status_code, error.details)

    # -- one operation: retries around attempts -------------------------------------------

    async def _run(self, call: _Call, before_retry: BeforeRetry | None = None) -> Json:
        ids = self._ids.operation(call.operation)
        failures: list[_Retry] = []

        async def attempt() -> Json:
            # Any earlier attempt that may have landed can still commit late (a gateway
            # timed out, PB finished afterwards): check before EVERY later attempt, not
            # only right after it, since an attempt refused meanwhile (429) proves nothing.
            landed = [f for f in failures if f.maybe_applied]
            if landed and before_retry is not None:
                resolved = await before_retry(landed[-1])
                if resolved is not None:
                    return resolved
            try:
                return await self._attempt(call, ids)
            except _Retry as failure:
                if failure.error.operation == call.operation:  # not a failed token fetch
                    failures.append(failure)
                raise

        return await self._retrying(call, attempt)

    async def _retrying(self, call: _Call, attempt: Callable[[], Awaitable[T]]) -> T:
        started = time.monotonic()
        attempts = 0
        try:
            async for retry in stamina.retry_context(
                on=self._should_retry(call, started),
                attempts=self.limits.retry_attempts,
                timeout=self.limits.retry_timeout_seconds,
                wait_initial=self.limits.retry_wait_initial_seconds,
                wait_max=self.limits.retry_wait_max_seconds,
                wait_jitter=self.limits.retry_wait_initial_seconds,
            ):
                with retry:
                    attempts += 1
                    return await attempt()
        except _Retry as final:
            raise _gave_up(final, attempts, time.monotonic() - started) from final.__cause__
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    def _should_retry(self, call: _Call, started: float) -> Callable[[Exception], bool | float]:
        def decide(error: Exception) -> bool | float:
            if not isinstance(error, _Retry):
                return False
            log.info(
                "%s %s: %s [%s]",
                call.operation,
                call.resource,
                error.error.message,
                error.error.transaction_id,
            )
            if error.retry_after is None:
                return True
            remaining = self.limits.retry_timeout_seconds - (time.monotonic() - started)
            if error.retry_after > remaining:
                error.wait_too_long = True
                return False
            return error.retry_after

        return decide

    async def _attempt(self, call: _Call, ids: OperationIds) -> Json:
        """One attempt: token, request, and one token refresh + re-send on a 401."""
        token = await self._tokens.get()
        response, context = await self._send(call, ids, token)
        if response.status_code == 401:
            log.info(
                "%s %s: token refused (401); refreshing it once", call.operation, call.resource
            )
            self._tokens.invalidate(token)
            token = await self._tokens.get()
            response, context = await self._send(call, ids, token)
        if not response.is_success:
            raise error_from_response(response, context)
        body = json_object(response, context)
        problem = call.check(body) if call.check is not None else None
        if problem is not None:
            raise context.error(RemoteError, problem, response.status_code)
        return body

    async def _send(
        self, call: _Call, ids: OperationIds, token: str
    ) -> tuple[httpx.Response, Context]:
        transaction_id = ids.next()
        headers = {
            "Authorization": f"Bearer {token}",
            wire.TRANSACTION_ID_HEADER: transaction_id,
            "Content-Type": wire.JSON_CONTENT_TYPE,
        }
        request = self.http.build_request(
            call.method, call.path, headers=headers, params=call.params or None, json=call.body
        )
        context = self._context(call.operation, call.resource, transaction_id)
        return await self._exchange(request, context), context

    async def _exchange(self, request: httpx.Request, context: Context) -> httpx.Response:
        """Send one request; network faults and retryable statuses raise ``_Retry``."""
        try:
            response = await self.http.send(request)
        except httpx.TransportError as e:
            error = error_from_transport(e, context)
            raise _Retry(error, retry_after=None, applied=maybe_applied(e, None)) from e
        except httpx.HTTPError as e:  # e.g. a body that fails its Content-Encoding
            message = f"PB's answer could not be read ({type(e).__name__}: {e})"
            raise context.error(RemoteError, message) from e
        if response.status_code in RETRYABLE_STATUSES:
            raise _Retry(
                error_from_response(response, context),
                retry_after=retry_after_seconds(response),
                applied=maybe_applied(None, response.status_code),
            )
        return response

    def _context(self, operation: str, resource: str, transaction_id: str) -> Context:
        return Context(operation, resource, transaction_id, self._redact)

    # -- pagination ----------------------------------------------------------------------

    async def _page(self, search: _Search, page: int, size: int) -> Json:
        call = _Call(search.operation, f"page {page}", "POST", search.path, search.body)
        call.params = {wire.PAGE_PARAM: page, wire.SIZE_PARAM: size}
        call.check = lambda answer: wire.page_problem(answer, search.resource)
        return await self._run(call)

    async def _paged(self, search: _Search, on_page: OnPage | None) -> AsyncIterator[Json]:
        """Page 1, then the remaining pages concurrently, yielded in page order.

        Later pages are asked with the page size PB actually used on page 1 (it may cap
        the size asked), and the walk follows ``totalPages``/``last``.
        """
        resource = search.resource
        first = await self._page(search, wire.FIRST_PAGE, self.limits.page_size)
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
            page = await self._page(search, page_no, size)
            progress.grow(page_no)
            progress.page_done()
            for item in wire.results_of(page, resource):
                yield item

    async def _concurrent_pages(
        self, search: _Search, numbers: range, size: int
    ) -> AsyncGenerator[Json, None]:
        # A sliding window of requests keeps every in-flight slot busy while bounding
        # the pages held in memory to the window, however large the account.
        window = 2 * self.limits.max_in_flight
        upcoming = iter(numbers)
        tasks: deque[asyncio.Task[Json]] = deque()

        def launch() -> None:
            for number in islice(upcoming, max(0, window - len(tasks))):
                task = asyncio.create_task(self._page(search, number, size))
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


def _search_body(client_id: str, fields: list[Json], sort: list[str] | None) -> Json:
    body: Json = {"clientId": client_id, wire.SEARCH_FIELDS_FIELD: fields}
    if sort:
        body[wire.SORT_FIELD] = sort
    return body


def _bom_address(bom: Json) -> str:
    sku, node = bom.get("sku", "?"), bom.get("node")
    return f"bom.{sku}@{node}" if node else f"bom.{sku}"


def _holds(stored: Json, sent: Json, server_fields: frozenset[str]) -> bool:
    """Whether PB's copy carries every field we sent with the same value (lists of
    objects, such as BOM components, in any order)."""
    return all(_same(stored.get(k), v) for k, v in sent.items() if k not in server_fields)


def _same(stored: Any, sent: Any) -> bool:
    if isinstance(stored, list) and isinstance(sent, list) and len(stored) == len(sent):
        return sorted(map(_canonical, stored)) == sorted(map(_canonical, sent))
    return bool(stored == sent)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _gave_up(final: _Retry, attempts: int, elapsed: float) -> RemoteError:
    error = final.error
    if final.wait_too_long:
        reason = (
            f"PB asked to wait {final.retry_after:.0f} s (Retry-After), beyond the retry "
            "budget (`limits.retry_timeout_seconds`)"
        )
    else:
        plural = "s" if attempts != 1 else ""
        reason = f"gave up after {attempts} attempt{plural} in {elapsed:.1f} s"
    return _amended(error, reason)


def _amended(error: E, note: str) -> E:
    """The same error with ``note`` added to its message."""
    return type(error)(
        f"{error.message}; {note}",
        operation=error.operation,
        resource=error.resource,
        status=error.status,
        details=error.details,
        transaction_id=error.transaction_id,
    )
