"""The plan: what ``apply`` will do, as a versioned value.

A ``Plan`` (made by ``plan.build``) holds the changes in the order they must be applied
(``plan.order``), a summary, warnings a reviewer should read, and the counts the safety
thresholds need; it checks its own safety and knows its fingerprint. Its file format
(versioned JSON) lives in ``plan.planfile``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from reconcile import __version__
from reconcile.errors import PlanFileError, UnsafePlan
from reconcile.models import canonical_json
from reconcile.models.kinds import KINDS as RESOURCE_KINDS
from reconcile.plan import planfile
from reconcile.plan.change import Action, Change, Kind, PlanWarning
from reconcile.plan.planfile import FORMAT_VERSION
from reconcile.plan.safety import FORCE_HINT, kind_violations
from reconcile.settings import Safety

__all__ = [
    "FORMAT_VERSION",
    "ActionCounts",
    "ExistingCounts",
    "Plan",
    "PlanWarning",
    "Selector",
    "Summary",
    "select_changes",
]

#: Hex characters of ``Plan.fingerprint()`` shown to people.
FINGERPRINT_SHOWN = 12
KINDS: tuple[Kind, ...] = tuple(kind.name for kind in RESOURCE_KINDS)
WRITE_ACTIONS: tuple[Action, ...] = ("create", "update", "deactivate")

_VALUE = ConfigDict(extra="forbid", frozen=True)


class ActionCounts(BaseModel):
    """How many resources of one kind each action touches."""

    model_config = _VALUE

    create: int = 0
    update: int = 0
    deactivate: int = 0
    no_op: int = Field(default=0, description="declared resources PB already matches")


class Summary(BaseModel):
    model_config = _VALUE

    product: ActionCounts = Field(default_factory=ActionCounts)
    bom: ActionCounts = Field(default_factory=ActionCounts)
    unmanaged: int = Field(
        default=0, description="active remote resources the catalog does not declare (no prune)"
    )
    unreadable: int = Field(
        default=0, description="objects in PB reconcile could not read; left alone"
    )
    kept: dict[str, int] = Field(
        default_factory=dict,
        description="fields PB holds that reconcile does not know → how many objects carry "
        "them: never diffed, written back unchanged by every full replacement (format 1.1)",
    )

    def of(self, kind: Kind) -> ActionCounts:
        counts: ActionCounts = getattr(self, kind)
        return counts

    def total(self, action: str) -> int:
        """Sum over kinds of one ActionCounts field (``create``, ``no_op``...)."""
        return sum(int(getattr(self.of(kind), action)) for kind in KINDS)


class ExistingCounts(BaseModel):
    """How many resources of each kind PB holds for the client (the safety denominators)."""

    model_config = _VALUE

    product: int = 0
    bom: int = 0

    def of(self, kind: Kind) -> int:
        count: int = getattr(self, kind)
        return count


class Plan(BaseModel):
    """Everything ``apply`` needs, and everything a reviewer needs to trust it."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="reconcile plan")
    _fingerprint: str | None = PrivateAttr(default=None)
    SUPPORTED_MAJOR: ClassVar[str] = planfile.SUPPORTED_MAJOR

    format_version: str = Field(
        default=FORMAT_VERSION,
        description="MAJOR.MINOR; readers refuse another MAJOR, and a MINOR above their own "
        "(a minor version adds optional fields a reader must not silently drop)",
    )
    reconcile_version: str = Field(default=__version__, description="version that wrote it")
    timestamp: str = Field(description="when the plan was made, UTC, YYYY-MM-DDThh:mm:ssZ")
    environment: str
    client_id: str
    base_url: str | None = Field(
        default=None, description="the PB host the plan was made against; None when embedded"
    )
    sandbox_file: str | None = Field(
        default=None, description="the emulator's state file, for the embedded environment"
    )
    prune: bool = Field(description="undeclared remote resources are deactivated")
    targets: list[str] = Field(default_factory=list, description="--target globs")
    excludes: list[str] = Field(default_factory=list, description="--exclude globs")
    changes: list[Change] = Field(
        default_factory=list, description="create/update/deactivate only, in apply order"
    )
    summary: Summary = Field(default_factory=Summary)
    unmanaged: list[str] = Field(
        default_factory=list, description="addresses of active remote resources not declared"
    )
    unreadable: list[str] = Field(
        default_factory=list,
        description="'<address>: <reason>' per object in PB reconcile could not read; "
        "nothing is planned for them",
    )
    warnings: list[PlanWarning] = Field(default_factory=list)
    existing: ExistingCounts = Field(default_factory=ExistingCounts)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def change_for(self, address: str) -> Change | None:
        """The change of one address (a linear search: use ``by_address`` in loops)."""
        return next((c for c in self.changes if c.address == address), None)

    def by_address(self) -> dict[str, Change]:
        return {c.address: c for c in self.changes}

    def deactivated_product_skus(self) -> list[str]:
        """SKUs of products PB holds that this plan turns inactive: the ones to check
        inventory for (creating a product inactive deactivates nothing)."""
        return [c.key["sku"] for c in self.changes if c.kind == "product" and c.deactivates]

    def safety_report(self, safety: Safety) -> list[str]:
        """Every safety threshold this plan breaks, as sentences (empty when safe)."""
        return [
            violation
            for kind in KINDS
            for violation in kind_violations(kind, self.existing.of(kind), self.changes, safety)
        ]

    def raise_if_unsafe(self, safety: Safety) -> None:
        violations = self.safety_report(safety)
        if violations:
            lines = "\n".join(f"  - {v}" for v in violations)
            raise UnsafePlan(
                f"refusing an unsafe plan for environment {self.environment!r}:\n"
                f"{lines}\n{FORCE_HINT}"
            )

    def fingerprint(self) -> str:
        """sha256 (hex) of the canonical JSON of the changes: what ``apply`` would write.

        The same changes give the same fingerprint, whenever and wherever the plan was
        made; renderers show its first ``FINGERPRINT_SHOWN`` characters so that a person
        can match the file being applied to the one reviewed.
        """
        if self._fingerprint is None:
            # Cached: the text header, the markdown summary and the summary JSON all show
            # it, and hashing a 14,000-change plan takes about 0.4 s.
            changes = [change.model_dump(mode="json") for change in self.changes]
            self._fingerprint = hashlib.sha256(canonical_json(changes).encode()).hexdigest()
        return self._fingerprint

    def short_fingerprint(self) -> str:
        return self.fingerprint()[:FINGERPRINT_SHOWN]

    def to_json(self) -> str:
        return planfile.to_json(self)

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "plan file") -> Plan:
        """Read a saved plan; anything else is a ``PlanFileError`` naming ``source``.

        Beyond the schema, every change must be consistent with itself and the plan
        (``reconcile.plan.consistency``): a file edited after review, damaged, or made for
        another client is refused here, before anything is written.
        """
        plan = planfile.parse(cls, text, source)
        planfile.check_consistent(plan.changes, plan.client_id, source)
        return plan

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of the plan file (``schemas/plan.schema.json``)."""
        return planfile.json_schema(cls)

    @staticmethod
    def summary_json_schema() -> dict[str, Any]:
        """The JSON Schema of ``plan --summary-json`` (``schemas/plan-summary.schema.json``)."""
        return planfile.summary_json_schema(KINDS, list(ActionCounts.model_fields))


def select_changes(plan: Plan, addresses: Iterable[str]) -> list[Change]:
    """The plan's changes for these addresses, in plan order; an unknown one is an error."""
    wanted = set(addresses)
    unknown = wanted - {c.address for c in plan.changes}
    if unknown:
        raise PlanFileError(f"not in the plan: {', '.join(sorted(unknown))}")
    return [c for c in plan.changes if c.address in wanted]


class Selector:
    """``--target``/``--exclude`` globs, matched against the address and the bare SKU.

    With targets, only resources matching one of them are planned; excludes then remove
    matches. ``KIT-1`` therefore selects both ``product.KIT-1`` and every ``bom.KIT-1@…``.
    """

    def __init__(self, targets: Sequence[str] = (), excludes: Sequence[str] = ()) -> None:
        self.targets = tuple(targets)
        self.excludes = tuple(excludes)

    def __call__(self, address: str, sku: str) -> bool:
        if self.targets and not self._any(self.targets, address, sku):
            return False
        return not self._any(self.excludes, address, sku)

    @staticmethod
    def _any(globs: Sequence[str], address: str, sku: str) -> bool:
        return any(fnmatchcase(address, g) or fnmatchcase(sku, g) for g in globs)
