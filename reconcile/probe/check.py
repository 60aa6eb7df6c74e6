"""One probe check's outcome, and the facts earlier checks hand to later ones."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from reconcile.errors import EXIT_OK, EXIT_REMOTE

Status = Literal["passed", "failed", "unknown"]
Json = dict[str, Any]


@dataclass(frozen=True)
class Check:
    """``passed``, ``failed`` (what PB answered, what it means, what to change) or
    ``unknown`` (cannot be decided on this account, and why)."""

    name: str
    status: Status
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


#: What one check found: its status and the detail line (the runner adds its name).
Verdict = tuple[Status, str]


def passed(detail: str) -> Verdict:
    return "passed", detail


def failed(detail: str) -> Verdict:
    return "failed", detail


def unknown(detail: str) -> Verdict:
    return "unknown", detail


#: The JSON Schema of ``probe --format json`` (``schemas/probe.schema.json``).
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:reconcile:schema:probe:1",
    "title": "reconcile probe",
    "type": "object",
    "additionalProperties": False,
    "required": ["format_version", "checks"],
    "properties": {
        "format_version": {"const": 1},
        "checks": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "status", "detail"],
                "properties": {
                    "name": {"type": "string"},
                    "status": {"enum": ["passed", "failed", "unknown"]},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}


def exit_code(checks: list[Check]) -> int:
    """0 when no check failed, 4 when one did."""
    return EXIT_REMOTE if any(c.status == "failed" for c in checks) else EXIT_OK


@dataclass
class Facts:
    """What the checks so far learnt about the account, for the checks after them."""

    #: The search answers carry a results list reconcile recognises.
    results_readable: bool = False
    #: Two walks of one search gave the same order.
    stable_order: bool = False
    #: The number of the first page, as the paging check found it (None: undecided).
    first_page: int | None = None
    products: list[Json] = field(default_factory=list)
    #: BOMs of a plain search, and of one with includeInactive.
    boms_plain: list[Json] = field(default_factory=list)
    boms_all: list[Json] = field(default_factory=list)
    #: Both, each once.
    boms: list[Json] = field(default_factory=list)


def shown(value: Any, limit: int = 60) -> str:
    """A JSON value in a detail line, cut short."""
    text = json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def keys_of(obj: Any) -> str:
    if not isinstance(obj, dict):
        return f"not an object: {shown(obj, 30)}"
    return ", ".join(sorted(str(k) for k in obj)[:10]) or "none"
