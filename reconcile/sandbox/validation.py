"""Request-body rules the contract documents (§5, §6, §7), reported all at once.

Each check appends a ``validation.failed`` item whose ``parameters`` name the field path
(``sku``, ``products[3].vendorDetails.name``, ``billOfMaterialDetails[0].quantity``).
Fields the rules do not mention are kept verbatim (contract §13.6).
"""

from __future__ import annotations

from typing import Any

from reconcile.sandbox import config as c
from reconcile.sandbox.apierror import ErrorItem, validation
from reconcile.sandbox.dates import parse_instant

PRODUCT_READ_ONLY = ("pbCreateDate", "pbUpdateDate", "status")
BOM_READ_ONLY = ("pbCreateDate", "pbUpdateDate")


class Checker:
    """Collects validation problems under a field-path prefix."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.problems: list[ErrorItem] = []

    def path(self, name: str) -> str:
        if not self.prefix:
            return name
        return f"{self.prefix}{name}" if name.startswith("[") else f"{self.prefix}.{name}"

    def fail(self, name: str, message: str) -> None:
        self.problems.append(validation(self.path(name), message))

    def string(
        self, obj: dict[str, Any], name: str, *, required: bool = False, max_len: int = 0
    ) -> str | None:
        value = obj.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return None
        if not isinstance(value, str):
            self.fail(name, f"must be a string, not {json_type(value)}")
            return None
        if required and not value.strip():
            self.fail(name, "must not be empty")
        elif max_len and len(value) > max_len:
            self.fail(name, f"must be at most {max_len} characters (got {len(value)})")
        return value

    def enum(
        self, obj: dict[str, Any], name: str, allowed: tuple[str, ...], required: bool
    ) -> None:
        value = self.string(obj, name, required=required)
        if value is not None and value.strip() and value not in allowed:
            self.fail(name, f"must be one of {', '.join(allowed)} (got {value!r})")

    def boolean(self, obj: dict[str, Any], name: str) -> None:
        value = obj.get(name)
        if value is not None and not isinstance(value, bool):
            self.fail(name, f"must be true or false, not {json_type(value)}")

    def date(self, obj: dict[str, Any], name: str) -> None:
        value = self.string(obj, name)
        if value is not None and parse_instant(value) is None:
            self.fail(name, f"must be an ISO 8601 date-time (got {value!r})")

    def kind(self, obj: dict[str, Any], name: str, expected: type, required: bool) -> Any:
        value = obj.get(name)
        if value is None:
            if required:
                self.fail(name, "is required")
            return None
        if not isinstance(value, expected):
            wanted = "an object" if expected is dict else "an array"
            self.fail(name, f"must be {wanted}, not {json_type(value)}")
            return None
        return value

    def elements(self, obj: dict[str, Any], name: str, expected: type, max_len: int = 0) -> None:
        """An optional array whose elements are all of ``expected`` (strings ≤ max_len)."""
        wanted = "an object" if expected is dict else "a string"
        for i, element in enumerate(self.kind(obj, name, list, required=False) or []):
            if not isinstance(element, expected):
                self.fail(f"{name}[{i}]", f"must be {wanted}, not {json_type(element)}")
            elif max_len and isinstance(element, str) and len(element) > max_len:
                message = f"must be at most {max_len} characters (got {len(element)})"
                self.fail(f"{name}[{i}]", message)


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null"


def check_object(body: Any, prefix: str = "") -> list[ErrorItem]:
    if isinstance(body, dict):
        return []
    return [validation(prefix or "body", f"must be a JSON object, not {json_type(body)}")]


def validate_product(body: Any, prefix: str = "") -> tuple[dict[str, Any], list[ErrorItem]]:
    """Check a Products object; return it with read-only fields dropped and defaults set."""
    problems = check_object(body, prefix)
    if problems:
        return {}, problems
    check = Checker(prefix)
    check.string(body, "clientId", required=True)
    check.enum(body, "productType", c.PRODUCT_TYPES, required=True)
    check.string(body, "sku", required=True, max_len=c.SKU_MAX)
    check.enum(body, "fulfillmentRegion", c.FULFILLMENT_REGIONS, required=False)
    check.kind(body, "details", dict, required=True)
    check.elements(body, "options", dict)
    check.boolean(body, "active")
    check.date(body, "createDate")
    check.date(body, "updateDate")
    _check_vendor(check, body)
    clean = {k: v for k, v in body.items() if k not in PRODUCT_READ_ONLY}
    if clean.get("fulfillmentRegion") is None:
        clean["fulfillmentRegion"] = c.DEFAULT_FULFILLMENT_REGION
    if clean.get("active") is None:
        clean["active"] = True
    return clean, check.problems


def _check_vendor(check: Checker, body: dict[str, Any]) -> None:
    vendor = check.kind(body, "vendorDetails", dict, required=False)
    if vendor is None:
        return
    # Both-or-none (§5): once vendorDetails is sent, name and number are both required.
    inner = Checker(check.path("vendorDetails"))
    inner.string(vendor, "name", required=True, max_len=c.VENDOR_NAME_MAX)
    inner.string(vendor, "number", required=True, max_len=c.VENDOR_NUMBER_MAX)
    check.problems.extend(inner.problems)


def validate_bom(body: Any, id_field: str) -> tuple[dict[str, Any], list[ErrorItem]]:
    """Check a BOM object; return it with PB-owned fields dropped and ``active`` defaulted."""
    problems = check_object(body)
    if problems:
        return {}, problems
    check = Checker()
    check.string(body, "clientId", required=True)
    check.string(body, "sku", required=True, max_len=c.SKU_MAX)
    check.string(body, "description", required=True, max_len=c.BOM_DESCRIPTION_MAX)
    check.string(body, "brand", max_len=c.BOM_BRAND_MAX)
    check.string(body, "node")
    check.boolean(body, "active")
    check.date(body, "createDate")
    check.date(body, "updateDate")
    check.elements(body, "notes", str, c.BOM_NOTE_MAX)
    check.elements(body, "instructions", dict)
    _check_components(check, body)
    clean = {k: v for k, v in body.items() if k not in (*BOM_READ_ONLY, id_field)}
    if clean.get("active") is None:
        clean["active"] = True
    return clean, check.problems


def _check_components(check: Checker, body: dict[str, Any]) -> None:
    details = check.kind(body, "billOfMaterialDetails", list, required=True)
    if details is not None and not details:
        check.fail("billOfMaterialDetails", "must list at least one component")
    for i, element in enumerate(details or []):
        where = f"billOfMaterialDetails[{i}]"
        if not isinstance(element, dict):
            check.fail(where, f"must be an object, not {json_type(element)}")
            continue
        inner = Checker(where)
        inner.string(element, c.BOM_COMPONENT_SKU_FIELD, required=True, max_len=c.SKU_MAX)
        _check_quantity(inner, element.get(c.BOM_COMPONENT_QUANTITY_FIELD))
        check.problems.extend(inner.problems)


def _check_quantity(check: Checker, quantity: Any) -> None:
    name = c.BOM_COMPONENT_QUANTITY_FIELD
    if quantity is None:
        check.fail(name, "is required")
    elif isinstance(quantity, bool) or not isinstance(quantity, int):
        check.fail(name, f"must be an integer ≥ 1, not {json_type(quantity)}")
    elif quantity < 1:
        check.fail(name, f"must be an integer ≥ 1 (got {quantity})")


def component_skus(bom: dict[str, Any]) -> list[str]:
    """The component SKUs a (validated or fixture) BOM lists, in order."""
    details = bom.get("billOfMaterialDetails")
    if not isinstance(details, list):
        return []
    skus = (d.get(c.BOM_COMPONENT_SKU_FIELD) for d in details if isinstance(d, dict))
    return [s for s in skus if isinstance(s, str)]
