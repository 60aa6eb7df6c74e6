"""Product routes (contract §6): create, PUT, bulk, GET and search."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox import config as c
from reconcile.sandbox.apierror import ApiError, ErrorItem, item, validation
from reconcile.sandbox.config import PRODUCT_RESOLUTION
from reconcile.sandbox.core import Endpoint, Sandbox
from reconcile.sandbox.lag import created, hide_lagging
from reconcile.sandbox.paging import envelope_json, parse_paging
from reconcile.sandbox.search import in_order, parse_body, product_query
from reconcile.sandbox.validation import check_object, validate_product
from reconcile.sandbox.wire import (
    json_response,
    product_json,
    raw_json_response,
    read_json,
    render_product,
)


def endpoints(api: str) -> list[tuple[str, Endpoint]]:
    return [
        (f"{api}/products", Endpoint(f"{api}/products", {"POST": create})),
        (f"{api}/products/bulk", Endpoint(f"{api}/products/bulk", {"POST": bulk})),
        (f"{api}/products/search", Endpoint(f"{api}/products/search", {"POST": search})),
        (
            f"{api}/products/{{sku:path}}",
            Endpoint(f"{api}/products/{{sku}}", {"GET": get, "PUT": replace}),
        ),
    ]


async def create(sandbox: Sandbox, request: Request) -> Response:
    """POST /products: 201 with the stored object; 400 when the sku already exists."""
    clean, problems = validate_product(await read_json(request))
    if problems:
        raise ApiError.invalid(problems)
    store = sandbox.store
    with store.transaction():
        if store.get_product(clean["clientId"], clean["sku"]) is not None:
            raise ApiError.of("resource.exists", _exists(clean["sku"]), "sku")
        now = sandbox.stamp(None, PRODUCT_RESOLUTION)
        store.put_product(clean, sandbox.config.product_status, now, now)
        stored = store.get_product(clean["clientId"], clean["sku"])
    assert stored is not None  # written in this very transaction
    created(sandbox, "products", clean["clientId"], clean["sku"])
    return json_response(render_product(stored), 201)


async def replace(sandbox: Sandbox, request: Request) -> Response:
    """PUT /products/{sku}: full replacement; 404 unknown; the body sku must match the path."""
    sku = request.path_params["sku"]
    body = await read_json(request)
    _client_from_query(body, request.query_params.get("clientId"))
    clean, problems = validate_product(body)
    if problems:
        raise ApiError.invalid(problems)
    if clean["sku"] != sku:
        raise ApiError.of(
            "validation.failed",
            f"sku: the body sku {clean['sku']!r} does not match the path sku {sku!r}.",
            "sku",
        )
    store = sandbox.store
    with store.transaction():
        existing = store.get_product(clean["clientId"], sku)
        if existing is None:
            raise ApiError.of("resource.not_found", _missing(clean["clientId"], sku), "sku")
        _check_type_change(sandbox, existing.body, clean, "productType")
        stamp = sandbox.stamp(existing.pb_update, PRODUCT_RESOLUTION)
        store.put_product(clean, sandbox.config.product_status, existing.pb_create, stamp)
        stored = store.get_product(clean["clientId"], sku)
    assert stored is not None
    return json_response(render_product(stored))


def _client_from_query(body: Any, query_client: str | None) -> None:
    """§6.2: clientId comes from the body; ``?clientId=`` fills it in or must agree."""
    if query_client is None or not isinstance(body, dict):
        return
    if body.get("clientId") is None:
        body["clientId"] = query_client
    elif body["clientId"] != query_client:
        raise ApiError.of(
            "validation.failed",
            "clientId: the body clientId does not match the clientId query parameter.",
            "clientId",
        )


def _check_type_change(
    sandbox: Sandbox, old: dict[str, Any], new: dict[str, Any], path: str
) -> None:
    if sandbox.config.strict_product_type and old.get("productType") != new["productType"]:
        raise ApiError.of(
            "validation.failed",
            f"{path}: productType may not change from {old.get('productType')!r} (strict mode).",
            path,
        )


async def get(sandbox: Sandbox, request: Request) -> Response:
    """GET /products/{sku}[?clientId=]: the product, or 404."""
    sku = request.path_params["sku"]
    client_id = request.query_params.get("clientId")
    product = sandbox.store.get_product(client_id, sku)
    if product is None:
        raise ApiError.of("resource.not_found", _missing(client_id, sku), "sku")
    return raw_json_response(product_json(product, sandbox.config.extra_fields))


async def search(sandbox: Sandbox, request: Request) -> Response:
    """POST /products/search: paged products, six-month window unless a date filter."""
    config = sandbox.config
    paging = parse_paging(request.query_params, config)
    client_id, sort, filters = parse_body(await read_json(request))
    query = product_query(
        sort,
        filters,
        sandbox.stamp(None, 1),
        config.six_month_window,
        config.six_month_window_always,
        date_filters=config.date_filters,
    )
    query = hide_lagging(sandbox, "products", client_id, in_order(query, config.stable_order))
    total, found = sandbox.store.search_products(client_id, query, paging.size, paging.offset)
    items = [product_json(p, config.extra_fields) for p in found]
    return raw_json_response(envelope_json(items, total, paging))


async def bulk(sandbox: Sandbox, request: Request) -> Response:
    """POST /products/bulk: ≤200 CREATE/UPDATE items in one transaction (§6.3)."""
    items = _bulk_items(await read_json(request))
    checked = [_check_bulk_item(i, raw) for i, raw in enumerate(items)]
    per_item = sandbox.config.bulk_item_failures == "per-item"
    store = sandbox.store
    with store.transaction():
        _check_existence(sandbox, checked)
        problems = [p for entry in checked for p in entry.problems]
        if problems and not per_item:
            raise ApiError.invalid(problems)
        results = [_write_bulk_item(sandbox, entry) for entry in checked]
    return json_response({"products": results})


class BulkEntry:
    """One bulk element after validation: its index, operation, product and problems."""

    def __init__(
        self, index: int, operation: str, product: dict[str, Any], problems: list[ErrorItem]
    ) -> None:
        self.index = index
        self.operation = operation
        self.product = product
        self.problems = problems

    def field(self, name: str) -> str:
        return f"products[{self.index}].{name}"


def _bulk_items(body: Any) -> list[Any]:
    problems = check_object(body)
    if problems:
        raise ApiError.invalid(problems)
    items = body.get("products")
    if not isinstance(items, list) or not items:
        raise ApiError.invalid([validation("products", "is required: a non-empty array")])
    if len(items) > c.BULK_MAX:
        message = f"at most {c.BULK_MAX} products per request (got {len(items)})"
        raise ApiError.invalid([validation("products", message)])
    return items


def _check_bulk_item(index: int, raw: Any) -> BulkEntry:
    prefix = f"products[{index}]"
    operation = raw.get("operation") if isinstance(raw, dict) else None
    body = {k: v for k, v in raw.items() if k != "operation"} if isinstance(raw, dict) else raw
    clean, problems = validate_product(body, prefix)
    if isinstance(raw, dict) and operation not in c.BULK_OPERATIONS:
        message = f"is required: one of {', '.join(c.BULK_OPERATIONS)} (got {operation!r})"
        problems.append(validation(f"{prefix}.operation", message))
    return BulkEntry(index, str(operation), clean or {}, problems)


def _check_existence(sandbox: Sandbox, entries: list[BulkEntry]) -> None:
    """CREATE of an existing sku and UPDATE of a missing one are item failures (§6.3).

    Items apply in order, so a CREATE followed by an UPDATE of the same sku is fine.
    """
    kinds: dict[tuple[str, str], str | None] = {}  # productType per sku; None: absent
    for entry in entries:
        if entry.problems:
            continue
        key = (entry.product["clientId"], entry.product["sku"])
        if key not in kinds:
            found = sandbox.store.get_product(*key)
            kinds[key] = None if found is None else str(found.body.get("productType"))
        current, new_kind = kinds[key], entry.product["productType"]
        if entry.operation == "CREATE" and current is not None:
            entry.problems.append(item("resource.exists", _exists(key[1]), entry.field("sku")))
        elif entry.operation == "UPDATE" and current is None:
            message = _missing(*key)
            entry.problems.append(item("resource.not_found", message, entry.field("sku")))
        elif sandbox.config.strict_product_type and current not in (None, new_kind):
            message = f"productType may not change from {current!r} (strict mode)"
            entry.problems.append(validation(entry.field("productType"), message))
        else:
            kinds[key] = new_kind


def _write_bulk_item(sandbox: Sandbox, entry: BulkEntry) -> dict[str, Any]:
    product = entry.product
    if entry.problems:
        return {
            "clientId": product.get("clientId"),
            "sku": product.get("sku"),
            "status": "UNPUBLISHED",
        }
    store, status = sandbox.store, sandbox.config.product_status
    existing = store.get_product(product["clientId"], product["sku"])
    if existing is None:
        now = sandbox.stamp(None, PRODUCT_RESOLUTION)
        store.put_product(product, status, now, now)
        created(sandbox, "products", product["clientId"], product["sku"])
    else:
        stamp = sandbox.stamp(existing.pb_update, PRODUCT_RESOLUTION)
        store.put_product(product, status, existing.pb_create, stamp)
    return {"clientId": product["clientId"], "sku": product["sku"], "status": status}


def _exists(sku: str) -> str:
    return f"sku: a product with sku {sku!r} already exists for this client."


def _missing(client_id: str | None, sku: str) -> str:
    owner = f" for client {client_id!r}" if client_id else ""
    return f"No product with sku {sku!r}{owner}."
