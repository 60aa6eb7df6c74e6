"""The plan file: versioned JSON (``format_version``), its JSON Schema, and reading it back.

The machine contract documented in the README and ``schemas/plan.schema.json``. Reading
refuses, with a ``PlanFileError`` naming the file, anything but a plan this reconcile can
apply as it was reviewed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from reconcile import __version__
from reconcile.errors import PlanFileError
from reconcile.plan.change import Change
from reconcile.plan.consistency import inconsistencies

FORMAT_VERSION = "1.1"
#: (major, minor) of ``FORMAT_VERSION``: plans of this major and at most this minor load.
_MAJOR, _MINOR = FORMAT_VERSION.split(".")
SUPPORTED = (int(_MAJOR), int(_MINOR))
SUPPORTED_MAJOR = FORMAT_VERSION.split(".", maxsplit=1)[0]
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:reconcile:schema:plan:1"
SUMMARY_SCHEMA_ID = "urn:reconcile:schema:plan-summary:1"
#: What the reader needs before anything else: without them a file is not a plan at all.
READER_REQUIRED = ("format_version", "changes")
#: Actions a Change may carry in memory that a saved plan never holds (plans list writes).
NOT_IN_PLANS = ("no-op",)

PlanModel = TypeVar("PlanModel", bound=BaseModel)


def to_json(plan: BaseModel) -> str:
    return plan.model_dump_json(indent=2) + "\n"


def parse(model: type[PlanModel], text: str | bytes, source: str) -> PlanModel:
    """A saved plan as ``model``, if it is JSON of a format version this reconcile reads
    and valid against the schema; anything else is a ``PlanFileError`` naming ``source``."""
    data = _load_json_object(text, source)
    _check_format_version(data, source)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise PlanFileError(_validation_message(e, source)) from e


def check_consistent(changes: Sequence[Change], client_id: str, source: str) -> None:
    """Refuse a plan whose changes contradict themselves or the plan's client."""
    problems = inconsistencies(changes, client_id)
    if problems:
        raise PlanFileError(_inconsistency_message(problems, source))


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of the plan file (``schemas/plan.schema.json``), as strict as the
    reader: the fields it requires, the format versions it reads, the actions it applies."""
    schema = model.model_json_schema(mode="validation")
    schema["required"] = [*READER_REQUIRED, *schema.get("required", [])]
    schema["properties"]["format_version"]["pattern"] = format_version_pattern()
    action = schema["$defs"]["Change"]["properties"]["action"]
    action["enum"] = [a for a in action["enum"] if a not in NOT_IN_PLANS]
    return {"$schema": SCHEMA_DIALECT, "$id": SCHEMA_ID, **schema}


def format_version_pattern(supported: tuple[int, int] = SUPPORTED) -> str:
    """The ``format_version`` values ``_check_format_version`` accepts, as a regex:
    this major, a minor up to this one (leading zeros read as numbers, as the reader does)."""
    minors = "|".join(str(minor) for minor in range(supported[1] + 1))
    return f"^0*{supported[0]}\\.0*({minors})$"


def summary_json_schema(kinds: Sequence[str], actions: Sequence[str]) -> dict[str, Any]:
    """The JSON Schema of ``plan --summary-json`` (``schemas/plan-summary.schema.json``);
    ``actions`` are the count fields of each kind (``ActionCounts``)."""
    count = {"type": "integer", "minimum": 0}
    counts = _closed(dict.fromkeys(actions, count))
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SUMMARY_SCHEMA_ID,
        "title": "reconcile plan summary",
        "description": "What `reconcile plan --summary-json FILE` writes: the counts a "
        "pipeline branches on, and the safety verdict.",
        **_closed(
            {
                "format_version": {"type": "string", "pattern": format_version_pattern()},
                "environment": {"type": "string"},
                "client_id": {"type": "string"},
                "has_changes": {"type": "boolean"},
                "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "counts": _closed(dict.fromkeys(kinds, counts)),
                "totals": counts,
                "unmanaged": count,
                "unreadable": count,
                "warnings": count,
                "unsafe": {"type": "boolean"},
                "unsafe_reasons": {"type": "array", "items": {"type": "string"}},
            }
        ),
    }


def _closed(properties: dict[str, Any]) -> dict[str, Any]:
    """An object with exactly these properties, every one required."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _load_json_object(text: str | bytes, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise PlanFileError(
            f"{source} is not JSON ({e}); write a plan with `reconcile plan --out FILE`"
        ) from e
    if not isinstance(data, dict) or any(field not in data for field in READER_REQUIRED):
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
        f"{SUPPORTED_MAJOR}.x only; make the plan again with this reconcile"
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
