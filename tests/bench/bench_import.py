"""Import 10,000 products (and their kits' BOMs) from the served emulator at 50 ms latency.

Run: ``.venv/bin/python tests/bench/bench_import.py [--products N ...] [--latency-ms MS]``

The emulator runs in its own process (``reconcile sandbox serve``). Each import runs in a
fresh child process, twice: once plain, for the wall time and the peak resident memory
(``ru_maxrss``, which includes the interpreter and the loaded modules, reported beside
the same child's RSS before the import), and once under ``tracemalloc`` for the peak of
Python allocations made by the import itself. Then ``plan`` runs on the imported
directory: the round trip must show no changes. The floors are the least time any
client needs: ``pages * latency / in-flight`` and ``requests / rate limit``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import httpx2 as httpx

sys.path.insert(0, str(Path(__file__).parents[2]))

from tests.bench.bench_fetch import PAGE_MAX, served_emulator  # own-process emulator

CLIENT_ID = "BENCH"
ENV = "bench"
OLD = "2022-03-01T00:00:00.000+0000"  # far beyond PB's six-month default search window


def remote_products(count: int) -> list[dict[str, Any]]:
    """A fifth kits, the rest items; every tenth old, every 50th inactive; some extras."""
    found = []
    for i in range(count):
        kit = i % 5 == 0
        record: dict[str, Any] = {
            "clientId": CLIENT_ID,
            "sku": f"{'KIT' if kit else 'ITM'}-{i:06d}",
            "productType": "KIT" if kit else "ITEM",
            "details": {"description": f"Benchmark product {i}, 250 g", "weightGrams": i % 900},
            "active": i % 50 != 7,
        }
        if i % 3 == 0:
            record["vendorDetails"] = {"name": "Hilltop Roasters", "number": f"HR-{i}"}
        if i % 10 == 1:
            record["pbCreateDate"] = OLD
        found.append(record)
    return found


def remote_boms(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One BOM per kit with three item components."""
    items = [p["sku"] for p in products if p["productType"] == "ITEM"]
    boms = []
    for n, kit in enumerate(p["sku"] for p in products if p["productType"] == "KIT"):
        parts = {items[(3 * n + j) % len(items)]: j + 1 for j in range(3)}
        lines = [{"sku": s, "quantity": q} for s, q in parts.items()]
        boms.append(
            {
                "clientId": CLIENT_ID,
                "sku": kit,
                "description": f"Recipe {n}",
                "billOfMaterialDetails": lines,
            }
        )
    return boms


# ---- one measured import, in a child process ------------------------------------------


class WriteStart:
    """A Progress that notes when the import starts writing (the reads are over then)."""

    def __init__(self) -> None:
        self.at: float | None = None

    def update(self, task: str, *, advance: int = 0, total: int | None = None) -> None:
        pass

    def done(self, task: str) -> None:
        pass

    def note(self, message: str) -> None:
        if message.startswith("Writing"):
            self.at = time.perf_counter()


def child(source: Path, out: Path, traced: bool) -> None:
    from reconcile import engine
    from reconcile.importer import ImportOptions, import_catalog

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    options = ImportOptions(env=ENV, source_dir=source, client_id=CLIENT_ID)
    if traced:
        tracemalloc.start()
    started, writing = time.perf_counter(), WriteStart()
    result = asyncio.run(import_catalog(out, options, progress=writing))
    ended = time.perf_counter()
    wall, read = ended - started, (writing.at or ended) - started
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if traced else 0.0
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row: dict[str, Any] = {
        "wall": wall,
        "read": read,
        "rss_before": rss_before,
        "rss_peak": rss_peak,
        "traced_peak": traced_peak,
        "products": result.products,
        "boms": result.boms,
        "files": len(result.files),
        "requests": result.requests,
        "skipped": result.skipped_inactive_products + result.skipped_inactive_boms,
        "kept": len(result.kept_for_references),
    }
    if not traced:
        started = time.perf_counter()
        plan = asyncio.run(engine.make_plan(out)).plan
        row["plan_wall"] = time.perf_counter() - started
        row["plan_changes"] = len(plan.changes)
    print(json.dumps(row))


