"""One planned change to one resource: a small value holding whole before/after."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reconcile.models import Bom, Product
from reconcile.models.kinds import Kind, resource_kind

__all__ = [
    "Action",
    "Change",
    "FieldChange",
    "Kind",
    "PlanWarning",
    "Precondition",
    "component_skus",
    "parse_resource",
]

Action = Literal["create", "update", "deactivate", "no-op"]

_VALUE = ConfigDict(extra="forbid", frozen=True)


class FieldChange(BaseModel):
    """One field that differs, e.g. ``details.description`` or
    ``billOfMaterialDetails[sku=ABC].quantity``. ``before``/``after`` are None when the
    field is absent on that side (``after`` None on an update means PUT clears it)."""

    model_config = _VALUE

    path: str
    before: Any = None
    after: Any = None


class Precondition(BaseModel):
    """The remote state a change was computed against; re-checked by ``apply --plan``."""

    model_config = _VALUE

    pbUpdateDate: str | None = None
    digest: str = Field(description="sha256 of the remote object's canonical JSON")


class Change(BaseModel):
    model_config = _VALUE

    address: str = Field(description="product.<sku> or bom.<sku>[@<node>]")
    kind: Kind
    action: Action
    key: dict[str, str] = Field(description="clientId, sku and, for BOMs, node")
    before: dict[str, Any] | None = Field(default=None, description="remote object; None on create")
    after: dict[str, Any] | None = Field(
        default=None, description="object PB will hold after the change"
    )
    field_changes: list[FieldChange] = Field(default_factory=list)
    precondition: Precondition | None = Field(default=None, description="None on create")
    remote_id: str | None = Field(default=None, description="PB billOfMaterialId for BOM writes")
    depends_on: list[str] = Field(
        default_factory=list, description="addresses that must succeed before this change"
    )
    kept: dict[str, Any] = Field(
        default_factory=dict,
        description="top-level fields PB holds that reconcile does not know: not diffed, "
        "written back unchanged with every full replacement (format 1.1)",
    )

    def after_model(self) -> Product | Bom:
        """``after`` as its model. ``Plan.from_json`` has checked that it parses; a change
        without an after state (never planned) raises ValueError."""
        if self.after is None:
            raise ValueError(f"{self.address}: a {self.action} without an after state")
        return parse_resource(self.kind, self.after)

    def before_model(self) -> Product | Bom | None:
        """``before`` as its model; None on a create."""
        return None if self.before is None else parse_resource(self.kind, self.before)

    @property
    def turns_inactive(self) -> bool:
        """The resource is active (or new) now and inactive after this change: a prune
        deactivation, or an update to a resource the catalog declares inactive."""
        was_active = self.before is None or self.before.get("active", True)
        return bool(was_active) and self.after is not None and self.after.get("active") is False

    @property
    def deactivates(self) -> bool:
        """PB holds the resource active and this change makes it inactive: a prune
        deactivation, or an update to a resource the catalog declares ``active: false``
        (action ``update``, since the write is a full PUT). Safety, the reports and the
        apply order treat both as deactivations; creating an inactive resource is not one.
        """
        return self.before is not None and self.turns_inactive

    @property
    def declared_inactive(self) -> bool:
        """An update that deactivates because the catalog declares ``active: false``."""
        return self.action == "update" and self.deactivates


def parse_resource(kind: Kind, data: Mapping[str, Any]) -> Product | Bom:
    """A change's ``before``/``after`` as the model of its kind (pydantic ValidationError
    when it does not parse)."""
    return resource_kind(kind).parse(data)


def component_skus(bom: Mapping[str, Any]) -> list[str]:
    """The component SKUs of a BOM given as plan JSON (``before``/``after``)."""
    return [str(line["sku"]) for line in bom.get("billOfMaterialDetails", [])]


class PlanWarning(BaseModel):
    """Something a reviewer should read before applying; never blocks the apply."""

    model_config = _VALUE

    address: str
    message: str
