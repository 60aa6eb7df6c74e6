"""Benchmark of the pure planning step (no I/O): build_plan, to_json and render_markdown.

Run: ``.venv/bin/python tests/bench/bench_plan.py [products] [kits]`` (default 10000 2000).
Prints one table: each scenario with and without the ``==`` prefilter (the baseline runs
deepdiff on every resource pair, as a diff that skipped the prefilter would).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))

from reconcile.models import Bom, Product, VendorDetails, comparable
from reconcile.plan.build import build_plan
from reconcile.plan.plan import Plan
from reconcile.plan.render import render_markdown
from tests.plan.factories import CLIENT, bom, kit, product, resources


def catalog(products: int, kits: int, changed_every: int = 0) -> list[Product | Bom]:
    """``products`` items, ``kits`` kits with a three-line BOM each; every
    ``changed_every``-th item gets a new description (0: none)."""
    items: list[Product | Bom] = []
    for i in range(products):
        changed = changed_every and i % changed_every == 0
        description = "changed" if changed else f"item {i}"
        vendor = VendorDetails(name="Vendor", number=str(i % 7))
        items.append(product(f"P{i:06}", description=description, vendorDetails=vendor))
    for k in range(kits):
        items.append(kit(f"K{k:05}"))
        parts = {f"P{(3 * k + j) % products:06}": j + 1 for j in range(3)}
        items.append(bom(f"K{k:05}", parts))
    return items


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def deepdiff_everything(desired: list[Product | Bom], remote: list[Product | Bom]) -> int:
    """The baseline: deepdiff on every pair, without the equality prefilter."""
    from deepdiff import DeepDiff

    changed = 0
    for want, have in zip(desired, remote, strict=True):
        if DeepDiff(comparable(have), comparable(want), threshold_to_diff_deeper=0):
            changed += 1
    return changed


def scenario(name: str, desired: list[Product | Bom], remote: list[Product | Bom]) -> str:
    """One table row: build_plan against the baseline, then serialising and rendering."""
    wanted, held = resources(desired), resources(remote, remote=True)
    seconds, plan = timed(lambda: build_plan(wanted, held, environment="bench", client_id=CLIENT))
    assert isinstance(plan, Plan)
    json_seconds, text = timed(plan.to_json)
    markdown_seconds, _ = timed(lambda: render_markdown(plan))
    baseline, _ = timed(lambda: deepdiff_everything(desired, remote))
    return (
        f"| {name} | {len(plan.changes)} | {seconds:.2f} | {baseline:.2f} "
        f"| {baseline / seconds:.0f}× | {json_seconds:.3f} | {len(str(text)):,} "
        f"| {markdown_seconds:.3f} |"
    )


def main() -> None:
    products = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    kits = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000
    remote = catalog(products, kits)
    print(f"{products} products, {kits} kits with BOMs ({len(remote)} resources per side)\n")
    print(
        "| scenario | changes | build_plan s | baseline (deepdiff all) s | speed-up "
        "| to_json s | plan JSON bytes | render_markdown s |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    print(scenario("no changes", catalog(products, kits), remote))
    print(scenario("5% updates", catalog(products, kits, changed_every=20), remote))


if __name__ == "__main__":
    main()
