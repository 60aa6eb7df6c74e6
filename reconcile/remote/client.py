"""The one door to PB: every read and write of the engine goes through ``PBClient``.

The endpoint methods (products, BOMs, inventory snapshot, token check) live here; how a
request is sent, paced and retried is ``transport.py``, the bearer token ``auth.py``,
paged searches ``paging.py``, and what a lost create had done ``recovery.py``.

* bulk products: retried as is (keyed by SKU, no duplicates possible); items a lost
  attempt already created come back as per-item failures, which the engine resolves by
  re-reading those products.
* updates (PUT) replace the whole object and are idempotent: retried as is.

Every failure is a ``reconcile.errors.RemoteError`` carrying operation, resource,
status, PB's error details and the transaction id. The key, secret and token never
appear in log lines, error messages or reprs.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx2 as httpx

from reconcile.errors import NotFoundError, ValidationFailed
from reconcile.remote import answers, auth, merchants, wire
from reconcile.remote.auth import BearerAuth, TokenRequest, TokenSource
from reconcile.remote.paced import PacedTransport
from reconcile.remote.paging import OnPage, Pager, Search, search_body
from reconcile.remote.ratelimit import Pacer
from reconcile.remote.raw import Exchange, ExchangeLog, RawAnswer, send_raw
from reconcile.remote.recovery import bom_address, find_created_bom, resolve_product_create
from reconcile.remote.redact import Redactor
from reconcile.remote.tls import tls_context
from reconcile.remote.transaction import TransactionIds, check_run_id, new_run_id
from reconcile.remote.transport import (
    Call,
    Retry,
    Session,
    Stamp,
    network_transport,
    quiet_http_logs,
)
from reconcile.settings import Credentials, Limits, Trust

Json = dict[str, Any]


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
        clock: Callable[[], float] = time.monotonic,
        trust: Trust = "default",
    ) -> None:
        """``transport``: an in-process app instead of the network (trusted, any URL);
        ``pacer``: share one rate limit and in-flight bound between several clients of
        a run (default: a new one from ``limits``); ``clock``: what the token cache reads
        to know a token's age (tests inject one); ``trust``: the certificates a network
        client trusts (``remote.tls.tls_context``)."""
        quiet_http_logs()
        self.environment = environment
        self._on_close = on_close
        self.run_id = check_run_id(run_id) if run_id else new_run_id()
        self.request_count = 0
        self.limits = limits
        self._redact = Redactor(
            credentials.key.get_secret_value(), credentials.secret.get_secret_value()
        )
        #: The TLS context of a network client (None in-process): TLS >= 1.2, ``trust``'s CAs.
        self.tls: ssl.SSLContext | None = None if transport is not None else tls_context(trust)
        self.base_url, inner = network_transport(base_url, limits, transport, self.tls)
        self.pacer = pacer or Pacer(limits.requests_per_second, limits.max_in_flight)
        self._session = Session(
            base_url=self.base_url,
            transport=PacedTransport(inner, self.pacer, self._count_request, limits),
            limits=limits,
            ids=TransactionIds(self.run_id),
            redact=self._redact,
            authorize=self._authorize,
        )
        fetch = TokenRequest(self._session, environment, credential_vars)
        self._tokens = TokenSource(credentials, fetch, self._redact, clock)
        self._pager = Pager(self._session)

    def __repr__(self) -> str:
        return (
            f"PBClient(environment={self.environment!r}, base_url={self.base_url!r}, "
            f"run_id={self.run_id!r}, requests={self.request_count})"
        )

    def _count_request(self) -> None:
        self.request_count += 1

    def _authorize(self, call: Call, stamp: Stamp) -> httpx.Auth:
        return BearerAuth(self._tokens, stamp, call.operation, call.resource)

    async def __aenter__(self) -> Self:
        await self._session.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._pager.cancel()
        await self._session.close()
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    @property
    def http(self) -> httpx.AsyncClient:
        return self._session.http

    # -- products ------------------------------------------------------------------------

    async def create_product(self, product: Json) -> Json:
        """POST one product; a retry answered "invalid" is resolved by reading it back."""
        sku = str(product.get("sku", "?"))
        call = Call("product.create", f"product.{sku}", "POST", wire.PRODUCTS_PATH, product)
        unknown: list[Retry] = []

        async def remember(failure: Retry) -> None:
            unknown.append(failure)

        try:
            return await self._session.run(call, before_retry=remember)
        except ValidationFailed as error:
            if not unknown:
                raise
            return await resolve_product_create(self, product, error)

    async def update_product(self, sku: str, product: Json) -> Json:
        """PUT (full replacement) of one product."""
        path = f"{wire.PRODUCTS_PATH}/{quote(sku, safe='')}"
        return await self._session.run(
            Call("product.update", f"product.{sku}", "PUT", path, product)
        )

    async def bulk_products(self, items: list[Json]) -> Json:
        """POST up to ``wire.BULK_MAX_ITEMS`` products, each carrying its ``operation``."""
        if not 0 < len(items) <= wire.BULK_MAX_ITEMS:
            raise ValueError(
                f"a bulk call takes 1 to {wire.BULK_MAX_ITEMS} items, not {len(items)}"
            )
        skus = [str(item.get("sku", "?")) for item in items]
        resource = f"{len(items)} products ({skus[0]}…{skus[-1]})" if len(skus) > 1 else skus[0]
        body = {wire.BULK_ITEMS_FIELD: items}
        return await self._session.run(
            Call("product.bulk", resource, "POST", wire.PRODUCTS_BULK_PATH, body)
        )

    async def get_product(self, client_id: str, sku: str) -> Json | None:
        """One product by SKU, or None if PB has none: only a 404 carrying PB's error
        object means none; an answer about another product is an error."""
        path = f"{wire.PRODUCTS_PATH}/{quote(sku, safe='')}"
        call = Call("product.get", f"product.{sku}", "GET", path, read=True)
        call.params = {wire.CLIENT_ID_PARAM: client_id}
        call.check = lambda answer: answers.product_answer_problem(answer, client_id, sku)
        try:
            return await self._session.run(call)
        except NotFoundError:
            return None

    async def get_bom(self, bom_id: str) -> Json | None:
        """One BOM by PB's id (overview page), whatever its state; None on PB's 404."""
        path = f"{wire.BOMS_PATH}/{quote(bom_id, safe='')}"
        call = Call("bom.get", f"bom id {bom_id}", "GET", path, read=True)
        call.check = lambda answer: answers.bom_answer_problem(answer, bom_id)
        try:
            return await self._session.run(call)
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
        body = search_body(client_id, fields, sort, "products")
        search = Search("product.search", wire.PRODUCTS_SEARCH_PATH, body, "products")
        return self._pager.paged(search, on_page)

    async def search_products_page(self, client_id: str, page: int, size: int) -> Json:
        """One raw page of the product search (used by ``doctor``)."""
        body = search_body(client_id, wire.product_window_search_fields(), None, "products")
        search = Search("product.search", wire.PRODUCTS_SEARCH_PATH, body, "products")
        return await self._pager.page(search, page, size)

    # -- BOMs ----------------------------------------------------------------------------

    async def create_bom(self, bom: Json) -> Json:
        """POST one BOM. If an attempt's outcome is unknown, its (sku, node) key is
        searched before any retry, and a BOM found there with our content is returned."""
        call = Call("bom.create", bom_address(bom), "POST", wire.BOMS_PATH, bom)

        async def find_ours(failure: Retry) -> Json | None:
            return await find_created_bom(self, bom, failure)

        return await self._session.run(call, before_retry=find_ours)

    async def update_bom(self, bom_id: str, bom: Json) -> Json:
        """PUT (full replacement) of one BOM by PB's id."""
        path = f"{wire.BOMS_PATH}/{quote(bom_id, safe='')}"
        resource = f"{bom_address(bom)} (id {bom_id})"
        return await self._session.run(Call("bom.update", resource, "PUT", path, bom))

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
        body = search_body(client_id, fields, None, "boms")
        return self._pager.paged(Search("bom.search", wire.BOMS_SEARCH_PATH, body, "boms"), on_page)

    async def search_boms_page(
        self, client_id: str, page: int, size: int, *, include_inactive: bool = False
    ) -> Json:
        """One raw page of the BOM search (its ``totalElements`` counts the client's BOMs)."""
        fields = [dict(wire.BOM_INCLUDE_INACTIVE)] if include_inactive else []
        body = search_body(client_id, fields, None, "boms")
        search = Search("bom.search", wire.BOMS_SEARCH_PATH, body, "boms")
        return await self._pager.page(search, page, size)

    # -- inventory -----------------------------------------------------------------------

    def inventory_snapshot(
        self,
        client_id: str,
        search_fields: list[Json] | None = None,
        on_page: OnPage | None = None,
    ) -> AsyncIterator[Json]:
        """Every inventory record matching."""
        body = search_body(client_id, list(search_fields or []), None, "inventory")
        search = Search("inventory.snapshot", wire.INVENTORY_SNAPSHOT_PATH, body, "inventory")
        return self._pager.paged(search, on_page)

    # -- merchants (contract §15, outside the Fulfillment prefix) -------------------------

    async def merchants_page(
        self, developer_id: str, page: int, size: int, sort: list[str] | None = None
    ) -> Json:
        """One 0-based page of Get Merchant Accounts (walked by ``merchants.walk_merchants``)."""
        path = merchants.merchants_path(developer_id)
        call = Call("merchants", f"merchants page {page}", "GET", path, read=True)
        call.params = merchants.page_params(page, size, sort)
        call.check = lambda answer: merchants.page_problem(answer, page)
        return await self._session.run(call)

    # -- diagnostics (``probe``) ---------------------------------------------------------

    async def raw(
        self, method: str, path: str, *, params: Json | None = None, body: Any = None
    ) -> RawAnswer:
        """One request whose answer comes back as PB sent it, whatever its status."""
        call = Call("probe", f"{method} {path}", method, path, body, dict(params or {}), read=True)
        return await send_raw(self._session, self._authorize, call)

    def on_exchange(self, callback: Callable[[Exchange], None]) -> None:
        """Hand every later exchange of this open client, masked, to ``callback``."""
        self.http.event_hooks["response"].append(ExchangeLog(self._redact, callback))

    def redact(self, text: str) -> str:
        """``text`` with the key, secret and every token this client saw masked."""
        return self._redact(text)

    # -- token ---------------------------------------------------------------------------

    async def check_token(self) -> float:
        """Fetch a token (with retries); return its lifetime in seconds (for ``doctor``)."""
        return await auth.check_token(self._session, self._tokens)
