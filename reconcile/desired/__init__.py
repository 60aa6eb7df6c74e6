"""YAML → models: the catalog language. The only importer of ruamel.yaml.

Public entry points: :func:`load_catalog`, :func:`load_settings` (reading),
:func:`write_catalog` (writing, for ``import``), :func:`format_files` (``fmt``) and
:func:`write_schemas` (``schemas``).
"""

from reconcile.desired.catalog import Catalog, catalog_files, load_catalog, load_settings
from reconcile.desired.schema import (
    SchemaDocument,
    catalog_schema,
    schema_documents,
    schema_text,
    settings_schema,
    write_schemas,
)

__all__ = [
    "Catalog",
    "SchemaDocument",
    "catalog_files",
    "catalog_schema",
    "load_catalog",
    "load_settings",
    "schema_documents",
    "schema_text",
    "settings_schema",
    "write_schemas",
]
