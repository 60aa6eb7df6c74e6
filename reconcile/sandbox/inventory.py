"""Inventory snapshot (contract §10): fixture-driven records, paged and sorted by sku."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox.core import Endpoint, Sandbox
from reconcile.sandbox.paging import envelope, parse_paging
from reconcile.sandbox.search import inventory_query, parse_body
from reconcile.sandbox.wire import json_response, read_json


def endpoints(api: str) -> list[tuple[str, Endpoint]]:
    path = f"{api}/inventory/snapshot"
    return [(path, Endpoint(path, {"POST": snapshot}))]


async def snapshot(sandbox: Sandbox, request: Request) -> Response:
    """POST /inventory/snapshot: the client's records (loaded as fixtures)."""
    paging = parse_paging(request.query_params, sandbox.config)
    client_id, sort, filters = parse_body(await read_json(request))
    query = inventory_query(sort, filters)
    total, records = sandbox.store.search_inventory(client_id, query, paging.size, paging.offset)
    return json_response(envelope(records, total, paging))
