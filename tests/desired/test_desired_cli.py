"""`reconcile validate` and `reconcile schemas` through click, including fuzzed input."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconcile.desired import schema_documents, schema_text
from tests.desired.catalogs import YAML_CHARS, mutate, products
from tests.desired.conftest import MakeCatalog
from tests.support.cli import Run, run

EXAMPLES = Path(__file__).resolve().parents[2] / "catalog-examples"


class TestValidateCommand:
    def test_valid_catalog_exits_0(self, make_catalog: MakeCatalog) -> None:
        """A valid catalog exits 0 and summarises what it holds on stderr."""
        result = run(["validate", str(make_catalog({"a.yaml": products("A", "B")}))])
        assert result.return_value == 0
        assert result.stdout == ""
        assert "valid catalog: 2 products, 0 BOMs in 1 files for client DEMO" in result.stderr

    def test_warnings_are_printed_but_exit_0(self, make_catalog: MakeCatalog) -> None:
        """Warnings do not make a catalog invalid."""
        root = make_catalog({"a.yaml": "# nothing yet\n"})
        result = run(["validate", str(root)])
        assert result.return_value == 0
        assert result.stdout == (
            "cat/a.yaml:1:1: warning: file holds only comments and declares nothing\n"
        )

    def test_invalid_catalog_exits_3_with_every_problem(self, make_catalog: MakeCatalog) -> None:
        """Each problem is one `path:line:col: message` line on stdout; the count on stderr."""
        root = make_catalog({"a.yaml": "product: []\n", "b.yaml": "products: [\n"})
        result = run(["validate", str(root), "--format", "text"])
        assert result.return_value == 3
        assert result.stdout.splitlines() == [
            "cat/a.yaml:1:1: unknown top-level key 'product'; did you mean 'products'?",
            "cat/b.yaml:2:1: YAML syntax error: did not find expected node content "
            "(while parsing a flow node started at line 2)",
        ]
        assert "invalid catalog: 2 errors, 0 warnings" in result.stderr

    def test_missing_directory_exits_3(self, make_catalog: MakeCatalog) -> None:
        """A directory that does not exist is an invalid catalog, not a crash."""
        result = run(["validate", "nowhere"])
        assert result.return_value == 3
        assert result.stdout == "nowhere: catalog directory does not exist\n"

    def test_default_directory_is_the_working_directory(
        self, make_catalog: MakeCatalog, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without an argument, validate reads the current directory."""
        root = make_catalog({"a.yaml": products("A")})
        monkeypatch.chdir(root)
        assert run(["validate"]).return_value == 0

    def test_github_format_adds_annotations(self, make_catalog: MakeCatalog) -> None:
        """--format github prints the plain list and one workflow command per problem."""
        root = make_catalog({"a.yaml": "product: []\n", "b.yaml": "# later\n"})
        result = run(["validate", str(root), "--format", "github"])
        assert result.stdout.splitlines()[2:] == [
            "::error file=cat/a.yaml,line=1,col=1,title=reconcile validate::unknown top-level "
            "key 'product'; did you mean 'products'?",
            "::warning file=cat/b.yaml,line=1,col=1,title=reconcile validate::file holds only "
            "comments and declares nothing",
        ]

    def test_github_format_is_automatic_in_actions(self, make_catalog: MakeCatalog) -> None:
        """GITHUB_ACTIONS=true selects the github format; --format text turns it off."""
        root = make_catalog({"a.yaml": "product: []\n"})
        auto = run(["validate", str(root)], env={"GITHUB_ACTIONS": "true"})
        assert any(line.startswith("::error ") for line in auto.stdout.splitlines())
        plain = run(["validate", str(root), "--format", "text"], env={"GITHUB_ACTIONS": "true"})
        assert not any(line.startswith("::") for line in plain.stdout.splitlines())

    def test_github_annotation_escapes_newlines_and_commas(self, make_catalog: MakeCatalog) -> None:
        """Data in annotations is escaped as GitHub requires (%0A, and %2C in properties)."""
        root = make_catalog({"a,b.yaml": "product: []\n"})
        result = run(["validate", str(root), "--format", "github"])
        assert "::error file=cat/a%2Cb.yaml,line=1,col=1," in result.stdout

    def test_alias_used_as_a_key_exits_3(self, make_catalog: MakeCatalog) -> None:
        """`*x : 1` is a located catalog error (exit 3), not an AttributeError (exit 1)."""
        root = make_catalog({"a.yaml": "a: &x k\n*x : 1\n"})
        result = run(["validate", str(root)])
        assert result.return_value == 3
        assert [line.split(": ")[0:2] for line in result.stdout.splitlines()] == [
            ["cat/a.yaml:1:4", "anchor &x"],
            ["cat/a.yaml:2:1", "alias *x used as a key"],
        ]

    @pytest.mark.parametrize(("name", "code"), [("starter", 0), ("kits", 0), ("invalid", 3)])
    def test_examples(self, name: str, code: int) -> None:
        """The shipped examples exit as documented."""
        assert run(["validate", str(EXAMPLES / name)]).return_value == code


