"""YAML → models: the catalog language. The only importer of ruamel.yaml.

Public entry points: :func:`load_catalog`, :func:`load_settings` (reading),
:func:`write_catalog` (writing, for ``import``), :func:`format_files` (``fmt``) and
:func:`write_schemas` (``schemas``).
"""

from reconcile.desired.catalog import Catalog, load_catalog, load_settings
from reconcile.desired.fmt import FormatResult, fmt_targets, format_files, format_text
from reconcile.desired.schema import (
    SchemaDocument,
    catalog_schema,
    schema_documents,
    schema_text,
    settings_schema,
    write_schemas,
)
from reconcile.desired.walk import catalog_files
from reconcile.desired.writer import write_catalog

__all__ = [
    "Catalog",
    "FormatResult",
    "SchemaDocument",
    "catalog_files",
    "catalog_schema",
    "fmt_targets",
    "format_files",
    "format_text",
    "load_catalog",
    "load_settings",
    "schema_documents",
    "schema_text",
    "settings_schema",
    "write_catalog",
    "write_schemas",
]
