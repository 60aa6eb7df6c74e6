"""Throughput of the served emulator: GET a product and product search, 0 ms latency.

Run: ``.venv/bin/python tests/bench/bench_sandbox.py [--seconds S] [--concurrency N ...]``

The emulator runs as ``reconcile sandbox serve`` in its own process (as in the client
benchmarks), loaded with ``--products`` fixtures over loopback. For each scenario and
concurrency, N keep-alive httpx.AsyncClient connections fire requests back to back for
S seconds. The table reports requests per second and latency percentiles as the client
saw them, the server's own request count as a cross-check, and the server process's CPU
time per request ("cpu ms", from /proc): 1000 / cpu ms is what one core can serve, a
figure that holds even when other work shares the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import ssl
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

API = "/shippingservices/fulfillment/v1"
CLIENT_ID = "BENCH"
KEY, SECRET = "bench-key", "bench-secret"  # a throwaway local server's credentials

Request = Callable[[httpx.AsyncClient, int], Any]


def get_product(client: httpx.AsyncClient, n: int) -> Any:
    return client.get(f"{API}/products/SKU-{n % 1000:06d}", params={"clientId": CLIENT_ID})


def search_page(client: httpx.AsyncClient, n: int) -> Any:
    body = {
        "clientId": CLIENT_ID,
        "searchFields": [{"name": "pbCreateDate", "values": ["2000-01-01"]}],
    }
    return client.post(f"{API}/products/search", params={"page": n % 10 + 1, "size": 20}, json=body)


def search_sku(client: httpx.AsyncClient, n: int) -> Any:
    body = {
        "clientId": CLIENT_ID,
        "searchFields": [{"name": "sku", "values": [f"SKU-{n % 1000:06d}"]}],
    }
    return client.post(f"{API}/products/search", json=body)


SCENARIOS: list[tuple[str, Request]] = [
    ("GET /products/{sku}", get_product),
    ("search, 20 per page", search_page),
    ("search by sku", search_sku),
]


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
    command = [
        sys.executable,
        "-c",
        "from reconcile.cli import main; main()",
        "sandbox",
        "serve",
        "--port",
        "0",
    ]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def load_products(url: str, count: int) -> None:
    products = [
        {
            "clientId": CLIENT_ID,
            "sku": f"SKU-{i:06d}",
            "productType": "ITEM",
            "details": {
                "description": f"benchmark product {i}",
                "weight": {"value": 1.5, "unit": "KG"},
            },
        }
        for i in range(count)
    ]
    with httpx.Client(base_url=url, timeout=60) as admin:
        admin.post("/__sandbox/fixtures", json={"products": products}).raise_for_status()


async def worker(
    client: httpx.AsyncClient, request: Request, deadline: float, latencies: list[float]
) -> int:
    errors, n = 0, 0
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        response = await request(client, n)
        latencies.append(time.perf_counter() - started)
        errors += response.status_code != 200
        n += 1
    return errors


async def measure(
    url: str, token: str, request: Request, concurrency: int, seconds: float
) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}", "X-PB-TransactionId": "bench"}
    # Clients (and their connections) are set up before the clock starts: building an
    # httpx client loads the CA bundle, which is not what this measures.
    context = ssl.create_default_context()
    clients = [
        httpx.AsyncClient(base_url=url, headers=headers, timeout=30, verify=context)
        for _ in range(concurrency)
    ]
    await asyncio.gather(*(get_product(c, 0) for c in clients))
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    errors = await asyncio.gather(*(worker(c, request, deadline, latencies) for c in clients))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(c.aclose() for c in clients))
    quantiles = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50": quantiles[49] * 1000,
        "p95": quantiles[94] * 1000,
        "errors": sum(errors),
    }


def server_count(url: str) -> int:
    return int(httpx.get(f"{url}/__sandbox/stats").json()["total"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    with served() as (url, pid):
        load_products(url, args.products)
        token = httpx.post(
            f"{url}/oauth/token", auth=(KEY, SECRET), data={"grant_type": "client_credentials"}
        ).json()["access_token"]
        print(
            f"emulator at {url}, {args.products} products, 0 ms latency, {args.seconds:g} s per row"
        )
        columns = ("clients", "requests", "req/s", "p50 ms", "p95 ms", "errors", "server", "cpu ms")
        print(f"{'scenario':<22}" + "".join(f"{c:>9}" for c in columns))
        for name, request in SCENARIOS:
            for concurrency in args.concurrency:
                before, cpu_before = server_count(url), cpu_seconds(pid)
                row = asyncio.run(measure(url, token, request, concurrency, args.seconds))
                seen = server_count(url) - before - concurrency  # minus the warm-up calls
                cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / max(seen, 1)
                print(
                    f"{name:<22}{concurrency:>9}{row['requests']:>9.0f}{row['rate']:>9.0f}"
                    f"{row['p50']:>9.2f}{row['p95']:>9.2f}{row['errors']:>9.0f}{seen:>9}{cpu_ms:>9.3f}"
                )


if __name__ == "__main__":
    main()
