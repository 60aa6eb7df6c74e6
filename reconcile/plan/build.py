"""Building a plan: compare the desired catalog with what PB holds, decide every change.

Both sides are ``ResourceSet``s of the same models. ``build_plan`` returns a ``Plan``:
the changes in apply order (``plan.order``), a summary, warnings a reviewer should read,
and the counts the safety thresholds need.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from reconcile.errors import RemoteStateError
from reconcile.models import Bom, Product, ResourceSet, comparable, digest
from reconcile.models.codec import ResourceKey, key_dict
from reconcile.models.kinds import KINDS
from reconcile.models.resources import RemoteMeta
from reconcile.plan.change import Action, Change, FieldChange, Kind, Precondition
from reconcile.plan.diff import diff_values
from reconcile.plan.duplicates import resolve_duplicates
from reconcile.plan.order import in_apply_order
from reconcile.plan.plan import ActionCounts, ExistingCounts, Plan, Selector, Summary
from reconcile.plan.warnings import plan_warnings

__all__ = ["build_plan", "dump", "utc_now"]

Resource = Product | Bom


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
    current, clean_up = resolve_duplicates(desired, current, selected)
    planner = _Planner(current.meta, prune, selected, current.unreadable)
    outcome = {k.name: planner.plan_kind(k.name, k.of(desired), k.of(current)) for k in KINDS}
    outcome["bom"].changes += clean_up
    changes = in_apply_order(outcome["product"].changes, outcome["bom"].changes)
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
            **{name: kind.counts() for name, kind in outcome.items()},
            unmanaged=sum(len(kind.unmanaged) for kind in outcome.values()),
            unreadable=len(current.unreadable),
            kept=_kept_fields(current),
        ),
        unmanaged=[a for kind in outcome.values() for a in sorted(kind.unmanaged)],
        unreadable=[f"{a}: {reason}" for a, reason in sorted(current.unreadable.items())],
        warnings=plan_warnings(desired, current, changes, planner.selected),
        existing=ExistingCounts(**{k.name: len(k.of(current)) for k in KINDS}),
    )


def _kept_fields(current: ResourceSet) -> dict[str, int]:
    """Each field PB holds that the models do not know, with how many objects carry it."""
    counts: Counter[str] = Counter(name for meta in current.meta.values() for name in meta.kept)
    return dict(sorted(counts.items()))


def _refuse_declared_unreadable(
    desired: ResourceSet, unreadable: Mapping[str, str], selected: Selector
) -> None:
    declared = [key for kind in KINDS for key in kind.of(desired)]
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
            kept=dict(meta.kept),
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
