"""What the route modules share: the emulator's state (``Sandbox``) and ``Endpoint``.

An ``Endpoint`` is one route template and its handlers, behind the pipeline every PB
request goes through: latency → scripted or random fault → method check (405) → bearer
token (401) → ``X-PB-TransactionId`` (400) → handler → after-commit fault → request log.
Handlers raise ``ApiError``; the pipeline renders the unified error body.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox import config as c
from reconcile.sandbox.apierror import ApiError, ErrorItem
from reconcile.sandbox.config import SandboxConfig
from reconcile.sandbox.dates import next_stamp
from reconcile.sandbox.faults import Faults, fault_response
from reconcile.sandbox.store import Store
from reconcile.sandbox.tokens import TokenBook
from reconcile.sandbox.traffic import Traffic

logger = logging.getLogger(__name__)
Handler = Callable[["Sandbox", Request], Awaitable[Response]]
#: Epoch seconds now; injected by tests that move time instead of waiting for it.
Clock = Callable[[], float]
_TRANSACTION_ID = re.compile(c.TRANSACTION_ID_PATTERN)


class Sandbox:
    """The mutable state of one emulator: store, live config, tokens, faults, traffic.

    ``clock`` is the emulator's time: token expiry, PB dates and the request log."""

    def __init__(
        self,
        store: Store,
        config: SandboxConfig,
        *,
        log_failures: bool = True,
        clock: Clock = time.time,
    ) -> None:
        self.store = store
        self.config = config
        #: False in-process (embedded): the client reports the 500; no traceback on stderr.
        self.log_failures = log_failures
        self.clock = clock
        self.startup_config = config.copy()
        self.tokens = TokenBook(clock)
        self.traffic = Traffic(clock=clock)
        self.faults = Faults(config.seed)
        self._used_transaction_ids: set[str] = set()
        #: Objects not yet in search (``lag``), per kind.
        self.lagging: dict[str, list[Any]] = {}
        #: Merchants loaded through the admin route; None: the generated fixtures.
        self.merchants: list[dict[str, Any]] | None = None

    def reset(self) -> None:
        """Wipe data, traffic, faults and tokens; restore the startup config."""
        self.store.wipe()
        self.traffic.clear()
        self.faults.clear()
        self.tokens.expire_all()
        self._used_transaction_ids.clear()
        self.lagging.clear()
        self.merchants = None
        self.config.restore(self.startup_config)
        self.faults.reseed(self.config.seed)

    def stamp(self, previous: float | None, resolution: float) -> float:
        """A pbCreateDate/pbUpdateDate instant at the output resolution (see config)."""
        return next_stamp(self.clock(), previous, resolution, self.config.monotonic_update_dates)

    def authenticate(self, request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not self.tokens.is_valid(token.strip()):
            reason = "missing" if not token else "invalid or expired"
            description = f"Authentication error: the bearer access token is {reason}."
            item = ErrorItem(self.config.auth_error_code, description, ("Authorization",))
            raise ApiError(401, [item])

    def check_transaction_id(self, transaction_id: str | None) -> None:
        if transaction_id is None or not _TRANSACTION_ID.match(transaction_id):
            shown = "missing" if transaction_id is None else f"{transaction_id[:40]!r}"
            raise ApiError.of(
                "transaction_id.invalid",
                f"X-PB-TransactionId must be 1-25 of A-Z a-z 0-9 _ - (got {shown}).",
                "X-PB-TransactionId",
            )
        if self.config.strict_transaction_ids:
            if transaction_id in self._used_transaction_ids:
                raise ApiError.of("transaction_id.reused", None, "X-PB-TransactionId")
            self._used_transaction_ids.add(transaction_id)

    async def delay(self) -> None:
        cfg = self.config
        millis = cfg.latency_ms + (
            self.faults.rng.uniform(0, cfg.jitter_ms) if cfg.jitter_ms else 0
        )
        if millis > 0:
            await asyncio.sleep(millis / 1000)


@dataclass(frozen=True)
class Endpoint:
    """One route template and the handler of each method it supports."""

    template: str
    handlers: dict[str, Handler]
    pb: bool = True  # a Fulfillment route: latency, random faults, token and transaction id
    admin: bool = False  # a test-control route: no faults, not logged
    #: A Fulfillment route (False: PB's shipping side, e.g. merchants): answers 403 while
    #: ``fulfillment_enabled`` is off, and needs X-PB-TransactionId.
    fulfillment: bool = True

    async def serve(self, sandbox: Sandbox, request: Request) -> Response:
        method, path = request.method, request.url.path
        if self.admin:
            return await self._handle(sandbox, request, method)
        transaction_id = request.headers.get(c.TRANSACTION_ID_HEADER)
        if self.pb:
            await sandbox.delay()
        response = await self._answer(sandbox, request, method, path)
        sandbox.traffic.record(method, self.template, path, response.status_code, transaction_id)
        return response

    async def _answer(self, sandbox: Sandbox, request: Request, method: str, path: str) -> Response:
        cfg = sandbox.config
        scripted = sandbox.faults.take(method, path)
        if scripted is not None and not scripted.after_commit:
            return fault_response(scripted.action, scripted.retry_after, cfg)
        if scripted is None and self.pb:
            kind = sandbox.faults.roll(cfg.fault_rate, cfg.fault_kinds)
            if kind is not None:
                # A 429 means PB refused the request unread: it never strikes after commit.
                if cfg.faults_after_commit and kind != "429" and _is_write(method, path):
                    await self._handle(sandbox, request, method)  # committed, answer lost
                return fault_response(kind, None, cfg)
        response = await self._handle(sandbox, request, method)
        if scripted is not None:
            return fault_response(scripted.action, scripted.retry_after, cfg)
        return response

    async def _handle(self, sandbox: Sandbox, request: Request, method: str) -> Response:
        try:
            handler = self.handlers.get(method)
            if handler is None:
                allowed = ", ".join(self.handlers)
                raise ApiError.of(
                    "method.not_allowed",
                    f"{method} is not allowed on {self.template}; allowed: {allowed or 'none'}.",
                )
            if self.pb:
                sandbox.authenticate(request)
            if self.pb and self.fulfillment:
                sandbox.check_transaction_id(request.headers.get(c.TRANSACTION_ID_HEADER))
                if not sandbox.config.fulfillment_enabled:
                    raise ApiError.of("1000033", None, "Authorization")
            return await handler(sandbox, request)
        except ApiError as e:
            if e.status == 405:
                e.headers["Allow"] = ", ".join(self.handlers)
            if e.status == 404 and self.pb and not sandbox.config.not_found_error_object:
                return Response(b"", 404)  # the probe's alternative: a bare 404
            return e.response()
        except Exception as e:  # a bug or a storage failure: still PB's error shape
            log = logger.exception if sandbox.log_failures else logger.debug
            log("sandbox: %s %s failed", method, request.url.path, exc_info=True)
            description = f"Internal server error ({type(e).__name__})."
            return ApiError.of("1000005", description).response()


def _is_write(method: str, path: str) -> bool:
    """A request that changes PB's state (not a search, the snapshot or the token)."""
    reads = ("/search", "/search/", "/snapshot")
    return method in ("POST", "PUT") and not path.endswith(reads) and "/oauth/" not in path
