"""JSON Schemas for editors: catalog files and reconcile.yaml, generated from the models.

The schemas help editors complete and check fields; the pydantic models stay the
authority (``validate`` reports what a schema cannot express, e.g. cross-file rules; the
list is in docs/schemas.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reconcile.models import Bom, Product
from reconcile.settings import Settings

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SchemaDocument = tuple[str, dict[str, Any]]


class CatalogFile(BaseModel):
    """One catalog file: products and/or BOMs (the kits' recipes)."""

    model_config = ConfigDict(extra="forbid", title="reconcile catalog file")

    products: list[Product] = Field(
        default_factory=list, description="Products (ITEM or KIT), PB's Products object"
    )
    boms: list[Bom] = Field(
        default_factory=list, description="Bills of materials: how PB assembles each kit"
    )


def _finish(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"$schema": DIALECT, **schema, "description": description}


def catalog_schema() -> dict[str, Any]:
    """Schema of a catalog file; clientId is optional since reconcile.yaml may supply it.

    A file of comments only reads as null: ``validate`` warns and goes on, so the schema
    accepts it too (an editor shows nothing where the tool fails nothing).
    """
    schema = CatalogFile.model_json_schema(mode="validation")
    schema["type"] = ["object", "null"]
    for model in (Product, Bom):
        definition = schema["$defs"][model.__name__]
        definition["required"] = [f for f in definition["required"] if f != "clientId"]
        definition["properties"]["clientId"]["description"] = (
            "PB client id; defaults to client_id of reconcile.yaml"
        )
    return _finish(
        schema,
        "A reconcile catalog file: top-level `products:` and/or `boms:` lists, "
        "with the PB Fulfillment API's own field names.",
    )


def settings_schema() -> dict[str, Any]:
    schema = Settings.model_json_schema(mode="validation")
    schema["title"] = "reconcile.yaml"
    return _finish(
        schema,
        "reconcile.yaml: the catalog's client, environments, limits and safety thresholds. "
        "Credentials never go here (PB_API_KEY / PB_API_SECRET).",
    )


def schema_documents() -> list[SchemaDocument]:
    """The schemas of the catalog language, as (file name, schema) pairs."""
    return [("catalog.schema.json", catalog_schema()), ("settings.schema.json", settings_schema())]


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(dest: Path, documents: Sequence[SchemaDocument] | None = None) -> list[Path]:
    """Write each schema as ``dest/<file name>``; returns the paths written."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schema_documents() if documents is None else documents:
        path = dest / name
        path.write_text(schema_text(schema), encoding="utf-8")
        written.append(path)
    return written
