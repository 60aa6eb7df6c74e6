"""`reconcile fmt`: canonical key order and indentation, keeping every comment.

ruamel attaches a comment to the key *before* it, so reordering a mapping in memory
would move comments to the wrong keys. Block mappings are therefore reordered as text:
each key owns its lines (the full-line comments just above it that are not indented
deeper than it, its own line, and its value's lines), and those spans are permuted.
Only then does the round-trip loader re-indent the whole file. A file already in
canonical form comes out byte for byte the same.
"""

from __future__ import annotations

import bisect
import difflib
import io
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from reconcile.desired.catalog import SECTIONS
from reconcile.desired.layout import ORDERS, canonical_order, round_trip_yaml
from reconcile.desired.messages import type_name, yaml_key
from reconcile.desired.source import compose_nodes, display_path, read_source, scalar_nodes
from reconcile.desired.walk import catalog_files
from reconcile.desired.writer import emit
from reconcile.errors import Problem, UsageError
from reconcile.settings import SETTINGS_FILE, Limits


@dataclass(frozen=True)
class _Edit:
    """Permute the line spans of one block mapping's keys (0-based, end exclusive)."""

    spans: list[tuple[int, int]]  # in the original key order
    order: list[int]  # span indexes in the wanted order
    key_offsets: list[int]  # where each span's key line is, relative to its start
    prefix: str  # "  - " when the first key shares its line with a sequence dash
    col: int

    @property
    def start(self) -> int:
        return self.spans[0][0]

    def apply(self, lines: list[str]) -> None:
        """Rewrite ``lines`` in place; nested edits applied before keep the spans valid."""
        chunks = [lines[first:last] for first, last in self.spans]
        if self.prefix:
            chunks[0][0] = " " * self.col + chunks[0][0][self.col :]
            new_first = chunks[self.order[0]]
            offset = self.key_offsets[self.order[0]]
            new_first[offset] = self.prefix + new_first[offset][self.col :]
        lines[self.spans[0][0] : self.spans[-1][1]] = [
            line for index in self.order for line in chunks[index]
        ]


