"""The plan: what ``apply`` will do, as a versioned value.

``build_plan`` compares the desired catalog with what PB holds (both
``ResourceSet``s of the same models) and returns a ``Plan``: the changes in the order
they must be applied (see ``_order``), a summary,
warnings a reviewer should read, and the counts the safety thresholds need. A plan
serialises to versioned JSON (``format_version``), the machine contract documented in
the README and ``schemas/plan.schema.json``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from reconcile import __version__
from reconcile.errors import PlanFileError, RemoteStateError, UnsafePlan
from reconcile.models import Bom, BomKey, Product, ResourceSet, canonical_json, comparable, digest
from reconcile.models.keys import ResourceKey
from reconcile.models.resources import RemoteMeta
from reconcile.plan.change import (
    Action,
    Change,
    FieldChange,
    Kind,
    PlanWarning,
    Precondition,
    component_skus,
)
from reconcile.plan.consistency import inconsistencies
from reconcile.plan.diff import diff_values
from reconcile.plan.safety import FORCE_HINT, kind_violations
from reconcile.plan.warnings import plan_warnings, product_address
from reconcile.settings import Safety

__all__ = [
    "FORMAT_VERSION",
    "ActionCounts",
    "ExistingCounts",
    "Plan",
    "PlanWarning",
    "Selector",
    "Summary",
    "add_inventory_warnings",
    "build_plan",
    "select_changes",
]

FORMAT_VERSION = "1.0"
#: (major, minor) of ``FORMAT_VERSION``: plans of this major and at most this minor load.
_MAJOR, _MINOR = FORMAT_VERSION.split(".")
SUPPORTED = (int(_MAJOR), int(_MINOR))
#: Hex characters of ``Plan.fingerprint()`` shown to people.
FINGERPRINT_SHOWN = 12
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:reconcile:schema:plan:1"
KINDS: tuple[Kind, ...] = ("product", "bom")
WRITE_ACTIONS: tuple[Action, ...] = ("create", "update", "deactivate")

_VALUE = ConfigDict(extra="forbid", frozen=True)

Resource = Product | Bom


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

    def of(self, kind: Kind) -> ActionCounts:
        return self.product if kind == "product" else self.bom

    def total(self, action: str) -> int:
        """Sum over kinds of one ActionCounts field (``create``, ``no_op``...)."""
        return sum(int(getattr(self.of(kind), action)) for kind in KINDS)


class ExistingCounts(BaseModel):
    """How many resources of each kind PB holds for the client (the safety denominators)."""

    model_config = _VALUE

    product: int = 0
    bom: int = 0

    def of(self, kind: Kind) -> int:
        return self.product if kind == "product" else self.bom


class Plan(BaseModel):
    """Everything ``apply`` needs, and everything a reviewer needs to trust it."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="reconcile plan")
    _fingerprint: str | None = PrivateAttr(default=None)
    SUPPORTED_MAJOR: ClassVar[str] = FORMAT_VERSION.split(".", maxsplit=1)[0]

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
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, *, source: str = "plan file") -> Plan:
        """Read a saved plan; anything else is a ``PlanFileError`` naming ``source``.

        Beyond the schema, every change must be consistent with itself and the plan
        (``reconcile.plan.consistency``): a file edited after review, damaged, or made for
        another client is refused here, before anything is written.
        """
        data = _load_json_object(text, source)
        _check_format_version(data, source)
        try:
            plan = cls.model_validate(data)
        except ValidationError as e:
            raise PlanFileError(_validation_message(e, source)) from e
        problems = inconsistencies(plan.changes, plan.client_id)
        if problems:
            raise PlanFileError(_inconsistency_message(problems, source))
        return plan

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        """The JSON Schema of the plan file (``schemas/plan.schema.json``)."""
        schema = cls.model_json_schema(mode="serialization")
        return {"$schema": SCHEMA_DIALECT, "$id": SCHEMA_ID, **schema}


