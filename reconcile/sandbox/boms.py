"""Bill-of-materials routes (contract §7): create, PUT and GET by PB-assigned id, search."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox import config as c
from reconcile.sandbox.apierror import ApiError, ErrorItem, validation
from reconcile.sandbox.config import BOM_RESOLUTION
from reconcile.sandbox.core import Endpoint, Sandbox
from reconcile.sandbox.lag import created, hide_lagging
from reconcile.sandbox.paging import envelope, parse_paging
from reconcile.sandbox.search import bom_query, in_order, parse_body
from reconcile.sandbox.store import StoredBom
from reconcile.sandbox.validation import component_skus, validate_bom
from reconcile.sandbox.wire import json_response, read_json, render_bom


def endpoints(api: str) -> list[tuple[str, Endpoint]]:
    base = f"{api}/bill-of-materials"
    return [
        (base, Endpoint(base, {"POST": create})),
        (f"{base}/search", Endpoint(f"{base}/search", {"POST": search})),
        # The overview page spells it with a trailing slash; both answer.
        (f"{base}/search/", Endpoint(f"{base}/search/", {"POST": search})),
        (f"{base}/{{bom_id}}", Endpoint(f"{base}/{{id}}", {"PUT": replace, "GET": read})),
    ]


async def create(sandbox: Sandbox, request: Request) -> Response:
    """POST /bill-of-materials: 201 with the stored BOM and its new id."""
    id_field = sandbox.config.bom_id_field
    clean, problems = validate_bom(await read_json(request), id_field)
    if problems:
        raise ApiError.invalid(problems)
    store = sandbox.store
    with store.transaction():
        _check_references(sandbox, clean, None)
        now = sandbox.stamp(None, BOM_RESOLUTION)
        bom_id = store.put_bom(clean, now, now, components=component_skus(clean))
        stored = store.get_bom(bom_id)
    assert stored is not None  # written in this very transaction
    created(sandbox, "boms", clean["clientId"], bom_id)
    return json_response(render_bom(stored, id_field, sandbox.config.extra_fields), 201)


async def read(sandbox: Sandbox, request: Request) -> Response:
    """GET /bill-of-materials/{id} (overview page; ASSUME the search item's shape): the BOM
    whatever its state, or 404. ``bom_get_by_id: false`` models a PB without the route."""
    bom_id = request.path_params["bom_id"]
    stored = sandbox.store.get_bom(bom_id) if sandbox.config.bom_get_by_id else None
    if stored is None:
        raise ApiError.of("resource.not_found", f"No bill of materials with id {bom_id!r}.", "id")
    return json_response(
        render_bom(stored, sandbox.config.bom_id_field, sandbox.config.extra_fields)
    )


async def replace(sandbox: Sandbox, request: Request) -> Response:
    """PUT /bill-of-materials/{id}: full replacement of an existing BOM; 404 unknown."""
    bom_id = request.path_params["bom_id"]
    id_field = sandbox.config.bom_id_field
    body = await read_json(request)
    clean, problems = validate_bom(body, id_field)
    if isinstance(body, dict) and body.get(id_field) not in (None, bom_id):
        message = f"does not match the id {bom_id!r} in the path"
        problems.append(validation(id_field, message))
    if problems:
        raise ApiError.invalid(problems)
    store = sandbox.store
    with store.transaction():
        existing = store.get_bom(bom_id)
        if existing is None or existing.body.get("clientId") != clean["clientId"]:
            raise ApiError.of(
                "resource.not_found", f"No bill of materials with id {bom_id!r}.", "id"
            )
        _check_references(sandbox, clean, existing)
        stamp = sandbox.stamp(existing.pb_update, BOM_RESOLUTION)
        store.put_bom(clean, existing.pb_create, stamp, bom_id, component_skus(clean))
        stored = store.get_bom(bom_id)
    assert stored is not None
    return json_response(render_bom(stored, id_field, sandbox.config.extra_fields))


def _check_references(sandbox: Sandbox, bom: dict[str, Any], existing: StoredBom | None) -> None:
    """Kit and components must be products of the client; a kit may not list itself."""
    client_id, kit = bom["clientId"], bom["sku"]
    components = component_skus(bom)
    found = sandbox.store.product_types(client_id, [kit, *components])
    problems: list[ErrorItem] = []
    if kit not in found:
        problems.append(
            validation("sku", f"the kit product {kit!r} does not exist for this client")
        )
    elif sandbox.config.strict_kit_type and found[kit] != "KIT":
        problems.append(
            validation("sku", f"product {kit!r} is not of productType KIT (strict mode)")
        )
    for i, sku in enumerate(components):
        where = f"billOfMaterialDetails[{i}].{c.BOM_COMPONENT_SKU_FIELD}"
        if sku == kit:
            problems.append(
                validation(where, f"a kit may not list itself ({sku!r}) as a component")
            )
        elif sku not in found:
            problems.append(validation(where, f"the component product {sku!r} does not exist"))
    problems.extend(_setting_problems(sandbox, bom, existing))
    if problems:
        raise ApiError.invalid(problems)


def _setting_problems(
    sandbox: Sandbox, bom: dict[str, Any], existing: StoredBom | None
) -> list[ErrorItem]:
    cfg, problems = sandbox.config, []
    node = bom.get("node")
    if cfg.node_allow_list is not None and node is not None and node not in cfg.node_allow_list:
        known = ", ".join(cfg.node_allow_list) or "none"
        problems.append(validation("node", f"unknown fulfillment center {node!r} (known: {known})"))
    if cfg.strict_bom_reparent and existing and existing.body.get("sku") != bom["sku"]:
        problems.append(validation("sku", "a BOM's kit sku may not change (strict mode)"))
    if cfg.strict_one_active_bom and bom.get("active") is not False:
        node = bom.get("node") if isinstance(bom.get("node"), str) else None
        others = sandbox.store.active_bom_ids(bom["clientId"], bom["sku"], node)
        others = [i for i in others if existing is None or i != existing.id]
        if others:
            message = f"an active BOM for this kit and node already exists (id {others[0]})"
            problems.append(validation("sku", message))
    return problems


async def search(sandbox: Sandbox, request: Request) -> Response:
    """POST /bill-of-materials/search: paged BOMs; inactive ones only on request."""
    cfg = sandbox.config
    paging = parse_paging(request.query_params, cfg)
    client_id, sort, filters = parse_body(await read_json(request))
    query = bom_query(sort, filters, client_id, cfg.bom_id_field, cfg.include_inactive)
    query = hide_lagging(sandbox, "boms", client_id, in_order(query, cfg.stable_order))
    total, found = sandbox.store.search_boms(client_id, query, paging.size, paging.offset)
    content = [render_bom(b, cfg.bom_id_field, cfg.extra_fields) for b in found]
    return json_response(envelope(content, total, paging))
