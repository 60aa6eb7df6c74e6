"""Get Merchant Accounts (contract §15): the merchants enrolled through a developer id.

Outside the Fulfillment prefix, with its own paging: 0-based ``page``, ``size`` (default
20, at most 2000: larger requests are served at 2000), ``sort=<property>,<asc|desc>``
(repeatable), and Spring's page envelope. The emulator serves 64 generated merchants for
``developer_id`` (config) unless ``POST /__sandbox/merchants`` loaded others; another
developer id answers 404 (ASSUME: the contract leaves that answer open).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox import config as c
from reconcile.sandbox.apierror import ApiError, ErrorItem, validation
from reconcile.sandbox.core import Endpoint, Sandbox
from reconcile.sandbox.paging import query_integer
from reconcile.sandbox.wire import json_response

_COMPANIES = ("Acme Outdoor", "Blue Fern Tea", "Copper Kettle", "Dune Surf Co")
_FIRST = ("Ada", "Bram", "Chiara", "Dev", "Elif", "Farid", "Greta", "Hiro")
_LAST = ("Novak", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Quispe", "Reyes", "Szabo")
_EPOCH = datetime(2021, 3, 1, tzinfo=UTC)


def endpoints() -> list[tuple[str, Endpoint]]:
    path = c.MERCHANTS_PATH
    return [(path, Endpoint(path, {"GET": list_merchants}, fulfillment=False))]


def generated(developer_id: str, count: int = c.DEFAULT_MERCHANT_COUNT) -> list[dict[str, Any]]:
    """``count`` plausible merchants of ``developer_id``, the same every time."""
    return [_merchant(developer_id, i) for i in range(count)]


def _merchant(developer_id: str, i: int) -> dict[str, Any]:
    first, last = _FIRST[i % len(_FIRST)], _LAST[(i * 3) % len(_LAST)]
    inactive = i % 9 == 4
    registered = _EPOCH + timedelta(days=11 * i, hours=i)
    merchant: dict[str, Any] = {
        "address": None,
        "company": f"{_COMPANIES[i % len(_COMPANIES)]} {i // len(_COMPANIES) + 1}",
        "deactivatedDate": (registered + timedelta(days=200)).isoformat() if inactive else None,
        "developerId": developer_id,
        "email": f"{first.lower()}.{last.lower()}{i}@example.com",
        "enterpriseAccount": None,
        "fullName": f"{first} {last}",
        "merchantStatus": "INACTIVE" if inactive else "ACTIVE",
        "merchantStatusReason": "Closed by the merchant" if inactive else None,
        "merchantType": "STANDARD",
        "paymentAccountNumber": f"{16000000 + i}",
        "paymentServicesAccountId": None,
        "paymentServicesAccountIdActive": None,
        "postalReportingNumber": f"{9024000 + i * 7}",
        "registeredDate": int(registered.timestamp() * 1000),
        "subscriptionAccount": None,
    }
    if i % 5 == 0:
        merchant["merchantCarrierAccounts"] = [_carrier_account(i, registered)]
    return merchant


def _carrier_account(i: int, registered: datetime) -> dict[str, Any]:
    return {
        "accountNumber": f"{700000 + i}",
        "carrierName": "FEDEX" if i % 2 == 0 else "UPS",
        "deactivationDate": 0,
        "isActive": True,
        "isAuthorized": True,
        "merchantCarrierAccountAttributes": [],
        "registrationDate": int(registered.timestamp() * 1000),
        "shipperCarrierAccountId": f"sca-{i:04d}",
    }


async def list_merchants(sandbox: Sandbox, request: Request) -> Response:
    """GET …/developers/{developerId}/merchants: one 0-based page, sorted as asked."""
    developer_id = request.path_params["developer_id"]
    if developer_id != sandbox.config.developer_id:
        raise ApiError.of(
            "resource.not_found", f"No developer with id {developer_id!r}.", "developerId"
        )
    merchants = sandbox.merchants
    if merchants is None:
        merchants = generated(developer_id)
    page, size, orders = _paging(request)
    known = set(_merchant(developer_id, 0)).union(*merchants)
    unknown = [validation("sort", f"unknown property {p!r}") for p, _ in orders if p not in known]
    if unknown:
        raise ApiError.invalid(unknown)
    ordered = _sorted(merchants, orders)
    content = ordered[page * size : (page + 1) * size]
    return json_response(_envelope(content, len(ordered), page, size, orders))


def _paging(request: Request) -> tuple[int, int, list[tuple[str, str]]]:
    problems: list[ErrorItem] = []
    page = query_integer(request.query_params.get("page"), "page", 0, 0, problems)
    size = query_integer(
        request.query_params.get("size"), "size", c.MERCHANT_PAGE_DEFAULT, 1, problems
    )
    orders = []
    for i, entry in enumerate(request.query_params.getlist("sort")):
        prop, _, direction = entry.partition(",")
        direction = direction.strip().lower() or "asc"
        if not prop.strip() or direction not in ("asc", "desc"):
            problems.append(validation(f"sort[{i}]", f"must be property,asc|desc (got {entry!r})"))
        orders.append((prop.strip(), direction))
    if problems:
        raise ApiError.invalid(problems)
    return page, min(size, c.MERCHANT_PAGE_MAX), orders


def _sorted(merchants: list[dict[str, Any]], orders: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Stable sorts from the last key to the first; nulls last either way."""
    ordered = list(merchants)
    for prop, direction in reversed(orders):
        present = [m for m in ordered if m.get(prop) is not None]
        absent = [m for m in ordered if m.get(prop) is None]
        present.sort(key=lambda m: _key(m[prop]), reverse=direction == "desc")
        ordered = present + absent
    return ordered


def _key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool | int | float):
        return (0, value)
    return (1, str(value).lower())


def _envelope(
    content: list[dict[str, Any]], total: int, page: int, size: int, orders: list[tuple[str, str]]
) -> dict[str, Any]:
    """Spring's Page: content, number (0-based), size, totals, first/last, sort."""
    pages = math.ceil(total / size)
    return {
        "content": content,
        "totalPages": pages,
        "totalElements": total,
        "last": page + 1 >= pages,
        "size": size,
        "number": page,
        "sort": [_sort_entry(p, d) for p, d in orders],
        "numberOfElements": len(content),
        "first": page == 0,
    }


def _sort_entry(prop: str, direction: str) -> dict[str, Any]:
    return {
        "direction": direction.upper(),
        "property": prop,
        "ignoreCase": False,
        "nullHandling": "NATIVE",
        "ascending": direction == "asc",
        "descending": direction == "desc",
    }
