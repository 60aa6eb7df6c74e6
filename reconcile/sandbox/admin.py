"""Test controls under ``/__sandbox`` (outside the PB paths, no auth, never faulted).

``GET stats`` / ``GET log`` read the request log; ``POST reset`` wipes everything and
restores the startup config; ``GET|POST config`` reads or changes runtime settings;
``POST fixtures`` loads raw products, BOMs and inventory records; ``POST backdate`` moves a
product's pbCreateDate; ``GET|POST|DELETE faults`` scripts faults; ``POST tokens/expire``
invalidates every issued token; ``POST merchants`` replaces the merchants served
(``{"merchants": [...]}``), ``DELETE merchants`` restores the 64 generated ones.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox import config as c
from reconcile.sandbox.apierror import ApiError, ErrorItem, validation
from reconcile.sandbox.config import BOM_RESOLUTION, PRODUCT_RESOLUTION
from reconcile.sandbox.core import Endpoint, Sandbox
from reconcile.sandbox.dates import parse_instant
from reconcile.sandbox.faults import ScriptedFault
from reconcile.sandbox.validation import check_object, component_skus
from reconcile.sandbox.wire import json_response, read_json, render_bom, render_product


def endpoints() -> list[tuple[str, Endpoint]]:
    table: dict[str, dict[str, Any]] = {
        "stats": {"GET": stats},
        "log": {"GET": log},
        "reset": {"POST": reset},
        "config": {"GET": show_config, "POST": configure},
        "fixtures": {"POST": fixtures},
        "backdate": {"POST": backdate},
        "faults": {"GET": list_faults, "POST": add_fault, "DELETE": clear_faults},
        "tokens/expire": {"POST": expire_tokens},
        "merchants": {"POST": load_merchants, "DELETE": restore_merchants},
    }
    paths = {name: f"{c.ADMIN_PREFIX}/{name}" for name in table}
    return [(paths[n], Endpoint(paths[n], h, pb=False, admin=True)) for n, h in table.items()]


async def stats(sandbox: Sandbox, request: Request) -> Response:
    return json_response(sandbox.traffic.stats())


async def log(sandbox: Sandbox, request: Request) -> Response:
    """The request log; ``?since=<epoch seconds>`` and ``?limit=<last N>`` narrow it."""
    after = _number(request.query_params.get("since"), "since", float)
    last = _number(request.query_params.get("limit"), "limit", int)
    entries = sandbox.traffic.entries()
    if after is not None:
        entries = [e for e in entries if e["ts"] > after]
    if last is not None:
        entries = entries[-last:] if last > 0 else []
    return json_response(entries)


def _number(raw: str | None, name: str, kind: type[float] | type[int]) -> Any:
    if raw is None or raw == "":
        return None
    try:
        return kind(raw)
    except ValueError as e:
        raise ApiError.invalid([validation(name, f"must be a number (got {raw!r})")]) from e


async def reset(sandbox: Sandbox, request: Request) -> Response:
    sandbox.reset()
    return json_response({"reset": True})


async def show_config(sandbox: Sandbox, request: Request) -> Response:
    return json_response(public_config(sandbox))


def public_config(sandbox: Sandbox) -> dict[str, Any]:
    """The live settings, without the credentials."""
    settings = dataclasses.asdict(sandbox.config)
    return {k: v for k, v in settings.items() if k not in ("key", "secret")}


async def configure(sandbox: Sandbox, request: Request) -> Response:
    """Change runtime settings; every bad key is reported and nothing changes."""
    body = await read_json(request)
    problems = check_object(body)
    if problems:
        raise ApiError.invalid(problems)
    for name, value in body.items():
        reason = c.check_setting(name, value)
        if reason:
            problems.append(validation(name, reason))
    if problems:
        raise ApiError.invalid(problems)
    for name, value in body.items():
        setattr(sandbox.config, name, tuple(value) if isinstance(value, list) else value)
    if "seed" in body:
        sandbox.faults.reseed(body["seed"])
    return json_response(public_config(sandbox))


async def fixtures(sandbox: Sandbox, request: Request) -> Response:
    """Insert raw products, BOMs and inventory records, bypassing create validation."""
    body = await read_json(request)
    problems = check_object(body)
    if problems:
        raise ApiError.invalid(problems)
    groups = {name: _records(body, name, problems) for name in ("products", "boms", "inventory")}
    for name in body:
        if name not in groups:
            problems.append(
                validation(name, "unknown fixture group; use products, boms, inventory")
            )
    if problems:
        raise ApiError.invalid(problems)
    with sandbox.store.transaction():
        products = [_load_product(sandbox, i, p) for i, p in enumerate(groups["products"])]
        boms = [_load_bom(sandbox, i, b) for i, b in enumerate(groups["boms"])]
        _check_inventory(groups["inventory"])
        sandbox.store.add_inventory(groups["inventory"])
    return json_response({"products": products, "boms": boms, "inventory": groups["inventory"]})


def _records(body: dict[str, Any], name: str, problems: list[ErrorItem]) -> list[dict[str, Any]]:
    records = body.get(name) or []
    if not isinstance(records, list):
        problems.append(validation(name, "must be an array of objects"))
        return []
    for i, record in enumerate(records):
        if not isinstance(record, dict):
            problems.append(validation(f"{name}[{i}]", "must be an object"))
    return [r for r in records if isinstance(r, dict)]


def _identity(record: dict[str, Any], where: str, names: tuple[str, ...]) -> None:
    problems = [
        validation(f"{where}.{n}" if where else n, "is required (a non-empty string)")
        for n in names
        if not isinstance(record.get(n), str) or not record[n]
    ]
    if problems:
        raise ApiError.invalid(problems)


def _fixture_stamp(record: dict[str, Any], name: str, where: str, default: float) -> float:
    value = record.get(name)
    if value is None:
        return default
    instant = parse_instant(value) if isinstance(value, str) else None
    if instant is None:
        raise ApiError.invalid([validation(f"{where}.{name}", "must be an ISO 8601 date")])
    return instant


def _load_product(sandbox: Sandbox, index: int, record: dict[str, Any]) -> dict[str, Any]:
    where = f"products[{index}]"
    _identity(record, where, ("clientId", "sku"))
    now = sandbox.stamp(None, PRODUCT_RESOLUTION)
    created = _fixture_stamp(record, "pbCreateDate", where, now)
    updated = _fixture_stamp(record, "pbUpdateDate", where, max(created, now))
    status = record.get("status") if isinstance(record.get("status"), str) else None
    body = {k: v for k, v in record.items() if k not in ("pbCreateDate", "pbUpdateDate", "status")}
    store = sandbox.store
    store.put_product(body, status or sandbox.config.product_status, created, updated)
    stored = store.get_product(body["clientId"], body["sku"])
    assert stored is not None
    return render_product(stored)


def _load_bom(sandbox: Sandbox, index: int, record: dict[str, Any]) -> dict[str, Any]:
    where, id_field = f"boms[{index}]", sandbox.config.bom_id_field
    _identity(record, where, ("clientId", "sku"))
    bom_id = record.get(id_field)
    if bom_id is not None and (not isinstance(bom_id, str) or not bom_id):
        raise ApiError.invalid([validation(f"{where}.{id_field}", "must be a non-empty string")])
    now = sandbox.stamp(None, BOM_RESOLUTION)
    created = _fixture_stamp(record, "pbCreateDate", where, now)
    updated = _fixture_stamp(record, "pbUpdateDate", where, max(created, now))
    body = {k: v for k, v in record.items() if k not in ("pbCreateDate", "pbUpdateDate", id_field)}
    bom_id = sandbox.store.put_bom(body, created, updated, bom_id, component_skus(body))
    stored = sandbox.store.get_bom(bom_id)
    assert stored is not None
    return render_bom(stored, id_field)


def _check_inventory(records: list[dict[str, Any]]) -> None:
    problems = [
        validation(f"inventory[{i}].sku", "is required (a non-empty string)")
        for i, r in enumerate(records)
        if not isinstance(r.get("sku"), str) or not r["sku"]
    ]
    if problems:
        raise ApiError.invalid(problems)


async def backdate(sandbox: Sandbox, request: Request) -> Response:
    """Set one product's pbCreateDate (to build the six-month trap)."""
    body = await read_json(request)
    problems = check_object(body)
    if problems:
        raise ApiError.invalid(problems)
    _identity(body, "", ("clientId", "sku", "pbCreateDate"))
    when = parse_instant(body["pbCreateDate"])
    if when is None:
        raise ApiError.invalid([validation("pbCreateDate", "must be an ISO 8601 date")])
    if not sandbox.store.backdate_product(body["clientId"], body["sku"], when):
        raise ApiError.of("resource.not_found", f"No product with sku {body['sku']!r}.", "sku")
    product = sandbox.store.get_product(body["clientId"], body["sku"])
    assert product is not None
    return json_response(render_product(product))


async def list_faults(sandbox: Sandbox, request: Request) -> Response:
    return json_response(sandbox.faults.pending())


async def add_fault(sandbox: Sandbox, request: Request) -> Response:
    fault = ScriptedFault.parse(await read_json(request))
    sandbox.faults.add(fault)
    return json_response(sandbox.faults.pending(), 201)


async def clear_faults(sandbox: Sandbox, request: Request) -> Response:
    sandbox.faults.clear()
    return json_response([])


async def expire_tokens(sandbox: Sandbox, request: Request) -> Response:
    return json_response({"expired": sandbox.tokens.expire_all(), "at": sandbox.clock()})


async def load_merchants(sandbox: Sandbox, request: Request) -> Response:
    """Serve these merchants (raw objects, as PB would send them) instead of the fixtures."""
    body = await read_json(request)
    problems = check_object(body)
    if problems:
        raise ApiError.invalid(problems)
    merchants = _records(body, "merchants", problems)
    if problems:
        raise ApiError.invalid(problems)
    sandbox.merchants = merchants
    return json_response({"merchants": len(merchants)})


async def restore_merchants(sandbox: Sandbox, request: Request) -> Response:
    sandbox.merchants = None
    return json_response({"merchants": "generated"})
