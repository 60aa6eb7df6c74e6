"""Benchmark: catalog load+validate vs. a bare C-safe YAML parse of the same files.

Run: ``python tests/bench/bench_load.py [--sizes 1000,10000,100000] [--repeat 2]``

For each size N it generates N ITEM products and N/10 KITs with their BOMs (1 000
products per file), then times, each in a fresh process so peak memory is its own:

* ``bare``: ``YAML(typ="safe").load`` of every file (ruamel's C loader, nothing else);
* ``parse``: our own event pass alone (``reconcile.desired.events.build``), no validation;
* ``load``: ``reconcile.desired.load_catalog`` (reading, file rules, pydantic
  validation, cross-file checks).

It prints a table with the best time of ``--repeat`` runs, the ratio load/bare (goal
≤ 1.5), the ratio load/parse (what validation adds to our own parse), and the peak
resident memory of the bare and load processes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.generate import generate_catalog

BARE = """
import json, resource, sys, time
from pathlib import Path
from ruamel.yaml import YAML
from reconcile.desired import catalog_files
files = catalog_files(Path(sys.argv[1]))
start = time.perf_counter()
for path in files:
    YAML(typ="safe").load(path.read_text(encoding="utf-8"))
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

PARSE = """
import gc, json, resource, sys, time
from pathlib import Path
from reconcile.desired import catalog_files
from reconcile.desired.events import build
files = catalog_files(Path(sys.argv[1]))
gc.disable()  # as load_catalog does
start = time.perf_counter()
for path in files:
    build(path.read_text(encoding="utf-8"), 64)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""

LOAD = """
import json, resource, sys, time
from pathlib import Path
from reconcile.desired import load_catalog
start = time.perf_counter()
catalog = load_catalog(Path(sys.argv[1]))
seconds = time.perf_counter() - start
assert not catalog.problems, catalog.problems[:3]
print(json.dumps({"seconds": seconds, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "resources": len(catalog.resources)}))
"""

BASELINE = """
import json, resource
from reconcile.desired import load_catalog
print(json.dumps({"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def measure(script: str, directory: Path | None) -> dict[str, float]:
    args = [sys.executable, "-c", script] + ([str(directory)] if directory else [])
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def best(script: str, directory: Path, repeat: int) -> dict[str, float]:
    runs = [measure(script, directory) for _ in range(repeat)]
    return min(runs, key=lambda r: r["seconds"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="load+validate vs bare C-safe parse")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    base_mb = measure(BASELINE, None)["rss"] / 1024
    print(f"process baseline after imports: {base_mb:.0f} MB peak RSS")
    header = (
        f"{'products':>9} {'kits':>6} {'files':>5} {'MB':>6} {'bare s':>8} {'parse s':>8} "
        f"{'load s':>8} {'load/bare':>9} {'load/parse':>10} {'bare MB':>8} {'load MB':>8}"
    )
    print(header)
    print("-" * len(header))
    for size in (int(s) for s in args.sizes.split(",")):
        kits, files = size // 10, max(1, size // 1000)
        with tempfile.TemporaryDirectory() as tmp:
            directory = Path(tmp)
            generate_catalog(directory, size, kits, files)
            megabytes = sum(p.stat().st_size for p in directory.rglob("*.yaml")) / 1e6
            repeat = args.repeat if size <= 10_000 else 1
            bare = best(BARE, directory, repeat)
            parse = best(PARSE, directory, repeat)
            load = best(LOAD, directory, repeat)
        print(
            f"{size:>9} {kits:>6} {files:>5} {megabytes:>6.1f} {bare['seconds']:>8.2f} "
            f"{parse['seconds']:>8.2f} {load['seconds']:>8.2f} "
            f"{load['seconds'] / bare['seconds']:>9.2f} "
            f"{load['seconds'] / parse['seconds']:>10.2f} "
            f"{bare['rss'] / 1024:>8.0f} {load['rss'] / 1024:>8.0f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
