"""Reading one YAML file safely and fast, and locating problems in it.

Every file goes through :func:`read_source`: size limit, UTF-8, printable characters,
then (only when the text could hold them) a scan of the parser's events for anchors,
aliases, tags and excessive nesting, then ruamel's C-accelerated safe loader. The
loader gives no positions for the data it returns, so a file that turns out to have
problems is composed again (C parser, nodes with marks) to turn a pydantic ``loc`` into
``line:col``. A clean file never pays for that.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    NodeEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconcile.errors import Problem

Loc = tuple[str | int, ...]

CORE_TAG = "tag:yaml.org,2002:"
#: Explicit tags that only restate what a plain value already is (`!!str 012` is useful).
ALLOWED_TAGS = frozenset(
    CORE_TAG + t for t in ("str", "int", "float", "bool", "null", "map", "seq")
)
#: YAML's printable set (YAML 1.2 §5.1); anything else is refused before parsing.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
#: Cheap guards: a file can only hold an anchor or a tag if one of these matches.
_MAYBE_ANCHOR_OR_TAG = re.compile(r"[&!][^\s,\[\]{}]")
_QUOTE_HINT = "quote it to keep it as written"


def display_path(path: Path) -> str:
    """The path as users should read it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class _CatalogConstructor(SafeConstructor):
    """The safe constructor, except that implicit dates stay strings and are reported."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.date_nodes: list[Node] = []

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        self.date_nodes.append(node)
        return node.value


_CatalogConstructor.add_constructor(
    CORE_TAG + "timestamp", _CatalogConstructor.construct_yaml_timestamp
)


def _safe_yaml() -> YAML:
    yaml = YAML(typ="safe")
    yaml.Constructor = _CatalogConstructor
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
        if self._root is None and self.text:
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


def read_source(path: Path, *, max_bytes: int, max_depth: int) -> SourceFile:
    """Read and parse one file; never raises for bad content, records problems instead."""
    source = SourceFile(path=path, display=display_path(path))
    text = _read_text(source, max_bytes)
    if text is None:
        source.unreadable = True
        return source
    source.text = text
    if not _parse(source, max_depth):
        source.unreadable = True
    return source


def _read_text(source: SourceFile, max_bytes: int) -> str | None:
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
    return _decode(source, raw)


def _decode(source: SourceFile, raw: bytes) -> str | None:
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
        source.problem(
            1, 1, "file is empty; delete it, or declare `products:` and/or `boms:` lists"
        )
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
    text = source.text
    if _needs_event_scan(text, max_depth) and not _scan_events(source, max_depth):
        return False
    yaml = _safe_yaml()
    try:
        constructor, parser = yaml.get_constructor_parser(text)
        try:
            source.data = constructor.get_single_data()
        finally:
            parser.dispose()
    except MarkedYAMLError as e:
        if type(e).__name__ == "DuplicateKeyError":
            _report_duplicate_keys(source)
        else:
            _report_yaml_error(source, e)
        return False
    except YAMLError as e:  # reader errors carry no mark; the printable check precedes them
        source.problem(1, 1, f"YAML error: {e}")
        return False
    for node in constructor.date_nodes:
        source.problem(
            node.start_mark.line + 1,
            node.start_mark.column + 1,
            f"{node.value!r} reads as a date, not a string; {_QUOTE_HINT}: '{node.value}'",
        )
    return True


def _needs_event_scan(text: str, max_depth: int) -> bool:
    """True unless the text provably has no anchor, alias or tag and is shallow enough."""
    if _MAYBE_ANCHOR_OR_TAG.search(text):
        return True
    openers = text.count("[") + text.count("{")
    empties = text.count("[]") + text.count("{}")
    longest = max(map(len, text.split("\n")))
    # Block nesting needs a deeper column at least every second level; each non-empty
    # flow opener adds at most one level, and empty ones at most one along any path.
    bound = 2 * longest + 2 + (openers - empties) + (1 if empties else 0)
    return bound > max_depth


def _scan_events(source: SourceFile, max_depth: int) -> bool:
    """Report anchors, aliases, tags and deep nesting with their positions."""
    depth = 0
    try:
        for event in _safe_yaml().parse(source.text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > max_depth:
                    _event_problem(
                        source, event, f"nested deeper than {max_depth} levels; flatten it"
                    )
                    return False
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
            if isinstance(event, NodeEvent):
                _check_node_event(source, event)
    except MarkedYAMLError as e:
        _report_yaml_error(source, e)
        return False
    return not source.problems


def _check_node_event(source: SourceFile, event: Any) -> None:
    if isinstance(event, AliasEvent):
        _event_problem(
            source,
            event,
            f"alias *{event.anchor}: anchors and aliases are not allowed "
            "in catalog files; write the value out (shared settings go in reconcile.yaml)",
        )
        return
    if event.anchor:
        _event_problem(
            source,
            event,
            f"anchor &{event.anchor}: anchors and aliases are not allowed "
            "in catalog files; write the value out (shared settings go in reconcile.yaml)",
        )
    tag = getattr(event, "tag", None)
    if tag and tag not in ALLOWED_TAGS:
        _event_problem(source, event, _tag_message(tag))


def _tag_message(tag: str) -> str:
    short = "!!" + tag.removeprefix(CORE_TAG) if tag.startswith(CORE_TAG) else tag
    if short.startswith("!!python/"):
        return f"tag {short} is refused: catalog files hold data, never Python objects"
    if tag.startswith(CORE_TAG):
        return (
            f"tag {short} is not allowed: values are strings, numbers, booleans, "
            "lists and mappings; remove the tag"
        )
    return f"unknown tag {short}: remove it (catalog files use plain YAML values)"


def _event_problem(source: SourceFile, event: Any, message: str) -> None:
    source.problem(event.start_mark.line + 1, event.start_mark.column + 1, message)


def _report_yaml_error(source: SourceFile, error: MarkedYAMLError) -> None:
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = (error.problem or "invalid YAML").strip()
    context = ""
    if "found another document" in problem:
        problem = "a second YAML document ('---'): a file holds exactly one"
    elif error.context:
        start = error.context_mark
        started = f" started at line {start.line + 1}" if start and start is not mark else ""
        context = f" ({error.context.strip()}{started})"
    source.problem(line, col, f"YAML syntax error: {problem}{context}")


def _report_duplicate_keys(source: SourceFile) -> None:
    """Report every duplicated key of the file, not only the first the loader met."""
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
                if not isinstance(key, str):
                    source.at(where, f"key {key!r} must be a string; {_QUOTE_HINT}")
                    continue
                stack.append(((*where, key), sub))
        elif isinstance(item, list):
            stack.extend(((*where, i), sub) for i, sub in enumerate(item))
        elif isinstance(item, float) and not math.isfinite(item):
            source.at(where, f"{item} is not a valid value (JSON has no NaN or infinity)")
