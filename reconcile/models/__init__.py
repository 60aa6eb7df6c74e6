"""The catalog's resources as pydantic models; no I/O.

Desired (YAML) and current (PB) state are both parsed into these same types before
they are compared, so a diff is always between like and like.
"""

from reconcile.models.bom import Bom, BomComponent, BomInstruction
from reconcile.models.codec import BomKey, ProductKey, ResourceKey
from reconcile.models.product import Product, ProductDetails, ProductOption, VendorDetails
from reconcile.models.resources import (
    RemoteMeta,
    ResourceSet,
    canonical_json,
    comparable,
    digest,
)

__all__ = [
    "Bom",
    "BomComponent",
    "BomInstruction",
    "BomKey",
    "Product",
    "ProductDetails",
    "ProductKey",
    "ProductOption",
    "RemoteMeta",
    "ResourceKey",
    "ResourceSet",
    "VendorDetails",
    "canonical_json",
    "comparable",
    "digest",
]
