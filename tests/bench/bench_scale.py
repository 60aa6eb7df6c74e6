"""Scale: validate, no-change plan and apply from empty at 1k / 10k / 100k products.

Run: ``.venv/bin/python tests/bench/bench_scale.py [--sizes 1000,10000,100000]
[--apply-sizes 10000,100000] [--where local,served]``

Each size N is ``generate.py``'s catalog of N ITEM products and N/10 KITs with BOMs (seed
7, one file per 2,500 resources). Every scenario runs the real engine in a fresh child
process, which reports its own CPU seconds (user + system, ``os.times``, imports left
out), wall time, peak
RSS (``getrusage``) and requests sent; printing the plan (rich text, as `plan` and
`apply` print it, to /dev/null) is part of the run and its CPU is also shown alone.

Order per size: ``validate``; ``apply`` from empty on ``local`` (the embedded sandbox,
in-process; it also fills the sandbox file); the no-change ``plan`` on ``local``; then the
same file served by ``reconcile sandbox serve --db`` in its own process (no latency,
100 requests/s, the most settings allow, 16 in flight) for the no-change ``plan`` over
HTTP. The emulator's own CPU is not in the figures (its process is separate).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.bench_fetch import served_emulator
from tests.bench.generate import CENTERS_SETTING, generate_catalog

CLIENT_ID = "SCALE"
KEY, SECRET = "scale-key", "scale-secret"


# ---- one scenario, in a child process ---------------------------------------------------


def child(scenario: str, directory: Path) -> None:
    import asyncio

    from reconcile import engine
    from reconcile.cli.console import Output, print_plan
    from reconcile.desired import load_catalog

    started, printing, requests, changes = time.perf_counter(), 0.0, 0, 0
    cpu_before = sum(os.times()[:2])  # the imports are not the scenario
    if scenario == "validate":
        catalog = load_catalog(directory)
        assert not catalog.problems, catalog.problems[:3]
    else:
        result = asyncio.run(engine.make_plan(directory))
        plan, requests, changes = result.plan, result.requests, len(result.plan.changes)
        before = time.process_time()
        print_plan(Output(color=True), plan, "text")
        printing = time.process_time() - before
        if scenario == "apply":
            report = asyncio.run(engine.apply_planned(result))
            assert report.succeeded, [r for r in report.results if r.status != "done"][:3]
            requests += report.requests
    stats = {
        "cpu": sum(os.times()[:2]) - cpu_before,
        "wall": time.perf_counter() - started,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "requests": requests,
        "changes": changes,
        "printing": printing,
    }
    print(json.dumps(stats), file=sys.stderr)


def run_child(scenario: str, directory: Path) -> dict[str, Any]:
    environ = {**os.environ, "PB_SERVED_API_KEY": KEY, "PB_SERVED_API_SECRET": SECRET}
    done = subprocess.run(
        [sys.executable, __file__, "--child", scenario, "--dir", str(directory)],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{scenario} in {directory} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


# ---- the catalog and the served emulator --------------------------------------------------


def write_catalog(directory: Path, products: int) -> None:
    kits = products // 10
    generate_catalog(directory, products, kits, max(1, (products + kits) // 2_500), CLIENT_ID, 7)


def point_at(directory: Path, url: str | None) -> None:
    """reconcile.yaml: the embedded ``local`` sandbox, or the served emulator at ``url``."""
    text = f"client_id: {CLIENT_ID}\n{CENTERS_SETTING}"
    if url is not None:
        text += (
            "default_environment: served\n"
            f"environments:\n  served:\n    base_url: {url}\n"
            "limits:\n  requests_per_second: 100\n  max_in_flight: 16\n"
        )
    (directory / "reconcile.yaml").write_text(text)


# ---- the table ------------------------------------------------------------------------------


def measure(size: int, where: list[str], apply_sizes: set[int], work: Path) -> list[str]:
    directory = work / f"catalog-{size}"
    write_catalog(directory, size)
    point_at(directory, None)
    rows = [row(size, "validate", "-", run_child("validate", directory))]
    if size in apply_sizes:
        rows.append(row(size, "apply from empty", "local", run_child("apply", directory)))
    else:  # fill the sandbox file for the no-change plans, unmeasured
        run_child("apply", directory)
    if "local" in where:
        rows.append(row(size, "plan, no changes", "local", run_child("plan", directory)))
    if "served" in where:
        db = directory / ".reconcile" / "sandbox.db"
        with served_emulator(KEY, SECRET, flags=("--db", str(db))) as url:
            point_at(directory, url)
            rows.append(row(size, "plan, no changes", "served", run_child("plan", directory)))
    shutil.rmtree(directory, ignore_errors=True)
    return rows


def row(size: int, scenario: str, where: str, r: dict[str, Any]) -> str:
    share = 100 * r["printing"] / r["cpu"] if r["cpu"] else 0.0
    line = (
        f"{size:>7} {scenario:<17} {where:<6} {r['changes']:>7} {r['cpu']:>7.1f} "
        f"{r['wall']:>7.1f} {r['peak_mb']:>7.0f} {r['requests']:>8} {r['printing']:>6.2f} "
        f"{share:>5.1f}%"
    )
    print(line, flush=True)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--apply-sizes", default="10000,100000")
    parser.add_argument("--where", default="local,served")
    parser.add_argument("--child", choices=["validate", "plan", "apply"])
    parser.add_argument("--dir", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.dir)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    apply_sizes = {int(s) for s in args.apply_sizes.split(",") if s}
    where = args.where.split(",")
    print(f"{os.cpu_count()} cores; products + products/10 kits with BOMs")
    print(
        f"{'N':>7} {'scenario':<17} {'where':<6} {'changes':>7} {'CPU s':>7} {'wall s':>7} "
        f"{'peak MB':>7} {'requests':>8} {'print s':>6} {'print':>6}"
    )
    work = Path(tempfile.mkdtemp(prefix="reconcile-scale-"))
    try:
        for size in sizes:
            measure(size, where, apply_sizes, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
