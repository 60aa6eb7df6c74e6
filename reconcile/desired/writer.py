"""Writing a catalog directory (for `reconcile import`) in the canonical fmt layout.

The emitter is a small one of our own: the data is plain (mappings, lists, scalars), it
is far faster than ruamel's round-trip dumper on large catalogs, and its output is
exactly what `reconcile fmt` produces (a test pins that), so imported catalogs are
already formatted. Every string is written plain only when YAML 1.2
reads it back as the same string (the loader's own scalar rules decide); otherwise it
is double-quoted (JSON escapes are valid YAML).
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from reconcile.desired.events import plain_value
from reconcile.desired.layout import (
    BOM_ORDER,
    COMPONENT_ORDER,
    INSTRUCTION_ORDER,
    PRODUCT_ORDER,
    VENDOR_ORDER,
    canonical_order,
)
from reconcile.desired.schema import write_schemas
from reconcile.desired.walk import MODELINE, catalog_files
from reconcile.errors import UsageError
from reconcile.models import Bom, Product, ResourceSet
from reconcile.settings import SETTINGS_FILE, Settings

SplitBy = Literal["productType", "none"]
#: Resources per file: keeps files far below limits.max_file_bytes and diffs readable.
MAX_PER_FILE = 1000
_PLAIN = re.compile(r"[^\W_][\w .,/()+&'%:#=?-]*", re.UNICODE)
#: Fields left out when they hold PB's default, which the models restore on reading.
_PRODUCT_DEFAULTS = {"fulfillmentRegion": "PB_ONLY", "active": True}
_BOM_DEFAULTS = {"active": True}


def write_catalog(
    directory: Path,
    resources: ResourceSet,
    *,
    settings: Settings | str | None = None,
    split_by: SplitBy | str = "productType",
    replace: bool = False,
    schema_dir: Path | None = None,
) -> list[Path]:
    """Write reconcile.yaml and the catalog files; return the paths written.

    ``settings`` is a model, the text of reconcile.yaml, or None (client from the
    resources). ``replace`` first removes the catalog files already in ``directory``
    (other files stay); without it an existing file is never overwritten.
    """
    directory = Path(directory)
    client_id = _client_of(resources, settings)
    settings_text = settings if isinstance(settings, str) else _settings_text(settings, client_id)
    files = {SETTINGS_FILE: settings_text}
    files |= _catalog_texts(resources, client_id, split_by)
    _prepare(directory, files, replace=replace)
    schemas = schema_dir if schema_dir is not None else _find_schemas(directory)
    written = []
    for name, text in files.items():
        path = directory / name
        schema = "settings" if name == SETTINGS_FILE else "catalog"
        target = os.path.relpath(schemas / f"{schema}.schema.json", path.parent)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{MODELINE}{Path(target).as_posix()}\n{text}", encoding="utf-8")
        written.append(path)
    return written


def _client_of(resources: ResourceSet, settings: Settings | str | None) -> str:
    if isinstance(settings, Settings) and settings.client_id:
        return settings.client_id
    clients = {key.client_id for key in resources.products}
    clients |= {key.client_id for key in resources.boms}
    if isinstance(settings, str) or len(clients) == 1:
        return clients.pop() if len(clients) == 1 else ""
    raise UsageError(
        "cannot write a catalog for "
        + (f"several clients ({', '.join(sorted(clients))})" if clients else "no client")
        + ": a catalog describes exactly one; pass settings with client_id"
    )


def _prepare(directory: Path, files: dict[str, str], *, replace: bool) -> None:
    if directory.is_dir() and replace:
        for old in [*catalog_files(directory), directory / SETTINGS_FILE]:
            old.unlink(missing_ok=True)
    clashes = [name for name in files if (directory / name).exists()]
    if clashes:
        raise UsageError(
            f"{directory}: {', '.join(clashes)} already exist; write into a new directory "
            "or replace the catalog files"
        )


def _find_schemas(directory: Path) -> Path:
    """The nearest schemas/ holding catalog.schema.json upwards, else one written inside."""
    start = directory.resolve()
    for parent in [start, *start.parents]:
        if (parent / "schemas" / "catalog.schema.json").is_file():
            return parent / "schemas"
    write_schemas(start / "schemas")
    return start / "schemas"


def _settings_text(settings: Settings | None, client_id: str) -> str:
    data: dict[str, Any] = {"client_id": client_id}
    if settings is not None:
        dumped = settings.model_dump(mode="json", exclude_defaults=True)
        data["default_environment"] = settings.default_environment
        data |= {k: v for k, v in dumped.items() if k not in data}
    else:
        data["default_environment"] = Settings().default_environment
    return emit(data)


def _catalog_texts(resources: ResourceSet, client_id: str, split_by: str) -> dict[str, str]:
    if split_by not in ("productType", "none"):
        raise UsageError(f"unknown split {split_by!r}: use productType or none")
    products = sorted(resources.products.values(), key=lambda p: p.sku)
    groups: dict[str, list[Product]] = {}
    for product in products:
        name = "products" if split_by == "none" else f"{product.productType.lower()}s"
        groups.setdefault(name, []).append(product)
    texts: dict[str, str] = {}
    for name, members in groups.items():
        texts |= _chunked(name, "products", [product_data(p, client_id) for p in members])
    boms = sorted(resources.boms.values(), key=lambda b: (b.sku, b.node or ""))
    texts |= _chunked("boms", "boms", [bom_data(b, client_id) for b in boms])
    return texts


def _chunked(name: str, section: str, items: Sequence[dict[str, Any]]) -> dict[str, str]:
    if not items:
        return {}
    chunks = [items[i : i + MAX_PER_FILE] for i in range(0, len(items), MAX_PER_FILE)]
    if len(chunks) == 1:
        return {f"{name}.yaml": emit({section: list(items)})}
    return {f"{name}-{i:04d}.yaml": emit({section: list(c)}) for i, c in enumerate(chunks, 1)}


def product_data(product: Product, client_id: str) -> dict[str, Any]:
    """A product as catalog YAML holds it: canonical key order, defaults left out."""
    data = _without_defaults(product.model_dump(mode="json", exclude_none=True), _PRODUCT_DEFAULTS)
    if data.get("clientId") == client_id:
        del data["clientId"]
    if "vendorDetails" in data:
        data["vendorDetails"] = _ordered(data["vendorDetails"], VENDOR_ORDER)
    if "description" in data["details"]:
        data["details"] = _ordered(data["details"], ("description",))
    return _ordered(data, PRODUCT_ORDER)


def bom_data(bom: Bom, client_id: str) -> dict[str, Any]:
    """A BOM as catalog YAML holds it; components sorted by SKU."""
    data = _without_defaults(bom.model_dump(mode="json", exclude_none=True), _BOM_DEFAULTS)
    if data.get("clientId") == client_id:
        del data["clientId"]
    data["billOfMaterialDetails"] = [
        _ordered(c, COMPONENT_ORDER)
        for c in sorted(data["billOfMaterialDetails"], key=lambda c: c["sku"])
    ]
    if "instructions" in data:
        data["instructions"] = [_ordered(i, INSTRUCTION_ORDER) for i in data["instructions"]]
    return _ordered(data, BOM_ORDER)


def _without_defaults(data: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in defaults or defaults[k] != v}


def _ordered(data: dict[str, Any], order: Sequence[str]) -> dict[str, Any]:
    return {k: data[k] for k in canonical_order(list(data), order)}


def emit(data: dict[str, Any]) -> str:
    """Block YAML in fmt's layout: mappings indented 2, sequence dashes offset 2."""
    out: list[str] = []
    _emit_mapping(data, 0, out, None)
    return "".join(out)


