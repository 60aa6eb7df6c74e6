"""Fetch 10,000 products by paged search from the served emulator at 50 ms latency.

Run: ``.venv/bin/python tests/bench/bench_fetch.py [--products N] [--latency-ms MS]``

For each client configuration it reports the requests made (client count and server
count), the wall time of the whole fetch (token included), and the two floors no client
can beat: ``pages * latency / in-flight`` (latency-bound) and ``pages / rate limit``
(rate-bound). The ratio is wall time over the larger floor: 1.0 is perfect.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx2 as httpx
from pydantic import SecretStr

from reconcile.remote.client import PBClient
from reconcile.sandbox import SandboxConfig
from reconcile.settings import Credentials, Limits

CLIENT_ID = "BENCH"
PAGE_MAX = 100
#: (label, requests_per_second, max_in_flight, page_size asked)
CONFIGURATIONS = [
    ("defaults", 50.0, 8, 100),
    ("rate 100/s", 100.0, 8, 100),
    ("rate 100/s, 16 in flight", 100.0, 16, 100),
    ("defaults, page 250 asked", 50.0, 8, 250),
]


def products(count: int) -> list[dict[str, Any]]:
    return [
        {
            "clientId": CLIENT_ID,
            "sku": f"SKU-{i:06d}",
            "productType": "ITEM",
            "details": {"description": f"benchmark product {i}"},
        }
        for i in range(count)
    ]


async def fetch_all(
    url: str, config: SandboxConfig, limits: Limits
) -> tuple[int, float, int, float]:
    client = PBClient(
        base_url=url,
        credentials=Credentials(SecretStr(config.key), SecretStr(config.secret)),
        limits=limits,
        environment="bench",
    )
    started, cpu = time.perf_counter(), time.process_time()
    async with client:
        found = [p async for p in client.search_products(CLIENT_ID)]
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return len(found), wall, client.request_count, cpu


def measure(url: str, config: SandboxConfig, admin: httpx.Client, row: tuple[Any, ...]) -> str:
    label, rate, in_flight, page_size = row
    before = admin.get("/__sandbox/stats").json()["total"]
    limits = Limits(requests_per_second=rate, max_in_flight=in_flight, page_size=page_size)
    count, wall, requests, cpu = asyncio.run(fetch_all(url, config, limits))
    served = admin.get("/__sandbox/stats").json()["total"] - before
    page_max = admin.get("/__sandbox/config").json().get("page_max", page_size)
    pages = math.ceil(count / min(page_size, page_max))
    latency = admin.get("/__sandbox/config").json()["latency_ms"] / 1000
    latency_floor = pages * latency / in_flight
    rate_floor = pages / rate
    ratio = wall / max(latency_floor, rate_floor)
    return (
        f"{label:<26} {count:>7} {pages:>6} {requests:>8} {served:>7} {wall:>8.2f} "
        f"{latency_floor:>9.2f} {rate_floor:>8.2f} {ratio:>6.2f} {cpu:>7.2f}"
    )


def calibrate(url: str, config: SandboxConfig, admin: httpx.Client) -> float:
    """Seconds per page with no latency, one request at a time, unthrottled."""
    admin.post("/__sandbox/config", json={"latency_ms": 0}).raise_for_status()
    limits = Limits(requests_per_second=100, max_in_flight=1, page_size=PAGE_MAX)
    count, wall, _, _ = asyncio.run(fetch_all(url, config, limits))
    return wall / math.ceil(count / PAGE_MAX)


@contextmanager
def served_emulator(
    key: str, secret: str, flags: Sequence[str] = ("--page-max", str(PAGE_MAX))
) -> Iterator[str]:
    """``reconcile sandbox serve FLAGS`` in its own process (no GIL shared with the
    client); yields its URL."""
    environ = {**os.environ, "PB_API_KEY": key, "PB_API_SECRET": secret, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", "from reconcile.cli import main; main()"]
    server = subprocess.Popen(
        [*command, "sandbox", "serve", "--port", "0", *flags],
        env=environ,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        if not first.startswith("Sandbox listening on "):
            raise SystemExit(f"the emulator did not start: {first!r}")
        yield first.split()[-1]
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # uvicorn still draining after a heavy run
            server.kill()
            server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    config = SandboxConfig.generate()
    with served_emulator(config.key, config.secret) as url:
        admin = httpx.Client(base_url=url, timeout=120)
        admin.post("/__sandbox/fixtures", json={"products": products(args.products)})
        print(
            f"{args.products} products, {args.latency_ms:.0f} ms latency per request, "
            f"server page cap {PAGE_MAX}, emulator in its own process on {url}"
        )
        print(
            f"calibration: {calibrate(url, config, admin) * 1000:.1f} ms per page one at a time "
            "with no latency (emulator + client CPU; the emulator serves on one thread)"
        )
        admin.post("/__sandbox/config", json={"latency_ms": args.latency_ms}).raise_for_status()
        print(
            f"{'configuration':<26} {'found':>7} {'pages':>6} {'requests':>8} {'served':>7} "
            f"{'wall s':>8} {'lat.floor':>9} {'rate.fl':>8} {'ratio':>6} {'cli.cpu':>7}"
        )
        for row in CONFIGURATIONS:
            print(measure(url, config, admin, row), flush=True)
        admin.close()


if __name__ == "__main__":
    main()
