"""OAuth client credentials (contract §4): one cached bearer token per client.

The token is fetched on first use (``TokenRequest``, through the client's own session),
kept in memory only, refreshed shortly before ``expiresIn`` runs out, and refreshed once
more when PB answers 401 (``BearerAuth``, an ``httpx.Auth`` flow). Concurrent requests
that find it missing or stale share one refresh (an ``asyncio.Lock``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import Any

import httpx2 as httpx

from reconcile.errors import AuthError, RemoteError
from reconcile.remote import wire
from reconcile.remote.failure import Context, error_from_response, json_object
from reconcile.remote.redact import Redactor, basic_credentials
from reconcile.remote.transaction import OperationIds
from reconcile.remote.transport import Call, Retry, Session, Stamp
from reconcile.settings import Credentials

log = logging.getLogger("reconcile.remote")

#: Refresh this long before expiry, at most; a tenth of the lifetime for short tokens.
REFRESH_MARGIN_SECONDS = 300.0
REFRESH_MARGIN_FRACTION = 0.1

#: Sends the token request and returns PB's JSON answer (errors raised by the caller).
FetchToken = Callable[[dict[str, str], dict[str, str]], Awaitable[dict[str, Any]]]


class MissingToken(AuthError):
    """PB's token answer had no usable access token (exit 4, like any credential trouble)."""


def access_token(body: dict[str, Any]) -> str:
    """The bearer token of PB's token answer: a non-empty string of visible ASCII.

    Anything else (a number, a list, spaces or control characters that could not go in a
    header) is refused with ``MissingToken``, never echoed: it may be a secret.
    """
    token = body.get(wire.TOKEN_FIELD)
    if not isinstance(token, str) or not token:
        kind = "no" if token is None or token == "" else f"a non-string ({type(token).__name__})"
        raise MissingToken(f"PB's token answer has {kind} `{wire.TOKEN_FIELD}`")
    if not all("!" <= ch <= "~" for ch in token):
        raise MissingToken(
            f"PB's token answer has an `{wire.TOKEN_FIELD}` with characters a header cannot carry"
        )
    return token


def token_lifetime(body: dict[str, Any]) -> float:
    """``expiresIn`` in seconds, from a string or a number; PB's example value if unusable."""
    value = body.get(wire.TOKEN_EXPIRY_FIELD)
    if value is None or isinstance(value, bool):
        return wire.TOKEN_DEFAULT_TTL_SECONDS
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return wire.TOKEN_DEFAULT_TTL_SECONDS
    return seconds if seconds > 0 else wire.TOKEN_DEFAULT_TTL_SECONDS


def refresh_margin(lifetime: float) -> float:
    return min(REFRESH_MARGIN_SECONDS, lifetime * REFRESH_MARGIN_FRACTION)


class TokenSource:
    """Hands out a valid bearer token, fetching a new one only when needed."""

    def __init__(
        self,
        credentials: Credentials,
        fetch: FetchToken,
        redactor: Redactor,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        key = credentials.key.get_secret_value()
        secret = credentials.secret.get_secret_value()
        self._authorization = "Basic " + basic_credentials(key, secret)
        self._fetch = fetch
        self._redactor = redactor
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self.expires_in: float | None = None

    def __repr__(self) -> str:
        state = "cached" if self._token else "empty"
        return f"TokenSource({state})"

    def _valid(self) -> str | None:
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        return None

    async def get(self) -> str:
        """A token that is not about to expire."""
        token = self._valid()
        if token is not None:
            return token
        async with self._lock:
            token = self._valid()  # another request may have refreshed it meanwhile
            if token is None:
                token = await self._refresh()
            return token

    def invalidate(self, stale: str) -> None:
        """Forget ``stale`` after a 401, unless a newer token already replaced it."""
        if self._token == stale:
            self._token = None

    async def _refresh(self) -> str:
        headers = {
            "Authorization": self._authorization,
            "Content-Type": "application/x-www-form-urlencoded",
        }
        started = self._clock()
        body = await self._fetch(headers, {"grant_type": "client_credentials"})
        token = access_token(body)
        self._redactor.add(token)
        lifetime = token_lifetime(body)
        self.expires_in = lifetime
        self._token = token
        self._refresh_at = started + lifetime - refresh_margin(lifetime)
        return token


class BearerAuth(httpx.Auth):
    """The token on each request of one attempt; on a 401, one refresh and one re-send.

    ``stamp`` marks every request sent (its own transaction id), the re-send included.
    """

    def __init__(self, tokens: TokenSource, stamp: Stamp, operation: str, resource: str) -> None:
        self._tokens = tokens
        self._stamp = stamp
        self._operation = operation
        self._resource = resource

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("BearerAuth fetches tokens asynchronously: use httpx.AsyncClient")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._tokens.get()
        response = yield self._signed(request, token)
        if response.status_code != 401:
            return
        log.info("%s %s: token refused (401); refreshing it once", self._operation, self._resource)
        self._tokens.invalidate(token)
        token = await self._tokens.get()
        yield self._signed(request, token)

    def _signed(self, request: httpx.Request, token: str) -> httpx.Request:
        request.headers["Authorization"] = f"Bearer {token}"
        self._stamp(request)
        return request


class TokenRequest:
    """Asks PB for a token through the client's session (paced, with its own transaction
    id, network faults retried by the caller's loop); a refusal names where the
    credentials were read."""

    def __init__(self, session: Session, environment: str, credential_vars: tuple[str, ...]):
        self._session = session
        self._environment = environment
        self._credential_vars = credential_vars
        #: The token operation being retried: its next request is its next attempt.
        self._retrying: OperationIds | None = None

    async def __call__(self, headers: dict[str, str], form: dict[str, str]) -> dict[str, Any]:
        """One attempt of the token operation. A retryable failure (``Retry``) keeps the
        operation, so the retry's transaction id is the next attempt of the same sequence
        number; success or a final answer ends it."""
        ids = self._retrying or self._session.ids.operation("token")
        self._retrying = ids
        try:
            body = await self._attempt(ids.next(), headers, form)
        except Retry:
            raise
        except BaseException:
            self._retrying = None
            raise
        self._retrying = None
        return body

    async def _attempt(
        self, transaction_id: str, headers: dict[str, str], form: dict[str, str]
    ) -> dict[str, Any]:
        session = self._session
        request = session.http.build_request(
            "POST",
            wire.TOKEN_PATH,
            headers={**headers, wire.TRANSACTION_ID_HEADER: transaction_id},
            data=form,
        )
        context = session.context("token", "", transaction_id)
        response = await session.exchange(request, lambda: context)
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
            f"PB refused the credentials for environment {self._environment!r} (read from "
            f"{read}); check that they are this environment's API key and secret"
        )
        return context.error(AuthError, message, response.status_code, error.details)


async def check_token(session: Session, tokens: TokenSource) -> float:
    """Fetch a token (with retries); return its lifetime in seconds (for ``doctor``)."""
    await session.retrying(Call("token", "", "POST", wire.TOKEN_PATH), tokens.get)
    return tokens.expires_in or 0.0
