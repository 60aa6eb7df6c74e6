"""Fault injection: scripted faults consumed in order, plus seeded random ones.

A fault replaces the answer with 429 (with ``Retry-After``), 500, 502, 503, 504, or a
dropped connection. A scripted fault with ``after_commit`` lets the handler run and
commit first, so a client sees an error for a write that did happen (unknown outcome).
A dropped connection needs the server's raw ``send``: ``SandboxApp`` keeps it in the
ASGI scope under ``RAW_SEND``.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from reconcile.sandbox import config as c
from reconcile.sandbox.apierror import ApiError, validation
from reconcile.sandbox.config import SandboxConfig

RAW_SEND = "reconcile.sandbox.send"


class DropConnection(Exception):
    """Raised in-process where a served emulator would close the connection unanswered."""


@dataclass
class ScriptedFault:
    """One scripted fault: which requests it matches, what it does, how often."""

    action: str
    method: str | None = None
    path_prefix: str | None = None
    after_commit: bool = False
    times: int = 1
    retry_after: float | None = None
    #: Exactly this path (a BOM create, not the BOM search below the same prefix).
    path: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() not in ("*", method):
            return False
        if self.path is not None and path != self.path:
            return False
        return not self.path_prefix or path.startswith(self.path_prefix)

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "method": self.method,
            "path_prefix": self.path_prefix,
            "after_commit": self.after_commit,
            "times": self.times,
            "retry_after": self.retry_after,
            "path": self.path,
        }

    @classmethod
    def parse(cls, body: Any) -> ScriptedFault:
        """Build from an admin request body; ApiError 400 names every bad field."""
        if not isinstance(body, dict):
            raise ApiError.invalid([validation("body", "must be a JSON object")])
        problems = []
        action = str(body.get("action"))
        if action not in c.FAULT_KINDS:
            problems.append(validation("action", f"must be one of {', '.join(c.FAULT_KINDS)}"))
        for name in ("method", "path_prefix", "path"):
            if not isinstance(body.get(name), str | None):
                problems.append(validation(name, "must be a string or null"))
        times = body.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            problems.append(validation("times", "must be an integer ≥ 1"))
        retry = body.get("retry_after")
        if retry is not None and (isinstance(retry, bool) or not isinstance(retry, int | float)):
            problems.append(validation("retry_after", "must be a number or null"))
        if not isinstance(body.get("after_commit", False), bool):
            problems.append(validation("after_commit", "must be true or false"))
        if problems:
            raise ApiError.invalid(problems)
        return cls(
            action,
            body.get("method"),
            body.get("path_prefix"),
            body.get("after_commit", False),
            times,
            retry,
            body.get("path"),
        )


class Faults:
    """Scripted faults (in order) and the seeded generator for random ones."""

    def __init__(self, seed: int | None) -> None:
        self._scripted: list[ScriptedFault] = []
        self._lock = threading.Lock()
        self.rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        self.rng = random.Random(seed)

    def add(self, fault: ScriptedFault) -> None:
        with self._lock:
            self._scripted.append(fault)

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_json() for f in self._scripted]

    def clear(self) -> None:
        with self._lock:
            self._scripted.clear()

    def take(self, method: str, path: str) -> ScriptedFault | None:
        """Consume one use of the first scripted fault matching this request."""
        if not self._scripted:
            return None
        with self._lock:
            for fault in self._scripted:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._scripted.remove(fault)
                    return fault
        return None

    def roll(self, rate: float, kinds: tuple[str, ...]) -> str | None:
        """A random fault kind with probability ``rate``, else None."""
        if rate <= 0 or not kinds:
            return None
        if self.rng.random() >= rate:
            return None
        return self.rng.choice(kinds)


_FAULT_ERRORS = {
    "429": "request.throttled",
    "500": "1000005",
    "502": "service.bad_gateway",
    "503": "service.unavailable",
    "504": "service.timeout",
}


def fault_error(action: str, retry_after: float) -> ApiError:
    """The unified-error answer of an HTTP fault (not of a dropped connection)."""
    error = ApiError.of(_FAULT_ERRORS[action], info="injected by the sandbox")
    if action == "429":
        error.headers["Retry-After"] = f"{retry_after:g}"
    return error


def fault_response(action: str, retry_after: float | None, cfg: SandboxConfig) -> Response:
    if action == "drop":
        return DropResponse()
    wait = cfg.retry_after_seconds if retry_after is None else retry_after
    return fault_error(action, wait).response()


class DropResponse(Response):
    """Closes the client connection without an answer (in-process: raises DropConnection)."""

    def __init__(self) -> None:
        super().__init__(b"", 599)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = getattr(getattr(scope.get(RAW_SEND), "__self__", None), "transport", None)
        if transport is None or not hasattr(transport, "abort"):
            raise DropConnection("the sandbox dropped this connection (injected fault)")
        # abort() marks the connection lost at once, so any late write by the server goes
        # nowhere; yielding lets uvicorn see the disconnect before this call returns.
        transport.abort()
        await asyncio.sleep(0)
