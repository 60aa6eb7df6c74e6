"""The HTTP session of one client: the paced transport, and the retry loop of each operation.

Every request of a client, token requests included, takes a slot of the run's shared rate
limiter and in-flight bound (``ratelimit.py``). Per request: a fresh
``X-PB-TransactionId`` (``transaction.py``), ``Content-Type: application/json`` and
``X-PB-UnifiedErrorStructure: true``; the bearer token comes from an ``httpx.Auth`` flow
(``auth.py``). Per operation (a ``Call``): retries with exponential backoff and jitter
(stamina) on network faults and 429/500/502/503/504, honouring ``Retry-After``, bounded by
``limits.retry_attempts`` and ``limits.retry_timeout_seconds``.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2 as httpx
import stamina

from reconcile import __version__
from reconcile.errors import RemoteError
from reconcile.remote import wire
from reconcile.remote.failure import (
    RETRYABLE_STATUSES,
    Context,
    amended,
    error_from_response,
    error_from_transport,
    json_object,
    maybe_applied,
    retry_after_seconds,
)
from reconcile.remote.redact import Redactor
from reconcile.remote.tls import check_base_url, proxy_for, tls_context
from reconcile.remote.transaction import OperationIds, TransactionIds
from reconcile.settings import Limits

log = logging.getLogger("reconcile.remote")

T = TypeVar("T")
Json = dict[str, Any]

# Retries are logged here, with operation, resource and reason; stamina's own warning
# ("stamina.retry_scheduled", no details) would only add noise on stderr.
stamina.instrumentation.set_on_retry_hooks([])


def quiet_http_logs() -> None:
    """Keep httpx2's per-request INFO lines (and httpcore2's trace) out of normal runs.

    A level set explicitly (the CLI's ``-v`` does, for httpx2) is never touched.
    """
    for name in ("httpx2", "httpcore2"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


class Retry(Exception):
    """An attempt failed in a way worth another one (internal to the retry loop)."""

    def __init__(self, error: RemoteError, *, retry_after: float | None, applied: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        self.maybe_applied = applied
        self.wait_too_long = False


#: Called before a retry whose predecessor may have been applied; a result ends the call.
BeforeRetry = Callable[[Retry], Awaitable[Json | None]]


@dataclass
class Call:
    """One logical PB operation, however many HTTP requests it takes."""

    operation: str
    resource: str
    method: str
    path: str
    body: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    #: Vets a 2xx answer: the reason it cannot be used, or None.
    check: Callable[[Json], str | None] | None = None
    #: A read (GET, search): idempotent, so it gets ``limits.read_retry_attempts``.
    read: bool = False


class Stamp:
    """Gives each HTTP request of one attempt its own transaction id; keeps the last one."""

    def __init__(self, ids: OperationIds) -> None:
        self._ids = ids
        self.transaction_id = ""

    def __call__(self, request: httpx.Request) -> None:
        self.transaction_id = self._ids.next()
        request.headers[wire.TRANSACTION_ID_HEADER] = self.transaction_id


#: The ``httpx.Auth`` flow of one attempt of a call, stamping each request it sends.
Authorize = Callable[[Call, Stamp], httpx.Auth]


def network_transport(
    base_url: str,
    limits: Limits,
    transport: httpx.AsyncBaseTransport | None,
    context: ssl.SSLContext | None = None,
) -> tuple[str, httpx.AsyncBaseTransport]:
    """The base URL and transport of a client: ``transport`` if given, else the network
    with the TLS ``context`` (default: ``tls_context()``)."""
    if transport is not None:  # injected (an in-process app): trusted
        return base_url.rstrip("/"), transport
    base_url = check_base_url(base_url)  # the real network: only safe URLs, TLS >= 1.2
    network = httpx.AsyncHTTPTransport(
        verify=context or tls_context(),
        proxy=proxy_for(base_url),
        limits=httpx.Limits(
            max_connections=limits.max_in_flight,
            max_keepalive_connections=limits.max_in_flight,
        ),
    )
    return base_url, network


class Session:
    """The HTTP side of one client: an httpx client over the paced transport, opened and
    closed with the client, and ``run``: one PB operation, retried."""

    def __init__(
        self,
        *,
        base_url: str,
        transport: httpx.AsyncBaseTransport,
        limits: Limits,
        ids: TransactionIds,
        redact: Redactor,
        authorize: Authorize,
    ) -> None:
        self.base_url = base_url
        self.limits = limits
        self.ids = ids
        self._transport = transport
        self._redact = redact
        self._authorize = authorize
        self._http: httpx.AsyncClient | None = None

    async def open(self) -> None:
        """Open the httpx client, and with it the transport (an in-process app opens here)."""
        limits = self.limits
        http = httpx.AsyncClient(
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
        await http.__aenter__()
        self._http = http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("use PBClient as `async with PBClient(...) as client:`")
        return self._http

    def context(self, operation: str, resource: str, transaction_id: str) -> Context:
        return Context(operation, resource, transaction_id, self._redact)

    # -- one operation: retries around attempts -------------------------------------------

    async def run(self, call: Call, before_retry: BeforeRetry | None = None) -> Json:
        ids = self.ids.operation(call.operation)
        failures: list[Retry] = []

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
            except Retry as failure:
                if failure.error.operation == call.operation:  # not a failed token fetch
                    failures.append(failure)
                raise

        return await self.retrying(call, attempt)

    async def retrying(self, call: Call, attempt: Callable[[], Awaitable[T]]) -> T:
        started = time.monotonic()
        attempts = 0
        throttled: list[int] = []  # the attempts PB answered 429
        try:
            async for retry in stamina.retry_context(
                on=self._should_retry(call, started),
                attempts=self.attempts(call),
                timeout=self.limits.retry_timeout_seconds,
                wait_initial=self.limits.retry_wait_initial_seconds,
                wait_max=self.limits.retry_wait_max_seconds,
                wait_jitter=self.limits.retry_wait_initial_seconds,
            ):
                with retry:
                    attempts += 1
                    try:
                        return await attempt()
                    except Retry as failure:
                        if failure.error.status == 429:
                            throttled.append(attempts)
                        raise
        except Retry as final:
            elapsed = time.monotonic() - started
            raise _gave_up(final, attempts, elapsed, len(throttled), self.limits) from (
                final.__cause__
            )
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    def attempts(self, call: Call) -> int:
        """Reads are idempotent and get more attempts than writes (a bad hour of faults
        must not stop a plan); both stay inside ``retry_timeout_seconds``."""
        limits = self.limits
        if call.read:
            return max(limits.read_retry_attempts, limits.retry_attempts)
        return limits.retry_attempts

    def _should_retry(self, call: Call, started: float) -> Callable[[Exception], bool | float]:
        def decide(error: Exception) -> bool | float:
            if not isinstance(error, Retry):
                return False
            failed = error.error
            # A token fetch failing inside this call is the token's retry, not the call's.
            what = f"{call.operation} {call.resource}"
            if failed.operation and failed.operation != call.operation:
                what = f"{failed.operation} (for {what.strip()})"
            log.info("%s: %s [%s]", what, failed.message, failed.transaction_id)
            if error.retry_after is None:
                return True
            remaining = self.limits.retry_timeout_seconds - (time.monotonic() - started)
            if error.retry_after > remaining:
                error.wait_too_long = True
                return False
            return error.retry_after

        return decide

    async def _attempt(self, call: Call, ids: OperationIds) -> Json:
        """One attempt: the request (its auth flow re-sends it once after a 401) and its
        answer, read."""
        response, context = await self._send(call, ids)
        if not response.is_success:
            raise error_from_response(response, context)
        body = json_object(response, context)
        problem = call.check(body) if call.check is not None else None
        if problem is not None:
            raise context.error(RemoteError, problem, response.status_code)
        return body

    async def _send(self, call: Call, ids: OperationIds) -> tuple[httpx.Response, Context]:
        stamp = Stamp(ids)
        headers = {"Content-Type": wire.JSON_CONTENT_TYPE}
        request = self.http.build_request(
            call.method, call.path, headers=headers, params=call.params or None, json=call.body
        )

        def context() -> Context:  # of the last request sent: the one answered or failed
            return self.context(call.operation, call.resource, stamp.transaction_id)

        response = await self.exchange(request, context, self._authorize(call, stamp))
        return response, context()

    async def exchange(
        self,
        request: httpx.Request,
        context: Callable[[], Context],
        auth: httpx.Auth | None = None,
    ) -> httpx.Response:
        """Send one request; network faults and retryable statuses raise ``Retry``."""
        try:
            response = await self.http.send(request, auth=auth)
        except httpx.TransportError as e:
            error = error_from_transport(e, context())
            raise Retry(error, retry_after=None, applied=maybe_applied(e, None)) from e
        except httpx.HTTPError as e:  # e.g. a body that fails its Content-Encoding
            message = f"PB's answer could not be read ({type(e).__name__}: {e})"
            raise context().error(RemoteError, message) from e
        if response.status_code in RETRYABLE_STATUSES:
            raise Retry(
                error_from_response(response, context()),
                retry_after=retry_after_seconds(response),
                applied=maybe_applied(None, response.status_code),
            )
        return response


def _gave_up(
    final: Retry, attempts: int, elapsed: float, throttled: int, limits: Limits
) -> RemoteError:
    error = final.error
    if error.status == 429 and not final.wait_too_long:
        return amended(error, _throttle_advice(attempts, elapsed, throttled, limits))
    if final.wait_too_long:
        reason = (
            f"PB asked to wait {final.retry_after:.0f} s (Retry-After), beyond the retry "
            "budget (`limits.retry_timeout_seconds`)"
        )
    else:
        plural = "s" if attempts != 1 else ""
        reason = f"gave up after {attempts} attempt{plural} in {elapsed:.1f} s"
    return amended(error, reason)


def _throttle_advice(attempts: int, elapsed: float, throttled: int, limits: Limits) -> str:
    """A throttle on every attempt is a sustained limit: the rate is the fix. A throttle
    among other faults is transient: running again later is."""
    if throttled >= attempts:
        return (
            f"throttled on all {attempts} attempts over {elapsed:.1f} s, a sustained limit: "
            f"lower `limits.requests_per_second` (now {limits.requests_per_second:g}) "
            "in reconcile.yaml"
        )
    return (
        f"gave up after {attempts} attempts in {elapsed:.1f} s, {throttled} of them "
        "throttled: a transient throttle among other faults; run again later"
    )
