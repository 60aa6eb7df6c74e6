"""`reconcile fmt`: canonical key order and indentation that keeps comments; idempotent."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from reconcile.desired import format_files, format_text
from reconcile.desired.layout import BOM_ORDER, PRODUCT_ORDER
from tests.desired.catalogs import mutate
from tests.desired.conftest import MakeCatalog
from tests.support.cli import run

EXAMPLES = Path(__file__).resolve().parents[2] / "catalog-examples"

MESSY = """\
# yaml-language-server: $schema=../schemas/catalog.schema.json
# Drinkware, spring range.
boms:
- billOfMaterialDetails:
  - {quantity: 1, sku: MUG}
  sku: KIT
  description: Gift box
products:
  # The mug everyone asks about.
  - productType: ITEM   # not a KIT
    # Keep this SKU: printed on the boxes.
    sku: MUG  # legacy code
    details:  # free-form, PB keeps unknown keys
      # grams
      weight: 350
      description: Mug
    # Discontinued next season.
    active: false
  - sku: KIT
    productType: KIT
    details: {color: red, description: Kit}
"""

CANONICAL = """\
# yaml-language-server: $schema=../schemas/catalog.schema.json
# Drinkware, spring range.
products:
  # The mug everyone asks about.
    # Keep this SKU: printed on the boxes.
  - sku: MUG  # legacy code
    productType: ITEM   # not a KIT
    # Discontinued next season.
    active: false
    details:  # free-form, PB keeps unknown keys
      # grams
      description: Mug
      weight: 350
  - sku: KIT
    productType: KIT
    details: {description: Kit, color: red}
boms:
  - sku: KIT
    description: Gift box
    billOfMaterialDetails:
      - {sku: MUG, quantity: 1}
"""


def safe_load(text: str) -> object:
    return YAML(typ="safe").load(text)


class TestFormatText:
    def test_snapshot_of_a_messy_file(self) -> None:
        """Keys reorder with the comments above them; indentation becomes 2/4/2."""
        assert format_text(MESSY) == CANONICAL

    def test_formatting_keeps_the_data(self) -> None:
        """The formatted file loads to exactly the same data."""
        assert safe_load(format_text(MESSY)) == safe_load(MESSY)

    def test_canonical_file_is_unchanged(self) -> None:
        """A file already in canonical form comes back byte for byte."""
        assert format_text(CANONICAL) == CANONICAL

    @pytest.mark.parametrize(
        "path",
        sorted((EXAMPLES / "starter").glob("*.yaml")) + sorted((EXAMPLES / "kits").rglob("*.yaml")),
        ids=lambda p: p.name,
    )
    def test_examples_are_canonical(self, path: Path) -> None:
        """The shipped examples are in fmt's canonical form."""
        text = path.read_text()
        assert format_text(text, reorder=path.name != "reconcile.yaml") == text

    def test_unknown_keys_follow_known_ones_in_their_order(self) -> None:
        """Keys outside the documented order keep their relative order, after known ones."""
        text = "products:\n  - zeta: 1\n    sku: A\n    alpha: 2\n    productType: ITEM\n"
        assert format_text(text) == (
            "products:\n  - sku: A\n    productType: ITEM\n    zeta: 1\n    alpha: 2\n"
        )

    def test_reindents_four_space_files(self) -> None:
        """Other indentation widths are normalised."""
        text = "products:\n    -   sku: A\n        productType: ITEM\n"
        assert format_text(text) == "products:\n  - sku: A\n    productType: ITEM\n"

    def test_comment_only_file_is_left_alone(self) -> None:
        """A file holding only comments is not rewritten."""
        assert format_text("# later\n") == "# later\n"

    def test_block_scalars_and_quotes_are_kept(self) -> None:
        """Quoting style and literal blocks survive formatting."""
        text = (
            "products:\n  - sku: '007'\n    details:\n"
            "      description: |\n        two\n        lines\n"
        )
        assert format_text(text) == text


COMMENTS = st.sampled_from(["", "  # note", "  # x: y"])


