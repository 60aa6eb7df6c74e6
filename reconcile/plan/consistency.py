"""Is a saved plan consistent with itself? Checked when a plan file is read.

A reviewer reads a plan through ``show`` (field changes, addresses), while ``apply``
writes each change's ``after``. A plan file edited by hand, damaged, or made for another
client could make the two disagree, or crash halfway through an apply. Every change is
therefore re-derived from its own whole objects before anything is written: its address
and key name the same resource as ``before``/``after``, both parse as the resource kind,
the action fits them, the field changes are exactly their diff, and the precondition
digest is that of ``before``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import ValidationError

from reconcile.models import Bom, Product, canonical_json, digest
from reconcile.models.codec import duplicate_address, key_dict
from reconcile.models.kinds import resource_kind
from reconcile.plan.change import Change, parse_resource
from reconcile.plan.diff import diff_resources

Resource = Product | Bom


def inconsistencies(changes: Sequence[Change], client_id: str) -> list[str]:
    """Every way the changes contradict themselves or the plan, as ``address: problem``."""
    found = [f"{c.address}: {problem}" for c in changes for problem in _change_problems(c)]
    found += [f"{c.address}: {p}" for c in changes for p in _client_problems(c, client_id)]
    found += _plan_level_problems(changes)
    return found


def _change_problems(change: Change) -> list[str]:
    expected_fields = resource_kind(change.kind).key_fields
    if sorted(change.key) != sorted(expected_fields):
        return [f"key must hold exactly {', '.join(expected_fields)}, not {sorted(change.key)}"]
    problems = []
    if change.address not in _addresses(change):
        problems.append(f"address does not match key {canonical_json(change.key)}")
    sides, parse_problems = _parsed(change)
    if parse_problems:
        return problems + parse_problems
    before, after = sides
    problems += _key_problems(change, before, after)
    action_problems = list(_action_problems(change, before, after))
    if action_problems:
        return problems + action_problems
    return problems + list(_derived_problems(change, before, after))


def _parsed(change: Change) -> tuple[tuple[Resource | None, Resource | None], list[str]]:
    """``before`` and ``after`` as models (None when absent), or why they do not parse."""
    models: list[Resource | None] = []
    problems = []
    for name, data in (("before", change.before), ("after", change.after)):
        try:
            models.append(None if data is None else parse_resource(change.kind, data))
        except ValidationError as e:
            first = e.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top)"
            problems.append(f"{name} is not a valid {change.kind}: {where}: {first['msg']}")
            models.append(None)
    return (models[0], models[1]), problems


def _addresses(change: Change) -> tuple[str, ...]:
    """The address a change may carry: its key's, or for the deactivation of a duplicate
    BOM (``plan.duplicates``) its key's with the BOM's id."""
    own = resource_kind(change.kind).key_from_dict(change.key).address
    if change.action == "deactivate" and change.remote_id is not None:
        return own, duplicate_address(own, change.remote_id)
    return (own,)


def _key_of(model: Resource) -> dict[str, str]:
    return key_dict(model.key)


def _key_problems(change: Change, before: Resource | None, after: Resource | None) -> list[str]:
    return [
        f"{name} is {canonical_json(_key_of(model))}, not the change's key"
        for name, model in (("before", before), ("after", after))
        if model is not None and _key_of(model) != change.key
    ]


def _action_problems(
    change: Change, before: Resource | None, after: Resource | None
) -> Iterator[str]:
    if change.action == "no-op":
        yield "a no-op is not a change; plans list writes only"
        return
    if after is None:
        yield f"a {change.action} needs an after state"
    has_id = resource_kind(change.kind).remote_id
    if change.remote_id is not None and (not has_id or change.action == "create"):
        yield "only a write to an existing BOM has a remote_id"
    if change.action == "create":
        if before is not None or change.precondition is not None:
            yield "a create has no before state and no precondition"
        return
    if before is None or change.precondition is None:
        yield f"an {change.action} needs a before state and a precondition"
    if change.action == "deactivate" and before is not None and after is not None:
        inactive = {**_json(before), "active": False}
        if not before.active or canonical_json(_json(after)) != canonical_json(inactive):
            yield "a deactivate must change nothing but active: true → false"


def _derived_problems(
    change: Change, before: Resource | None, after: Resource | None
) -> Iterator[str]:
    """The parts of a change computed from its whole objects must be what they give."""
    derived = diff_resources(before, after) if change.action != "create" else []
    if _as_json(derived) != _as_json(change.field_changes):
        yield "field_changes are not the difference between before and after"
    if change.action == "update" and not derived:
        yield "an update whose before and after are equal"
    precondition = change.precondition
    if precondition is not None and before is not None and precondition.digest != digest(before):
        yield "precondition.digest is not the digest of before"


def _json(model: Resource) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True)


def _as_json(values: Sequence[Any]) -> str:
    return canonical_json([v.model_dump(mode="json") for v in values])


def _client_problems(change: Change, client_id: str) -> Iterator[str]:
    if change.key.get("clientId", client_id) != client_id:
        yield f"clientId {change.key['clientId']!r} is not the plan's client {client_id!r}"


def _plan_level_problems(changes: Sequence[Change]) -> list[str]:
    seen: set[str] = set()
    found = []
    for change in changes:
        if change.address in seen:
            found.append(f"{change.address}: appears twice")
        seen.add(change.address)
    for change in changes:
        found += [
            f"{change.address}: depends on {d}, which is not in the plan"
            for d in change.depends_on
            if d not in seen
        ]
    return found
