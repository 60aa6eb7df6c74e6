"""Every plan and plan summary the suite writes is checked against its committed schema
with a real validator (jsonschema), so the schemas cannot drift from the tool."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
PLAN_SCHEMA = "plan.schema.json"
PLAN_SUMMARY_SCHEMA = "plan-summary.schema.json"
#: The options of `plan` naming a file it writes, and the schema of that file.
_WRITTEN_BY_PLAN = {"--out": PLAN_SCHEMA, "--summary-json": PLAN_SUMMARY_SCHEMA}


@cache
def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_errors(name: str, document: Any) -> list[str]:
    """What the committed schema ``name`` finds wrong with ``document`` (empty: valid)."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
        for e in validator(name).iter_errors(document)
    ]


def assert_valid(name: str, document: Any, what: str) -> None:
    errors = schema_errors(name, document)
    assert not errors, f"{what} does not satisfy schemas/{name}:\n" + "\n".join(errors)


def _command(args: Sequence[str]) -> str | None:
    return next((a for a in args if not a.startswith("-")), None)


def files_written(args: Sequence[str]) -> dict[Path, str]:
    """The files a `plan` run was asked to write (``--out``, ``--summary-json``), with the
    schema of each."""
    if _command(args) != "plan":
        return {}
    found: dict[Path, str] = {}
    for i, arg in enumerate(args):
        option, _, value = arg.partition("=")
        if option in _WRITTEN_BY_PLAN:
            value = value or (args[i + 1] if i + 1 < len(args) else "")
            if value and value != "-":
                found[Path(value)] = _WRITTEN_BY_PLAN[option]
    return found


def stamps(paths: Sequence[Path]) -> dict[Path, int | None]:
    return {p: p.stat().st_mtime_ns if p.is_file() else None for p in paths}


def check_outputs(
    args: Sequence[str], before: dict[Path, int | None], code: int, stdout: str
) -> None:
    """Validate what this `plan` run wrote: each file it (re)wrote, and its stdout under
    ``--format json`` when it succeeded."""
    written = files_written(args)
    for path, stamp in stamps(list(written)).items():
        if stamp is not None and stamp != before.get(path):
            assert_valid(written[path], json.loads(path.read_bytes()), str(path))
    joined = " ".join(args)
    if _command(args) == "plan" and "--format json" in joined and code in (0, 2):
        assert_valid(PLAN_SCHEMA, json.loads(stdout), "plan --format json")
