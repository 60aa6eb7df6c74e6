"""Get Merchant Accounts (contract §15): the endpoint's wire details, its own paging, and
the merchants decoded.

Outside the Fulfillment prefix, with Spring's paging rather than the Fulfillment one:
``page`` is 0-based, ``size`` defaults to 20 and is at most 2000, ``sort`` is
``property,direction``. The walk is strict like ``paging``: every page must carry a
``content`` list and echo its ``number``; the merchants read must number
``totalElements``; a page that repeats a merchant is an error.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, NoReturn
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from reconcile.errors import RemoteError, RemoteStateError

Json = dict[str, Any]

#: DOC (§15): on the Fulfillment hosts, but below /shippingservices/v1, not the prefix.
MERCHANTS_PATH = "/shippingservices/v1/developers/{developer_id}/merchants"
FIRST_PAGE = 0  # DOC: page=0 is the first
MAX_PAGE_SIZE = 2000  # DOC
RESULTS_FIELD, NUMBER_FIELD = "content", "number"  # DOC: Spring's Page
TOTAL_ELEMENTS_FIELD, TOTAL_PAGES_FIELD, LAST_FIELD = "totalElements", "totalPages", "last"
SORT_DIRECTIONS = ("asc", "desc")
STATUSES = ("ACTIVE", "INACTIVE")

FetchPage = Callable[[int], Awaitable[Json]]


def merchants_path(developer_id: str) -> str:
    return MERCHANTS_PATH.format(developer_id=quote(developer_id, safe=""))


def page_params(page: int, size: int, sort: list[str] | None) -> dict[str, Any]:
    params: dict[str, Any] = {"page": page, "size": min(size, MAX_PAGE_SIZE)}
    if sort:
        params["sort"] = sort
    return params


def check_sort(text: str) -> str:
    """``property,direction`` as the API takes it; ValueError says what is wrong."""
    prop, sep, direction = text.partition(",")
    if not prop.strip() or (sep and direction.strip().lower() not in SORT_DIRECTIONS):
        raise ValueError(f"{text!r}: write PROPERTY,DIRECTION, e.g. fullName,asc")
    return f"{prop.strip()},{(direction.strip() or 'asc').lower()}"


def page_problem(page: Mapping[str, Any], number: int) -> str | None:
    """Why a merchants page cannot be read, or None."""
    content = page.get(RESULTS_FIELD)
    if not isinstance(content, list) or not all(isinstance(m, dict) for m in content):
        keys = ", ".join(sorted(page)[:8]) or "none"
        return f"the merchants answer has no `{RESULTS_FIELD}` list of objects (keys: {keys})"
    echoed = page.get(NUMBER_FIELD)
    if echoed is not None and echoed != number:
        return f"asked for page {number} (0-based), the answer says it is page {echoed!r}"
    return None


class CarrierAccount(BaseModel):
    model_config = ConfigDict(frozen=True)

    carrier: str | None = Field(description="FEDEX or UPS")
    account_number: str | None
    active: bool | None
    authorized: bool | None


class Merchant(BaseModel):
    """One merchant enrolled through the developer id (the fields a person looks for)."""

    model_config = ConfigDict(frozen=True)

    full_name: str | None
    company: str | None
    email: str | None
    shipper_id: str | None = Field(description="postalReportingNumber: the Shipper ID")
    status: str | None = Field(description="merchantStatus: ACTIVE or INACTIVE")
    status_reason: str | None
    deactivated_date: str | None
    registered: datetime | None = Field(description="registeredDate, from epoch milliseconds")
    carrier_accounts: list[CarrierAccount]


class MerchantList(BaseModel):
    """`reconcile merchants --format json` (schemas/merchants.schema.json)."""

    model_config = ConfigDict(frozen=True, title="reconcile merchants")

    format_version: Literal[1] = 1
    environment: str
    developer_id: str
    merchants: list[Merchant]

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of ``merchants --format json`` (``schemas/merchants.schema.json``)."""
        schema = cls.model_json_schema(mode="serialization")
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "urn:reconcile:schema:merchants:1",
            **schema,
        }