def _load_json_object(text: str | bytes, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PlanFileError(
            f"{source} is not JSON ({e}); write a plan with `reconcile plan --out FILE`"
        ) from e
    if not isinstance(data, dict) or "format_version" not in data or "changes" not in data:
        raise PlanFileError(
            f"{source} is not a reconcile plan (no format_version/changes); "
            "write one with `reconcile plan --out FILE`"
        )
    return data


def _check_format_version(data: dict[str, Any], source: str) -> None:
    """Read the plan formats this reconcile knows: its major version, at most its minor.

    A newer minor version may carry fields this reconcile does not know; dropping them
    would apply something other than what was reviewed, so such a plan is refused too.
    """
    version = data["format_version"]
    parsed = _version_numbers(version)
    if parsed is None:
        raise PlanFileError(
            f"{source} has plan format_version {version!r}, not MAJOR.MINOR; "
            "make the plan again with `reconcile plan --out FILE`"
        )
    if parsed[0] == SUPPORTED[0] and parsed[1] <= SUPPORTED[1]:
        return
    if parsed > SUPPORTED:
        raise PlanFileError(
            f"{source} was made by a newer reconcile (format {version}, this one reads "
            f"{FORMAT_VERSION}): upgrade reconcile or make the plan again"
        )
    raise PlanFileError(
        f"{source} has plan format_version {version!r}, but reconcile {__version__} reads "
        f"{Plan.SUPPORTED_MAJOR}.x only; make the plan again with this reconcile"
    )


def _version_numbers(version: Any) -> tuple[int, int] | None:
    """``"1.0"`` → ``(1, 0)``; None for anything but MAJOR.MINOR in decimal digits."""
    match = re.fullmatch(r"([0-9]+)\.([0-9]+)", version) if isinstance(version, str) else None
    return None if match is None else (int(match[1]), int(match[2]))


def _validation_message(error: ValidationError, source: str) -> str:
    problems = [
        f"{'.'.join(str(p) for p in problem['loc']) or '(top)'}: {problem['msg']}"
        for problem in error.errors(include_url=False, include_input=False)
    ]
    return f"{source} is not a valid reconcile plan:\n" + _listed(problems)


def _inconsistency_message(problems: Sequence[str], source: str) -> str:
    return (
        f"{source} contradicts itself (edited or damaged since it was made?); "
        f"nothing was applied:\n{_listed(problems)}\n"
        "Make the plan again with `reconcile plan --out FILE` and review that one."
    )


def _listed(problems: Sequence[str], limit: int = 5) -> str:
    lines = [f"  {problem}" for problem in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  … and {len(problems) - limit} more")
    return "\n".join(lines)


def select_changes(plan: Plan, addresses: Iterable[str]) -> list[Change]:
    """The plan's changes for these addresses, in plan order; an unknown one is an error."""
    wanted = set(addresses)
    unknown = wanted - {c.address for c in plan.changes}
    if unknown:
        raise PlanFileError(f"not in the plan: {', '.join(sorted(unknown))}")
    return [c for c in plan.changes if c.address in wanted]


# ---- building a plan -------------------------------------------------------------------


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


def build_plan(
    desired: ResourceSet,
    current: ResourceSet,
    *,
    environment: str,
    client_id: str,
    prune: bool = False,
    sandbox_file: str | None = None,
    base_url: str | None = None,
    targets: Sequence[str] = (),
    excludes: Sequence[str] = (),
    timestamp: str | None = None,
) -> Plan:
    """Compare what the catalog declares with what PB holds and decide every change.

    Objects in ``current.unreadable`` are left alone (never pruned) and listed; a catalog
    that declares one of them (after ``targets``/``excludes``) raises RemoteStateError,
    since a PUT would overwrite what reconcile could not read.
    """
    selected = Selector(targets, excludes)
    _refuse_declared_unreadable(desired, current.unreadable, selected)
    planner = _Planner(current.meta, prune, selected, current.unreadable)
    products = planner.plan_kind("product", desired.products, current.products)
    boms = planner.plan_kind("bom", desired.boms, current.boms)
    boms_after_products = _with_dependencies(boms.changes, products.changes)
    products_after_boms = _deactivations_after_boms(products.changes, boms.changes)
    changes = sorted([*products_after_boms, *boms_after_products], key=_order)
    return Plan(
        timestamp=timestamp or utc_now(),
        environment=environment,
        client_id=client_id,
        base_url=base_url,
        sandbox_file=sandbox_file,
        prune=prune,
        targets=list(targets),
        excludes=list(excludes),
        changes=changes,
        summary=Summary(
            product=products.counts(),
            bom=boms.counts(),
            unmanaged=len(products.unmanaged) + len(boms.unmanaged),
            unreadable=len(current.unreadable),
        ),
        unmanaged=sorted(products.unmanaged) + sorted(boms.unmanaged),
        unreadable=[f"{a}: {reason}" for a, reason in sorted(current.unreadable.items())],
        warnings=plan_warnings(desired, current, changes, planner.selected),
        existing=ExistingCounts(product=len(current.products), bom=len(current.boms)),
    )


def _refuse_declared_unreadable(
    desired: ResourceSet, unreadable: Mapping[str, str], selected: Selector
) -> None:
    declared: list[ResourceKey] = [*desired.products, *desired.boms]
    clashes = [
        f"  {key.address}: {unreadable[key.address]}"
        for key in declared
        if key.address in unreadable and selected(key.address, key.sku)
    ]
    if clashes:
        raise RemoteStateError(
            "the catalog declares objects PB holds in a form reconcile cannot read, so "
            "writing them would overwrite what was not read:\n"
            + "\n".join(sorted(clashes))
            + "\nFix them in PB (or leave them out with --exclude) and plan again."
        )


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _KindOutcome:
    """The changes of one kind, plus the tallies the summary needs."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.no_op = 0
        self.unmanaged: list[str] = []

    def counts(self) -> ActionCounts:
        def count(action: Action) -> int:
            return sum(1 for c in self.changes if c.action == action)

        return ActionCounts(
            create=count("create"),
            update=count("update"),
            deactivate=count("deactivate"),
            no_op=self.no_op,
        )


class _Planner:
    def __init__(
        self,
        meta: Mapping[ResourceKey, RemoteMeta],
        prune: bool,
        selected: Selector,
        unreadable: Mapping[str, str],
    ) -> None:
        self.meta = meta
        self.prune = prune
        self.selected = selected
        self.unreadable = unreadable

    def plan_kind(
        self,
        kind: Kind,
        desired: Mapping[Any, Resource],
        current: Mapping[Any, Resource],
    ) -> _KindOutcome:
        outcome = _KindOutcome()
        for key in desired.keys() | current.keys():
            if key.address not in self.unreadable and self.selected(key.address, key.sku):
                self._plan_one(kind, key, desired.get(key), current.get(key), outcome)
        return outcome

    def _plan_one(
        self,
        kind: Kind,
        key: ResourceKey,
        want: Resource | None,
        have: Resource | None,
        outcome: _KindOutcome,
    ) -> None:
        if want is None:
            if have is not None:
                self._plan_undeclared(kind, key, have, outcome)
            return
        if have is None:
            outcome.changes.append(_change(kind, key, "create", after=want))
            return
        field_changes = diff_values(comparable(have), comparable(want))
        if not field_changes:
            outcome.no_op += 1
            return
        update = self._remote_change(
            kind, key=key, action="update", have=have, after=want, field_changes=field_changes
        )
        outcome.changes.append(update)

    def _plan_undeclared(
        self, kind: Kind, key: ResourceKey, have: Resource, outcome: _KindOutcome
    ) -> None:
        if not have.active:
            return  # already deactivated: neither a change nor unmanaged
        if self.prune:
            outcome.changes.append(self._deactivate(kind, key, have))
        else:
            outcome.unmanaged.append(key.address)

    def _deactivate(self, kind: Kind, key: ResourceKey, have: Resource) -> Change:
        after = have.model_copy(update={"active": False})
        fields = [FieldChange(path="active", before=True, after=False)]
        return self._remote_change(
            kind, key=key, action="deactivate", have=have, after=after, field_changes=fields
        )

    def _remote_change(
        self,
        kind: Kind,
        *,
        key: ResourceKey,
        action: Action,
        have: Resource,
        after: Resource,
        field_changes: list[FieldChange],
    ) -> Change:
        meta = self.meta.get(key, RemoteMeta())
        return _change(
            kind,
            key,
            action,
            before=have,
            after=after,
            field_changes=field_changes,
            precondition=Precondition(pbUpdateDate=meta.pb_update_date, digest=digest(have)),
            remote_id=meta.bom_id,
        )


def _change(
    kind: Kind,
    key: ResourceKey,
    action: Action,
    *,
    after: Resource,
    before: Resource | None = None,
    **extra: Any,
) -> Change:
    return Change(
        address=key.address,
        kind=kind,
        action=action,
        key=key_dict(key),
        before=None if before is None else dump(before),
        after=dump(after),
        **extra,
    )


def dump(resource: Resource) -> dict[str, Any]:
    """A resource as it appears in a plan: JSON values, absent fields left out."""
    return resource.model_dump(mode="json", exclude_none=True)


def key_dict(key: ResourceKey) -> dict[str, str]:
    if isinstance(key, BomKey):
        return {"clientId": key.client_id, "sku": key.sku, "node": key.node}
    return {"clientId": key.client_id, "sku": key.sku}


def _order(change: Change) -> tuple[int, int, str]:
    """The apply order, in three phases, each ITEM products before KIT products and then
    by address:

    1. product creates and updates (a BOM may only name products PB holds, and a
       reactivation must land before a BOM uses the product again);
    2. every BOM write, deactivations included;
    3. product deactivations (prune, or an update to ``active: false``), so that a
       component or kit is deactivated only after the BOMs that drop it.
    """
    if change.kind == "bom":
        return 1, 0, change.address
    state = change.after or change.before or {}
    product_type = 1 if state.get("productType") == "KIT" else 0
    return (2 if change.deactivates else 0), product_type, change.address


def _with_dependencies(bom_changes: list[Change], product_changes: list[Change]) -> list[Change]:
    """A BOM create/update waits for the creates and updates of its kit and components:
    PB checks that they exist (and a reactivation must land before the BOM uses it).
    Product deactivations come after BOMs and are never a BOM's dependency."""
    writes = {c.key["sku"]: c.address for c in product_changes if not c.deactivates}
    result = []
    for change in bom_changes:
        if change.action == "deactivate" or change.after is None:
            result.append(change)
            continue
        skus = [change.key["sku"], *component_skus(change.after)]
        needs = sorted({writes[s] for s in skus if s in writes})
        result.append(change.model_copy(update={"depends_on": needs}))
    return result


def _deactivations_after_boms(
    product_changes: list[Change], bom_changes: list[Change]
) -> list[Change]:
    """A product deactivation waits for the BOM changes that stop using it (as kit or
    component): if such a BOM write fails, the product stays active and the BOM intact."""
    stopped_by: dict[str, list[str]] = {}
    for change in bom_changes:
        for sku in _skus_used(change.before) - _skus_used(change.after):
            stopped_by.setdefault(sku, []).append(change.address)
    result = []
    for change in product_changes:
        users = stopped_by.get(change.key["sku"], []) if change.deactivates else []
        result.append(change.model_copy(update={"depends_on": sorted(users)}) if users else change)
    return result


def _skus_used(bom: Mapping[str, Any] | None) -> set[str]:
    """The kit and component SKUs an active BOM (plan JSON) uses; none when inactive."""
    if bom is None or bom.get("active", True) is False:
        return set()
    return {str(bom["sku"]), *component_skus(bom)}


# ---- inventory ---------------------------------------------------------------------------


def add_inventory_warnings(plan: Plan, on_hand: Mapping[str, int]) -> Plan:
    """The plan plus a warning per product it deactivates while PB still holds stock.

    ``on_hand`` maps SKU → on-hand quantity; fetch it for
    ``plan.deactivated_product_skus()`` only.
    """
    extra = [
        PlanWarning(
            address=product_address(sku),
            message=f"deactivated while {on_hand[sku]} units are on hand",
        )
        for sku in plan.deactivated_product_skus()
        if on_hand.get(sku, 0) > 0
    ]
    if not extra:
        return plan
    warnings = sorted({*plan.warnings, *extra}, key=lambda w: (w.address, w.message))
    return plan.model_copy(update={"warnings": warnings})
