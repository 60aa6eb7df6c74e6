"""``probe --write``: throwaway objects under ``RCPROBE-<run>``, checked, then deactivated.

PB has no DELETE: what this creates stays in PB, inactive. Every object is named with the
run's prefix so it can be recognised (and ignored) later.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from reconcile.probe.check import Json, Verdict, failed, keys_of, passed, shown
from reconcile.probe.session import Probe, answered, skus
from reconcile.remote import wire

PREFIX = "RCPROBE"
Sleep = Callable[[float], Awaitable[None]]


def run_prefix() -> str:
    """``RCPROBE-<6 hex digits>``: short enough for PB's 30-character SKUs."""
    return f"{PREFIX}-{secrets.token_hex(3).upper()}"


@dataclass
class Writes:
    """The write checks of one run: what they created, and how long to wait for search."""

    probe: Probe
    prefix: str
    poll_attempts: int = 10
    poll_interval: float = 3.0
    sleep: Sleep = asyncio.sleep
    products: dict[str, Json] = field(default_factory=dict)
    boms: dict[str, Json] = field(default_factory=dict)

    def sku(self, suffix: str) -> str:
        return f"{self.prefix}-{suffix}"

    def product(self, suffix: str, kind: str = "ITEM", **extra: Any) -> Json:
        return {
            "clientId": self.probe.client_id,
            "sku": self.sku(suffix),
            "productType": kind,
            "details": {"description": f"reconcile probe {self.prefix} (throwaway)"},
            **extra,
        }

    async def post(self, path: str, body: Json) -> Any:
        return await self.probe.send("POST", path, body=body)

    async def put_product(self, body: Json) -> Any:
        path = f"{wire.PRODUCTS_PATH}/{quote(body['sku'], safe='')}"
        answer = await self.probe.send("PUT", path, body=body)
        if 200 <= answer.status < 300:
            self.products[body["sku"]] = body
        return answer


async def create(w: Writes) -> Verdict:
    """Two items and a kit (the first with vendorDetails, for the replacement check)."""
    vendor = {"name": "reconcile probe", "number": "RCPROBE"}
    for body in (w.product("A", vendorDetails=vendor), w.product("B"), w.product("K", "KIT")):
        answer = await w.post(wire.PRODUCTS_PATH, body)
        if not 200 <= answer.status < 300:
            return failed(f"creating {body['sku']} answered {answered(answer)}")
        w.products[body["sku"]] = body
    return passed(f"created {', '.join(w.products)} (they stay in PB, inactive at the end)")


async def duplicate_create(w: Writes) -> Verdict:
    answer = await w.post(wire.PRODUCTS_PATH, w.products[w.sku("A")])
    if 200 <= answer.status < 300:
        return failed(
            "a second create of the same SKU was accepted: reconcile relies on PB refusing "
            "it to tell a lost create from a new one"
        )
    return passed(f"a second create of the same SKU is refused: {answered(answer)}")


async def full_replacement(w: Writes) -> Verdict:
    """A PUT without vendorDetails clears them (a full replacement, not a merge)."""
    body = {k: v for k, v in w.products[w.sku("A")].items() if k != "vendorDetails"}
    answer = await w.put_product(body)
    if not 200 <= answer.status < 300:
        return failed(f"PUT answered {answered(answer)}")
    after = await w.probe.get_product(body["sku"])
    if after.obj is None:
        return failed(f"GET after the PUT answered {answered(after)}")
    if "vendorDetails" in after.obj:
        return failed(
            "a PUT without vendorDetails kept them: PB merges, so an update that clears a "
            "field would not converge (plan shows it cleared, PB keeps it)"
        )
    return passed("a PUT without vendorDetails cleared them: full replacement")


async def bulk_results(w: Writes) -> Verdict:
    """A bulk call with one good CREATE and one bad UPDATE (an absent SKU)."""
    items = [
        {**w.product("C"), wire.BULK_OPERATION_FIELD: wire.BULK_CREATE},
        {**w.product("D"), wire.BULK_OPERATION_FIELD: wire.BULK_UPDATE},
    ]
    answer = await w.post(wire.PRODUCTS_BULK_PATH, {wire.BULK_ITEMS_FIELD: items})
    stored = await w.probe.get_product(w.sku("C"))
    if stored.status == 200:
        w.products[w.sku("C")] = w.product("C")
    if 400 <= answer.status < 500:
        return passed(f"one bad item refuses the whole call: {answered(answer)}")
    listed = (answer.obj or {}).get(wire.BULK_ANSWER_ITEMS)
    if not isinstance(listed, list) or len(listed) != len(items):
        return failed(f"bulk answered {answered(answer)}: no per-item result for each item")
    states = ", ".join(f"{i.get('sku')} {i.get('status')}" for i in listed if isinstance(i, dict))
    return passed(f"per-item results: {states}")


