"""The schemas agree with the tool (docs/schemas.md): every example file against the schema
its modeline names, the invalid example file by file, dates, comments-only files, and the
plan reader against plan.schema.json, each checked by a real validator (jsonschema)."""

from __future__ import annotations

import calendar
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconcile.errors import PlanFileError
from reconcile.models import Product
from reconcile.plan.plan import Plan
from tests.support.cli import run
from tests.support.schemas import (
    PLAN_SCHEMA,
    PLAN_SUMMARY_SCHEMA,
    check_outputs,
    schema_errors,
    stamps,
)

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "catalog-examples"
MODELINE = "# yaml-language-server: $schema="
INVALID_EXPECTED = Path(__file__).parent / "desired" / "invalid_expected.txt"
#: Files of invalid/ whose only problems JSON Schema cannot express (docs/schemas.md):
#: anchors, a SKU declared in two files, an empty file (null, like comments), nesting
#: depth and file size. (boms.yaml's kit rules are validate's alone too, but its quantity
#: 0 is flagged by both.)
ONLY_VALIDATE = {
    "anchors.yaml",
    "duplicate-skus.yaml",
    "empty.yaml",
    "nesting.yaml",
    "oversized.yaml",
}


def yaml_data(path: Path) -> Any:
    """What an editor's YAML 1.2 server hands the schema: unquoted dates stay text."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.isoformat() if isinstance(value, dt.date) else value

    return plain(YAML(typ="safe", pure=True).load(path.read_bytes()))


def modeline_schema(path: Path) -> Path:
    """The schema a file's modeline names (an empty file has none: the catalog schema)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines() or [
        f"{MODELINE}schemas/catalog.schema.json"
    ]
    return (path.parent / lines[0].removeprefix(MODELINE)).resolve()


def example_files() -> list[Path]:
    found = []
    for name in ("starter", "kits", "gitops"):
        found += [
            p
            for p in (EXAMPLES / name).rglob("*.yaml")
            if ".reconcile" not in p.parts
            and ".github" not in p.parts
            and p.name != ".pre-commit-config.yaml"
        ]
    return sorted(found)


def errors_against_own_schema(path: Path) -> list[str]:
    schema = modeline_schema(path)
    assert schema.is_file(), f"{path}: its modeline names {schema}, which does not exist"
    return schema_errors(schema.name, yaml_data(path))


class TestExampleCatalogs:
    @pytest.mark.parametrize("path", example_files(), ids=lambda p: str(p.relative_to(EXAMPLES)))
    def test_every_example_file_satisfies_its_schema(self, path: Path) -> None:
        assert errors_against_own_schema(path) == []

    def test_invalid_example_schema_and_validate_agree_file_by_file(self) -> None:
        """A file of invalid/ has errors for the schema (or for YAML itself, as editors
        report) exactly when `validate` reports errors in it, but for the documented rules."""
        errors_by_validate = {
            line.split(":", 1)[0]
            for line in INVALID_EXPECTED.read_text().splitlines()
            if ": warning: " not in line
        }
        disagree = set()
        for path in sorted((EXAMPLES / "invalid").glob("*.yaml")):
            try:
                flagged = bool(errors_against_own_schema(path))
            except (YAMLError, UnicodeDecodeError):
                flagged = True  # syntax, encoding, duplicate keys, tags: the editor's YAML
            if flagged != (path.name in errors_by_validate):
                disagree.add(path.name)
        assert disagree == ONLY_VALIDATE


def product_with(**fields: Any) -> dict[str, Any]:
    return {"products": [{"sku": "A", "productType": "ITEM", "details": {}, **fields}]}


def model_accepts(document: dict[str, Any]) -> bool:
    try:
        Product.model_validate({"clientId": "C1", **document["products"][0]})
    except ValidationError:
        return False
    return True


