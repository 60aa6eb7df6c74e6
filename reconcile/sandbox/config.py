"""Every emulator decision the PB documentation leaves open, each one named setting.

The contract (``shared/api/pb-fulfillment-api.md``, §13) lists where the public PB
documentation is silent; each ASSUME lives here, so a fact learnt later is a one-line
change. Module constants are decisions that are not worth a runtime switch; the
``SandboxConfig`` fields can be changed per instance (and most at runtime through
``POST /__sandbox/config``).
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from typing import Any

# §13.1 — base path of every Fulfillment route; the token endpoint sits at the host root.
API_PREFIX = "/shippingservices/fulfillment/v1"
TOKEN_PATH = "/oauth/token"
ADMIN_PREFIX = "/__sandbox"

# §3 / §13.4 — the documented transaction-id alphabet and ceiling.
TRANSACTION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,25}$"
TRANSACTION_ID_HEADER = "x-pb-transactionid"

# §5 / §7.1 — output date patterns (products carry milliseconds and ±hhmm, BOMs seconds + Z).
PRODUCT_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S.{ms:03d}%z"
BOM_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PRODUCT_RESOLUTION = 0.001  # products carry milliseconds (§5)
BOM_RESOLUTION = 1.0  # BOM dates carry whole seconds (§7.1)

# §5 — documented limits and enums of the Products object.
SKU_MAX = 30
VENDOR_NAME_MAX = 50
VENDOR_NUMBER_MAX = 30
PRODUCT_TYPES = ("ITEM", "KIT")
FULFILLMENT_REGIONS = ("PB_ONLY", "THIRD_PARTY", "ALL")
DEFAULT_FULFILLMENT_REGION = "PB_ONLY"  # §5 documented default
PRODUCT_STATUSES = ("PUBLISHED", "UNPUBLISHED")

# §7.1 / §13.11 — BOM limits; the BOM Details element is a project decision.
BOM_DESCRIPTION_MAX = 30
BOM_BRAND_MAX = 30
BOM_NOTE_MAX = 50
BOM_COMPONENT_SKU_FIELD = "sku"
BOM_COMPONENT_QUANTITY_FIELD = "quantity"

# §6.3 / §13.8 — bulk request ceiling ("up to 200", long version of the page).
BULK_MAX = 200
BULK_OPERATIONS = ("CREATE", "UPDATE")

# §9 — paging defaults.
DEFAULT_PAGE_SIZE = 20

# §6.5 / §13.10 — the default search window hides products created longer ago than this.
SEARCH_WINDOW_MONTHS = 6
PRODUCT_DATE_SEARCH_FIELDS = ("createDate", "updateDate", "pbCreateDate", "pbUpdateDate")
# §7.5 — the BOM page spells one field ``pbupdateDate``; both spellings are accepted.
BOM_DATE_SEARCH_FIELDS = (*PRODUCT_DATE_SEARCH_FIELDS, "pbupdateDate")
SORT_PROPERTIES = ("createDate", "updateDate", "pbCreateDate", "pbUpdateDate")

FAULT_KINDS = ("429", "500", "502", "503", "504", "drop")
BULK_FAILURE_MODES = ("whole-request", "per-item")


@dataclass
class SandboxConfig:
    """Behaviour switches of one emulator instance (§13 decisions plus test controls)."""

    key: str
    secret: str
    # §13.2 — token lifetime in seconds, sent as the string ``expiresIn``.
    token_ttl: int = 35999
    # §13.2 — send tokenType / issuedAt / clientID / org beside access_token.
    token_extra_fields: bool = True
    # §13.3 — errorCode of 401 answers.
    auth_error_code: str = "1000032"
    # Test controls: latency before PB routes answer, random faults, their seed.
    latency_ms: float = 0
    jitter_ms: float = 0
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = ("429", "500", "503", "drop")
    seed: int | None = None
    retry_after_seconds: float = 1.0
    # §13.10 — maximum page size; larger requests are served at this size.
    page_max: int = 100
    # §13.10 — hide products whose pbCreateDate is over six months old unless a date filter
    # (createDate, updateDate, pbCreateDate or pbUpdateDate) is sent.
    six_month_window: bool = True
    # §6.5 — a stricter reading: the window applies even when a date filter is sent, so
    # only GET finds older products (lets tests prove a client's GET fallback).
    six_month_window_always: bool = False
    # §13.8 — "whole-request": any bad item fails the bulk with 400; "per-item": 200 with
    # the bad items reported as UNPUBLISHED and the good ones written.
    bulk_item_failures: str = "whole-request"
    # §13.4 — reject a reused X-PB-TransactionId with 400.
    strict_transaction_ids: bool = False
    # §13.11 — name of the PB-assigned BOM id in responses and search fields.
    bom_id_field: str = "billOfMaterialId"
    # §7 (overview page) — GET /bill-of-materials/{id} answers the BOM; False: the route
    # answers 404 as if PB did not offer it (the client must then confirm by search alone).
    bom_get_by_id: bool = True
    # §13.6 — status stamped on written products (hook to force UNPUBLISHED).
    product_status: str = "PUBLISHED"
    # §6.2 — strict mode: PUT may not change productType (ITEM↔KIT).
    strict_product_type: bool = False
    # §7.2 — strict mode: a BOM's sku must name a KIT product.
    strict_kit_type: bool = False
    # §7.4 — strict mode: PUT may not change a BOM's kit sku (re-parenting).
    strict_bom_reparent: bool = False
    # §7.2 — strict mode: at most one active BOM per (clientId, sku, node).
    strict_one_active_bom: bool = False
    # §11 — fulfillment-center ids a BOM ``node`` may name; None accepts any string.
    node_allow_list: tuple[str, ...] | None = None
    # pbUpdateDate strictly increases on each write of one resource, even within the
    # output resolution (1 ms products, 1 s BOMs), so it always works as a version.
    monotonic_update_dates: bool = True
    organisation: str = field(default="sandbox")

    @classmethod
    def generate(cls, **overrides: Any) -> SandboxConfig:
        """Return a config with a fresh random key and secret."""
        return cls(
            key=overrides.pop("key", None) or secrets.token_urlsafe(18),
            secret=overrides.pop("secret", None) or secrets.token_urlsafe(24),
            **overrides,
        )

    def copy(self) -> SandboxConfig:
        return dataclasses.replace(self)

    def restore(self, snapshot: SandboxConfig) -> None:
        """Reset every field in place to the values of ``snapshot``."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(snapshot, f.name))


