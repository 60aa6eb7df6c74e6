"""Field-level differences between two versions of one resource.

Resources are compared as plain JSON values, type-strictly (``true`` is not ``1``).
Equal values short-circuit before deepdiff is imported or called: deepdiff costs about
1.6 ms per object (research/ecosystem.md §1.3), so it only ever sees the few resources
that really differ.

Paths read like the YAML a maintainer edits: ``details.description``,
``options[0].color``, ``billOfMaterialDetails[sku=ABC].quantity``. BOM components are a
set keyed by SKU, so an added or removed component is one change
(``billOfMaterialDetails[sku=X]``) holding the whole component, never an index shuffle.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from reconcile.models.resources import KEYED_LISTS, comparable
from reconcile.plan.change import FieldChange

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

PathPart = str | int


def diff_resources(before: BaseModel | None, after: BaseModel | None) -> list[FieldChange]:
    """Every field that differs between ``before`` and ``after``, sorted by path.

    ``before`` None means a create, ``after`` None a removal; a field ``after`` lacks
    appears with ``after=None`` (the PUT clears it).
    """
    return diff_values(comparable(before), comparable(after))


def diff_values(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """The field changes between two comparable dicts; deepdiff runs only when they differ."""
    if same_json(before, after):
        return []
    whole: list[tuple[list[PathPart], Any, Any]] = []
    before, after = _split_unkeyed_lists(before, after, whole)
    before, after = _split_resized_lists(before, after, [], whole)
    changes = [
        FieldChange(path=format_path(parts), before=old, after=new)
        for parts, old, new in [*whole, *_deepdiff_levels(before, after)]
    ]
    return sorted(changes, key=lambda c: _path_sort_key(c.path))


def same_json(before: Any, after: Any) -> bool:
    """Equal as JSON values, not just as Python values: ``True == 1 == 1.0`` in Python,
    yet ``true``, ``1`` and ``1.0`` are different values to PB. ``==`` (in C) settles
    the structure; a walk then checks that every value has the same type on both sides
    (about 2 µs for a product, half the cost of comparing canonical JSON text)."""
    return before == after and _same_types(before, after)


def _same_types(before: Any, after: Any) -> bool:
    """Whether two values already known to be ``==`` have the same type at every node."""
    kind = type(before)
    if kind is not type(after):
        return False
    if kind is dict:
        for key, value in before.items():
            if not _same_types(value, after[key]):
                return False
    elif kind is list:
        for old, new in zip(before, after, strict=True):
            if not _same_types(old, new):
                return False
    return True


def _split_unkeyed_lists(
    before: dict[str, Any], after: dict[str, Any], whole: list[tuple[list[PathPart], Any, Any]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Report a keyed list that one side holds as a plain list (a key repeated, see
    ``comparable``) as one whole-list change, both sides as lists."""
    for name in KEYED_LISTS:
        old, new = before.get(name), after.get(name)
        if isinstance(old, list) != isinstance(new, list) and old is not None and new is not None:
            whole.append(([name], _as_list(old), _as_list(new)))
            before = {k: v for k, v in before.items() if k != name}
            after = {k: v for k, v in after.items() if k != name}
    return before, after


def _as_list(value: Any) -> Any:
    return list(value.values()) if isinstance(value, dict) else value


def _split_resized_lists(
    before: Any, after: Any, parts: list[PathPart], whole: list[tuple[list[PathPart], Any, Any]]
) -> tuple[Any, Any]:
    """Report a list that grew or shrank as one whole-list change.

    Index-level changes of a resized list are ambiguous (an insertion at the front reads
    as every element changing plus one added at the end) and cannot be replayed; the
    whole list before and after is what a reviewer needs. Such lists are blanked on both
    sides so deepdiff skips them.
    """
    if isinstance(before, dict) and isinstance(after, dict):
        pairs = [
            (key, *_split_resized_lists(before[key], after[key], [*parts, key], whole))
            if key in before and key in after
            else (key, before.get(key, _MISSING), after.get(key, _MISSING))
            for key in {**before, **after}
        ]
        return (
            {k: b for k, b, _ in pairs if b is not _MISSING},
            {k: a for k, _, a in pairs if a is not _MISSING},
        )
    if isinstance(before, list) and isinstance(after, list) and len(before) != len(after):
        whole.append((parts, before, after))
        return None, None
    return before, after


_MISSING = object()


def _deepdiff_levels(
    before: dict[str, Any], after: dict[str, Any]
) -> Iterator[tuple[list[PathPart], Any, Any]]:
    from deepdiff import DeepDiff
    from deepdiff.helper import notpresent

    # threshold_to_diff_deeper=0: the default (0.33) reports a whole sub-dict as one
    # change when few of its keys overlap, hiding which fields actually moved.
    tree = DeepDiff(before, after, view="tree", threshold_to_diff_deeper=0).tree
    for levels in tree.values():
        for level in levels:
            old = None if level.t1 is notpresent else level.t1
            new = None if level.t2 is notpresent else level.t2
            yield level.path(output_format="list"), old, new


def format_path(parts: list[PathPart]) -> str:
    """``['details', 'description']`` → ``details.description``;
    ``['billOfMaterialDetails', 'ABC', 'quantity']`` → ``billOfMaterialDetails[sku=ABC].quantity``.
    """
    text = ""
    for index, part in enumerate(parts):
        if isinstance(part, int):
            text += f"[{part}]"
        elif index == 1 and parts[0] in KEYED_LISTS:
            text += f"[{KEYED_LISTS[str(parts[0])]}={part}]"
        elif _IDENTIFIER.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text


def field_name(path: str) -> str:
    """The field a path belongs to, without element selectors: ``options[0].color`` →
    ``options``, ``details.description`` → ``details.description``."""
    return path.split("[", 1)[0]


_PATH_TOKEN = re.compile(r"\[(\d+)\]|[^.\[\]]+|\[[^\]]*\]")


def _path_sort_key(path: str) -> tuple[tuple[int, int, str], ...]:
    # Indices sort numerically (options[2] before options[10]); everything else as text.
    return tuple(
        (0, int(m.group(1)), "") if m.group(1) is not None else (1, 0, m.group(0))
        for m in _PATH_TOKEN.finditer(path)
    )
