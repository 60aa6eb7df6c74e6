"""YAML → models: the catalog language. The only importer of ruamel.yaml.

Public entry points: :func:`load_catalog`, :func:`load_settings` (reading),
:func:`write_catalog` (writing, for ``import``), :func:`format_files` (``fmt``) and
:func:`write_schemas` (``schemas``).
"""

from reconcile.desired.catalog import Catalog, catalog_files, load_catalog, load_settings

__all__ = ["Catalog", "catalog_files", "load_catalog", "load_settings"]