@dataclass
class FormatResult:
    """What fmt did (or would do): files changed, their diffs, files it could not read."""

    changed: list[Path] = field(default_factory=list)
    diffs: dict[Path, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def format_text(text: str, *, reorder: bool = True) -> str:
    """The canonical form of one YAML document; raises ruamel's YAMLError on bad YAML."""
    text = _untab(text)
    yaml = round_trip_yaml()
    data = yaml.load(text)
    if data is None:  # only comments: nothing to lay out
        return text
    if reorder and isinstance(data, CommentedMap):
        lines = text.splitlines(keepends=True)
        edits = sorted(_block_edits(data, (), lines), key=lambda e: e.start, reverse=True)
        for edit in edits:
            edit.apply(lines)
        if edits:
            data = yaml.load("".join(lines))
        _reorder_flow_mappings(data, ())
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def catalog_root(path: Path) -> Path | None:
    """The catalog ``path`` belongs to: the nearest directory at or above it holding
    reconcile.yaml, looking no higher than the git repository's root (or ``/``)."""
    absolute = Path(os.path.abspath(path))
    here = absolute if absolute.is_dir() else absolute.parent
    for directory in (here, *here.parents):
        if (directory / SETTINGS_FILE).is_file():
            return directory
        if (directory / ".git").exists():
            return None
    return None


def _untab(text: str) -> str:
    """``text`` with its tabs in a form the round-trip scanner reads as libyaml does.

    ruamel's pure-Python scanner refuses tabs that YAML allows outside indentation: inside
    a plain scalar (``a<TAB>b``) and as separation (``key:<TAB>value``, before a comment,
    at the end of a line), which validate accepts. A plain scalar holding a tab becomes
    double-quoted (same value, the tab escaped); any other tab that is neither inside a
    scalar nor in a comment is only separation and becomes a space.
    """
    if "\t" not in text:
        return text
    scalars = list(scalar_nodes(compose_nodes(text)))
    spans = sorted((n.start_mark.index, n.end_mark.index) for n in scalars)
    edits = [
        (n.start_mark.index, n.end_mark.index, json.dumps(n.value, ensure_ascii=False))
        for n in scalars
        if n.style in (None, "") and "\t" in n.value
    ]
    starts = [start for start, _ in spans]
    for index in _all(text, "\t"):
        at = bisect.bisect_right(starts, index) - 1
        inside = at >= 0 and spans[at][0] <= index < spans[at][1]
        if not inside and not _in_comment(text, index, spans):
            edits.append((index, index + 1, " "))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _all(text: str, char: str) -> Iterator[int]:
    index = text.find(char)
    while index != -1:
        yield index
        index = text.find(char, index + 1)


def _in_comment(text: str, index: int, spans: list[tuple[int, int]]) -> bool:
    """Whether a ``#`` starting a comment precedes ``index`` on its line (outside scalars)."""
    line_start = text.rfind("\n", 0, index) + 1
    for hash_at in _all(text[line_start:index], "#"):
        at = line_start + hash_at
        if at != line_start and text[at - 1] not in " \t":
            continue
        if not any(start <= at < end for start, end in spans):
            return True
    return False


def fmt_targets(paths: Iterable[Path]) -> list[Path]:
    """The catalog files to format: for a directory of a catalog, its catalog files (and
    reconcile.yaml at the catalog's root); each named file that is a catalog file.

    Raises UsageError, before anything is read, for a path outside any catalog, a named
    file that is not ``*.yaml``/``*.yml``, or one in a hidden directory: fmt never
    rewrites a file it does not know to be part of a catalog.
    """
    targets: list[Path] = []
    for path in paths:
        root = catalog_root(path)
        if root is None:
            raise UsageError(_outside_catalog(path))
        inside = Path(os.path.abspath(path)).relative_to(root)
        if any(part.startswith(".") for part in inside.parts):
            raise UsageError(f"{path}: hidden files and directories are not part of the catalog")
        if path.is_dir():
            settings = path / SETTINGS_FILE
            targets += ([settings] if settings.is_file() else []) + catalog_files(path)
        elif path.suffix not in (".yaml", ".yml"):
            raise UsageError(f"{path}: not a catalog file; fmt formats *.yaml and *.yml files")
        elif path.is_file():  # never a FIFO or device: reading it could block
            targets.append(path)
    return targets


def _outside_catalog(path: Path) -> str:
    if path.is_dir():
        what, where = "is not a catalog directory", "in it"
    else:
        what, where = "is not part of a catalog", "beside it"
    return (
        f"{path} {what}: no {SETTINGS_FILE} {where} or in any directory above it (up to the "
        "git root); fmt only rewrites catalog files, so name the catalog directory"
    )


def format_files(paths: Sequence[Path], *, check: bool = False) -> FormatResult:
    """Format files in place (or only report, with ``check``); a bad file is a problem.

    A file is formatted only when it reads cleanly as catalog YAML (UTF-8, within the
    size and depth limits, no syntax error, duplicate key, anchor or tag): the
    round-trip loader is slow and recursive, and the problems say what to fix first.
    """
    limits = Limits()
    result = FormatResult()
    for path in fmt_targets(paths):
        source = read_source(path, max_bytes=limits.max_file_bytes, max_depth=limits.max_depth)
        if source.unreadable:
            if not _is_blank(path):
                result.problems += [_cannot_format(p) for p in source.problems]
            continue
        before = source.text
        reorder = path.name != SETTINGS_FILE
        foreign = _not_catalog_shaped(source.data, settings=not reorder)
        if foreign:
            result.problems.append(Problem(source.display, 1, 1, f"cannot format: {foreign}"))
            continue
        if _known_canonical(before, source.data, reorder=reorder):
            continue
        try:
            after = format_text(before, reorder=reorder)
        except YAMLError as e:  # the two loaders disagree: report, never crash
            result.problems.append(_unformattable(path, e))
            continue
        if after == before:
            continue
        result.changed.append(path)
        result.diffs[path] = _diff(path, before, after)
        if not check:
            path.write_text(after, encoding="utf-8")
    return result


def _not_catalog_shaped(data: Any, *, settings: bool) -> str | None:
    """Why ``data`` is not the top level of a catalog file (or of reconcile.yaml), if so."""
    if data is None:
        return None
    if settings:
        if isinstance(data, dict):
            return None
        return f"{SETTINGS_FILE} must be a mapping of settings; left alone"
    expected = "a catalog file is a mapping with `products:` and/or `boms:` lists"
    if not isinstance(data, dict):
        return f"{expected}, not a {type_name(data)}; left alone"
    foreign = [key for key in data if key not in SECTIONS]
    if foreign:
        return f"{expected}; found the key {yaml_key(foreign[0])}, so it is left alone"
    return None


def _known_canonical(text: str, data: Any, *, reorder: bool) -> bool:
    """A quick proof that ``text`` is already canonical, without the round-trip loader.

    When the file has no comment but a leading modeline, and writing its data with the
    canonical emitter (whose output fmt leaves unchanged) reproduces it exactly, there is
    nothing to do. Anything else (comments, other quoting) takes the slow path.
    """
    if not isinstance(data, dict):
        return False
    _header, body = _split_header(text)
    if "#" in body:
        return False
    return body == emit(_canonical_data(data, ()) if reorder else data)


def _split_header(text: str) -> tuple[str, str]:
    """Leading full-line comments (the modeline) and the rest."""
    lines = text.splitlines(keepends=True)
    count = 0
    while count < len(lines) and lines[count].startswith("#"):
        count += 1
    return "".join(lines[:count]), "".join(lines[count:])


def _canonical_data(node: Any, path: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        order = ORDERS.get(path)
        keys = canonical_order(list(node), order) if order is not None else list(node)
        return {k: _canonical_data(node[k], (*path, str(k))) for k in keys}
    if isinstance(node, list):
        return [_canonical_data(item, (*path, "*")) for item in node]
    return node


def _is_blank(path: Path) -> bool:
    try:
        return not path.read_bytes().strip()
    except OSError:
        return False


def _cannot_format(problem: Problem) -> Problem:
    return replace(problem, message=f"cannot format: {problem.message}")


def _unformattable(path: Path, error: YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    reason = getattr(error, "problem", None) or str(error)
    return Problem(display_path(path), line, col, f"cannot format: {reason}; fix it first")


def _diff(path: Path, before: str, after: str) -> str:
    name = display_path(path)
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), name, name
    )
    return "".join(lines)


def _order_for(path: tuple[str, ...]) -> Sequence[str] | None:
    return ORDERS.get(path)


def _children(node: Any, path: tuple[str, ...]) -> Iterator[tuple[Any, tuple[str, ...]]]:
    if isinstance(node, CommentedMap):
        for key, value in node.items():
            yield value, (*path, str(key))
    elif isinstance(node, CommentedSeq):
        for value in node:
            yield value, (*path, "*")


def _block_edits(node: Any, path: tuple[str, ...], lines: list[str]) -> Iterator[_Edit]:
    order = _order_for(path)
    if isinstance(node, CommentedMap) and order is not None and not node.fa.flow_style():
        keys = list(node.keys())
        wanted = canonical_order(keys, order)
        if wanted != keys:
            edit = _reorder_block(node, keys, wanted, lines)
            if edit is not None:
                yield edit
    for child, child_path in _children(node, path):
        yield from _block_edits(child, child_path, lines)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _reorder_block(
    mapping: CommentedMap, keys: list[Any], wanted: list[Any], lines: list[str]
) -> _Edit | None:
    positions = [mapping.lc.key(k) for k in keys]
    col = positions[0][1]
    starts = [line for line, _ in positions]
    if any(c != col for _, c in positions) or starts != sorted(set(starts)):
        return None  # not a plain block mapping (complex keys, odd layout): leave it
    spans = _spans(starts, col, lines)
    prefix = lines[starts[0]][:col]
    return _Edit(
        spans=spans,
        order=[keys.index(k) for k in wanted],
        key_offsets=[start - span[0] for start, span in zip(starts, spans, strict=True)],
        prefix=prefix if prefix.strip() else "",
        col=col,
    )


def _spans(starts: list[int], col: int, lines: list[str]) -> list[tuple[int, int]]:
    """Line ranges owned by each key: leading comments, key line, value lines."""
    begins = [starts[0]]
    for previous, start in itertools.pairwise(starts):
        begin = start
        while begin - 1 > previous and _leads(lines[begin - 1], col):
            begin -= 1
        begins.append(begin)
    ends = [*begins[1:], _mapping_end(lines, starts[-1], col)]
    return list(zip(begins, ends, strict=True))


def _leads(line: str, col: int) -> bool:
    stripped = line.strip()
    return not stripped or (stripped.startswith("#") and _indent(line) <= col)


def _mapping_end(lines: list[str], last_key: int, col: int) -> int:
    """One past the last content line of the last key's value.

    Value lines are indented deeper than the key, or are dashes of a sequence at the
    key's own column (YAML allows that); comments and blank lines in between belong to
    the value, those after its last content line stay where they are.
    """
    end = last_key + 1
    for i in range(last_key + 1, len(lines)):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = _indent(lines[i])
        if indent > col or (indent == col and (stripped == "-" or stripped.startswith("- "))):
            end = i + 1
            continue
        break
    return end


def _reorder_flow_mappings(node: Any, path: tuple[str, ...]) -> None:
    order = _order_for(path)
    if isinstance(node, CommentedMap) and order is not None and node.fa.flow_style():
        for key in canonical_order(list(node.keys()), order):
            node.move_to_end(key)
    for child, child_path in _children(node, path):
        _reorder_flow_mappings(child, child_path)
