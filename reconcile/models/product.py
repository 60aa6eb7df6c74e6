"""The PB Products object (contract §5), minus the fields PB manages itself."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from reconcile.models.codec import ProductKey
from reconcile.models.fields import CLOSED, OPEN, ClientId, ProductDate, Sku

ProductType = Literal["ITEM", "KIT"]
FulfillmentRegion = Literal["PB_ONLY", "THIRD_PARTY", "ALL"]


class VendorDetails(BaseModel):
    """Both name and number are required when vendorDetails is present."""

    model_config = CLOSED

    name: Annotated[str, Field(min_length=1, max_length=50)]
    number: Annotated[str, Field(min_length=1, max_length=30)]


class ProductDetails(BaseModel):
    """PB's Product Details object. Only `description` is documented; other keys are kept."""

    model_config = OPEN

    description: str | None = None


class ProductOption(BaseModel):
    """One entry of `options`; its fields are undocumented, so every key is kept."""

    model_config = OPEN


class Product(BaseModel):
    model_config = CLOSED

    clientId: ClientId
    sku: Sku
    productType: ProductType
    details: ProductDetails
    vendorDetails: VendorDetails | None = None
    fulfillmentRegion: FulfillmentRegion = "PB_ONLY"
    options: list[ProductOption] | None = None
    active: bool = True
    createDate: ProductDate | None = Field(
        default=None,
        description="Creation time in your own system (YYYY-MM-DDThh:mm:ss.sss±hhmm; "
        "any ISO 8601 date-time with offset)",
    )
    updateDate: ProductDate | None = Field(
        default=None,
        description="Update time in your own system (YYYY-MM-DDThh:mm:ss.sss±hhmm; "
        "any ISO 8601 date-time with offset)",
    )

    @model_validator(mode="after")
    def _empty_options_mean_none(self) -> Product:
        # PB cannot tell "no options" from "empty options"; normalise so they compare equal.
        if self.options == []:
            object.__setattr__(self, "options", None)
        return self

    @property
    def key(self) -> ProductKey:
        return ProductKey(self.clientId, self.sku)
