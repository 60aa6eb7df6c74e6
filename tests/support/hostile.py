"""A hostile PB on 127.0.0.1: the real emulator behind a proxy that can answer any chosen
request with what the emulator never says (a renamed field, an HTML 404, a body that
drips or never ends), and that records every write that reached it.

Tests point a catalog's environment at ``url`` and assert on exit code, message, run
time and ``writes``: under an answer it does not understand, the client must write
nothing.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from reconcile.sandbox import SandboxConfig, Store, create_app, serve_in_thread
from tests.support.cli import Run, run

KEY, SECRET = "hostile-key", "hostile-secret"
API = "/shippingservices/fulfillment/v1"
#: A hostile answer: built from the request and, when the rule asks for it, the answer
#: the emulator gave (``None`` otherwise).
Answer = Callable[[Request, "httpx.Response | None"], Response]


@dataclass
class Rule:
    method: str
    path: re.Pattern[str]
    answer: Answer
    times: int | None  # None: every matching request
    upstream_first: bool  # forward first, then rewrite the emulator's answer

    def matches(self, request: Request) -> bool:
        if self.times == 0 or request.method != self.method:
            return False
        return self.path.fullmatch(request.url.path) is not None


@dataclass
class HostilePB:
    """The proxy (an ASGI app); ``with served(hostile) as url`` puts it on loopback.
    ``load`` puts fixtures in the emulator behind it."""

    config: SandboxConfig = field(default_factory=lambda: SandboxConfig(key=KEY, secret=SECRET))
    store: Store = field(default_factory=Store)
    rules: list[Rule] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    #: The base URL while ``served``.
    url: str = ""
    #: (method, path, skip, fixtures): load ``fixtures`` into the emulator just before
    #: forwarding the matching request after ``skip`` earlier matches (a second writer).
    hooks: list[list[Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._upstream = create_app(self.store, self.config)

    def answer(
        self,
        method: str,
        path: str,
        answer: Answer,
        *,
        times: int | None = None,
        upstream_first: bool = False,
    ) -> None:
        """Answer ``method`` on paths matching the regex ``path`` (below the API prefix
        when it does not start with ``/``) with ``answer``."""
        full = path if path.startswith("/") else f"{API}/{path}"
        self.rules.append(Rule(method, re.compile(full), answer, times, upstream_first))

    def load_before(self, method: str, path: str, *, skip: int = 0, **fixtures: Any) -> None:
        """A second writer: ``fixtures`` land in PB just before the matching request
        (exact ``path``) that follows ``skip`` earlier ones."""
        self.hooks.append([method, path, skip, fixtures])

    def count(self, method: str, path: str) -> int:
        """How many requests with this method and exact path reached the proxy."""
        return sum(1 for m, p in self.requests if m == method and p == path)

    def load(self, **fixtures: Any) -> None:
        """Products, BOMs or inventory records straight into the emulator (not logged)."""
        httpx.post(f"{self.url}/__sandbox/fixtures", json=fixtures).raise_for_status()
        self.requests.clear()

    @property
    def writes(self) -> list[tuple[str, str]]:
        """POST/PUT requests to resources (not the token, not searches) that reached PB."""
        return [
            (m, p)
            for m, p in self.requests
            if m in ("POST", "PUT") and not p.endswith("/search") and "/oauth/" not in p
        ]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        with self._lock:
            self.requests.append((request.method, request.url.path))
            rule = next((r for r in self.rules if r.matches(request)), None)
            if rule is not None and rule.times is not None:
                rule.times -= 1
        await self._run_hooks(request)
        if rule is None:
            response = _relay(await self._forward(request))
        elif rule.upstream_first:
            response = rule.answer(request, await self._forward(request))
        else:
            response = rule.answer(request, None)
        await response(scope, receive, send)

    async def _run_hooks(self, request: Request) -> None:
        for hook in self.hooks:
            method, path, skip, fixtures = hook
            if request.method != method or request.url.path != path or fixtures is None:
                continue
            if skip > 0:
                hook[2] -= 1
                continue
            hook[3] = None  # once
            transport = httpx.ASGITransport(app=self._upstream)
            async with httpx.AsyncClient(transport=transport, base_url="http://upstream") as h:
                (await h.post("/__sandbox/fixtures", json=fixtures)).raise_for_status()

    async def _forward(self, request: Request) -> httpx.Response:
        transport = httpx.ASGITransport(app=self._upstream)
        async with httpx.AsyncClient(transport=transport, base_url="http://upstream") as http:
            return await http.request(
                request.method,
                request.url.path,
                params=request.query_params,
                content=await request.body(),
                headers={k: v for k, v in request.headers.items() if k != "host"},
            )


def _relay(answer: httpx.Response) -> Response:
    headers = {
        k: v
        for k, v in answer.headers.items()
        if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")
    }
    return Response(answer.content, answer.status_code, headers=headers)


@contextmanager
def served(hostile: HostilePB) -> Iterator[str]:
    """Serve ``hostile`` on 127.0.0.1; yields its base URL."""
    with serve_in_thread(hostile) as server:
        hostile.url = server.url
        yield server.url


# -- answers -----------------------------------------------------------------------------


def json_answer(body: Any, status: int = 200) -> Answer:
    return lambda request, upstream: JSONResponse(body, status)


def raw_answer(body: bytes, status: int, content_type: str = "text/html") -> Answer:
    return lambda request, upstream: Response(body, status, media_type=content_type)


def rewritten(edit: Callable[[Any], Any]) -> Answer:
    """The emulator's JSON answer passed through ``edit`` (use with ``upstream_first``)."""

    def answer(request: Request, upstream: httpx.Response | None) -> Response:
        assert upstream is not None, "rewritten() needs upstream_first=True"
        return JSONResponse(edit(upstream.json()), upstream.status_code)

    return answer


