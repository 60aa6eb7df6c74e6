"""The plan as versioned JSON: round trip, refusals, schema, and plan-level convergence."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.errors import PlanFileError
from reconcile.models import Bom, Product, ResourceSet
from reconcile.plan.plan import FORMAT_VERSION, Plan, build_plan
from tests.plan.factories import CLIENT, bom, kit, product, resources
from tests.plan.strategies import catalogs

SCHEMA_FILE = Path(__file__).parents[2] / "schemas" / "plan.schema.json"


def sample_plan() -> Plan:
    desired = resources([product("A", description="new [/] ü"), kit("K"), bom("K", {"A": 2})])
    remote = resources([product("A"), product("Z"), bom("K", {"A": 1})], remote=True)
    return build_plan(
        desired,
        remote,
        environment="local",
        client_id=CLIENT,
        prune=True,
        sandbox_file=".reconcile/sandbox.sqlite3",
        targets=["*"],
        excludes=["X*"],
        timestamp="2026-11-22T10:00:00Z",
    )


def applied(current: ResourceSet, plan: Plan) -> ResourceSet:
    """What PB holds after every change of the plan succeeded (PUT replaces the object)."""
    result = ResourceSet(dict(current.products), dict(current.boms), dict(current.meta))
    for change in plan.changes:
        assert change.after is not None
        if change.kind == "product":
            result.add_product(Product.model_validate(change.after))
        else:
            result.add_bom(Bom.model_validate(change.after))
    return result


class TestRoundTrip:
    def test_sample_plan_round_trips(self) -> None:
        """A plan read back from its JSON equals the original."""
        plan = sample_plan()
        assert Plan.from_json(plan.to_json()) == plan

    def test_json_is_stable(self) -> None:
        """The same inputs give byte-identical JSON (apart from the timestamp we pin)."""
        assert sample_plan().to_json() == sample_plan().to_json()

    def test_json_carries_the_format_version(self) -> None:
        """Every plan names the format version of the contract it follows."""
        data = json.loads(sample_plan().to_json())
        assert data["format_version"] == FORMAT_VERSION == "1.0"

    @settings(max_examples=60, deadline=None)
    @given(catalogs(), catalogs(remote=True), st.booleans())
    def test_random_plans_round_trip(
        self, desired: ResourceSet, current: ResourceSet, prune: bool
    ) -> None:
        """For random catalogs, from_json(to_json(plan)) == plan."""
        plan = build_plan(desired, current, environment="e", client_id=CLIENT, prune=prune)
        assert Plan.from_json(plan.to_json()) == plan


class TestConvergence:
    @settings(max_examples=60, deadline=None)
    @given(catalogs(), catalogs(remote=True), st.booleans())
    def test_applying_every_change_leaves_nothing_to_do(
        self, desired: ResourceSet, current: ResourceSet, prune: bool
    ) -> None:
        """Once every planned `after` is in PB, planning again finds no changes."""
        first = build_plan(desired, current, environment="e", client_id=CLIENT, prune=prune)
        second = build_plan(
            desired, applied(current, first), environment="e", client_id=CLIENT, prune=prune
        )
        assert second.changes == []
        assert second.unmanaged == first.unmanaged

    @settings(max_examples=60, deadline=None)
    @given(catalogs(), catalogs(remote=True))
    def test_every_declared_resource_is_accounted_for(
        self, desired: ResourceSet, current: ResourceSet
    ) -> None:
        """Each declared resource is exactly one create, update or no-op."""
        plan = build_plan(desired, current, environment="e", client_id=CLIENT)
        p, b = plan.summary.product, plan.summary.bom
        assert p.create + p.update + p.no_op == len(desired.products)
        assert b.create + b.update + b.no_op == len(desired.boms)
        assert len({c.address for c in plan.changes}) == len(plan.changes)


class TestRefusals:
    def test_not_json(self) -> None:
        """A file that is not JSON is a usage error naming the file."""
        with pytest.raises(PlanFileError, match=r"plan\.txt is not JSON") as caught:
            Plan.from_json("hello", source="plan.txt")
        assert caught.value.exit_code == 64

    def test_json_that_is_not_a_plan(self) -> None:
        """JSON without format_version and changes is refused with the way to make a plan."""
        with pytest.raises(PlanFileError, match=r"is not a reconcile plan.*reconcile plan --out"):
            Plan.from_json('{"products": []}')

    def test_newer_major_version(self) -> None:
        """A plan of a newer major format asks for a newer reconcile."""
        text = sample_plan().to_json().replace('"format_version": "1.0"', '"format_version": "2.0"')
        with pytest.raises(PlanFileError, match=r"format_version .2\.0.*upgrade reconcile"):
            Plan.from_json(text)

    def test_older_major_version(self) -> None:
        """A plan of an older major format asks to plan again."""
        text = sample_plan().to_json().replace('"format_version": "1.0"', '"format_version": "0.9"')
        with pytest.raises(PlanFileError, match="make the plan again"):
            Plan.from_json(text)

    def test_same_major_newer_minor_is_read(self) -> None:
        """A 1.x plan is read by a 1.0 reader."""
        text = sample_plan().to_json().replace('"format_version": "1.0"', '"format_version": "1.3"')
        assert Plan.from_json(text).format_version == "1.3"

    def test_invalid_plan_lists_the_fields(self) -> None:
        """A damaged plan names the fields that are wrong."""
        data = json.loads(sample_plan().to_json())
        data["changes"][0]["action"] = "delete"
        data["changes"][1]["surprise"] = 1
        with pytest.raises(PlanFileError) as caught:
            Plan.from_json(json.dumps(data), source="p.json")
        message = str(caught.value)
        assert "p.json is not a valid reconcile plan" in message
        assert "changes.0.action" in message and "changes.1.surprise" in message


class TestSchema:
    def test_schema_file_is_generated_from_the_model(self) -> None:
        """schemas/plan.schema.json equals Plan.json_schema() (regenerate it when this fails)."""
        assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == Plan.json_schema()

    def test_schema_is_valid_and_accepts_plans(self) -> None:
        """The schema is valid Draft 2020-12 and a real plan validates against it."""
        schema = Plan.json_schema()
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.Draft202012Validator(schema).validate(json.loads(sample_plan().to_json()))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["title"] == "reconcile plan"
