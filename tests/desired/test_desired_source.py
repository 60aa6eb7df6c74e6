"""File-level rules: YAML syntax, encoding, size, anchors, tags, dates, nesting."""

from __future__ import annotations

import ruamel.yaml.main
from ruamel.yaml import YAML

from reconcile.desired.source import read_source
from tests.desired.catalogs import problems_of, products
from tests.desired.conftest import MakeCatalog

ONE_ITEM = products("A")
ANCHOR_HINT = (
    "anchors and aliases are not allowed in catalog files; write the value out "
    "(shared settings go in reconcile.yaml)"
)


class TestFastLoader:
    def test_c_parser_is_in_use(self) -> None:
        """The C safe loader is installed (ruamel falls back to pure Python silently)."""
        assert YAML(typ="safe").Parser is ruamel.yaml.main.CParser
        assert ruamel.yaml.main.CParser is not None

    def test_clean_file_loads_to_plain_data(self, make_catalog: MakeCatalog) -> None:
        """A clean file yields plain dicts and lists and no problems."""
        root = make_catalog({"a.yaml": ONE_ITEM})
        source = read_source(root / "a.yaml", max_bytes=10_000, max_depth=64)
        assert source.problems == []
        assert source.data["products"][0]["sku"] == "A"


class TestSyntax:
    def test_syntax_error_is_located(self, make_catalog: MakeCatalog) -> None:
        """An unclosed flow mapping is reported where the parser gave up, naming its start."""
        root = make_catalog({"a.yaml": "products:\n  - sku: {x: 1\n"})
        assert problems_of(root) == [
            "cat/a.yaml:3:1: YAML syntax error: did not find expected ',' or '}' "
            "(while parsing a flow mapping started at line 2)"
        ]

    def test_second_document_is_refused(self, make_catalog: MakeCatalog) -> None:
        """A file holds exactly one YAML document."""
        root = make_catalog({"a.yaml": ONE_ITEM + "---\nboms: []\n"})
        assert problems_of(root) == [
            "cat/a.yaml:6:1: a second YAML document ('---'): a file holds exactly one"
        ]

    def test_every_duplicate_key_is_reported(self, make_catalog: MakeCatalog) -> None:
        """All duplicated keys of a file are reported, each at the repeated key."""
        text = ONE_ITEM + "    sku: B\n" + "boms: []\nboms: []\n"
        root = make_catalog({"a.yaml": text})
        assert problems_of(root) == [
            "cat/a.yaml:6:5: duplicate key 'sku' (first at line 2); keep one",
            "cat/a.yaml:8:1: duplicate key 'boms' (first at line 7); keep one",
        ]

    def test_number_and_boolean_keys_are_not_duplicates(self, make_catalog: MakeCatalog) -> None:
        """`1`, `true` and `01` are different keys: each is reported at its own line as a
        key that must be quoted, none as a duplicate."""
        text = ONE_ITEM + "      1: one\n      true: yes\n      01: y\n"
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:6:7: key 1 reads as a number, not a string; quote it to keep it as "
            "written: '1'",
            "cat/a.yaml:7:7: key true reads as a boolean, not a string; quote it to keep it as "
            "written: 'true'",
            "cat/a.yaml:8:7: key 01 reads as a number, not a string; quote it to keep it as "
            "written: '01'",
        ]


