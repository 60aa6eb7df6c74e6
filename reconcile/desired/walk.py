"""The catalog walk: which files make up a catalog, and the entries that stop it loading.

A catalog is read whole or not at all. A plan (and above all a prune) computed from a
catalog that silently lost a file would deactivate that file's products, so every entry
the walk cannot read for what it claims to be is a problem naming its path: a dangling
or looping symlink, a FIFO, socket or device with a catalog file's name, a file or
directory this user may not read. A symlink may point only inside the catalog directory:
one to ``/etc/passwd`` is refused, not followed. Hidden entries (``.git``,
``.reconcile``) and files without a ``.yaml``/``.yml`` suffix are not part of the
catalog and are not looked at.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from reconcile.desired.source import read_source
from reconcile.errors import CatalogError, Problem
from reconcile.settings import SETTINGS_FILE, Limits

CATALOG_SUFFIXES = (".yaml", ".yml")
CATALOG_SCHEMA = "catalog.schema.json"
#: A YAML mapping with only these keys is a catalog file (`import --force` replaces it).
CATALOG_KEYS = {"products", "boms"}
#: The editor modeline ``import`` writes on the first line of each catalog file.
MODELINE = "# yaml-language-server: $schema="


@dataclass
class CatalogWalk:
    """The catalog files found below a directory, and the entries that could not be read."""

    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def refuse(self, path: Path, message: str) -> None:
        self.problems.append(Problem(_display(path), 0, 0, message))


def walk_catalog(directory: Path) -> CatalogWalk:
    """Every ``*.yaml``/``*.yml`` below ``directory`` (except reconcile.yaml and hidden ones),
    and a problem for each entry that is not a readable regular file or directory."""
    walk = CatalogWalk()
    root = Path(os.path.realpath(directory))

    def unreadable_directory(error: OSError) -> None:
        walk.refuse(Path(error.filename or directory), _unreadable(error, "directory"))

    for here, dirs, files in os.walk(directory, onerror=unreadable_directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in list(dirs):
            if not _directory_ok(Path(here) / name, root, walk):
                dirs.remove(name)  # refused, or a link to a directory walked where it lies
        for name in sorted(files):
            path = Path(here) / name
            if name.startswith(".") or path.suffix not in CATALOG_SUFFIXES:
                continue
            if path == Path(directory) / SETTINGS_FILE:
                continue
            if _file_ok(path, root, walk):
                walk.files.append(path)
    walk.files = _each_file_once(walk.files)
    walk.problems.sort(key=lambda p: p.path)
    return walk


def catalog_files(directory: Path) -> list[Path]:
    """The catalog files below ``directory``; CatalogError (exit 3) when one cannot be read."""
    walk = walk_catalog(directory)
    if walk.problems:
        raise CatalogError(walk.problems)
    return walk.files


def existing_catalog(out_dir: Path) -> tuple[list[Path], list[Path]]:
    """The YAML files below ``out_dir`` that are catalog files (a mapping of only
    `products` and `boms`, or written by import: its schema modeline), and the others."""
    if not out_dir.is_dir():
        return [], []
    catalog: list[Path] = []
    other: list[Path] = []
    for path in catalog_files(out_dir):
        (catalog if _is_catalog_file(path) else other).append(path)
    return catalog, other


def _is_catalog_file(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            first = file.readline(4096).decode("utf-8", "replace").rstrip()
    except OSError:
        return False
    if first.startswith(MODELINE) and first.endswith(f"/{CATALOG_SCHEMA}"):
        return True
    limits = Limits()
    data = read_source(path, max_bytes=limits.max_file_bytes, max_depth=limits.max_depth).data
    return isinstance(data, dict) and bool(data) and set(data) <= CATALOG_KEYS


def _each_file_once(files: list[Path]) -> list[Path]:
    """A link to a catalog file names a file the walk already reads: read it once, by the
    name that is not a link (else the first in order)."""
    chosen: dict[str, Path] = {}
    for path in sorted(files, key=lambda p: (p.is_symlink(), p)):
        chosen.setdefault(os.path.realpath(path), path)
    return sorted(chosen.values())


def _file_ok(path: Path, root: Path, walk: CatalogWalk) -> bool:
    if path.is_symlink() and not _link_ok(path, root, walk):
        return False
    try:
        mode = path.stat().st_mode
    except OSError as error:
        walk.refuse(path, _unreadable(error, "file"))
        return False
    if not stat.S_ISREG(mode):
        walk.refuse(
            path,
            f"is a {_kind(mode)}, not a regular file: a catalog file must be a plain file "
            "(move it out of the catalog or rename it without .yaml/.yml)",
        )
        return False
    if not os.access(path, os.R_OK):
        walk.refuse(path, "cannot be read (permission denied): make it readable (chmod a+r)")
        return False
    return True


def _directory_ok(path: Path, root: Path, walk: CatalogWalk) -> bool:
    if not path.is_symlink():
        if not os.access(path, os.R_OK | os.X_OK):
            walk.refuse(path, "directory cannot be read (permission denied): make it readable")
            return False
        return True
    _link_ok(path, root, walk)
    return False  # a link inside the catalog names files the walk reads where they lie


def _link_ok(path: Path, root: Path, walk: CatalogWalk) -> bool:
    try:
        target = Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        walk.refuse(
            path,
            f"is a dangling symlink (to {os.readlink(path)!r}, which does not exist): "
            "fix or remove the link",
        )
        return False
    except (OSError, RuntimeError):
        walk.refuse(path, "is a symlink loop: fix or remove the link")
        return False
    if target != root and root not in target.parents:
        walk.refuse(
            path,
            f"is a symlink to {str(target)!r}, outside the catalog directory: refused; "
            "copy the file into the catalog instead",
        )
        return False
    return True


def _unreadable(error: OSError, what: str) -> str:
    reason = error.strerror or type(error).__name__
    return f"{what} cannot be read ({reason}): fix it or move it out of the catalog"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISDIR(mode):
        return "directory"
    return "special file"


def _display(path: Path) -> str:
    # Not Path.resolve(): the user must read the link's own name, not where it points.
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path(os.path.abspath(Path.cwd()))))
    except ValueError:
        return str(path)
