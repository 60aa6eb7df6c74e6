"""OAuth bearer tokens issued by ``POST /oauth/token`` (contract §4)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable


class TokenBook:
    """Issued tokens and their expiry instants on ``clock`` (epoch seconds); thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def issue(self, ttl: int) -> str:
        token = secrets.token_urlsafe(24)
        now = self._clock()
        with self._lock:
            if len(self._expiry) > 10_000:
                self._expiry = {t: e for t, e in self._expiry.items() if e > now}
            self._expiry[token] = now + ttl
        return token

    def is_valid(self, token: str) -> bool:
        expiry = self._expiry.get(token)
        return expiry is not None and expiry > self._clock()

    def expire_all(self) -> int:
        """Invalidate every issued token; return how many there were."""
        with self._lock:
            count = len(self._expiry)
            self._expiry.clear()
        return count