# Fields that ``POST /__sandbox/config`` may change, with their accepted types.
RUNTIME_SETTINGS: dict[str, tuple[type, ...]] = {
    "latency_ms": (int, float),
    "jitter_ms": (int, float),
    "fault_rate": (int, float),
    "fault_kinds": (list, tuple),
    "seed": (int, type(None)),
    "retry_after_seconds": (int, float),
    "page_max": (int,),
    "token_ttl": (int,),
    "six_month_window": (bool,),
    "six_month_window_always": (bool,),
    "bulk_item_failures": (str,),
    "strict_transaction_ids": (bool,),
    "product_status": (str,),
    "strict_product_type": (bool,),
    "strict_kit_type": (bool,),
    "strict_bom_reparent": (bool,),
    "strict_one_active_bom": (bool,),
    "bom_get_by_id": (bool,),
    "node_allow_list": (list, tuple, type(None)),
    "monotonic_update_dates": (bool,),
    "token_extra_fields": (bool,),
    "auth_error_code": (str,),
}


def check_setting(name: str, value: Any) -> str | None:
    """Return why ``value`` is not acceptable for setting ``name``, or None when it is."""
    types = RUNTIME_SETTINGS.get(name)
    if types is None:
        return f"unknown setting; use one of: {', '.join(sorted(RUNTIME_SETTINGS))}"
    if isinstance(value, bool) and bool not in types:
        return "must be a number" if float in types else f"must be {types[0].__name__}"
    if not isinstance(value, types):
        return f"must be of type {' or '.join(t.__name__ for t in types)}"
    return _check_range(name, value)


def _check_range(name: str, value: Any) -> str | None:
    if name in ("latency_ms", "jitter_ms", "retry_after_seconds") and value < 0:
        return "must be ≥ 0"
    if name == "fault_rate" and not 0 <= value <= 1:
        return "must be between 0 and 1"
    if name in ("page_max", "token_ttl") and value < 1:
        return "must be ≥ 1"
    if (
        name == "node_allow_list"
        and value is not None
        and not all(isinstance(n, str) for n in value)
    ):
        return "must be a list of node ids (strings) or null"
    if name == "fault_kinds" and not all(k in FAULT_KINDS for k in value):
        return f"each kind must be one of {', '.join(FAULT_KINDS)}"
    if name == "bulk_item_failures" and value not in BULK_FAILURE_MODES:
        return f"must be one of {', '.join(BULK_FAILURE_MODES)}"
    if name == "product_status" and value not in PRODUCT_STATUSES:
        return f"must be one of {', '.join(PRODUCT_STATUSES)}"
    return None