def _emit_mapping(data: dict[str, Any], indent: int, out: list[str], first: str | None) -> None:
    for i, (key, value) in enumerate(data.items()):
        lead = first if (i == 0 and first is not None) else " " * indent
        head = f"{lead}{scalar(key)}:"
        if isinstance(value, dict) and value:
            out.append(head + "\n")
            _emit_mapping(value, indent + 2, out, None)
        elif isinstance(value, list) and value:
            out.append(head + "\n")
            _emit_sequence(value, indent + 2, out, None)
        else:
            out.append(f"{head} {scalar(value)}\n")


def _emit_sequence(items: Iterable[Any], indent: int, out: list[str], first: str | None) -> None:
    for i, item in enumerate(items):
        dash = (first if (i == 0 and first is not None) else " " * indent) + "- "
        if isinstance(item, dict) and item:
            _emit_mapping(item, indent + 2, out, dash)
        elif isinstance(item, list) and item:
            _emit_sequence(item, indent + 2, out, dash)
        else:
            out.append(f"{dash}{scalar(item)}\n")


def scalar(value: Any) -> str:
    """One scalar as YAML 1.2 text that reads back as the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    text = str(value)
    if _is_plain(text):
        return text
    return _double_quoted(text)


#: What a double-quoted scalar escapes beyond JSON's control characters: anything outside
#: YAML's printable set (DEL, C1 controls), and NEL/LS/PS/BOM, which readers may fold or drop.
_ESCAPED = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)


def _double_quoted(text: str) -> str:
    """JSON's quoting (valid YAML) with every non-printable character as a ``\\uXXXX`` escape."""
    return _ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _is_plain(text: str) -> bool:
    """True when ``text`` can be written unquoted and read back as the same string."""
    if not _PLAIN.fullmatch(text) or text.endswith((" ", ":")):
        return False
    return ": " not in text and " #" not in text and _reads_as_string(text)


@functools.lru_cache(maxsize=65_536)  # keys and enum values repeat on every resource
def _reads_as_string(text: str) -> bool:
    return type(plain_value(text)) is str  # not a number, boolean, null or date
