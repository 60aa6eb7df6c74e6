"""The engine end to end: 10,000 products + 2,000 kits with BOMs, served emulator, 50 ms.

Run: ``.venv/bin/python tests/bench/bench_engine.py [--products N] [--kits N] [--latency-ms MS]``

The emulator runs as ``reconcile sandbox serve`` in its own process; each scenario runs
the real engine (``make_plan`` + ``apply_planned``, i.e. ``apply --auto-approve``) in a
fresh child process, so its peak memory is its own. One table:

* (a) plan with no changes, (b) apply of everything from empty, (c) apply of 5% updates
  (5% of products get a new description, 5% of BOMs a new quantity);
* for each: wall time, requests the emulator served, peak RSS of the engine process;
* the floor: the fewest requests the contract's rules allow (below), their time at the
  configured rate and concurrency, and the bare C-loader parse time of the YAML; the
  wall-time floor is the larger of the two, since loading overlaps fetching;
* a naive baseline measured in the same run: one GET per desired resource (BOMs have no
  GET: one search by id each) with 10 in flight, plus one write per change.

Fewest requests, by the rules the engine must keep (contract §6.5, §6.3, issue 5):
token + product search pages + BOM search pages; plus, when products are missing from
the search, one GET each (PB hides products older than six months from a plain search);
plus per apply: a token, ⌈changed products / 200⌉ bulk calls, one call per changed BOM,
and the confirming re-reads (⌈batch / page⌉ searches per bulk batch, ⌈BOMs / 100⌉).
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
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CLIENT_ID = "BENCH"
RATE, IN_FLIGHT, PAGE, BULK = 100.0, 16, 100, 200
NAIVE_IN_FLIGHT = 10
FILES = 40
API = "/shippingservices/fulfillment/v1"


# ---- the catalog --------------------------------------------------------------------


def write_catalog(directory: Path, products: int, kits: int, url: str, changed: float) -> None:
    """YAML files of items, kits and BOMs; ``changed`` of them edited (seeded, stable)."""
    rng = random.Random(7)
    edited_items = set(rng.sample(range(products), int(products * changed)))
    edited_kits = set(rng.sample(range(kits), int(kits * changed)))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "reconcile.yaml").write_text(
        f"client_id: {CLIENT_ID}\ndefault_environment: bench\n"
        f"environments:\n  bench:\n    base_url: {url}\n"
        f"limits:\n  requests_per_second: {RATE}\n  max_in_flight: {IN_FLIGHT}\n"
        f"  page_size: {PAGE}\n  bulk_size: {BULK}\n"
        "safety:\n  max_update_fraction: 0.5\n"
    )
    chunks: list[list[str]] = [[] for _ in range(FILES)]
    for i in range(products):
        text = "edited" if i in edited_items else "original"
        chunks[i % FILES].append(_item(f"ITEM-{i:06d}", "ITEM", f"item {i} {text}"))
    for k in range(kits):
        chunks[k % FILES].append(_item(f"KIT-{k:05d}", "KIT", f"kit {k}"))
    boms: list[list[str]] = [[] for _ in range(FILES)]
    for k in range(kits):
        parts = [(k * 5 + j) % products for j in range(3)]
        qty = 2 if k in edited_kits else 1
        boms[k % FILES].append(_bom(f"KIT-{k:05d}", parts, qty))
    for n in range(FILES):
        body = (
            "products:\n" + "".join(chunks[n]) + ("boms:\n" + "".join(boms[n]) if boms[n] else "")
        )
        (directory / f"catalog-{n:02d}.yaml").write_text(body)


def _item(sku: str, kind: str, description: str) -> str:
    return (
        f"  - sku: {sku}\n    productType: {kind}\n    details:\n      description: {description}\n"
    )


def _bom(sku: str, parts: list[int], qty: int) -> str:
    lines = "".join(f"      - sku: ITEM-{p:06d}\n        quantity: {qty}\n" for p in parts)
    return f"  - sku: {sku}\n    description: recipe of {sku}\n    billOfMaterialDetails:\n{lines}"


def bare_parse_seconds(directory: Path) -> float:
    from ruamel.yaml import YAML

    started = time.perf_counter()
    for path in sorted(directory.glob("*.yaml")):
        YAML(typ="safe").load(path.read_text())
    return time.perf_counter() - started


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
    print(json.dumps({"wall": wall, "peak_mb": peak_mb, "changes": changes}))


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


async def naive(url: str, key: str, secret: str, *, products: int, kits: int, writes: int) -> float:
    """One GET per product, one search-by-id per BOM, 10 in flight; then ``writes`` PUTs."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        token = await _token(http, key, secret)
        gate = asyncio.Semaphore(NAIVE_IN_FLIGHT)
        counter = iter(range(10**9))

        async def call(method: str, path: str, **kw: Any) -> None:
            headers = {
                "Authorization": f"Bearer {token}",
                "X-PB-TransactionId": f"n{next(counter)}",
            }
            async with gate:
                await http.request(method, f"{API}{path}", headers=headers, **kw)

        started = time.perf_counter()
        skus = [f"ITEM-{i:06d}" for i in range(products)] + [f"KIT-{k:05d}" for k in range(kits)]
        reads = [call("GET", f"/products/{s}", params={"clientId": CLIENT_ID}) for s in skus]
        body = {
            "clientId": CLIENT_ID,
            "searchFields": [{"name": "billOfMaterialId", "values": ["1"]}],
        }
        reads += [call("POST", "/bill-of-materials/search", json=body) for _ in range(kits)]
        await asyncio.gather(*reads)
        product = {"clientId": CLIENT_ID, "productType": "ITEM", "details": {"description": "n"}}
        puts = [call("PUT", f"/products/{s}", json={**product, "sku": s}) for s in skus[:writes]]
        await asyncio.gather(*puts)
        return time.perf_counter() - started


