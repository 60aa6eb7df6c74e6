"""Identifiers a reviewer can trust: which characters are suspects, and how plans show them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from reconcile.models.identifiers import escaped, suspects


def described(text: str) -> list[str]:
    return [s.describe() for s in suspects(text)]


class TestSuspects:
    def test_cyrillic_letter_among_latin_is_named_with_its_position(self) -> None:
        """A Cyrillic A in a Latin SKU is the look-alike the reviewer cannot see."""
        assert described("TSHIRT-\u0410BC") == [
            "U+0410 CYRILLIC CAPITAL LETTER A at position 8 (mixes scripts with Latin)"
        ]

    def test_greek_letter_among_latin(self) -> None:
        """Greek capitals pass for Latin ones as well."""
        assert [s.code for s in suspects("\u0391BC")] == ["U+0391"]

    def test_a_wholly_cyrillic_identifier_is_not_mixed(self) -> None:
        """One script throughout is a real name, not a look-alike."""
        assert suspects("\u0424\u0423\u0422") == []

    def test_zero_width_space_and_soft_hyphen_are_invisible(self) -> None:
        """Format characters print as nothing at all."""
        assert described("A\u200bB\u00adC") == [
            "U+200B ZERO WIDTH SPACE at position 2 (invisible)",
            "U+00AD SOFT HYPHEN at position 4 (invisible)",
        ]

    def test_no_break_space_is_invisible_but_a_space_is_not(self) -> None:
        """Spaces other than U+0020 look like one and are another character."""
        assert [s.code for s in suspects("A B\u00a0C")] == ["U+00A0"]

    def test_fullwidth_letters_change_under_nfkc(self) -> None:
        """Fullwidth forms are a second spelling of ASCII letters."""
        assert [s.why for s in suspects("\uff21B")] == ["changes under Unicode NFKC normalisation"]

    def test_decomposed_accent_is_named_at_the_combining_mark(self) -> None:
        """E + COMBINING ACUTE is the other spelling of E-acute: the mark is the suspect."""
        assert described("CAFE\u0301") == [
            "U+0301 COMBINING ACUTE ACCENT at position 5 (changes under Unicode NFKC normalisation)"
        ]

    def test_composed_accent_is_trusted(self) -> None:
        """The composed E-acute is the normal form: no warning."""
        assert suspects("CAF\u00c9") == []

    @given(st.text(alphabet=st.characters(max_codepoint=0x7E, min_codepoint=0x20)))
    def test_printable_ascii_is_never_suspect(self, text: str) -> None:
        """Plain ASCII identifiers cost nothing and never warn."""
        assert suspects(text) == []
        assert escaped(text) == text


class TestEscaped:
    def test_suspects_are_written_as_escapes_and_the_rest_as_is(self) -> None:
        """A plan shows the hidden character instead of hiding it."""
        assert escaped("ZW\u200bSP-\u00c9") == "ZW\\u200bSP-\u00c9"
        assert escaped("TSHIRT-\u0410BC") == "TSHIRT-\\u0410BC"
