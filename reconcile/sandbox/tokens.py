"""OAuth bearer tokens issued by ``POST /oauth/token`` (contract §4)."""

from __future__ import annotations

import secrets
import threading
import time


class TokenBook:
    """Issued tokens and their expiry instants; thread-safe."""

    def __init__(self) -> None:
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, ttl: int) -> str:
        token = secrets.token_urlsafe(24)
        now = time.time()
        with self._lock:
            if len(self._expiry) > 10_000:
                self._expiry = {t: e for t, e in self._expiry.items() if e > now}
            self._expiry[token] = now + ttl
        return token

    def is_valid(self, token: str) -> bool:
        expiry = self._expiry.get(token)
        return expiry is not None and expiry > time.time()

    def expire_all(self) -> int:
        """Invalidate every issued token; return how many there were."""
        with self._lock:
            count = len(self._expiry)
            self._expiry.clear()
        return count
