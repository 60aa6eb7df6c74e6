"""Reading one YAML file safely and fast, and locating problems in it.

Every file goes through :func:`read_source`: size limit, UTF-8, printable characters,
then one pass over the C parser's events that builds the data and refuses anchors,
aliases, tags, dates and deep nesting (:mod:`reconcile.desired.events`). The data
carries no positions, so a file that turns out to have problems is composed again (C
parser, nodes with marks) to turn a pydantic ``loc`` into ``line:col``. A clean file
never pays for that.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconcile.desired.events import EventProblem, Yaml12Resolver, build
from reconcile.desired.messages import yaml_key
from reconcile.errors import Problem

Loc = tuple[str | int, ...]

#: YAML's printable set (YAML 1.2 §5.1); anything else is refused before parsing.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_QUOTE_HINT = "quote it to keep it as written"


def display_path(path: Path) -> str:
    """The path as users should read it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _safe_yaml() -> YAML:
    """ruamel's C-accelerated safe loader, used here only to compose nodes with marks."""
    yaml = YAML(typ="safe")
    yaml.Resolver = Yaml12Resolver
    return yaml


@dataclass
class SourceFile:
    """One YAML file: its text, the plain data the safe loader built, and its problems."""

    path: Path
    display: str
    text: str = ""
    data: Any = None
    problems: list[Problem] = field(default_factory=list)
    #: True when the file could not be turned into data at all (its problems say why).
    unreadable: bool = False
    #: Nested beyond the limit: never composed (a recursive composer could crash on it).
    too_deep: bool = False
    _root: Node | None = field(default=None, repr=False)

    def problem(self, line: int, col: int, message: str, severity: str = "error") -> Problem:
        found = Problem(self.display, line, col, message, severity)
        self.problems.append(found)
        return found

    def at(
        self, loc: Loc, message: str, *, at_key: bool = False, severity: str = "error"
    ) -> Problem:
        """Record a problem at the value (or the key) that ``loc`` names in this file."""
        line, col = self.position(loc, at_key=at_key)
        return self.problem(line, col, message, severity)

    def position(self, loc: Loc, *, at_key: bool = False) -> tuple[int, int]:
        """1-based (line, col) of ``loc``; the nearest enclosing node when it is absent."""
        root = self._nodes()
        if root is None:
            return 1, 1
        return locate(root, loc, at_key=at_key)

    def _nodes(self) -> Node | None:
        if self._root is None and self.text and not self.too_deep:
            try:
                self._root = _safe_yaml().compose(self.text)
            except YAMLError:
                return None
        return self._root