@st.composite
def messy_catalogs(draw: st.DrawFn) -> str:
    """Catalog text with shuffled keys, random comments and indentation."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    width = draw(st.sampled_from([2, 4]))
    offset = draw(st.sampled_from([0, 2]))
    pad = " " * (offset + width)
    dash = " " * offset + "-" + " " * (width - 1)

    def item(fields: dict[str, str]) -> list[str]:
        keys = list(fields)
        rng.shuffle(keys)
        lines = []
        for i, key in enumerate(keys):
            if rng.random() < 0.3:
                lines.append(f"{pad}# about {key}")
            lead = dash if i == 0 else pad
            lines.append(f"{lead}{key}: {fields[key]}{rng.choice(['', '  # eol'])}")
        return lines

    product_fields = {"sku": "A", "productType": "ITEM", "active": "true", "createDate": "'x'"}
    bom_fields = {"sku": "K", "description": "Kit", "node": "N", "brand": "B"}
    sections = [
        [
            "products:",
            *[line for _ in range(draw(st.integers(1, 3))) for line in item(product_fields)],
        ],
        ["boms:", *item(bom_fields)],
    ]
    rng.shuffle(sections)
    return "\n".join(line for section in sections for line in section) + "\n"


class TestIdempotence:
    @settings(max_examples=80, deadline=None)
    @given(messy_catalogs())
    def test_fmt_is_idempotent_and_lossless(self, text: str) -> None:
        """fmt(fmt(x)) == fmt(x), the data never changes, and order becomes canonical."""
        once = format_text(text)
        assert format_text(once) == once
        assert safe_load(once) == safe_load(text)
        data = safe_load(once)
        assert list(data) == ["products", "boms"]
        for product in data["products"]:
            assert list(product) == [k for k in PRODUCT_ORDER if k in product]
        assert list(data["boms"][0]) == [k for k in BOM_ORDER if k in data["boms"][0]]

    @settings(max_examples=80, deadline=None)
    @given(messy_catalogs())
    def test_every_comment_survives(self, text: str) -> None:
        """No comment is lost by reordering."""
        once = format_text(text)
        assert once.count("#") == text.count("#")


class TestFmtCommand:
    def run(self, *args: str) -> tuple[int, str, str]:
        result = run(["fmt", *args])
        return result.code, result.stdout, result.stderr

    def test_rewrites_in_place(self, make_catalog: MakeCatalog) -> None:
        """fmt DIR rewrites files that are not canonical and names them."""
        root = make_catalog({"a.yaml": MESSY})
        code, _, err = self.run(str(root))
        assert code == 0
        assert (root / "a.yaml").read_text() == CANONICAL
        assert err == "reformatted cat/a.yaml\n"

    def test_check_exits_1_and_changes_nothing(self, make_catalog: MakeCatalog) -> None:
        """--check lists the files that would change and exits 1, like black and ruff."""
        root = make_catalog({"a.yaml": MESSY, "b.yaml": CANONICAL})
        code, out, err = self.run("--check", str(root))
        assert (code, out, err) == (1, "", "would reformat cat/a.yaml\n")
        assert (root / "a.yaml").read_text() == MESSY

    def test_check_on_canonical_catalog_exits_0(self, make_catalog: MakeCatalog) -> None:
        """--check passes when everything is canonical."""
        assert self.run("--check", str(make_catalog({"a.yaml": CANONICAL})))[0] == 0

    def test_diff_prints_a_unified_diff(self, make_catalog: MakeCatalog) -> None:
        """--diff shows what would change."""
        root = make_catalog({"a.yaml": "products:\n  - productType: ITEM\n    sku: A\n"})
        code, out, _ = self.run("--check", "--diff", str(root))
        assert code == 1
        assert out.splitlines() == [
            "--- cat/a.yaml",
            "+++ cat/a.yaml",
            "@@ -1,3 +1,3 @@",
            " products:",
            "-  - productType: ITEM",
            "-    sku: A",
            "+  - sku: A",
            "+    productType: ITEM",
        ]

    def test_invalid_yaml_exits_3_with_its_place(self, make_catalog: MakeCatalog) -> None:
        """A file fmt cannot parse is reported at file:line:col and left untouched."""
        root = make_catalog({"a.yaml": "products: [\n"})
        code, out, _ = self.run(str(root))
        assert code == 3
        assert out.startswith("cat/a.yaml:2:1: cannot format: ")

    def test_dangerous_files_are_refused_not_formatted(self, make_catalog: MakeCatalog) -> None:
        """Deep nesting and anchors are reported (exit 3) before the recursive loader runs."""
        deep = "products: " + "[" * 50_000 + "]" * 50_000 + "\n"
        root = make_catalog({"a.yaml": deep, "b.yaml": "products: &x []\n", "c.yaml": ""})
        code, out, _ = self.run(str(root))
        assert code == 3
        assert out.splitlines() == [
            "cat/a.yaml:1:74: cannot format: nested deeper than 64 levels; flatten it",
            "cat/b.yaml:1:11: cannot format: anchor &x: anchors and aliases are not allowed in "
            "catalog files; write the value out (shared settings go in reconcile.yaml)",
        ]

    def test_alias_used_as_a_key_is_refused(self, make_catalog: MakeCatalog) -> None:
        """`*x : 1` is reported in place (exit 3) and the file is left as it was."""
        text = "a: &x k\n*x : 1\n"
        root = make_catalog({"a.yaml": text})
        code, out, _ = self.run(str(root))
        assert code == 3
        assert out.splitlines()[1] == (
            "cat/a.yaml:2:1: cannot format: alias *x used as a key: anchors and aliases are not "
            "allowed in catalog files; write the value out (shared settings go in reconcile.yaml)"
        )
        assert (root / "a.yaml").read_text() == text

    def test_files_without_comments_take_the_quick_path_correctly(
        self, make_catalog: MakeCatalog
    ) -> None:
        """A comment-free canonical file is left alone; a comment-free unordered one is not."""
        ordered = "# modeline\nproducts:\n  - sku: A\n    productType: ITEM\n    details: {}\n"
        unordered = "products:\n  - productType: ITEM\n    sku: A\n    details: {}\n"
        quoted = "products:\n  - sku: 'A'\n    productType: ITEM\n    details: {}\n"
        root = make_catalog({"a.yaml": ordered, "b.yaml": unordered, "c.yaml": quoted})
        result = format_files([root], check=True)
        assert result.changed == [root / "b.yaml"]

    def test_settings_file_is_reindented_not_reordered(self, make_catalog: MakeCatalog) -> None:
        """reconcile.yaml keeps its key order; only its layout is normalised."""
        root = make_catalog({}, settings="prune: true\nlimits:\n    page_size: 10\nclient_id: D\n")
        format_files([root])
        assert (root / "reconcile.yaml").read_text() == (
            "prune: true\nlimits:\n  page_size: 10\nclient_id: D\n"
        )

    def test_named_files_only(self, make_catalog: MakeCatalog) -> None:
        """Given files, fmt touches only those."""
        root = make_catalog({"a.yaml": MESSY, "b.yaml": MESSY})
        self.run(str(root / "a.yaml"))
        assert (root / "a.yaml").read_text() == CANONICAL
        assert (root / "b.yaml").read_text() == MESSY


class TestTabs:
    """Tabs validate accepts (inside plain scalars, as separation) never stop fmt."""

    TABBED = (
        "products:\n  - sku: A\n    productType: ITEM\n    details:\n"
        "      description: a\t b\n      note:\tplain  # tab\there\n      end: x\t\n"
    )

    def test_fmt_and_validate_agree_on_tabs(self, make_catalog: MakeCatalog) -> None:
        """fmt --check asks for a rewrite (exit 1), fmt keeps every value, validate stays 0."""
        root = make_catalog({"a.yaml": self.TABBED})
        assert run(["validate", str(root)]).return_value == 0
        assert TestFmtCommand().run("--check", str(root))[0] == 1
        assert TestFmtCommand().run(str(root))[0] == 0
        text = (root / "a.yaml").read_text()
        assert '      description: "a\\t b"\n' in text and "# tab\there" in text
        assert safe_load(text) == safe_load(self.TABBED)
        assert TestFmtCommand().run("--check", str(root))[0] == 0

    def test_tab_in_a_flow_mapping_is_quoted(self) -> None:
        """A tab inside a plain scalar of a flow mapping is kept, escaped in double quotes."""
        text = "products:\n  - sku: A\n    details: {description: a\tb}\n"
        assert format_text(text) == 'products:\n  - sku: A\n    details: {description: "a\\tb"}\n'


class TestOnlyCatalogFiles:
    """fmt never rewrites a file it does not know to be part of a catalog."""

    def run(self, *args: str) -> tuple[int, str, str]:
        return TestFmtCommand().run(*args)

    @pytest.mark.parametrize(("name", "text"), [("notes.txt", "hello\n"), ("real.json", "{}\n")])
    def test_named_non_yaml_file_is_refused(
        self, make_catalog: MakeCatalog, name: str, text: str
    ) -> None:
        """A named file that is not *.yaml/*.yml exits 64 and stays byte for byte."""
        root = make_catalog({name: text})
        code, _, err = self.run(str(root / name))
        assert code == 64
        assert f"{root / name}: not a catalog file" in err
        assert (root / name).read_text() == text

    def test_directory_outside_a_catalog_is_refused(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """fmt DIR (or bare fmt) with no reconcile.yaml at or above exits 64, writing nothing."""
        (tmp_path / ".git").mkdir()
        pod = "apiVersion: v1\nkind: Pod\nmetadata:\n    name: web\n"
        (tmp_path / "k8s").mkdir()
        (tmp_path / "k8s" / "pod.yaml").write_text(pod)
        monkeypatch.chdir(tmp_path)
        for args in (["k8s"], []):
            code, _, err = self.run(*args)
            assert code == 64
            assert "is not a catalog directory: no reconcile.yaml in it" in err
        assert (tmp_path / "k8s" / "pod.yaml").read_text() == pod

    def test_search_for_the_catalog_stops_at_the_git_root(self, make_catalog: MakeCatalog) -> None:
        """A repository nested below a catalog is not part of that catalog."""
        root = make_catalog({"repo/a.yaml": MESSY})
        (root / "repo" / ".git").mkdir()
        code, _, err = self.run(str(root / "repo" / "a.yaml"))
        assert code == 64 and "is not part of a catalog: no reconcile.yaml beside it" in err
        assert (root / "repo" / "a.yaml").read_text() == MESSY

    def test_subdirectory_of_a_catalog_is_formatted(self, make_catalog: MakeCatalog) -> None:
        """fmt on a folder inside a catalog formats that folder's catalog files."""
        root = make_catalog({"kits/a.yaml": MESSY, "b.yaml": MESSY})
        assert self.run(str(root / "kits"))[0] == 0
        assert (root / "kits" / "a.yaml").read_text() == CANONICAL
        assert (root / "b.yaml").read_text() == MESSY

    def test_yaml_that_is_not_a_catalog_file_is_left_alone(self, make_catalog: MakeCatalog) -> None:
        """A catalog YAML file whose top level is not products/boms is reported, not written."""
        pod = "apiVersion: v1\nkind: Pod\nmetadata:\n    name: web\n"
        root = make_catalog({"pod.yaml": pod, "list.yaml": "- a\n-   b\n"})
        for args in ([str(root)], [str(root / "pod.yaml")]):
            code, out, _ = self.run(*args)
            assert code == 3
            assert "cat/pod.yaml:1:1: cannot format: a catalog file is a mapping with " in out
        assert "found the key 'apiVersion', so it is left alone" in out
        assert (root / "pod.yaml").read_text() == pod
        assert (root / "list.yaml").read_text() == "- a\n-   b\n"

    def test_hidden_directory_is_refused(self, make_catalog: MakeCatalog) -> None:
        """Files under a hidden directory of the catalog (.github/) are not catalog files."""
        root = make_catalog({".github/ci.yaml": "on:   push\n"})
        code, _, err = self.run(str(root / ".github" / "ci.yaml"))
        assert code == 64 and "hidden files and directories" in err
        assert (root / ".github" / "ci.yaml").read_text() == "on:   push\n"


KITS_FILES = sorted((EXAMPLES / "kits").rglob("*.yaml"))


class TestFuzz:
    @settings(max_examples=60, deadline=None)
    @given(st.sampled_from(KITS_FILES), st.data())
    def test_mutated_files_format_or_fail_cleanly(self, path: Path, data: st.DataObject) -> None:
        """Mangled files are refused with problems, or formatted idempotently and losslessly."""
        text = mutate(path.read_text(), data)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "reconcile.yaml").write_text("client_id: DEMO\n")
            target = Path(tmp) / "a.yaml"
            target.write_text(text)
            first = format_files([target])
            if first.problems:
                assert target.read_text() == text
                return
            once = target.read_text()
            again = format_files([target])
            assert again.changed == [] and again.problems == []
        assert safe_load(once) == safe_load(text)
