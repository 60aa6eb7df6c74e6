"""The shipped examples: valid ones load cleanly, `invalid/` reports exactly what it shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from reconcile.cli import cli
from reconcile.desired import catalog_files, load_catalog, schema_documents, schema_text
from reconcile.errors import CatalogError

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "catalog-examples"
SCHEMAS = REPO / "schemas"
#: The manual's catalog page: the reference that moved out of README.md.
README = (REPO / "docs" / "catalog.md").read_text(encoding="utf-8")
VALID_EXAMPLES = ["starter", "kits"]
#: Files of invalid/ that cannot carry a modeline or be read as YAML at all.
UNREADABLE = {"empty.yaml", "encoding.yaml"}

#: What `validate catalog-examples/invalid` must print, line for line (paths from invalid/).
EXPECTED_INVALID = (Path(__file__).parent / "invalid_expected.txt").read_text().splitlines()


def example_yaml_files() -> list[Path]:
    """The YAML files of the examples this module owns (starter, kits, invalid)."""
    found = []
    for name in [*VALID_EXAMPLES, "invalid"]:
        found += [p for p in (EXAMPLES / name).rglob("*.y*ml") if ".reconcile" not in p.parts]
    return sorted(found)


class TestValidExamples:
    @pytest.mark.parametrize("name", VALID_EXAMPLES)
    def test_example_is_valid_without_warnings(
        self, name: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Each valid example loads with no problem at all."""
        monkeypatch.chdir(REPO)
        catalog = load_catalog(Path("catalog-examples") / name)
        assert catalog.problems == []
        assert catalog.client_id == "DEMO"

    def test_kits_example_has_a_nested_kit(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """kits/ shows a kit whose BOM contains another kit."""
        catalog = load_catalog(EXAMPLES / "kits")
        kits = {k.sku for k, p in catalog.resources.products.items() if p.productType == "KIT"}
        nested = [b for b in catalog.resources.boms.values() if kits & set(b.component_skus)]
        assert nested


class TestInvalidExample:
    def test_every_problem_is_reported_at_its_place(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """invalid/ yields exactly the documented problems, each at its file:line:col."""
        monkeypatch.chdir(EXAMPLES / "invalid")
        with pytest.raises(CatalogError) as caught:
            load_catalog(Path())
        assert [str(p) for p in caught.value.problems] == EXPECTED_INVALID

    def test_one_file_per_kind(self) -> None:
        """Every YAML file of invalid/ contributes at least one problem."""
        files = {p.name for p in catalog_files(EXAMPLES / "invalid")}
        reported = {line.split(":", 1)[0] for line in EXPECTED_INVALID}
        assert files == reported


class TestExampleFiles:
    def test_every_example_dir_has_readme_gitignore_and_settings(self) -> None:
        """Each example directory documents itself and ignores local sandbox state."""
        for directory in (EXAMPLES / name for name in [*VALID_EXAMPLES, "invalid"]):
            assert (directory / "README.md").read_text().strip()
            assert ".reconcile/" in (directory / ".gitignore").read_text().split()
            assert "client_id:" in (directory / "reconcile.yaml").read_text()

    @pytest.mark.parametrize(
        "path", [p for p in example_yaml_files() if p.name not in UNREADABLE], ids=str
    )
    def test_modeline_points_at_the_schema(self, path: Path) -> None:
        """Every example YAML starts with a yaml-language-server modeline to an existing schema."""
        first = path.read_text(encoding="utf-8").splitlines()[0]
        prefix = "# yaml-language-server: $schema="
        assert first.startswith(prefix)
        target = (path.parent / first.removeprefix(prefix)).resolve()
        expected = "settings" if path.name == "reconcile.yaml" else "catalog"
        example = EXAMPLES / path.relative_to(EXAMPLES).parts[0]
        assert target == example / "schemas" / f"{expected}.schema.json"  # a copy keeps working
        assert target.is_file()


class TestSchemas:
    @pytest.mark.parametrize(("name", "schema"), schema_documents())
    def test_committed_schema_is_up_to_date(self, name: str, schema: dict[str, object]) -> None:
        """schemas/ matches the models; run `reconcile schemas` after changing them."""
        assert (SCHEMAS / name).read_text(encoding="utf-8") == schema_text(schema)

    @pytest.mark.parametrize("example", [*VALID_EXAMPLES, "invalid"])
    def test_each_example_ships_the_current_schemas(self, example: str) -> None:
        """Each example carries schemas/ (its modelines point there): what `schemas` writes."""
        from reconcile.cli import schema_documents as every_schema

        shipped = EXAMPLES / example / "schemas"
        assert sorted(p.name for p in shipped.iterdir()) == sorted(n for n, _ in every_schema())
        for name, schema in every_schema():
            assert (shipped / name).read_text(encoding="utf-8") == schema_text(schema), name

    @pytest.mark.parametrize(("name", "schema"), schema_documents())
    def test_schema_is_valid_draft_2020_12(self, name: str, schema: dict[str, object]) -> None:
        """Each schema is itself a valid JSON Schema 2020-12 document."""
        Draft202012Validator.check_schema(schema)

    @pytest.mark.parametrize("name", VALID_EXAMPLES)
    def test_valid_examples_satisfy_the_schemas(self, name: str) -> None:
        """Editors checking example files against the schemas find nothing to flag."""
        catalog_schema = json.loads((SCHEMAS / "catalog.schema.json").read_text())
        settings_schema = json.loads((SCHEMAS / "settings.schema.json").read_text())
        yaml = YAML(typ="safe")
        directory = EXAMPLES / name
        settings = yaml.load(directory / "reconcile.yaml")
        assert list(Draft202012Validator(settings_schema).iter_errors(settings)) == []
        for path in catalog_files(directory):
            errors = list(Draft202012Validator(catalog_schema).iter_errors(yaml.load(path)))
            assert errors == [], path

    def test_schema_flags_what_the_loader_refuses(self) -> None:
        """The catalog schema rejects an unknown field and a bad enum (editor feedback)."""
        schema = json.loads((SCHEMAS / "catalog.schema.json").read_text())
        bad = {"products": [{"sku": "A", "productType": "ITEMS", "details": {}, "x": 1}]}
        assert len(list(Draft202012Validator(schema).iter_errors(bad))) == 2


def readme_section(heading: str) -> str:
    """The README text from ``heading`` to the next heading of any level."""
    start = README.index(heading) + len(heading)
    return README[start : README.index("\n#", start)]


def readme_block(first_line: str) -> list[str]:
    """The lines of the README code block that starts with ``first_line``."""
    start = README.index(first_line + "\n") + len(first_line) + 1
    return README[start : README.index("```", start)].splitlines()


class TestReadmeClaims:
    def test_validate_sample_is_what_validate_prints(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """README's `validate catalog-examples/invalid` sample: real lines, the real count."""
        monkeypatch.chdir(REPO)
        result = CliRunner().invoke(
            cli, ["validate", "catalog-examples/invalid"], standalone_mode=False
        )
        assert result.return_value == 3
        printed = result.stdout.replace("catalog-examples/invalid/", "…/").splitlines()
        *sample, count = readme_block("$ reconcile validate catalog-examples/invalid")
        assert [line for line in sample if line not in printed] == []
        assert count == result.stderr.strip().splitlines()[-1]

    def test_schemas_section_names_every_schema_written(self, tmp_path: Path) -> None:
        """README's `reconcile schemas` section names each file the command writes."""
        result = CliRunner().invoke(cli, ["schemas", "--out", str(tmp_path)], standalone_mode=False)
        assert result.return_value == 0, result.output
        written = sorted(p.name for p in tmp_path.iterdir())
        section = readme_section("## `reconcile schemas` and editor support")
        assert "plan.schema.json" in written
        assert [name for name in written if f"`{name}`" not in section] == []
