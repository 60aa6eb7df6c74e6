"""The engine end to end: 10,000 products + 2,000 kits with BOMs, served emulator, 50 ms.

Run: ``.venv/bin/python tests/bench/bench_engine.py [--products N] [--kits N] [--latency-ms MS]``

The emulator runs as ``reconcile sandbox serve`` in its own process; each scenario runs
the real engine (``make_plan`` + ``apply_planned``, i.e. ``apply --auto-approve``) in a
fresh child process, so its peak memory is its own. One table:

* the catalog is ``generate.py``'s (seed 7, 40 files, with vendors, options and nested
  kits); (a) plan with no changes, (b) apply of everything from empty, (c) apply of 5%
  updates (about 5% of products get a new description and 5% of BOMs a new quantity);
* for each: wall time, requests the emulator served, peak RSS of the engine process;
* the floor: the fewest requests the contract's rules allow (below), their time at the
  configured rate and concurrency, and the bare C-loader parse time of the YAML; the
  wall-time floor is the larger of the reads' time and the parse (loading overlaps
  fetching), plus the writes' time (no write can start before the plan exists);
* a naive baseline measured in the same run: one GET per desired resource (BOMs have no
  GET: one search by id each) with 10 in flight, plus one write per change (for (c) the
  edits are timed as that many product PUTs).

Fewest requests: what the job needs, never what the code sends (issue 12). The plan's
reads: a token, the product search pages and the BOM search pages (a brand-new account:
one empty page each; the window self-check's sampled GETs are overhead, not need); per
apply: a token, ⌈changed products / 200⌉ bulk calls per phase, one call per changed BOM,
and the confirming re-reads (⌈batch / page⌉ searches per bulk batch, ⌈BOMs / 100⌉).
The parse floor is the faster of ruamel's C loader and reconcile's own event pass.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx2 as httpx

sys.path.insert(0, str(Path(__file__).parents[2]))

from reconcile.desired.writer import emit
from tests.bench.bench_fetch import served_emulator  # `reconcile sandbox serve`, own process
from tests.bench.generate import CENTERS_SETTING, generate_catalog, item_sku, kit_sku

CLIENT_ID = "BENCH"
RATE, IN_FLIGHT, PAGE, BULK = 100.0, 16, 100, 200
NAIVE_IN_FLIGHT = 10
FILES = 40
API = "/shippingservices/fulfillment/v1"


# ---- the catalog --------------------------------------------------------------------


def write_catalog(directory: Path, products: int, kits: int, url: str) -> None:
    """The shared benchmark catalog (``generate.py``), pointed at the served emulator."""
    generate_catalog(directory, products, kits, FILES, CLIENT_ID, seed=7)
    (directory / "reconcile.yaml").write_text(
        f"client_id: {CLIENT_ID}\n{CENTERS_SETTING}default_environment: bench\n"
        f"environments:\n  bench:\n    base_url: {url}\n"
        f"limits:\n  requests_per_second: {RATE}\n  max_in_flight: {IN_FLIGHT}\n"
        f"  page_size: {PAGE}\n  bulk_size: {BULK}\n"
        "safety:\n  max_update_fraction: 0.5\n"
    )


def edit_catalog(directory: Path, fraction: float) -> tuple[int, int, int]:
    """Edit ``fraction`` of the products (description) and of the BOMs (a quantity);
    return how many ITEM products, KIT products and BOMs were edited."""
    from ruamel.yaml import YAML

    rng = random.Random(11)
    items = kits = boms = 0
    for path in sorted(directory.glob("catalog/*.yaml")):
        data = YAML(typ="safe").load(path.read_text())
        for product in data.get("products") or []:
            if rng.random() < fraction:
                product["details"]["description"] += " (edited)"
                items, kits = (
                    (items + 1, kits) if product["productType"] == "ITEM" else (items, kits + 1)
                )
        for bom in data.get("boms") or []:
            if rng.random() < fraction:
                bom["billOfMaterialDetails"][0]["quantity"] += 1
                boms += 1
        path.write_text(emit(data))
    return items, kits, boms


def bare_parse_seconds(directory: Path) -> float:
    """The fastest bare parse we have: ruamel's C loader or our own event pass."""
    from ruamel.yaml import YAML

    from reconcile.desired.events import build

    texts = [p.read_text() for p in sorted(directory.glob("catalog/*.yaml"))]
    started = time.perf_counter()
    for text in texts:
        YAML(typ="safe").load(text)
    ruamel = time.perf_counter() - started
    started = time.perf_counter()
    for text in texts:
        build(text, 64)
    return min(ruamel, time.perf_counter() - started)