class TestEncodingAndSize:
    def test_non_utf8_is_refused_at_the_byte(self, make_catalog: MakeCatalog) -> None:
        """A Latin-1 byte is reported at its line and column with the fix."""
        root = make_catalog({"a.yaml": b"products:\n  - sku: CAF\xc9\n"})
        assert problems_of(root) == [
            "cat/a.yaml:2:13: not UTF-8: byte 0xc9 cannot be decoded; save the file as UTF-8"
        ]

    def test_utf8_with_byte_order_mark_is_accepted(self, make_catalog: MakeCatalog) -> None:
        """A UTF-8 byte order mark is tolerated."""
        root = make_catalog({"a.yaml": b"\xef\xbb\xbf" + ONE_ITEM.encode()})
        assert problems_of(root) == []

    def test_control_character_is_refused(self, make_catalog: MakeCatalog) -> None:
        """Characters YAML does not allow are reported before parsing."""
        root = make_catalog({"a.yaml": "products:\n  - sku: A\x07\n"})
        assert problems_of(root) == [
            "cat/a.yaml:2:11: character U+0007 is not allowed in YAML; remove it"
        ]

    def test_empty_file_is_an_error(self, make_catalog: MakeCatalog) -> None:
        """A file with nothing but whitespace is refused."""
        root = make_catalog({"a.yaml": "\n  \n"})
        assert problems_of(root) == [
            "cat/a.yaml:1:1: file is empty; delete it, or declare `products:` and/or `boms:` lists"
        ]

    def test_comment_only_file_is_a_warning(self, make_catalog: MakeCatalog) -> None:
        """A file of comments is a placeholder: a warning, and the catalog stays valid."""
        root = make_catalog({"a.yaml": "# later\n", "b.yaml": ONE_ITEM})
        assert problems_of(root) == [
            "cat/a.yaml:1:1: warning: file holds only comments and declares nothing"
        ]

    def test_null_document_is_a_warning(self, make_catalog: MakeCatalog) -> None:
        """A document that is just `null` or `---` declares nothing, and says so."""
        root = make_catalog({"a.yaml": "---\n", "b.yaml": ONE_ITEM})
        assert problems_of(root) == [
            "cat/a.yaml:1:1: warning: file holds an empty document and declares nothing"
        ]

    def test_file_over_the_size_limit_is_refused_unread(self, make_catalog: MakeCatalog) -> None:
        """limits.max_file_bytes refuses a larger file, naming both sizes."""
        settings = "client_id: DEMO\nlimits:\n  max_file_bytes: 50\n"
        root = make_catalog({"a.yaml": ONE_ITEM}, settings=settings)
        size = len(ONE_ITEM.encode())
        assert problems_of(root) == [
            f"cat/a.yaml:1:1: file is {size} bytes, over the limit of 50 "
            "(limits.max_file_bytes in reconcile.yaml); split it into smaller files"
        ]

    def test_file_at_the_size_limit_is_read(self, make_catalog: MakeCatalog) -> None:
        """A file exactly at the limit is accepted."""
        size = len(ONE_ITEM.encode())
        settings = f"client_id: DEMO\nlimits:\n  max_file_bytes: {size}\n"
        assert problems_of(make_catalog({"a.yaml": ONE_ITEM}, settings=settings)) == []


