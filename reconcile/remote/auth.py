"""OAuth client credentials (contract §4): one cached bearer token per client.

The token is fetched on first use, kept in memory only, refreshed shortly before
``expiresIn`` runs out, and refreshed once more when PB answers 401. Concurrent requests
that find it missing or stale share one refresh (an ``asyncio.Lock``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from reconcile.errors import AuthError
from reconcile.remote import wire
from reconcile.remote.redact import Redactor, basic_credentials
from reconcile.settings import Credentials

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
