"""Throughput of the served emulator: GET a product and product search, 0 ms latency.

Run: ``.venv/bin/python tests/bench/bench_sandbox.py [--seconds S] [--concurrency N ...]
[--clients httpx raw]``

The emulator runs as ``reconcile sandbox serve`` in its own process (as in the client
benchmarks), loaded with ``--products`` fixtures, over loopback. For each scenario,
client kind and concurrency, N keep-alive connections fire requests back to back for S
seconds. Client kinds: ``httpx`` (one httpx.AsyncClient per connection, what our client
code pays) and ``raw`` (pre-encoded HTTP/1.1 over asyncio streams: so little client work
that the emulator is the bottleneck, i.e. its capacity). Columns: requests/second and
latency percentiles as the client saw them, the server's own request count, and the
server process's CPU time per request (from /proc; 1000 / cpu ms is what one core can
serve, a figure that holds even when other work shares the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx

API = "/shippingservices/fulfillment/v1"
CLIENT_ID = "BENCH"
KEY, SECRET = "bench-key", "bench-secret"  # a throwaway local server's credentials


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # with query string
    body: dict[str, Any] | None = None


def get_product(n: int) -> Call:
    return Call("GET", f"{API}/products/SKU-{n % 1000:06d}?clientId={CLIENT_ID}")


def search_page(n: int) -> Call:
    wide = [{"name": "pbCreateDate", "values": ["2000-01-01"]}]
    body = {"clientId": CLIENT_ID, "searchFields": wide}
    return Call("POST", f"{API}/products/search?page={n % 10 + 1}&size=20", body)


def search_sku(n: int) -> Call:
    by_sku = [{"name": "sku", "values": [f"SKU-{n % 1000:06d}"]}]
    return Call("POST", f"{API}/products/search", {"clientId": CLIENT_ID, "searchFields": by_sku})


SCENARIOS: list[tuple[str, Callable[[int], Call]]] = [
    ("GET /products/{sku}", get_product),
    ("search, 20 per page", search_page),
    ("search by sku", search_sku),
]


class HttpxConnection:
    """One httpx.AsyncClient (one keep-alive connection)."""

    def __init__(self, url: str, headers: dict[str, str], context: ssl.SSLContext) -> None:
        self.client = httpx.AsyncClient(base_url=url, headers=headers, timeout=30, verify=context)

    async def send(self, call: Call) -> int:
        response = await self.client.request(call.method, call.path, json=call.body)
        return response.status_code

    async def close(self) -> None:
        await self.client.aclose()


class RawConnection:
    """Hand-encoded HTTP/1.1 keep-alive requests on one socket (minimal client cost)."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.host, port = url.removeprefix("http://").split(":")
        self.port = int(port)
        self.headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    def encode(self, call: Call) -> bytes:
        body = json.dumps(call.body).encode() if call.body is not None else b""
        head = (
            f"{call.method} {call.path} HTTP/1.1\r\nHost: {self.host}\r\n{self.headers}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    async def send(self, call: Call) -> int:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        writer.write(self.encode(call))
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        return int(head.split(b" ", 2)[1])

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()


async def worker(
    connection: Any, scenario: Callable[[int], Call], deadline: float, latencies: list[float]
) -> int:
    errors, n = 0, 0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        status = await connection.send(scenario(n))
        latencies.append(time.perf_counter() - started)
        errors += status != 200
        n += 1
    return errors


async def measure(
    url: str,
    token: str,
    *,
    kind: str,
    scenario: Callable[[int], Call],
    concurrency: int,
    seconds: float,
) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}", "X-PB-TransactionId": "bench"}
    # Connections are opened before the clock starts (building an httpx client loads the
    # CA bundle, which is not what this measures).
    context = ssl.create_default_context()
    connections = [
        HttpxConnection(url, headers, context) if kind == "httpx" else RawConnection(url, headers)
        for _ in range(concurrency)
    ]
    await asyncio.gather(*(c.send(get_product(0)) for c in connections))
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    errors = await asyncio.gather(*(worker(c, scenario, deadline, latencies) for c in connections))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(c.close() for c in connections))
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50": quantiles[49] * 1000,
        "p95": quantiles[94] * 1000,
        "errors": sum(errors),
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def served() -> Iterator[tuple[str, int]]:
    """``reconcile sandbox serve`` on a free loopback port; yields its URL and pid."""
    env = {**os.environ, "PB_API_KEY": KEY, "PB_API_SECRET": SECRET}
    code = "from reconcile.cli import main; main()"
    command = [sys.executable, "-c", code, "sandbox", "serve", "--port", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def load_products(url: str, count: int) -> None:
    details = {"description": "benchmark product", "weight": {"value": 1.5, "unit": "KG"}}
    products = [
        {"clientId": CLIENT_ID, "sku": f"SKU-{i:06d}", "productType": "ITEM", "details": details}
        for i in range(count)
    ]
    with httpx.Client(base_url=url, timeout=60) as admin:
        admin.post("/__sandbox/fixtures", json={"products": products}).raise_for_status()


def server_count(url: str) -> int:
    return int(httpx.get(f"{url}/__sandbox/stats").json()["total"])


def fetch_token(url: str) -> str:
    form = {"grant_type": "client_credentials"}
    answer = httpx.post(f"{url}/oauth/token", auth=(KEY, SECRET), data=form)
    return str(answer.raise_for_status().json()["access_token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--clients", nargs="+", choices=["httpx", "raw"], default=["httpx", "raw"])
    args = parser.parse_args()
    with served() as (url, pid):
        load_products(url, args.products)
        token = fetch_token(url)
        print(f"emulator at {url}, {args.products} products, 0 ms latency, {args.seconds:g} s/row")
        columns = ("client", "conns", "requests", "req/s", "p50 ms", "p95 ms", "errors", "server")
        print(f"{'scenario':<22}" + "".join(f"{c:>9}" for c in columns) + f"{'cpu ms':>9}")
        for name, scenario in SCENARIOS:
            for kind in args.clients:
                for concurrency in args.concurrency:
                    before, cpu_before = server_count(url), cpu_seconds(pid)
                    row = asyncio.run(
                        measure(
                            url,
                            token,
                            kind=kind,
                            scenario=scenario,
                            concurrency=concurrency,
                            seconds=args.seconds,
                        )
                    )
                    seen = server_count(url) - before - concurrency  # minus the warm-up calls
                    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / max(seen, 1)
                    print(
                        f"{name:<22}{kind:>9}{concurrency:>9}{row['requests']:>9.0f}"
                        f"{row['rate']:>9.0f}{row['p50']:>9.2f}{row['p95']:>9.2f}"
                        f"{row['errors']:>9.0f}{seen:>9}{cpu_ms:>9.3f}"
                    )


if __name__ == "__main__":
    main()