# ---- one scenario in a child process ------------------------------------------------


def child(scenario: str, directory: Path) -> None:
    from reconcile import engine

    started = time.perf_counter()
    result = asyncio.run(engine.make_plan(directory))
    changes = len(result.plan.changes)
    if scenario != "plan":
        report = asyncio.run(engine.apply_planned(result))
        assert report.succeeded, [r for r in report.results if r.status != "done"][:5]
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = sum(os.times()[:2])
    print(json.dumps({"wall": wall, "cpu": cpu, "peak_mb": peak_mb, "changes": changes}))


def run_child(scenario: str, directory: Path, environ: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", scenario, "--dir", str(directory)],
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"scenario {scenario} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ---- the naive baseline -------------------------------------------------------------


class Naive:
    """A Terraform-provider-style client: one request per resource, 10 in flight, no rate."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.token = token
        self.gate = asyncio.Semaphore(NAIVE_IN_FLIGHT)
        self.counter = iter(range(10**9))

    async def call(self, method: str, path: str, **kw: Any) -> None:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "X-PB-TransactionId": f"n{next(self.counter)}",
        }
        async with self.gate:
            await self.http.request(method, f"{API}{path}", headers=headers, **kw)

    async def timed(self, calls: list[Coroutine[Any, Any, None]]) -> float:
        started = time.perf_counter()
        await asyncio.gather(*calls)
        return time.perf_counter() - started


async def naive_baseline(
    url: str, key: str, secret: str, args: argparse.Namespace
) -> dict[str, float]:
    """Measured: reads of every desired resource; creating everything (for a fresh client
    id, so it really is from empty); and the 5% edits as one PUT each."""
    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        naive = Naive(http, await _token(http, key, secret))
        items = [item_sku(i) for i in range(args.products)]
        kits = [kit_sku(k) for k in range(args.kits)]
        search = {
            "clientId": CLIENT_ID,
            "searchFields": [{"name": "billOfMaterialId", "values": ["1"]}],
        }
        reads = await naive.timed(
            [
                naive.call("GET", f"/products/{s}", params={"clientId": CLIENT_ID})
                for s in items + kits
            ]
            + [naive.call("POST", "/bill-of-materials/search", json=search) for _ in kits]
        )
        fresh = "NAIVE"
        creates = await naive.timed(
            [naive.call("POST", "/products", json=_wire(fresh, s, "ITEM")) for s in items]
            + [naive.call("POST", "/products", json=_wire(fresh, s, "KIT")) for s in kits]
        )
        creates += await naive.timed(
            [
                naive.call("POST", "/bill-of-materials", json=_wire_bom(fresh, k, items))
                for k in range(args.kits)
            ]
        )
        edited = items[: sum(args.edited)]  # as many one-request writes as the engine's edits
        edits = await naive.timed(
            [naive.call("PUT", f"/products/{s}", json=_wire(CLIENT_ID, s, "ITEM")) for s in edited]
        )
    return {"plan": reads, "apply-all": reads + creates, "apply-some": reads + edits}


def _wire(client: str, sku: str, kind: str) -> dict[str, Any]:
    return {"clientId": client, "sku": sku, "productType": kind, "details": {"description": "n"}}


def _wire_bom(client: str, k: int, items: list[str]) -> dict[str, Any]:
    parts = [{"sku": items[(k * 5 + j) % len(items)], "quantity": 1} for j in range(3)]
    return {
        "clientId": client,
        "sku": kit_sku(k),
        "description": "r",
        "billOfMaterialDetails": parts,
    }


async def _token(http: httpx.AsyncClient, key: str, secret: str) -> str:
    answer = await http.post(
        "/oauth/token", auth=(key, secret), data={"grant_type": "client_credentials"}
    )
    return str(answer.json()["access_token"])


# ---- the table ----------------------------------------------------------------------


def fewest_split(
    scenario: str, products: int, kits: int, edited: tuple[int, ...]
) -> tuple[int, int]:
    """The fewest (read, write) requests, by the rules in the module docstring: the plan's
    reads, then the apply's writes and confirmations (ITEM and KIT products are written
    in separate phases)."""
    reads = 1 + max(1, math.ceil((products + kits) / PAGE)) + max(1, math.ceil(kits / PAGE))
    if scenario == "plan":
        return reads, 0
    if scenario == "apply-all":
        reads = 1 + 1 + 1  # a token and one empty page per search
        phases, changed_boms = (products, kits), kits
    else:
        phases, changed_boms = edited[:2], edited[2]
    writes = confirm = 0
    for count in phases:
        sizes = [min(BULK, count - start) for start in range(0, count, BULK)]
        writes += len(sizes)
        confirm += sum(math.ceil(size / PAGE) for size in sizes)
    confirm += math.ceil(changed_boms / PAGE)
    return reads, 1 + writes + changed_boms + confirm


def floor_seconds(requests: int, latency: float) -> float:
    return max(requests / RATE, requests * latency / IN_FLIGHT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--kits", type=int, default=2_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--changed", type=float, default=0.05)
    parser.add_argument("--child", choices=["plan", "apply-all", "apply-some"])
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    args.edited = (0, 0, 0)
    if args.child:
        child(args.child, args.dir)
        return
    key, secret = "bench-key", "bench-secret"
    environ = {**os.environ, "PB_BENCH_API_KEY": key, "PB_BENCH_API_SECRET": secret}
    latency = args.latency_ms / 1000
    work = Path(tempfile.mkdtemp(prefix="reconcile-bench-"))
    try:
        with served_emulator(key, secret) as url:
            admin = httpx.Client(base_url=url, timeout=300)
            admin.post("/__sandbox/config", json={"latency_ms": args.latency_ms}).raise_for_status()
            catalog = work / "catalog"
            write_catalog(catalog, args.products, args.kits, url)
            parse = bare_parse_seconds(catalog)
            common: dict[str, Any] = {
                "catalog": catalog,
                "environ": environ,
                "args": args,
                "latency": latency,
                "parse": parse,
            }
            rows = []
            for scenario, label in (
                ("apply-all", "(b) apply all from empty"),
                ("plan", "(a) plan, no changes"),
            ):
                rows.append(_measure(admin, label, scenario=scenario, **common))
            args.edited = edit_catalog(catalog, args.changed)
            rows.append(_measure(admin, "(c) apply 5% updates", scenario="apply-some", **common))
            baselines = asyncio.run(naive_baseline(url, key, secret, args))
            _print_table(rows, baselines, args, parse)
            admin.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _print_table(
    rows: list[dict[str, Any]], baselines: dict[str, float], args: argparse.Namespace, parse: float
) -> None:
    print(
        f"{args.products} products + {args.kits} kits with BOMs in {FILES} files, "
        f"{args.latency_ms:.0f} ms latency, rate {RATE:.0f}/s, {IN_FLIGHT} in flight, "
        f"page {PAGE}, bulk {BULK}; bare YAML parse {parse:.2f} s"
    )
    header = (
        f"{'scenario':<26} {'changes':>7} {'wall s':>7} {'requests':>8} {'peak MB':>7} "
        f"{'min req':>7} {'req×':>5} {'floor s':>7} {'wall×':>5} {'naive s':>8} {'speedup':>7}"
        f" {'CPU s':>6}"
    )
    print(header)
    for row in rows:
        scenario = row["scenario"]
        naive_s = baselines[scenario]
        print(
            f"{row['label']:<26} {row['changes']:>7} {row['wall']:>7.1f} {row['requests']:>8} "
            f"{row['peak_mb']:>7.0f} {row['min']:>7} {row['requests'] / row['min']:>5.2f} "
            f"{row['floor']:>7.1f} {row['wall'] / row['floor']:>5.2f} {naive_s:>8.1f} "
            f"{naive_s / row['wall']:>6.1f}× {row['cpu']:>6.1f}"
        )
    print(
        "naive: one GET per product and one BOM search per kit, 10 in flight, no rate limit,"
        " then one write per change; all measured above",
        flush=True,
    )


def _measure(
    admin: httpx.Client,
    label: str,
    *,
    scenario: str,
    catalog: Path,
    environ: dict[str, str],
    args: argparse.Namespace,
    latency: float,
    parse: float,
) -> dict[str, Any]:
    before = admin.get("/__sandbox/stats").json()["total"]
    result = run_child(scenario, catalog, environ)
    served = admin.get("/__sandbox/stats").json()["total"] - before
    reads, writes = fewest_split(scenario, args.products, args.kits, args.edited)
    fewest = reads + writes
    # The critical path: loading overlaps reading PB, but no write can start before the
    # plan exists, so the write phase adds to the longer of the two.
    floor = max(floor_seconds(reads, latency), parse) + floor_seconds(writes, latency)
    return {
        "label": label,
        "scenario": scenario,
        "requests": served,
        "min": fewest,
        "floor": floor,
        **result,
    }


if __name__ == "__main__":
    main()