async def bom_create(w: Writes) -> Verdict:
    bom = {
        "clientId": w.probe.client_id,
        "sku": w.sku("K"),
        "description": "reconcile probe",
        "billOfMaterialDetails": [
            {"sku": w.sku("A"), "quantity": 1},
            {"sku": w.sku("B"), "quantity": 2},
        ],
    }
    answer = await w.post(wire.BOMS_PATH, bom)
    if not 200 <= answer.status < 300:
        return failed(f"creating a BOM answered {answered(answer)}")
    bom_id = wire.bom_id_of(answer.obj or {})
    if not bom_id:
        return failed(
            f"the create answer carries no `{wire.BOM_ID_FIELD}` (keys: {keys_of(answer.obj)}): "
            "reconcile cannot find the BOM again to update or deactivate it"
        )
    w.boms[bom_id] = bom
    return passed(f"BOM created; the answer carries `{wire.BOM_ID_FIELD}` {bom_id}")


async def index_lag(w: Writes) -> Verdict:
    """How many searches (and seconds) until the new product and BOM appear in search."""
    started, sku = time.monotonic(), w.sku("A")
    sku_fields = [*wire.product_window_search_fields(), {"name": "sku", "values": [sku]}]
    kit_fields = [{"name": wire.BOM_PARENT_SKU_SEARCH_FIELD, "values": [w.sku("K")]}]
    kit_fields.append(dict(wire.BOM_INCLUDE_INACTIVE))
    for attempt in range(1, w.poll_attempts + 1):
        product_seen = sku in skus(await w.probe.items("products", fields=sku_fields))
        found = await w.probe.items("boms", fields=kit_fields)
        bom_seen = not w.boms or bool({wire.bom_id_of(b) for b in found} & set(w.boms))
        if product_seen and bom_seen:
            if attempt == 1:
                return passed("the new product and BOM are in search at once")
            return failed(
                f"the new objects reached search only on search {attempt} "
                f"({time.monotonic() - started:.1f} s): a plan right after an apply plans "
                "them again; wait that long between runs"
            )
        await w.sleep(w.poll_interval)
    waited = time.monotonic() - started
    return failed(
        f"after {w.poll_attempts} searches ({waited:.0f} s) search still misses the new "
        f"{'product' if not product_seen else 'BOM'}: reconcile would create it again"
    )


async def get_bom_by_id(w: Writes) -> Verdict:
    if not w.boms:
        return failed("no BOM was created to read")
    bom_id = next(iter(w.boms))
    answer = await w.probe.get_bom(bom_id)
    if answer.status != 200:
        return failed(f"GET id {bom_id} of the new BOM answered {answered(answer)}")
    return passed(f"GET id {bom_id} answers the new BOM")


async def inactive_product(w: Writes) -> Verdict:
    """`active: false` is stored; how GET and search show the product afterwards."""
    sku = w.sku("B")
    answer = await w.put_product({**w.products[sku], "active": False})
    if not 200 <= answer.status < 300:
        return failed(f"PUT with active: false answered {answered(answer)}")
    got = await w.probe.get_product(sku)
    if got.obj is None or got.obj.get("active") is not False:
        return failed(f"GET after active: false shows {shown((got.obj or {}).get('active'))}")
    fields = [*wire.product_window_search_fields(), {"name": "sku", "values": [sku]}]
    found = [p for p in await w.probe.items("products", fields=fields) if p.get("sku") == sku]
    where = "still in search (active: false)" if found else "hidden from search"
    return passed(f"stored: GET shows active: false; {where}")


async def cleanup(w: Writes) -> Verdict:
    """Deactivate everything created; check each reads back inactive."""
    left: list[str] = []
    for bom_id, bom in w.boms.items():
        path = f"{wire.BOMS_PATH}/{quote(bom_id, safe='')}"
        answer = await w.probe.send("PUT", path, body={**bom, "active": False})
        if answer.status >= 300 or await _bom_active(w, bom_id, bom["sku"]) is not False:
            left.append(f"BOM {bom_id}")
    for sku, body in list(w.products.items()):
        await w.put_product({**body, "active": False})
        got = await w.probe.get_product(sku)
        if (got.obj or {}).get("active") is not False:
            left.append(sku)
    if left:
        return failed(f"still active: {', '.join(left)}; deactivate them by hand")
    made = f"{len(w.products)} products and {len(w.boms)} BOM"
    return passed(f"deactivated {made} under {w.prefix}- (they stay in PB: no DELETE)")


async def _bom_active(w: Writes, bom_id: str, kit: str) -> object:
    """A BOM's ``active`` as GET by id shows it, else as its kit's search shows it."""
    got = await w.probe.get_bom(bom_id)
    if got.obj is not None and got.status == 200:
        return got.obj.get("active")
    fields = [{"name": wire.BOM_PARENT_SKU_SEARCH_FIELD, "values": [kit]}]
    fields.append(dict(wire.BOM_INCLUDE_INACTIVE))
    found = [b for b in await w.probe.items("boms", fields=fields) if wire.bom_id_of(b) == bom_id]
    return found[0].get("active") if found else None