def run_child(source: Path, out: Path, traced: bool, environ: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", str(source), str(out)]
    done = subprocess.run(
        [*command, *(["--traced"] if traced else [])],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the import failed:\n{done.stderr[-3000:]}")
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return row


def bytes_of_search_json(url: str, key: str, secret: str) -> int:
    """How many bytes of JSON the product search returns in all (what import never holds)."""
    token = httpx.post(
        f"{url}/oauth/token", auth=(key, secret), data={"grant_type": "client_credentials"}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "X-PB-TransactionId": "bench-size"}
    body = {
        "clientId": CLIENT_ID,
        "searchFields": [{"name": "pbCreateDate", "values": ["2000-01-01", "2100-01-01"]}],
    }
    total, page = 0, 1
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
        while True:
            response = http.post(
                "/shippingservices/fulfillment/v1/products/search",
                params={"page": page, "size": PAGE_MAX},
                json=body,
            )
            total += len(response.content)
            if response.json().get("last", True):
                return total
            page += 1


def measure(count: int, latency_ms: float, work: Path) -> str:
    from reconcile.sandbox import SandboxConfig

    config = SandboxConfig.generate()
    with served_emulator(config.key, config.secret) as url:
        admin = httpx.Client(base_url=url, timeout=300)
        products = remote_products(count)
        admin.post("/__sandbox/fixtures", json={"products": products}).raise_for_status()
        boms = remote_boms(products)
        admin.post("/__sandbox/fixtures", json={"boms": boms}).raise_for_status()
        raw_mb = bytes_of_search_json(url, config.key, config.secret) / 2**20
        admin.post("/__sandbox/config", json={"latency_ms": latency_ms}).raise_for_status()
        source = work / f"source-{count}"
        source.mkdir()
        settings = {"client_id": CLIENT_ID, "environments": {ENV: {"base_url": url}}}
        (source / "reconcile.yaml").write_text(json.dumps(settings))
        environ = {
            **os.environ,
            "PB_BENCH_API_KEY": config.key,
            "PB_BENCH_API_SECRET": config.secret,
        }
        plain = run_child(source, work / f"plain-{count}", False, environ)
        traced = run_child(source, work / f"traced-{count}", True, environ)
        admin.close()
    from reconcile.settings import Limits

    limits = Limits()
    pages = math.ceil(count / PAGE_MAX) + math.ceil(len(boms) / PAGE_MAX)
    floor = max(
        pages * latency_ms / 1000 / limits.max_in_flight, pages / limits.requests_per_second
    )
    return (
        f"{count:>8} {plain['products']:>8} {plain['boms']:>6} {plain['files']:>5} "
        f"{plain['requests']:>5} {plain['wall']:>7.2f} {plain['read']:>6.2f} {floor:>7.2f} "
        f"{plain['rss_before']:>8.0f} {plain['rss_peak']:>8.0f} {traced['traced_peak']:>8.1f} "
        f"{raw_mb:>7.1f} {plain['plan_wall']:>7.2f} {plain['plan_changes']:>7}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, nargs="+", default=[2_500, 10_000])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--child", nargs=2, metavar=("SOURCE", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), args.traced)
        return
    print(
        f"import from the served emulator (own process), {args.latency_ms:.0f} ms latency, "
        f"server page cap {PAGE_MAX}, default limits (50 req/s, 8 in flight); "
        "a fifth of the products are kits with a BOM, every 10th is older than six months, "
        "every 50th inactive"
    )
    print(
        f"{'remote':>8} {'imported':>8} {'BOMs':>6} {'files':>5} {'reqs':>5} {'wall s':>7} "
        f"{'read s':>6} {'floor s':>7} {'RSS0 MB':>8} {'RSS MB':>8} {'py MB':>8} {'JSON MB':>7} "
        f"{'plan s':>7} {'changes':>7}"
    )
    with tempfile.TemporaryDirectory() as temp:
        for count in args.products:
            print(measure(count, args.latency_ms, Path(temp)), flush=True)
    print(
        "read s: until the last page was read (the rest is choosing and writing YAML). "
        "RSS0: the child's peak RSS before importing (interpreter and modules); RSS: after. "
        "py MB: tracemalloc peak of the import; JSON MB: the product search's response "
        "bodies, which the import never holds whole. plan s / changes: plan on the imported "
        "directory (the round trip; 0 changes expected)."
    )


if __name__ == "__main__":
    main()
