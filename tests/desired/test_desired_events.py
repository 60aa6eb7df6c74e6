"""The event-driven loader reads YAML exactly as ruamel's safe loader does, only faster."""

from __future__ import annotations

import io
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconcile.desired import events
from reconcile.desired.events import build, plain_value

PLAIN = [
    "0o17",
    "0x1F",
    "0b101",
    "1_000",
    "-.inf",
    "+.INF",
    ".NaN",
    "1e3",
    "1.5e-3",
    ".5",
    "+12",
    "-7",
    "012",
    "~",
    "null",
    "Null",
    "NULL",
    "TRUE",
    "false",
    "yes",
    "No",
    "on",
    "1:30",
    "1.",
    "0",
    "-0",
    "12abc",
    "x",
    "<<x",
    "0x",
    "1__2",
    "3.",
    "-1.5E+3",
]


def stock(text: str) -> object:
    return YAML(typ="safe").load(text)


def same(a: object, b: object) -> bool:
    """Equality that treats NaN as equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


class TestParser:
    def test_events_come_from_the_c_parser(self) -> None:
        """The hot path uses libyaml through ruamel's CParser, not the pure-Python parser."""
        assert events.CParser.__module__.endswith("._ruamel_yaml")


class TestScalars:
    @pytest.mark.parametrize("text", PLAIN)
    def test_plain_scalar_resolves_like_ruamel(self, text: str) -> None:
        """Each plain scalar becomes the same value, of the same type, as with ruamel."""
        assert same(plain_value(text), stock(f"v: {text}\n")["v"])  # type: ignore[index]

    @pytest.mark.parametrize("text", ["!!str 012", "!!int '7'", "!!float '1'", "!!bool 'true'"])
    def test_core_tags_convert(self, text: str) -> None:
        """Explicit core tags give the value ruamel gives."""
        assert same(build(f"v: {text}\n", 64).data, stock(f"v: {text}\n"))

    def test_quoted_and_block_scalars_stay_strings(self) -> None:
        """Quoting or a block scalar keeps numbers and booleans as text."""
        text = "a: '1'\nb: \"true\"\nc: |\n  012\n"
        assert build(text, 64).data == {"a": "1", "b": "true", "c": "012\n"}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)


def dump(value: object, flow: bool) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = flow
    out = io.StringIO()
    yaml.dump(value, out)
    return out.getvalue()


class TestEquivalence:
    @settings(max_examples=150, deadline=None)
    @given(JSON, st.booleans())
    def test_documents_load_like_ruamel(self, value: object, flow: bool) -> None:
        """Any document ruamel dumps loads to the same data through both loaders."""
        text = dump(value, flow)
        try:
            expected = stock(text)
        except YAMLError:  # ruamel's dumper wrote something no loader reads: both refuse
            with pytest.raises(YAMLError):
                build(text, 1000)
            return
        built = build(text, 1000)
        assert built.problems == []
        assert same(built.data, expected)

    @settings(max_examples=150, deadline=None)
    @given(
        st.lists(
            st.sampled_from([*PLAIN, "a", "- b", "c: d", "[e, f]", "{g: h}", "'i'"]), max_size=8
        )
    )
    def test_block_lists_of_odd_scalars(self, items: list[str]) -> None:
        """Lists of odd plain scalars and small collections load the same."""
        text = "".join(f"- {item}\n" for item in items) or "[]\n"
        assert same(build(text, 64).data, stock(text))


class TestRefusals:
    def test_merge_key_is_refused_as_a_plain_key(self) -> None:
        """`<<` is an ordinary key here (no anchors means nothing to merge)."""
        assert build("a:\n  <<: {b: 1}\n", 64).data == {"a": {"<<": {"b": 1}}}

    def test_lone_equals_sign_is_a_string(self) -> None:
        """A plain `=` (which ruamel's safe loader cannot construct) is just text here."""
        assert build("v: =\n", 64).data == {"v": "="}

    def test_complex_key(self) -> None:
        """A mapping used as a key is refused at its place."""
        built = build("? {a: 1}\n: x\n", 64)
        assert [(p.line, p.col, p.message) for p in built.problems] == [
            (1, 8, "complex keys (a mapping or list as a key) are not allowed")
        ]

    def test_duplicate_key_is_flagged(self) -> None:
        """A repeated key is noticed (the caller reports every one with positions)."""
        found = build("a: 1\nb: 2\na: x\n", 64).duplicate_keys
        assert [(p.line, p.col, p.message) for p in found] == [
            (3, 1, "duplicate key 'a'; keep one")
        ]

    def test_non_string_keys_are_reported_at_their_own_place(self) -> None:
        """`1:` and `true:` are two keys (not duplicates), each reported where it is, in YAML
        spelling, and kept as their text."""
        built = build("a: 0\n1: x\ntrue: y\nnull: z\n", 64)
        assert built.duplicate_keys == []
        assert [(p.line, p.col, p.message) for p in built.problems] == [
            (2, 1, "key 1 reads as a number, not a string; quote it to keep it as written: '1'"),
            (
                3,
                1,
                "key true reads as a boolean, not a string; quote it to keep it as written: 'true'",
            ),
            (4, 1, "key null reads as null, not a string; quote it to keep it as written: 'null'"),
        ]
        assert built.data == {"a": 0, "1": "x", "true": "y", "null": "z"}

    def test_depth_is_exact(self) -> None:
        """Exactly max_depth levels pass; one more is refused."""
        assert build("[" * 10 + "]" * 10, 10).problems == []
        assert build("[" * 11 + "]" * 11, 10).too_deep
