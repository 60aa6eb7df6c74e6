"""JSON on the wire ↔ models.

EVERY assumption about an undocumented wire detail of the PB Fulfillment API lives in
this module, one named constant or function each, with the contract section it comes
from (``shared/api/pb-fulfillment-api.md``). A fact learnt later is a one-line change.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from pydantic import ValidationError

from reconcile.errors import RemoteStateError
from reconcile.models import Bom, Product, RemoteMeta

# -- paths (contract §1, §13.1) -------------------------------------------------------
#: Resource paths hang below the host under this prefix; the token endpoint does not.
FULFILLMENT_PREFIX = "/shippingservices/fulfillment/v1"
TOKEN_PATH = "/oauth/token"
PRODUCTS_PATH = f"{FULFILLMENT_PREFIX}/products"
PRODUCTS_BULK_PATH = f"{FULFILLMENT_PREFIX}/products/bulk"
PRODUCTS_SEARCH_PATH = f"{FULFILLMENT_PREFIX}/products/search"
BOMS_PATH = f"{FULFILLMENT_PREFIX}/bill-of-materials"
BOMS_SEARCH_PATH = f"{FULFILLMENT_PREFIX}/bill-of-materials/search"
INVENTORY_SNAPSHOT_PATH = f"{FULFILLMENT_PREFIX}/inventory/snapshot"

# -- headers (contract §3) ------------------------------------------------------------
TRANSACTION_ID_HEADER = "X-PB-TransactionId"
TRANSACTION_ID_MAX = 25  # DOC: letters, digits, "-" and "_", at most 25 characters
UNIFIED_ERRORS_HEADER = "X-PB-UnifiedErrorStructure"  # GAP: sent anyway (ASSUME §3)
JSON_CONTENT_TYPE = "application/json"  # GAP: not listed, sent anyway (ASSUME §3)
CLIENT_ID_PARAM = "clientId"  # VAR: newer GET-product page requires ?clientId= (§6.4)

# -- token (contract §4) --------------------------------------------------------------
TOKEN_FIELD = "access_token"
TOKEN_EXPIRY_FIELD = "expiresIn"  # DOC says String; numbers are accepted too
TOKEN_DEFAULT_TTL_SECONDS = 35999.0  # the docs' own example value, used if the field is absent

# -- search (contract §9, §6.5, §7.5) -------------------------------------------------
#: GAP: the name of the results array. ASSUME `content`, else the resource's plural.
RESULTS_FIELDS: dict[str, tuple[str, ...]] = {
    "products": ("content", "products"),
    "boms": ("content", "billOfMaterials", "bomList"),
    "inventory": ("content", "inventory", "inventorySnapshots"),
}
FIRST_PAGE = 1  # DOC: pages are 1-based
FIRST_FIELD = "first"  # DOC §9: true on page 1
#: DOC (§6.5, §7.5): sort entries are "<property>-<asc|desc>" over the dates. A walk sends
#: an explicit order so that pages cannot shift under it; pbCreateDate never changes, so
#: an object created during the walk lands after the pages already read. ASSUME the
#: inventory snapshot sorts by sku (§10).
SEARCH_SORT: dict[str, list[str]] = {
    "products": ["pbCreateDate-asc"],
    "boms": ["pbCreateDate-asc"],
    "inventory": ["sku-asc"],
}
PAGE_PARAM, SIZE_PARAM = "page", "size"  # DOC: query parameters of every search (§9)
TOTAL_PAGES_FIELD, LAST_PAGE_FIELD, PAGE_SIZE_FIELD = "totalPages", "last", "size"  # DOC §9
TOTAL_ELEMENTS_FIELD = "totalElements"  # DOC §9: items in the whole result set
SEARCH_FIELDS_FIELD, SORT_FIELD = "searchFields", "sort"  # DOC: search request body (§9)
#: DOC: bulk request body `{"products": [...]}` (§6.3).
BULK_ITEMS_FIELD = "products"
#: DOC: a plain product search hides products created over six months ago. ASSUME a
#: date filter is `values: [from, to]` on pbCreateDate; we send a window wide enough to
#: include every product PB can hold.
PRODUCT_WINDOW_FIELD = "pbCreateDate"
PRODUCT_WINDOW_START = datetime(2000, 1, 1, tzinfo=UTC)
#: ASSUME: inactive BOMs are hidden unless this search field is sent with "true".
BOM_INCLUDE_INACTIVE = {"name": "includeInactive", "values": ["true"]}
BOM_ID_SEARCH_FIELD = "billOfMaterialId"
BOM_PARENT_SKU_SEARCH_FIELD = "parentSku"
INVENTORY_SKU_SEARCH_FIELD = "sku"  # GAP: the searchable inventory fields (contract §10)
#: ASSUME (contract §6.5, list cut off after `pbCreateDa…`): products are searchable by sku.
#: Results are filtered by SKU again, so a server that ignores it only returns more.
PRODUCT_SKU_SEARCH_FIELD = "sku"
#: GAP (contract §10): inventory record fields. ASSUME `sku` plus an on-hand quantity under
#: one of these names (the emulator's fixture uses `quantity`); summed over nodes.
INVENTORY_RECORD_SKU_FIELD = "sku"
INVENTORY_QUANTITY_FIELDS = ("onHand", "quantityOnHand", "quantity")

# -- objects (contract §5, §7) --------------------------------------------------------
#: GAP with a strong hint: the response field carrying PB's BOM id.
BOM_ID_FIELD = "billOfMaterialId"
PRODUCT_SERVER_FIELDS = frozenset({"pbCreateDate", "pbUpdateDate", "status"})
BOM_SERVER_FIELDS = frozenset({"pbCreateDate", "pbUpdateDate", "status", BOM_ID_FIELD})
PRODUCT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"  # printed with milliseconds, ±hhmm
BOM_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
BULK_MAX_ITEMS = 200  # DOC (long version of the bulk page)
BULK_OPERATION_FIELD = "operation"
BULK_CREATE, BULK_UPDATE = "CREATE", "UPDATE"


def format_product_date(moment: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss.sss±hhmm``, the pattern of the products pages."""
    text = moment.astimezone(UTC).strftime(PRODUCT_DATE_FORMAT)
    # strftime gives microseconds; PB shows milliseconds.
    return text[:23] + text[26:]