class TestAnchorsAndTags:
    def test_anchor_and_alias_are_refused(self, make_catalog: MakeCatalog) -> None:
        """Both the anchor and each alias are reported at their positions."""
        text = (
            "products:\n  - sku: A\n    productType: ITEM\n    details: &d\n      description: x\n"
            "  - sku: B\n    productType: ITEM\n    details: *d\n"
        )
        root = make_catalog({"a.yaml": text})
        assert problems_of(root) == [
            f"cat/a.yaml:4:14: anchor &d: {ANCHOR_HINT}",
            f"cat/a.yaml:8:14: alias *d: {ANCHOR_HINT}",
        ]

    def test_alias_used_as_a_key_is_refused_in_place(self, make_catalog: MakeCatalog) -> None:
        """An alias as a mapping key (`*x : 1`, found by fuzzing) is located, not a crash."""
        text = "products:\n  - &x sku: A\n    *x : ITEM\n"
        root = make_catalog({"a.yaml": text})
        assert problems_of(root) == [
            f"cat/a.yaml:2:5: anchor &x: {ANCHOR_HINT}",
            f"cat/a.yaml:3:5: alias *x used as a key: {ANCHOR_HINT}",
        ]

    def test_alias_bomb_is_refused_quickly(self, make_catalog: MakeCatalog) -> None:
        """The billion-laughs pattern is refused at its first anchor, never expanded."""
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
        root = make_catalog({"a.yaml": "\n".join(lines) + "\n"})
        found = problems_of(root)
        assert found[0].startswith("cat/a.yaml:1:5: anchor &a0:")

    def test_python_custom_and_binary_tags_are_refused(self, make_catalog: MakeCatalog) -> None:
        """Each non-core tag is reported at its node, never constructed."""
        text = (
            "products:\n  - sku: !!python/object:os.system A\n    productType: !custom ITEM\n"
            "    details:\n      description: !!binary eA==\n      s: !!set {a: null}\n"
        )
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:2:10: tag !!python/object:os.system is refused: catalog files hold "
            "data, never Python objects",
            "cat/a.yaml:3:18: unknown tag !custom: remove it (catalog files use plain YAML values)",
            "cat/a.yaml:5:20: tag !!binary is not allowed: values are strings, numbers, "
            "booleans, lists and mappings; remove the tag",
            "cat/a.yaml:6:10: tag !!set is not allowed: values are strings, numbers, booleans, "
            "lists and mappings; remove the tag",
        ]

    def test_core_tags_and_ampersands_in_text_are_fine(self, make_catalog: MakeCatalog) -> None:
        """`!!str` forces a string; '&' and '!' inside plain text are not anchors or tags."""
        text = (
            "products:\n  - sku: !!str 012\n    productType: ITEM\n    details:\n"
            "      description: Salt & Pepper, R&D edition! Wow!\n"
        )
        assert problems_of(make_catalog({"a.yaml": text})) == []

    def test_unquoted_date_is_refused_with_the_fix(self, make_catalog: MakeCatalog) -> None:
        """A timestamp-looking value is reported with the quoted form to write instead."""
        text = ONE_ITEM + "      released: 2026-01-01\n"
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:6:17: '2026-01-01' reads as a date, not a string; quote it to keep it "
            "as written: '2026-01-01'"
        ]

    def test_quoted_date_is_a_string(self, make_catalog: MakeCatalog) -> None:
        """A quoted date stays the string it reads."""
        text = ONE_ITEM + "      released: '2026-01-01'\n"
        assert problems_of(make_catalog({"a.yaml": text})) == []


class TestNesting:
    def test_deep_flow_nesting_is_refused(self, make_catalog: MakeCatalog) -> None:
        """Nesting beyond limits.max_depth is reported where it crosses the limit."""
        text = ONE_ITEM + "      deep: " + "[" * 70 + "]" * 70 + "\n"
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:6:73: nested deeper than 64 levels; flatten it"
        ]

    def test_huge_nesting_neither_crashes_nor_hangs(self, make_catalog: MakeCatalog) -> None:
        """100 000 nested brackets (deep enough to crash a recursive parser) give one error."""
        text = "products: " + "[" * 100_000 + "]" * 100_000 + "\n"
        assert problems_of(make_catalog({"a.yaml": text})) == [
            "cat/a.yaml:1:74: nested deeper than 64 levels; flatten it"
        ]

    def test_deep_block_nesting_is_refused(self, make_catalog: MakeCatalog) -> None:
        """Block-style nesting is measured too."""
        text = ONE_ITEM + "".join("  " * (3 + i) + f"k{i}:\n" for i in range(70)) + "\n"
        found = problems_of(make_catalog({"a.yaml": text}))
        assert found == ["cat/a.yaml:67:129: nested deeper than 64 levels; flatten it"]

    def test_nesting_within_the_limit_is_accepted(self, make_catalog: MakeCatalog) -> None:
        """Moderate nesting inside details is fine."""
        text = ONE_ITEM + "      deep: " + "[" * 20 + "1" + "]" * 20 + "\n"
        assert problems_of(make_catalog({"a.yaml": text})) == []
