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

# What `extra_fields: true` adds to every product and BOM answer (undocumented fields).
EXTRA_FIELDS: dict[str, Any] = {"catalogRevision": 3, "lastIndexedBy": "pb-indexer"}
INCLUDE_INACTIVE_MODES = ("both", "only", "ignored")

# §15 — merchants (Get Merchant Accounts): 0-based pages, size default 20, at most 2000.
MERCHANTS_PATH = "/shippingservices/v1/developers/{developer_id}/merchants"
DEFAULT_DEVELOPER_ID = "sandbox-developer"
MERCHANT_PAGE_DEFAULT = 20
MERCHANT_PAGE_MAX = 2000
DEFAULT_MERCHANT_COUNT = 64

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
    # A random 5xx or dropped connection on a write strikes after the write committed (the
    # answer is lost, PB kept it): the hard case for a client's retries. (A 429 always
    # means "refused unread", as on PB.)
    faults_after_commit: bool = False
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
    # -- the alternatives `reconcile probe` checks for (one switch each; defaults = ASSUME) --
    # §9 — name of the search results array; another name models an envelope the client
    # does not know.
    results_field: str = "content"
    # §9 — the envelope carries totalElements (False: PB does not say how many there are).
    total_elements: bool = True
    # §9 — pages are 1-based (False: 0-based, page=0 is the first, as Spring's default).
    one_based_pages: bool = True
    # §6.5 — product search honours date filters (False: ignored, the default window stays).
    date_filters: bool = True
    # §7.5 — what includeInactive means: "both" (active and inactive), "only" (inactive
    # only) or "ignored" (inactive BOMs never shown).
    include_inactive: str = "both"
    # §9 — searches keep the order asked for (False: each answer in a random order).
    stable_order: bool = True
    # Index lag: new products and BOMs reach search only this many seconds (the emulator's
    # clock) and this many searches of their kind after they were created.
    index_lag_seconds: float = 0
    index_lag_searches: int = 0
    # Products and BOMs carry fields the contract does not document (EXTRA_FIELDS).
    extra_fields: bool = False
    # §8.2 — a 404 carries the unified error object (False: an empty 404 body).
    not_found_error_object: bool = True
    # §8.1 — Fulfillment is enabled for the account (False: every Fulfillment route answers
    # 403 ``1000033`` while the token and merchants still work).
    fulfillment_enabled: bool = True
    # §15 — the developer id whose merchants the emulator serves (others: 404).
    developer_id: str = DEFAULT_DEVELOPER_ID

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
    "faults_after_commit": (bool,),
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
    "bom_id_field": (str,),
    "results_field": (str,),
    "total_elements": (bool,),
    "one_based_pages": (bool,),
    "date_filters": (bool,),
    "include_inactive": (str,),
    "stable_order": (bool,),
    "index_lag_seconds": (int, float),
    "index_lag_searches": (int,),
    "extra_fields": (bool,),
    "not_found_error_object": (bool,),
    "fulfillment_enabled": (bool,),
    "developer_id": (str,),
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
    return _check_probe_setting(name, value)


def _check_probe_setting(name: str, value: Any) -> str | None:
    if name in ("index_lag_seconds", "index_lag_searches") and value < 0:
        return "must be ≥ 0"
    if name == "include_inactive" and value not in INCLUDE_INACTIVE_MODES:
        return f"must be one of {', '.join(INCLUDE_INACTIVE_MODES)}"
    if name in ("results_field", "bom_id_field", "developer_id") and not value:
        return "must be a non-empty string"
    return None
