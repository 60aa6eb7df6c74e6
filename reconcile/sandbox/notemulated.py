"""Documented PB Fulfillment routes the emulator does not emulate: 501, in PB's error shape.

The Fulfillment overview lists more than the catalog needs: ASN (receiving), orders,
shipments, work orders and returns. Their exact paths are not in the contract (only the
page names: get-receiving-asn, put-receiving-asn, put-receiving-asn-cancel, post-orders,
post-orders-bulk, post-shipments-search), so every path under these areas answers 501
with the unified error object saying so, instead of a 404 that reads like "no such
resource" (ASSUME: the area names below, taken from those page names).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox.apierror import ApiError
from reconcile.sandbox.core import Endpoint, Sandbox

AREAS = ("receiving", "asn", "orders", "shipments", "work-orders", "workorders", "returns")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def endpoints(api: str) -> list[tuple[str, Endpoint]]:
    routes = []
    for area in AREAS:
        for path in (f"{api}/{area}", f"{api}/{area}/{{rest:path}}"):
            routes.append((path, Endpoint(path, dict.fromkeys(METHODS, not_emulated), pb=False)))
    return routes


async def not_emulated(sandbox: Sandbox, request: Request) -> Response:
    raise ApiError.of(
        "route.not_emulated",
        f"{request.method} {request.url.path} is a documented PB route the local sandbox "
        "does not emulate (it covers products, bills of materials, inventory snapshot, "
        "the token and merchants).",
    )