def parse_pb_date(text: str) -> datetime:
    """Any ISO 8601 variant PB uses (``…Z``, ``…+0000``, ``…+00:00``, with or without ms)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def product_window_search_fields(now: datetime | None = None) -> list[dict[str, Any]]:
    """A creation-date window wide enough to defeat the six-month default filter."""
    end = (now or datetime.now(UTC)) + timedelta(days=1)
    values = [format_product_date(PRODUCT_WINDOW_START), format_product_date(end)]
    return [{"name": PRODUCT_WINDOW_FIELD, "values": values}]


#: DOC (§8.2): PB's unified error object is ``{"errors": [{"errorCode": …, …}]}``.
UNIFIED_ERRORS_FIELD = "errors"
UNIFIED_ERROR_CODE_FIELD = "errorCode"


def json_kind(value: Any) -> str:
    kinds = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    kinds |= {list: "a list", dict: "an object"}
    return kinds.get(type(value), "null" if value is None else type(value).__name__)


def _strip(obj: Mapping[str, Any], server_fields: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in server_fields and v is not None}


def _split(
    obj: Mapping[str, Any], model: type[Product] | type[Bom], server_fields: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the model reads, the top-level fields it does not know). PB may add a field
    any day (contract: undocumented fields): the object stays readable, and the field is
    kept, since a PUT without it would erase it (never erase what PB holds)."""
    known = model.model_fields.keys()
    readable = {k: v for k, v in _strip(obj, server_fields).items() if k in known}
    kept = {k: v for k, v in obj.items() if k not in known and k not in server_fields}
    return readable, kept


@dataclass(frozen=True)
class Unreadable:
    """A PB object reconcile cannot represent: its address and why (for ``unreadable``)."""

    address: str
    reason: str

    def error(self) -> RemoteStateError:
        """The error of a caller that needed this one object."""
        return RemoteStateError(
            f"{self.reason}; an update would overwrite what reconcile cannot read, "
            "so reconcile does not change it",
            operation="read",
            resource=self.address,
        )


def _problems(error: ValidationError) -> str:
    first = error.errors(include_url=False, include_input=False)
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(object)'}: {e['msg']}" for e in first[:5]
    )


def _name(value: Any) -> str:
    """A key part as it appears in an address: the text itself, or its JSON if odd."""
    if isinstance(value, str) and value:
        return value
    return json.dumps(value, default=str)


def product_address(obj: Mapping[str, Any]) -> str:
    """``product.<sku>`` of a PB product object, however odd its SKU."""
    return f"product.{_name(obj.get('sku'))}"


def bom_address(obj: Mapping[str, Any]) -> str:
    """``bom.<sku>[@node]`` of a PB BOM object, however odd its key."""
    node = obj.get("node")
    where = f"@{_name(node)}" if node not in (None, "") else ""
    return f"bom.{_name(obj.get('sku'))}{where}"