class TestCatalogRules:
    def test_a_comments_only_file_is_accepted_by_both(self, tmp_path: Path) -> None:
        (tmp_path / "reconcile.yaml").write_text("client_id: C1\n")
        (tmp_path / "later.yaml").write_text("# products will go here\n")
        assert run(["validate", str(tmp_path)]).return_value == 0
        assert schema_errors("catalog.schema.json", yaml_data(tmp_path / "later.yaml")) == []

    def test_impossible_dates_are_refused_by_both(self) -> None:
        for value in ("2026-13-45T99:99:99Z", "2026-02-30T00:00:00Z", "2026-04-31T09:00:00Z"):
            document = product_with(createDate=value)
            assert schema_errors("catalog.schema.json", document), value
            assert not model_accepts(document), value

    def test_every_day_of_every_month_agrees(self) -> None:
        """Sweep months 0-13 and days 0-32 of a leap and a common year, hours and offsets:
        the schema and the model agree except on February 29 of a common year."""
        disagree = []
        for year in (2024, 2026):
            for month in range(14):
                for day in range(33):
                    for clock in ("00:00:00Z", "23:59:59.5+0530", "24:00:00Z", "12:60:00-0100"):
                        value = f"{year}-{month:02d}-{day:02d}T{clock}"
                        document = product_with(createDate=value)
                        if (not schema_errors("catalog.schema.json", document)) != model_accepts(
                            document
                        ):
                            disagree.append(value)
        assert disagree == ["2026-02-29T00:00:00Z", "2026-02-29T23:59:59.5+0530"]
        assert not calendar.isleap(2026)


def saved_plan(tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """A real plan with changes, written by `plan --out` (and so checked by the runner)."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "reconcile.yaml").write_text("client_id: C1\n")
    (catalog / "items.yaml").write_text(
        "products:\n  - sku: A1\n    productType: ITEM\n    details: {description: a}\n"
    )
    out, summary = tmp_path / "plan.json", tmp_path / "summary.json"
    args = ["plan", str(catalog), "--out", str(out), "--summary-json", str(summary)]
    assert run(args).return_value == 0
    assert schema_errors(PLAN_SUMMARY_SCHEMA, json.loads(summary.read_text())) == []
    return json.loads(out.read_text()), out


def reader_accepts(document: dict[str, Any]) -> bool:
    try:
        Plan.from_json(json.dumps(document))
    except PlanFileError:
        return False
    return True


class TestPlanSchema:
    def test_the_issues_four_field_file_is_refused_by_both(self) -> None:
        document = {"timestamp": "t", "environment": "local", "client_id": "C1", "prune": False}
        assert schema_errors(PLAN_SCHEMA, document)
        assert not reader_accepts(document)

    def test_reader_and_schema_agree(self, tmp_path: Path) -> None:
        plan, _ = saved_plan(tmp_path)
        assert plan["changes"], "the plan should hold a change"
        no_op = {**plan["changes"][0], "action": "no-op"}
        variants: dict[str, dict[str, Any]] = {
            "as written": plan,
            "without changes": {k: v for k, v in plan.items() if k != "changes"},
            "without format_version": {k: v for k, v in plan.items() if k != "format_version"},
            "a no-op change": {**plan, "changes": [no_op]},
            "an unknown field": {**plan, "extra": 1},
        }
        for version in ("1.0", "1.00", "01.0", "1.1", "1.2", "2.0", "0.9", "1", "1.0.0", "v1.0"):
            variants[f"format_version {version}"] = {**plan, "format_version": version}
        for field in ("timestamp", "environment", "client_id", "prune", "targets", "summary"):
            variants[f"without {field}"] = {k: v for k, v in plan.items() if k != field}
        verdicts = {
            name: (not schema_errors(PLAN_SCHEMA, doc), reader_accepts(doc))
            for name, doc in variants.items()
        }
        assert {name: v for name, v in verdicts.items() if v[0] != v[1]} == {}
        accepted = {name for name, (schema_ok, _) in verdicts.items() if schema_ok}
        assert accepted == {
            "as written",
            "format_version 1.0",
            "format_version 1.00",
            "format_version 01.0",
            "format_version 1.1",
            "without targets",
            "without summary",
        }

    def test_the_runner_catches_a_written_file_that_breaks_its_schema(self, tmp_path: Path) -> None:
        """The check every `plan --out/--summary-json` of the suite goes through bites."""
        summary = tmp_path / "summary.json"
        args = ["plan", str(tmp_path), "--summary-json", str(summary)]
        before = stamps([summary])
        summary.write_text('{"format_version": "1.0"}')
        with pytest.raises(AssertionError, match=r"plan-summary\.schema\.json"):
            check_outputs(args, before, 0, "")