def decode(obj: Mapping[str, Any]) -> Merchant:
    accounts = obj.get("merchantCarrierAccounts")
    return Merchant(
        full_name=_text(obj.get("fullName")),
        company=_text(obj.get("company")),
        email=_text(obj.get("email")),
        shipper_id=_text(obj.get("postalReportingNumber")),
        status=_text(obj.get("merchantStatus")),
        status_reason=_text(obj.get("merchantStatusReason")),
        deactivated_date=_text(obj.get("deactivatedDate")),
        registered=from_millis(obj.get("registeredDate")),
        carrier_accounts=[
            CarrierAccount(
                carrier=_text(a.get("carrierName")),
                account_number=_text(a.get("accountNumber")),
                active=a.get("isActive") if isinstance(a.get("isActive"), bool) else None,
                authorized=a.get("isAuthorized")
                if isinstance(a.get("isAuthorized"), bool)
                else None,
            )
            for a in (accounts if isinstance(accounts, list) else [])
            if isinstance(a, dict)
        ],
    )


def from_millis(value: Any) -> datetime | None:
    """Epoch milliseconds (a number, DOC) as a UTC date-time; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


async def walk_merchants(fetch: FetchPage, ceiling: int) -> list[Json]:
    """Every merchant, page 0 first, then each page up to ``totalPages`` (strictly)."""
    first = await fetch(FIRST_PAGE)
    total = first.get(TOTAL_ELEMENTS_FIELD)
    pages = first.get(TOTAL_PAGES_FIELD)
    if not isinstance(pages, int) or isinstance(pages, bool) or pages < 0:
        pages = None
    items, seen = list(first[RESULTS_FIELD]), {_identity(m) for m in first[RESULTS_FIELD]}
    number, page = FIRST_PAGE, first
    while page[RESULTS_FIELD] and page.get(LAST_FIELD) is not True:
        number += 1
        if (pages is not None and number >= pages) or number >= ceiling:
            break
        page = await fetch(number)
        for merchant in page[RESULTS_FIELD]:
            key = _identity(merchant)
            if key in seen:
                _fail(f"page {number} repeats a merchant of an earlier page ({key})")
            seen.add(key)
            items.append(merchant)
    if isinstance(total, int) and not isinstance(total, bool) and total != len(items):
        _fail(
            f"the answer announced {total} merchants (totalElements) but its pages "
            f"held {len(items)}"
        )
    return items


def _identity(merchant: Mapping[str, Any]) -> str:
    parts = (merchant.get("postalReportingNumber"), merchant.get("email"), merchant.get("fullName"))
    return "/".join(str(p) for p in parts)


def _fail(problem: str) -> NoReturn:
    raise RemoteStateError(
        f"PB's merchants answer cannot be trusted: {problem}",
        operation="merchants",
        resource="merchants",
    )


async def refusal_cause(fetch: FetchPage | None, variables: str) -> str:
    """What a 401/403 from a Fulfillment call means, told apart by the merchants call
    (outside the Fulfillment prefix): bad credentials, or Fulfillment not enabled."""
    if fetch is None:
        return (
            f"set `developer_id` in reconcile.yaml (or {variables}) and run again to tell "
            "bad credentials from Fulfillment not being enabled"
        )
    try:
        await fetch(FIRST_PAGE)
    except RemoteError as e:
        if e.status in (401, 403):
            return (
                "PB refuses this token for merchants too: bad credentials; check the key "
                "and secret belong to this environment"
            )
        return f"the merchants call failed as well ({e.message}); cannot tell why"
    return (
        "the token is fine (merchants answered) but Fulfillment is not enabled for this "
        "account: ask PB to enable the Fulfillment APIs for these credentials and client id"
    )
