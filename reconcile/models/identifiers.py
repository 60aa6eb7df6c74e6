"""Identifiers a reviewer can trust: characters that read as something they are not.

A SKU with a zero-width space, a Cyrillic A (U+0410) among Latin letters, a fullwidth
B (U+FF22) or a decomposed E-acute (E + U+0301) looks the same in a plan as its honest
twin, yet PB stores it as another SKU. The models refuse control characters and bidi
overrides outright (see ``keys``); these are legal in PB, so ``validate`` warns about
them (with the character and its position) and plans print them escaped. Pure functions, no I/O.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

#: Letters of these scripts pass for Latin ones (Cyrillic A, E, O, P, C; Greek A, E ...).
_CONFUSABLE_SCRIPTS = ("CYRILLIC", "GREEK")


@dataclass(frozen=True)
class Suspect:
    """One character a reviewer could misread, at its 1-based position."""

    position: int
    char: str
    why: str

    @property
    def code(self) -> str:
        return f"U+{ord(self.char):04X}"

    @property
    def name(self) -> str:
        return unicodedata.name(self.char, "unnamed character")

    def describe(self) -> str:
        return f"{self.code} {self.name} at position {self.position} ({self.why})"


def suspects(text: str) -> list[Suspect]:
    """The characters of ``text`` that a reviewer could not read for what they are."""
    if text.isascii():
        return []  # the common case, and none of the rules can apply
    found: dict[int, Suspect] = {}
    for index, char in enumerate(text):
        if _invisible(char):
            found[index] = Suspect(index + 1, char, "invisible")
    for index in _changed_by_nfkc(text):
        found.setdefault(
            index, Suspect(index + 1, text[index], "changes under Unicode NFKC normalisation")
        )
    for index in _other_script(text):
        found.setdefault(index, Suspect(index + 1, text[index], "mixes scripts with Latin"))
    return [found[i] for i in sorted(found)]


def escaped(text: str) -> str:
    """``text`` with each suspect character written as ``\\uXXXX`` (for plans and reports)."""
    marks = {s.position - 1 for s in suspects(text)}
    if not marks:
        return text
    return "".join(_escape(c) if i in marks else c for i, c in enumerate(text))


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _invisible(char: str) -> bool:
    category = unicodedata.category(char)
    # Cf: zero-width space/joiners, soft hyphen, word joiner, BOM; Zs other than the
    # plain space: no-break and other spaces that look like one.
    return category == "Cf" or (category == "Zs" and char != " ")


def _changed_by_nfkc(text: str) -> list[int]:
    """Indexes where NFKC normalisation rewrites the text (fullwidth forms, decomposed
    accents, ligatures): the first character whose prefix changes is the culprit."""
    if unicodedata.is_normalized("NFKC", text):
        return []
    changed: list[int] = []
    for index, char in enumerate(text):
        if unicodedata.category(char).startswith("M"):
            prefix = text[: index + 1]
            if unicodedata.normalize("NFKC", prefix) != prefix:
                changed.append(index)
        elif unicodedata.normalize("NFKC", char) != char:
            changed.append(index)
    return changed


def _other_script(text: str) -> list[int]:
    """Indexes of Cyrillic or Greek letters in a text that also holds Latin letters."""
    scripts = [_script(char) for char in text]
    if "LATIN" not in scripts:
        return []
    return [i for i, script in enumerate(scripts) if script in _CONFUSABLE_SCRIPTS]


def _script(char: str) -> str:
    if not char.isalpha():
        return ""
    if char.isascii():
        return "LATIN"
    return unicodedata.name(char, "").split(" ", 1)[0]