async def _token(http: httpx.AsyncClient, key: str, secret: str) -> str:
    answer = await http.post(
        "/oauth/token", auth=(key, secret), data={"grant_type": "client_credentials"}
    )
    return str(answer.json()["access_token"])


# ---- the table ----------------------------------------------------------------------


def fewest_requests(scenario: str, products: int, kits: int, changed: float) -> int:
    total_products = products + kits
    reads = 1 + max(1, math.ceil(total_products / PAGE)) + max(1, math.ceil(kits / PAGE))
    if scenario == "plan":
        return reads
    if scenario == "apply-all":
        reads = 1 + 1 + 1 + total_products  # empty searches, then one GET per desired product
        changed_products, changed_boms = total_products, kits
    else:
        changed_products, changed_boms = int(products * changed), int(kits * changed)
    batches = math.ceil(changed_products / BULK)
    confirm = sum(
        math.ceil(min(BULK, changed_products - i * BULK) / PAGE) for i in range(batches)
    ) + math.ceil(changed_boms / PAGE)
    return reads + 1 + batches + changed_boms + confirm


def floor_seconds(requests: int, latency: float) -> float:
    return max(requests / RATE, requests * latency / IN_FLIGHT)


@contextmanager
def served_emulator(key: str, secret: str, latency_ms: float) -> Iterator[str]:
    environ = {**os.environ, "PB_API_KEY": key, "PB_API_SECRET": secret, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", "from reconcile.cli import main; main()", "sandbox", "serve"]
    server = subprocess.Popen(
        [*command, "--port", "0", "--latency-ms", str(latency_ms)],
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
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--kits", type=int, default=2_000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--changed", type=float, default=0.05)
    parser.add_argument("--child", choices=["plan", "apply-all", "apply-some"])
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.dir)
        return
    key, secret = "bench-key", "bench-secret"
    environ = {**os.environ, "PB_BENCH_API_KEY": key, "PB_BENCH_API_SECRET": secret}
    latency = args.latency_ms / 1000
    work = Path(tempfile.mkdtemp(prefix="reconcile-bench-"))
    try:
        with served_emulator(key, secret, args.latency_ms) as url:
            admin = httpx.Client(base_url=url, timeout=300)
            catalog = work / "catalog"
            write_catalog(catalog, args.products, args.kits, url, changed=0.0)
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
            write_catalog(catalog, args.products, args.kits, url, changed=args.changed)
            rows.append(_measure(admin, "(c) apply 5% updates", scenario="apply-some", **common))
            writes = {"plan": 0, "apply-all": args.products + args.kits, "apply-some": 0}
            writes["apply-some"] = int(args.products * args.changed) + int(args.kits * args.changed)
            naive_reads = asyncio.run(
                naive(url, key, secret, products=args.products, kits=args.kits, writes=0)
            )
            naive_some = asyncio.run(
                naive(
                    url,
                    key,
                    secret,
                    products=args.products,
                    kits=args.kits,
                    writes=writes["apply-some"],
                )
            )
            per_write = (naive_some - naive_reads) / max(1, writes["apply-some"])
            baselines = {
                "plan": naive_reads,
                "apply-some": naive_some,
                # measured reads + measured cost per write times the writes (12,000 PUTs not re-run)
                "apply-all": naive_reads + per_write * (writes["apply-all"] + args.kits),
            }
            admin.close()
        print(
            f"{args.products} products + {args.kits} kits with BOMs in {FILES} files, "
            f"{args.latency_ms:.0f} ms latency, rate {RATE:.0f}/s, {IN_FLIGHT} in flight, "
            f"page {PAGE}, bulk {BULK}; bare YAML parse {parse:.2f} s"
        )
        header = (
            f"{'scenario':<26} {'changes':>7} {'wall s':>7} {'requests':>8} {'peak MB':>7} "
            f"{'min req':>7} {'req×':>5} {'floor s':>7} {'wall×':>5} {'naive s':>8} {'speedup':>7}"
        )
        print(header)
        for row in rows:
            scenario = row["scenario"]
            naive_s = baselines[scenario]
            print(
                f"{row['label']:<26} {row['changes']:>7} {row['wall']:>7.1f} {row['requests']:>8} "
                f"{row['peak_mb']:>7.0f} {row['min']:>7} {row['requests'] / row['min']:>5.2f} "
                f"{row['floor']:>7.1f} {row['wall'] / row['floor']:>5.2f} {naive_s:>8.1f} "
                f"{naive_s / row['wall']:>6.1f}×"
            )
        print("naive (b) = measured reads + measured time per write × its writes")
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
    fewest = fewest_requests(scenario, args.products, args.kits, args.changed)
    floor = max(floor_seconds(fewest, latency), parse)
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