def read_product(obj: Mapping[str, Any]) -> tuple[Product, RemoteMeta] | Unreadable:
    """A PB Products object → (Product, its PB metadata), or why it cannot be read.

    Server-managed fields are dropped. Never raises: a whole-account read records the
    ``Unreadable`` and goes on; ``product_from_wire`` raises it instead.
    """
    readable, kept = _split(obj, Product, PRODUCT_SERVER_FIELDS)
    try:
        product = Product.model_validate(readable)
    except ValidationError as e:
        reason = f"PB holds a product that reconcile cannot represent ({_problems(e)})"
        return Unreadable(product_address(obj), reason)
    return product, RemoteMeta(pb_update_date=_text_or_none(obj.get("pbUpdateDate")), kept=kept)


def read_bom(obj: Mapping[str, Any]) -> tuple[Bom, RemoteMeta] | Unreadable:
    """A PB BOM object → (Bom, its PB metadata incl. the PB-assigned id), or why it
    cannot be read (never raises; ``bom_from_wire`` does)."""
    bom_id = _text_or_none(obj.get(BOM_ID_FIELD))
    readable, kept = _split(obj, Bom, BOM_SERVER_FIELDS)
    try:
        bom = Bom.model_validate(readable)
    except ValidationError as e:
        which = f"BOM {bom_id}" if bom_id else "a BOM"
        reason = f"PB holds {which} that reconcile cannot represent ({_problems(e)})"
        return Unreadable(bom_address(obj), reason)
    meta = RemoteMeta(
        pb_update_date=_text_or_none(obj.get("pbUpdateDate")),
        bom_id=bom_id,
        pb_create_date=_text_or_none(obj.get("pbCreateDate")),
        kept=kept,
    )
    return bom, meta


def product_from_wire(obj: Mapping[str, Any]) -> tuple[Product, RemoteMeta]:
    """``read_product``, raising ``RemoteStateError`` for an object it cannot read."""
    read = read_product(obj)
    if isinstance(read, Unreadable):
        raise read.error()
    return read


def bom_from_wire(obj: Mapping[str, Any]) -> tuple[Bom, RemoteMeta]:
    """``read_bom``, raising ``RemoteStateError`` for an object it cannot read."""
    read = read_bom(obj)
    if isinstance(read, Unreadable):
        raise read.error()
    return read


def product_to_wire(product: Product, kept: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The full Products object for POST/PUT (a PUT replaces everything, contract §6.2),
    with the ``kept`` fields PB holds that the models do not know, unchanged."""
    return {**(kept or {}), **product.model_dump(mode="json", exclude_none=True)}


def bulk_item(
    product: Product, operation: str, kept: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return {**product_to_wire(product, kept), BULK_OPERATION_FIELD: operation}


#: DOC (bulk page, short version): the answer lists `{clientId, sku, status}` per item.
BULK_ANSWER_ITEMS = "products"
#: ASSUME: an item PB did not store comes back UNPUBLISHED (emulator per-item mode, §13.8).
BULK_ITEM_NOT_STORED = "UNPUBLISHED"


def bulk_item_problems(answer: Any) -> dict[str, str]:
    """SKU → what PB said, for bulk answer items that look not stored.

    Only a hint for the apply report: a re-read decides what actually landed.
    """
    items = answer.get(BULK_ANSWER_ITEMS) if isinstance(answer, Mapping) else None
    problems: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("sku"), str):
            continue
        if item.get("status") == BULK_ITEM_NOT_STORED or item.get("errors"):
            said = _error_text(item.get("errors"))
            problems[item["sku"]] = f"PB reported {item.get('status')}" + (
                f": {said}" if said else ""
            )
    return problems


def _error_text(errors: Any) -> str:
    if not isinstance(errors, list):
        return ""
    texts = [
        str(e.get("errorDescription") or e.get("message") or e.get("errorCode") or "")
        for e in errors
        if isinstance(e, Mapping)
    ]
    return "; ".join(t for t in texts if t)


def bom_to_wire(bom: Bom, kept: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The full BOM object for POST/PUT (a PUT replaces everything, contract §7.4), with
    the ``kept`` fields PB holds that the models do not know, unchanged."""
    return {**(kept or {}), **bom.model_dump(mode="json", exclude_none=True)}


def bom_id_of(obj: Mapping[str, Any]) -> str | None:
    return _text_or_none(obj.get(BOM_ID_FIELD))


def inventory_on_hand(record: Mapping[str, Any]) -> tuple[str, int] | None:
    """(sku, on-hand quantity) of one inventory snapshot record; None if it has neither."""
    sku = record.get(INVENTORY_RECORD_SKU_FIELD)
    for name in INVENTORY_QUANTITY_FIELDS:
        value = record.get(name)
        if isinstance(sku, str) and _finite_number(value):
            return sku, int(value)
    return None


def _finite_number(value: Any) -> TypeGuard[int | float]:
    """A JSON number that converts to int (JSON may carry Infinity and NaN; not booleans)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not isinstance(value, float) or math.isfinite(value)


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