def locate(root: Node, loc: Sequence[str | int], *, at_key: bool = False) -> tuple[int, int]:
    """Follow a pydantic-style ``loc`` through composed nodes to a 1-based position."""
    node, mark = root, root.start_mark
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, MappingNode):
            pair = _find_key(node, part)
            if pair is None:  # the missing key itself: stay on the enclosing mapping
                break
            key, node = pair
            mark = key.start_mark if (last and at_key) else node.start_mark
        elif isinstance(node, SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    return mark.line + 1, mark.column + 1


def _find_key(mapping: MappingNode, part: str | int) -> tuple[Node, Node] | None:
    wanted = str(part)
    for key, value in mapping.value:
        if isinstance(key, ScalarNode) and key.value == wanted:
            return key, value
    return None


EMPTY_CATALOG_FILE = "file is empty; delete it, or declare `products:` and/or `boms:` lists"


def read_source(
    path: Path, *, max_bytes: int, max_depth: int, empty: str = EMPTY_CATALOG_FILE
) -> SourceFile:
    """Read and parse one file; never raises for bad content, records problems instead.

    ``empty`` is the message for a file holding nothing but whitespace.
    """
    source = SourceFile(path=path, display=display_path(path))
    text = _read_text(source, max_bytes, empty)
    if text is None:
        source.unreadable = True
        return source
    source.text = text
    if not _parse(source, max_depth):
        source.unreadable = True
    return source


def _read_text(source: SourceFile, max_bytes: int, empty: str) -> str | None:
    try:
        size = source.path.stat().st_size
        if size > max_bytes:
            source.problem(
                1,
                1,
                f"file is {size:,} bytes, over the limit of {max_bytes:,} "
                "(limits.max_file_bytes in reconcile.yaml); split it into smaller files",
            )
            return None
        raw = source.path.read_bytes()
    except OSError as e:
        source.problem(1, 1, f"cannot read file: {e.strerror or e}")
        return None
    return _decode(source, raw, empty)


def _decode(source: SourceFile, raw: bytes, empty: str) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line, col = _line_col(raw, e.start)
        source.problem(
            line,
            col,
            f"not UTF-8: byte 0x{raw[e.start]:02x} cannot be decoded; save the file as UTF-8",
        )
        return None
    text = text.removeprefix("\ufeff")
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line, col = _line_col(text, bad.start())
        source.problem(
            line, col, f"character U+{ord(bad.group()):04X} is not allowed in YAML; remove it"
        )
        return None
    if not text.strip():
        source.problem(1, 1, empty)
        return None
    return text


def _line_col(text: str | bytes, offset: int) -> tuple[int, int]:
    newline = "\n" if isinstance(text, str) else b"\n"
    before = text[:offset]
    line = before.count(newline) + 1  # type: ignore[arg-type]
    col = offset - (before.rfind(newline) + 1) + 1  # type: ignore[arg-type]
    return line, col


def _parse(source: SourceFile, max_depth: int) -> bool:
    """Fill ``source.data``; False when the file cannot be used at all."""
    try:
        built = build(source.text, max_depth)
    except MarkedYAMLError as e:
        _report_yaml_error(source, e)
        return False
    except YAMLError as e:  # reader errors carry no mark; the printable check precedes them
        source.problem(1, 1, f"YAML error: {e}")
        return False
    for found in built.problems:
        source.problem(found.line, found.col, found.message)
    if built.too_deep:
        source.too_deep = True
        return False
    if built.duplicate_keys:
        _report_duplicate_keys(source, built.duplicate_keys)
    if built.duplicate_keys or any(p.structural for p in built.problems):
        return False
    source.data = built.data
    return True


def _report_yaml_error(source: SourceFile, error: MarkedYAMLError) -> None:
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = (error.problem or "invalid YAML").strip()
    context = ""
    if error.context:
        start = error.context_mark
        started = f" started at line {start.line + 1}" if start and start is not mark else ""
        context = f" ({error.context.strip()}{started})"
    source.problem(line, col, f"YAML syntax error: {problem}{context}")


def _report_duplicate_keys(source: SourceFile, found: list[EventProblem]) -> None:
    """Report every duplicated key, naming the line of its first occurrence.

    Keys equal as values but written differently (`1` and `01`) are only seen by the
    loader; those are reported as it found them.
    """
    before = len(source.problems)
    root = source._nodes()
    for mapping in _mappings(root):
        seen: dict[str, Node] = {}
        for key, _value in mapping.value:
            if not isinstance(key, ScalarNode):
                continue
            if key.value in seen:
                first = seen[key.value].start_mark.line + 1
                source.problem(
                    key.start_mark.line + 1,
                    key.start_mark.column + 1,
                    f"duplicate key '{key.value}' (first at line {first}); keep one",
                )
            else:
                seen[key.value] = key
    if len(source.problems) == before:
        for duplicate in found:
            source.problem(duplicate.line, duplicate.col, duplicate.message)


def compose_nodes(text: str) -> Node | None:
    """The nodes of ``text`` with their marks (C parser); raises YAMLError on bad YAML."""
    node: Node | None = _safe_yaml().compose(text)
    return node


def scalar_nodes(root: Node | None) -> Iterator[ScalarNode]:
    """Every scalar node below ``root`` (keys included), without recursion."""
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            yield node
        elif isinstance(node, MappingNode):
            stack.extend(part for pair in node.value for part in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def _mappings(root: Node | None) -> Iterator[MappingNode]:
    stack = [root] if root is not None else []
    visited: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, MappingNode):
            yield node
            stack.extend(v for pair in reversed(node.value) for v in reversed(pair))
        elif isinstance(node, SequenceNode):
            stack.extend(reversed(node.value))


def check_plain_values(source: SourceFile, loc: Loc, value: Any) -> None:
    """Reject what JSON (and so PB) cannot carry: non-string keys, NaN and infinities."""
    stack: list[tuple[Loc, Any]] = [(loc, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):  # YAML keys are strings by now (events.py)
                    source.at(where, f"key {yaml_key(key)} must be a string; {_QUOTE_HINT}")
                    continue
                stack.append(((*where, key), sub))
        elif isinstance(item, list):
            stack.extend(((*where, i), sub) for i, sub in enumerate(item))
        elif isinstance(item, float) and not math.isfinite(item):
            source.at(where, f"{item} is not a valid value (JSON has no NaN or infinity)")
