"""Files the user names for output (--out, --summary-json): refused before anything runs
when writing them would destroy something, then written atomically."""

from __future__ import annotations

import json
import os
import pathlib
import tempfile

from reconcile.errors import UsageError

#: Never written by --out/--summary-json, existing or not: the catalog would load them.
CATALOG_SUFFIXES = (".yaml", ".yml")


def check_output_paths(out_file: pathlib.Path | None, summary: pathlib.Path | None) -> None:
    """Refuse (64), before planning, output paths that would destroy something: the plan
    and the summary on one file, a YAML name, or an existing file reconcile did not write
    (anything but a JSON object with a ``format_version``, as plans and summaries are)."""
    named = [(p, option) for p, option in ((out_file, "--out"), (summary, "--summary-json")) if p]
    if len(named) == 2 and named[0][0].resolve() == named[1][0].resolve():
        raise UsageError(
            f"--out and --summary-json both name {named[0][0]}: the summary would replace "
            "the plan. Give them different files"
        )
    for path, option in named:
        if path.suffix.lower() in CATALOG_SUFFIXES:
            raise UsageError(
                f"{option} {path}: refusing to write JSON to a {path.suffix} file (the "
                "catalog would read it); name it .json"
            )
        if path.is_file() and not _written_by_reconcile(path):
            raise UsageError(
                f"{option} {path}: the file exists and is not a reconcile plan or summary; "
                "refusing to overwrite it. Remove it or choose another path"
            )


def _written_by_reconcile(path: pathlib.Path) -> bool:
    """A JSON object with a ``format_version``: a plan or summary this tool wrote."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "format_version" in data


def write_output(path: pathlib.Path, text: str, what: str) -> None:
    """Write a file the user named; failing to is a usage error (64) naming it."""
    try:
        _write_atomically(path, text)
    except OSError as e:
        raise UsageError(f"cannot write {what} to {path}: {e.strerror or e}") from e


def _write_atomically(path: pathlib.Path, text: str) -> None:
    """Write via a temporary file and a rename: a reader never sees half a plan."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temp, path)
    except BaseException:
        pathlib.Path(temp).unlink(missing_ok=True)
        raise
