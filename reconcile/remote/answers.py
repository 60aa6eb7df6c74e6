"""PB's answers read strictly: an answer that is not understood is an error, never
"nothing there" (write safety). Search pages (a recognised results list, or an explicit
``totalElements: 0``), the identity of a search item (to catch a page repeating one), a
404 that is PB's own, a GET answer about the object asked for. The names and shapes
themselves are assumptions kept in ``wire``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconcile.remote.wire import (
    BOM_ID_FIELD,
    RESULTS_FIELDS,
    TOTAL_ELEMENTS_FIELD,
    UNIFIED_ERROR_CODE_FIELD,
    UNIFIED_ERRORS_FIELD,
    bom_address,
    json_kind,
)


def _results_field(page: Mapping[str, Any], resource: str) -> tuple[str, Any] | None:
    """The first of the candidate names that the page carries (not null), and its value."""
    for name in RESULTS_FIELDS[resource]:
        if page.get(name) is not None:
            return name, page[name]
    return None


def results_of(page: Mapping[str, Any], resource: str) -> list[dict[str, Any]]:
    """The results array of a search page, found leniently (contract §9); a page with
    none of the candidate fields has no results. ``page_problem`` vets it first."""
    found = _results_field(page, resource)
    if found is None or not isinstance(found[1], list):
        return []
    return [item for item in found[1] if isinstance(item, dict)]


def page_problem(page: Mapping[str, Any], resource: str) -> str | None:
    """Why a search page cannot be read, or None. Strict: an answer that is not understood
    is an error, never "nothing there" (a BOM read as absent is created a second time).

    A page must carry a recognised results list of objects, or say explicitly that there
    is nothing (``totalElements: 0``); ``content: null``, ``{}`` or a renamed field are not
    an empty result. A list shorter than ``totalElements`` announces is caught by the walk
    (``paging``), which sees every page.
    """
    found = _results_field(page, resource)
    if found is None:
        if _count_field(page, TOTAL_ELEMENTS_FIELD) == 0:
            return None  # said in so many words: there are none
        names = " or ".join(f"`{n}`" for n in RESULTS_FIELDS[resource])
        announced = page.get(TOTAL_ELEMENTS_FIELD)
        said = (
            f"announces {_json_text(announced)} results ({TOTAL_ELEMENTS_FIELD}) but "
            if announced is not None
            else ""
        )
        return f"the search answer {said}has no {names} list (keys: {_keys(page)})"
    name, value = found
    if not isinstance(value, list):
        return f"the search answer's `{name}` is {json_kind(value)}, not a list of objects"
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            return (
                f"item {index} of the search answer's `{name}` is {json_kind(item)}, not an object"
            )
    return None


def identity(item: Mapping[str, Any], resource: str) -> str | None:
    """What makes a search result one object, to tell a page that repeats objects already
    seen: the SKU of a product, the id of a BOM (else its key); None for inventory records,
    which may repeat a SKU across nodes."""
    if resource == "products":
        return _json_text(item.get("sku"))
    if resource == "boms":
        bom_id = item.get(BOM_ID_FIELD)
        return f"id {bom_id}" if bom_id is not None else f"key {bom_address(item)}"
    return None


def count_field(page: Mapping[str, Any], name: str) -> int | None:
    """A non-negative integer field of a page (``totalElements``, ``totalPages``), else None."""
    return _count_field(page, name)


def _count_field(page: Mapping[str, Any], name: str) -> int | None:
    value = page.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _json_text(value: Any) -> str:
    return json.dumps(value, default=str)[:40]


def _keys(obj: Mapping[str, Any]) -> str:
    names = sorted(str(k) for k in obj)[:8]
    return ", ".join(names) if names else "none"


def is_unified_error(body: Any) -> bool:
    """Whether an answer body is PB's unified error object (contract §8.2). Only such a
    404 means "PB has no such resource": a proxy's HTML page or an empty 404 does not."""
    if not isinstance(body, Mapping):
        return False
    errors = body.get(UNIFIED_ERRORS_FIELD)
    return (
        isinstance(errors, list)
        and bool(errors)
        and all(isinstance(e, Mapping) and UNIFIED_ERROR_CODE_FIELD in e for e in errors)
    )


def bom_answer_problem(obj: Any, bom_id: str) -> str | None:
    """Why a GET BOM answer is not the BOM asked for, or None."""
    if not isinstance(obj, Mapping):
        return f"the answer is {json_kind(obj)}, not a BOM object"
    got = obj.get(BOM_ID_FIELD)
    if got is None or str(got) != bom_id:
        return f"the answer is about BOM id {_json_text(got)}, not {_json_text(bom_id)}"
    return None


def product_answer_problem(obj: Any, client_id: str, sku: str) -> str | None:
    """Why a GET product answer is not the product asked for, or None. An object about
    another SKU or client, or with no key at all (``{}``), is unreadable, never absent."""
    if not isinstance(obj, Mapping):
        return f"the answer is {json_kind(obj)}, not a product object"
    got_sku, got_client = obj.get("sku"), obj.get("clientId")
    if got_sku != sku:
        return f"the answer is about SKU {_json_text(got_sku)}, not {_json_text(sku)}"
    if got_client is not None and got_client != client_id:
        return f"the answer is about client {_json_text(got_client)}, not {_json_text(client_id)}"
    return None
