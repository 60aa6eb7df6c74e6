"""The PB Bill of Materials object (contract §7.1), minus PB-managed fields and its id."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from reconcile.models.codec import BomKey
from reconcile.models.fields import CLOSED, BomDate, ClientId, PlainText, Sku

#: PB stores a quantity as an integer; the largest a signed 32-bit integer holds is the
#: ceiling, so 10**38 is a located catalog error instead of an answer PB cannot store.
MAX_QUANTITY = 2**31 - 1


class BomComponent(BaseModel):
    """One line of a BOM: a component SKU and how many of it go into the kit."""

    model_config = CLOSED

    sku: Sku
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]


class BomInstruction(BaseModel):
    """Reserved by PB; kept so that it round-trips."""

    model_config = CLOSED

    instruction: str
    active: bool = True


class Bom(BaseModel):
    model_config = CLOSED

    clientId: ClientId
    sku: Sku = Field(description="SKU of the kit this BOM produces")
    description: Annotated[PlainText, Field(min_length=1, max_length=30)]
    billOfMaterialDetails: Annotated[list[BomComponent], Field(min_length=1)]
    brand: Annotated[PlainText, Field(max_length=30)] | None = None
    node: (
        Annotated[PlainText, Field(description="PB fulfillment center where kitting happens")]
        | None
    ) = None
    active: bool = True
    notes: list[Annotated[str, Field(max_length=50)]] | None = None
    instructions: list[BomInstruction] | None = None
    createDate: BomDate | None = Field(
        default=None, description="YYYY-MM-DDThh:mm:ssZ; any ISO 8601 date-time with offset"
    )
    updateDate: BomDate | None = Field(
        default=None, description="YYYY-MM-DDThh:mm:ssZ; any ISO 8601 date-time with offset"
    )

    @model_validator(mode="after")
    def _canonical_components(self) -> Bom:
        # Components are a set keyed by SKU: order carries no meaning, so sort it away.
        ordered = sorted(self.billOfMaterialDetails, key=lambda c: c.sku)
        object.__setattr__(self, "billOfMaterialDetails", ordered)
        for field_name in ("notes", "instructions"):
            if getattr(self, field_name) == []:
                object.__setattr__(self, field_name, None)
        return self

    @property
    def key(self) -> BomKey:
        return BomKey(self.clientId, self.sku, self.node or "")

    @property
    def component_skus(self) -> list[str]:
        return [c.sku for c in self.billOfMaterialDetails]