class TestTerminalSafety:
    def test_control_characters_in_a_file_name_are_shown_escaped(self, tmp_path: Path) -> None:
        """A catalog file whose name holds ESC is reported with the ESC escaped, never raw."""
        (tmp_path / "reconcile.yaml").write_text("client_id: DEMO\n")
        (tmp_path / "bad\x1b[2J.yaml").write_text("products: 3\n")
        result = run(["validate", str(tmp_path)])
        assert result.return_value == 3
        assert "\x1b" not in result.stdout
        assert "bad\\x1b[2J.yaml" in result.stdout


class TestSchemasCommand:
    def test_writes_every_schema(self, tmp_path: Path) -> None:
        """`schemas --out DIR` writes the catalog and settings schemas, as committed."""
        result = run(["schemas", "--out", str(tmp_path / "out")])
        assert result.return_value == 0
        for name, schema in schema_documents():
            assert (tmp_path / "out" / name).read_text() == schema_text(schema)
            assert f"wrote {tmp_path / 'out' / name}" in result.stdout

    def test_writes_the_plan_schema_as_committed(self, tmp_path: Path) -> None:
        """`schemas` also writes plan.schema.json, byte for byte the committed file."""
        assert run(["schemas", "--out", str(tmp_path)]).return_value == 0
        committed = Path(__file__).parents[2] / "schemas" / "plan.schema.json"
        assert (tmp_path / "plan.schema.json").read_text() == committed.read_text()

    def test_unwritable_out_exits_64(self, tmp_path: Path) -> None:
        """An --out that cannot be created is the user's path: exit 64 with the reason."""
        blocker = tmp_path / "file"
        blocker.write_text("")
        result = run(["schemas", "--out", str(blocker / "sub")])
        assert result.return_value == 64
        assert f"cannot write schemas to {blocker / 'sub'}: " in result.stderr


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
KITS_FILES = sorted((EXAMPLES / "kits").rglob("*.yaml"))


def validate_files(files: dict[str, str | bytes]) -> Run:
    """Write a catalog with these files into a fresh directory and validate it."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "reconcile.yaml").write_text("client_id: DEMO\n")
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        result = run(["validate", str(root)])
    assert "Unexpected error" not in result.stderr, result.stderr  # main's word for a crash
    assert "Traceback" not in result.output
    assert result.return_value in (0, 3)
    return result


class TestFuzz:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(YAML_CHARS, max_size=40).map("".join))
    def test_random_yaml_text(self, text: str) -> None:
        """Arbitrary YAML-ish text never crashes validate: exit 0 or 3."""
        validate_files({"a.yaml": text})

    @settings(max_examples=60, deadline=None)
    @given(JSON_VALUES)
    def test_random_documents(self, value: object) -> None:
        """Random JSON documents, bare and under `products:`/`boms:`, exit 0 or 3."""
        validate_files(
            {
                "a.yaml": json.dumps(value),
                "b.yaml": json.dumps({"products": [value]}),
                "c.yaml": json.dumps({"boms": value}),
            }
        )

    @settings(max_examples=60, deadline=None)
    @given(st.sampled_from(KITS_FILES), st.data())
    def test_mutated_catalog(self, victim: Path, data: st.DataObject) -> None:
        """The kits example with a file mangled line-wise still validates to 0 or 3."""
        files: dict[str, str | bytes] = {
            str(p.relative_to(EXAMPLES / "kits")): p.read_text() for p in KITS_FILES
        }
        name = str(victim.relative_to(EXAMPLES / "kits"))
        files[name] = mutate(files[name], data)
        validate_files(files)

    @settings(max_examples=30, deadline=None)
    @given(st.binary(max_size=60))
    def test_random_bytes(self, raw: bytes) -> None:
        """Arbitrary bytes (invalid UTF-8 included) exit 0 or 3."""
        validate_files({"a.yaml": raw})


def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path to a value inside nested dicts and lists."""
    found = [prefix]
    if isinstance(value, dict):
        for key, sub in value.items():
            found += _paths(sub, (*prefix, key))
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            found += _paths(sub, (*prefix, i))
    return found


def _replace(value: object, path: tuple[object, ...], new: object) -> object:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: (_replace(v, rest, new) if k == head else v) for k, v in value.items()}
    assert isinstance(value, list)
    return [(_replace(v, rest, new) if i == head else v) for i, v in enumerate(value)]


class TestValueFuzz:
    @settings(max_examples=60, deadline=None)
    @given(st.sampled_from(KITS_FILES), st.data())
    def test_any_value_replaced_is_reported_in_place(
        self, victim: Path, data: st.DataObject
    ) -> None:
        """Replacing any value of an example with random data gives 0 or 3, and every
        problem of the changed file points at a real line of it."""
        from ruamel.yaml import YAML

        original = YAML(typ="safe").load(victim.read_text())
        path = data.draw(st.sampled_from(_paths(original)))
        mutated = _replace(original, path, data.draw(JSON_VALUES))
        text = json.dumps(mutated, indent=2)
        files: dict[str, str | bytes] = {
            str(p.relative_to(EXAMPLES / "kits")): p.read_text() for p in KITS_FILES
        }
        name = str(victim.relative_to(EXAMPLES / "kits"))
        files[name] = text
        result = validate_files(files)
        lines = text.count("\n") + 1
        for line in result.stdout.splitlines():
            where = line.split(": ", 1)[0]
            if where.split(":")[0].endswith(name):
                assert 1 <= int(where.split(":")[1]) <= lines
