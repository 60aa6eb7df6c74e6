"""JSON in and out, and how stored resources are rendered on the wire."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from reconcile.sandbox.apierror import ApiError
from reconcile.sandbox.config import EXTRA_FIELDS
from reconcile.sandbox.dates import format_bom_date, format_product_date
from reconcile.sandbox.store import StoredBom, StoredProduct, to_json


async def read_json(request: Request) -> Any:
    """The decoded request body; 400 ``1000050`` when it is not valid JSON."""
    raw = await request.body()
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        reason = "the body is empty" if not raw.strip() else f"{e}"
        raise ApiError.of("1000050", f"Invalid JSON structure: {reason}.", "body") from e


def json_response(content: Any, status: int = 200) -> Response:
    return Response(to_json(content), status, media_type="application/json")


def raw_json_response(text: str, status: int = 200) -> Response:
    """A response from JSON text built by hand (the hot paths: GET and search)."""
    return Response(text, status, media_type="application/json")


def render_product(product: StoredProduct) -> dict[str, Any]:
    """The Products object as stored, plus the PB-owned dates and status (§13.6)."""
    return {
        **product.body,
        "pbCreateDate": format_product_date(product.pb_create),
        "pbUpdateDate": format_product_date(product.pb_update),
        "status": product.status,
    }


def product_json(product: StoredProduct, extra_fields: bool = False) -> str:
    """render_product as JSON text, spliced from the stored text without decoding it
    (``extra_fields``: with the undocumented fields of the probe's alternative)."""
    extra = "".join(f"{to_json(k)}:{to_json(v)}," for k, v in EXTRA_FIELDS.items())
    stamps = (
        f'"pbCreateDate":"{format_product_date(product.pb_create)}",'
        f'"pbUpdateDate":"{format_product_date(product.pb_update)}",'
        f'{extra if extra_fields else ""}"status":{to_json(product.status)}}}'
    )
    head = product.text.rstrip()[:-1].rstrip()  # the object without its closing brace
    return f"{head}{',' if head != '{' else ''}{stamps}"


def render_bom(bom: StoredBom, id_field: str, extra_fields: bool = False) -> dict[str, Any]:
    """The BOM as stored, plus its PB-assigned id and dates (§13.11)."""
    return {
        id_field: bom.id,
        **bom.body,
        "pbCreateDate": format_bom_date(bom.pb_create),
        "pbUpdateDate": format_bom_date(bom.pb_update),
        **(EXTRA_FIELDS if extra_fields else {}),
    }
