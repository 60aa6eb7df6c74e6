"""Synthetic catalogs for benchmarks: N items, M kits with BOMs, spread over files.

Library use: ``generate_catalog(dest, products=10_000, kits=1_000, files=10)``.
Command line: ``python tests/bench/generate.py DEST --products 10000 --kits 1000 --files 10``.

The catalog is valid, deterministic for a seed, and in fmt's canonical layout. Kits
contain 2-5 items, and every tenth kit also contains an earlier kit (nested, acyclic).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

from reconcile.desired.writer import emit

MODELINE = "# yaml-language-server: $schema=../../schemas/catalog.schema.json\n"
COLORS = ["black", "white", "red", "blue", "green", "natural", "grey"]
NOUNS = ["mug", "tote", "t-shirt", "notebook", "pen", "cap", "bottle", "card", "box", "beans"]
NODES = ["PB-FC-EAST", "PB-FC-WEST", None]
#: The generated nodes are not the documented centers: reconcile.yaml declares them.
CENTERS_SETTING = f"fulfillment_centers: [{', '.join(n for n in NODES if n)}]\n"


def item_sku(i: int) -> str:
    return f"ITEM-{i:07d}"


def kit_sku(i: int) -> str:
    return f"KIT-{i:07d}"


def _item(i: int, rng: random.Random) -> dict[str, Any]:
    noun, color = rng.choice(NOUNS), rng.choice(COLORS)
    data: dict[str, Any] = {"sku": item_sku(i), "productType": "ITEM"}
    if i % 2 == 0:
        data["vendorDetails"] = {"name": f"Vendor {i % 97}", "number": f"V-{i:07d}"}
    data["details"] = {
        "description": f"{color.title()} {noun}, model {i}",
        "weight": round(rng.uniform(0.05, 2.5), 3),
        "color": color,
    }
    return data


def _kit(i: int) -> dict[str, Any]:
    return {
        "sku": kit_sku(i),
        "productType": "KIT",
        "details": {"description": f"Gift set number {i}"},
    }


def _bom(i: int, items: int, rng: random.Random) -> dict[str, Any]:
    chosen = {item_sku(rng.randrange(items)) for _ in range(rng.randint(2, 5))} if items else set()
    if i % 10 == 9:
        chosen.add(kit_sku(rng.randrange(i)))  # nested: only earlier kits, so no cycle
    components = [{"sku": s, "quantity": rng.randint(1, 3)} for s in sorted(chosen)]
    data: dict[str, Any] = {"sku": kit_sku(i)}
    node = NODES[i % len(NODES)]
    if node:
        data["node"] = node
    data["description"] = f"Gift set {i}"
    data["billOfMaterialDetails"] = components or [{"sku": kit_sku(0), "quantity": 1}]
    return data


def generate_catalog(  # noqa: PLR0917 -- the signature other benchmarks call positionally
    dest: Path, products: int, kits: int, files: int, client_id: str = "DEMO", seed: int = 0
) -> None:
    """Write a valid catalog of ``products`` ITEMs and ``kits`` KITs (each with a BOM)."""
    if kits and not products and kits > 1:
        raise ValueError("kits need items to contain")
    rng = random.Random(seed)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    settings = f"client_id: {client_id}\n{CENTERS_SETTING}"
    (dest / "reconcile.yaml").write_text(settings, encoding="utf-8")
    files = max(1, files)
    buckets: list[dict[str, list[dict[str, Any]]]] = [
        {"products": [], "boms": []} for _ in range(files)
    ]
    for i in range(products):
        buckets[i * files // max(products, 1)]["products"].append(_item(i, rng))
    for i in range(kits):
        bucket = buckets[i * files // kits]
        bucket["products"].append(_kit(i))
        bucket["boms"].append(_bom(i, products, rng))
    width = len(str(files))
    for n, bucket in enumerate(buckets, 1):
        content = {k: v for k, v in bucket.items() if v}
        path = dest / "catalog" / f"part-{n:0{width}d}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(MODELINE + (emit(content) if content else "products: []\n"), "utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--products", type=int, default=1000, help="ITEM products")
    parser.add_argument("--kits", type=int, default=100, help="KIT products, one BOM each")
    parser.add_argument("--files", type=int, default=1)
    parser.add_argument("--client-id", default="DEMO")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    generate_catalog(args.dest, args.products, args.kits, args.files, args.client_id, args.seed)
    print(f"wrote {args.products} items and {args.kits} kits into {args.dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
