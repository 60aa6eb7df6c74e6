"""The request log: counts by (method, route, status) and a bounded list of recent calls."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

LOG_CAPACITY = 200_000
_LOG_FIELDS = ("ts", "method", "route", "path", "status", "transaction_id")


class Traffic:
    """What the emulator answered, for tests and benchmarks (``/__sandbox/stats``, ``/log``)."""

    def __init__(
        self, capacity: int = LOG_CAPACITY, clock: Callable[[], float] = time.time
    ) -> None:
        self._clock = clock
        self._counts: Counter[tuple[str, str, int]] = Counter()
        # tuples, not dicts: a full log holds 200,000 of them
        self._log: deque[tuple[float, str, str, str, int, str | None]] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self.token_requests = 0

    def record(
        self, method: str, route: str, path: str, status: int, transaction_id: str | None
    ) -> None:
        entry = (self._clock(), method, route, path, status, transaction_id)
        with self._lock:
            self._counts[(method, route, status)] += 1
            self._log.append(entry)

    def count_token_request(self) -> None:
        with self._lock:
            self.token_requests += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            rows = [
                {"method": m, "route": r, "status": s, "count": n}
                for (m, r, s), n in sorted(self._counts.items())
            ]
            return {
                "total": sum(self._counts.values()),
                "by_route": rows,
                "token_requests": self.token_requests,
            }

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = list(self._log)
        return [dict(zip(_LOG_FIELDS, row, strict=True)) for row in rows]

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()
            self._log.clear()
            self.token_requests = 0