def dripping(every_seconds: float, total_bytes: int = 10_000) -> Answer:
    """A 200 whose body arrives one byte per ``every_seconds`` (a stalled proxy)."""

    async def drip() -> AsyncIterator[bytes]:
        yield b"{"
        for _ in range(total_bytes):
            await asyncio.sleep(every_seconds)
            yield b" "

    return lambda request, upstream: StreamingResponse(drip(), media_type="application/json")


def endless(chunk_bytes: int = 1 << 20, total_bytes: int = 300 << 20) -> Answer:
    """A 200 JSON body of ``total_bytes`` (300 MB by default), streamed in chunks."""

    async def body() -> AsyncIterator[bytes]:
        yield b'{"content": ["'
        sent = 0
        chunk = b"x" * chunk_bytes
        while sent < total_bytes:
            yield chunk
            sent += chunk_bytes
        yield b'"]}'

    return lambda request, upstream: StreamingResponse(body(), media_type="application/json")


# -- a catalog pointed at it ----------------------------------------------------------------

CLIENT = "C1"
#: Quick retries, a short deadline and small ceilings: every case ends in seconds.
LIMITS = {
    "requests_per_second": 100,
    "retry_attempts": 2,
    "read_retry_attempts": 2,
    "retry_timeout_seconds": 5,
    "retry_wait_initial_seconds": 0.01,
    "retry_wait_max_seconds": 0.05,
    "request_deadline_seconds": 2,
    "max_response_bytes": 1_000_000,
    "max_search_pages": 50,
}
ENV = {"PB_HOSTILE_API_KEY": KEY, "PB_HOSTILE_API_SECRET": SECRET}


def item(sku: str) -> dict[str, Any]:
    return {"clientId": CLIENT, "sku": sku, "productType": "ITEM", "details": {"description": sku}}


def kit(sku: str) -> dict[str, Any]:
    return {**item(sku), "productType": "KIT"}


def bom(sku: str, *parts: str) -> dict[str, Any]:
    lines = [{"sku": p, "quantity": 1} for p in parts]
    return {"clientId": CLIENT, "sku": sku, "description": sku, "billOfMaterialDetails": lines}


def write_catalog(
    root: Path,
    url: str,
    products: list[dict[str, Any]],
    boms: list[dict[str, Any]],
    **limits: Any,
) -> Path:
    """A catalog of ``products`` and ``boms`` with environment ``hostile`` at ``url``."""
    root.mkdir(parents=True)
    settings = {
        "client_id": CLIENT,
        "limits": {**LIMITS, **limits},
        "environments": {"hostile": {"base_url": url}},
    }
    (root / "reconcile.yaml").write_text(json.dumps(settings), encoding="utf-8")
    unclient = [{k: v for k, v in p.items() if k != "clientId"} for p in products]
    resources = {
        "products": unclient,
        "boms": [{k: v for k, v in b.items() if k != "clientId"} for b in boms],
    }
    (root / "catalog.yaml").write_text(json.dumps(resources), encoding="utf-8")
    return root


def apply(catalog: Path, *args: str) -> tuple[Run, float]:
    """``reconcile apply --auto-approve`` against ``hostile``; the run and its duration."""
    started = time.monotonic()
    result = run(["apply", str(catalog), "--env", "hostile", "--auto-approve", *args], env=ENV)
    return result, time.monotonic() - started
