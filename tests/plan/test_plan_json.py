"""The plan as versioned JSON: round trip, refusals, schema, and plan-level convergence."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconcile.errors import PlanFileError
from reconcile.models import Bom, Product, ResourceSet
from reconcile.plan.build import build_plan
from reconcile.plan.consistency import inconsistencies
from reconcile.plan.plan import FORMAT_VERSION, Plan
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
        assert data["format_version"] == FORMAT_VERSION == "1.1"

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
        text = sample_plan().to_json().replace('"format_version": "1.1"', '"format_version": "2.0"')
        with pytest.raises(
            PlanFileError, match=r"newer reconcile \(format 2\.0.*upgrade reconcile"
        ):
            Plan.from_json(text)

    def test_older_major_version(self) -> None:
        """A plan of an older major format asks to plan again."""
        text = sample_plan().to_json().replace('"format_version": "1.1"', '"format_version": "0.9"')
        with pytest.raises(PlanFileError, match="make the plan again"):
            Plan.from_json(text)

    def test_same_major_newer_minor_is_refused(self) -> None:
        """A 1.2 plan with a field 1.1 does not know is refused (64) as made by a newer
        reconcile, never read with the new field silently dropped."""
        data = json.loads(sample_plan().to_json())
        data.update(format_version="1.2", approvals=["alice"])
        with pytest.raises(PlanFileError) as caught:
            Plan.from_json(json.dumps(data), source="p.json")
        assert caught.value.exit_code == 64
        assert str(caught.value) == (
            "p.json was made by a newer reconcile (format 1.2, this one reads 1.1): "
            "upgrade reconcile or make the plan again"
        )

    def test_same_or_lower_minor_is_read(self) -> None:
        """A plan of this reader's own major and minor version loads."""
        text = sample_plan().to_json()
        assert Plan.from_json(text).format_version == "1.1"
        older = text.replace('"format_version": "1.1"', '"format_version": "1.0"')
        assert Plan.from_json(older).format_version == "1.0"  # 1.0 plans have no `kept`

    @pytest.mark.parametrize("version", ["1", "1.x", "v1.0", 1.0, None, "1.0.1"])
    def test_malformed_version_is_refused(self, version: object) -> None:
        """A format_version that is not MAJOR.MINOR is refused with the way out."""
        data = json.loads(sample_plan().to_json())
        data["format_version"] = version
        with pytest.raises(PlanFileError, match=r"not MAJOR\.MINOR"):
            Plan.from_json(json.dumps(data))

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


def tampered(address: str, edit: Callable[[dict[str, Any]], object]) -> str:
    """The PlanFileError message for sample_plan() with one change edited in its JSON."""
    data = json.loads(sample_plan().to_json())
    [change] = [c for c in data["changes"] if c["address"] == address]
    edit(change)
    with pytest.raises(PlanFileError) as caught:
        Plan.from_json(json.dumps(data), source="p.json")
    assert caught.value.exit_code == 64
    message = str(caught.value)
    assert message.startswith("p.json contradicts itself") and "nothing was applied" in message
    return message


class TestConsistency:
    def test_edited_after_is_refused(self) -> None:
        """An `after` edited past what its field changes (the reviewed part) show is refused."""
        message = tampered(
            "product.A", lambda c: c["after"]["details"].update(description="NOT reviewed")
        )
        assert "product.A: field_changes are not the difference between before and after" in message

    def test_hidden_field_change_is_refused(self) -> None:
        """Dropping a field change, so that review shows less than apply writes, is refused."""
        message = tampered("bom.K", lambda c: c.update(field_changes=[]))
        assert "bom.K: field_changes are not the difference" in message

    def test_another_client_is_refused(self) -> None:
        """A change for another client than the plan's is refused, even with key and after
        agreeing."""

        def victim(change: dict[str, Any]) -> None:
            change["key"]["clientId"] = change["after"]["clientId"] = "VICTIM"

        message = tampered("product.K", victim)
        assert "product.K: clientId 'VICTIM' is not the plan's client 'ACME'" in message

    def test_after_of_another_resource_is_refused(self) -> None:
        """An `after` naming another SKU than the change's key is refused."""
        message = tampered("product.K", lambda c: c["after"].update(sku="B"))
        assert 'product.K: after is {"clientId":"ACME","sku":"B"}, not the change\'s key' in message

    def test_address_must_match_the_key(self) -> None:
        """An address that names another resource than the key is refused."""
        message = tampered("product.K", lambda c: c.update(address="product.Q"))
        assert 'product.Q: address does not match key {"clientId":"ACME","sku":"K"}' in message

    def test_invalid_after_is_refused_before_any_write(self) -> None:
        """A BOM quantity of 0 is caught when the plan is read, not mid-apply."""
        message = tampered(
            "bom.K", lambda c: c["after"]["billOfMaterialDetails"][0].update(quantity=0)
        )
        assert "bom.K: after is not a valid bom: billOfMaterialDetails.0.quantity" in message

    def test_create_with_a_before_state_is_refused(self) -> None:
        """A create must not carry a before state or a precondition."""
        plan = sample_plan()
        before = plan.by_address()["product.A"].before
        message = tampered("product.K", lambda c: c.update(before=before))
        assert "product.K: a create has no before state and no precondition" in message

    def test_remote_id_only_on_existing_boms(self) -> None:
        """A PB BOM id on a product change or a create is refused."""
        message = tampered("product.A", lambda c: c.update(remote_id="BOM-1"))
        assert "product.A: only a write to an existing BOM has a remote_id" in message

    def test_update_without_precondition_is_refused(self) -> None:
        """An update must carry the remote state it was computed against."""
        message = tampered("product.A", lambda c: c.update(precondition=None))
        assert "product.A: an update needs a before state and a precondition" in message

    def test_deactivation_that_stays_active_is_refused(self) -> None:
        """A deactivate must set active to false and change nothing else."""
        message = tampered("product.Z", lambda c: c["after"].update(active=True))
        assert "product.Z: a deactivate must change nothing but active" in message
        message = tampered("product.Z", lambda c: c["after"]["details"].update(description="x"))
        assert "product.Z: a deactivate must change nothing but active" in message

    def test_precondition_digest_must_be_the_digest_of_before(self) -> None:
        """A precondition digest that is not the digest of `before` is refused."""
        message = tampered("bom.K", lambda c: c["precondition"].update(digest="sha256:00"))
        assert "bom.K: precondition.digest is not the digest of before" in message

    def test_unknown_dependency_is_refused(self) -> None:
        """depends_on must name changes of the same plan."""
        message = tampered("bom.K", lambda c: c.update(depends_on=["product.GHOST"]))
        assert "bom.K: depends on product.GHOST, which is not in the plan" in message

    def test_many_problems_are_counted(self) -> None:
        """Past five problems the message counts the rest."""
        data = json.loads(sample_plan().to_json())
        for change in data["changes"]:
            change["key"]["clientId"] = "OTHER"
        with pytest.raises(PlanFileError, match=r"… and \d+ more"):
            Plan.from_json(json.dumps(data))

    @settings(max_examples=40, deadline=None)
    @given(catalogs(), catalogs(remote=True), st.booleans())
    def test_every_built_plan_is_consistent(
        self, desired: ResourceSet, current: ResourceSet, prune: bool
    ) -> None:
        """Whatever build_plan makes passes the checks a saved plan must pass."""
        plan = build_plan(desired, current, environment="e", client_id=CLIENT, prune=prune)
        assert inconsistencies(plan.changes, plan.client_id) == []


class TestModels:
    def test_after_and_before_models(self) -> None:
        """Changes hand out their whole states as models of their kind."""
        index = sample_plan().by_address()
        update, create = index["bom.K"], index["product.K"]
        assert isinstance(update.after_model(), Bom) and isinstance(update.before_model(), Bom)
        assert update.after_model().model_dump(mode="json", exclude_none=True) == update.after
        assert isinstance(create.after_model(), Product) and create.before_model() is None


class TestFingerprint:
    def test_same_changes_same_fingerprint(self) -> None:
        """The fingerprint covers the changes only: timestamp and round trip do not move it."""
        plan = sample_plan()
        later = plan.model_copy(update={"timestamp": "2030-01-01T00:00:00Z"})
        assert plan.fingerprint() == later.fingerprint()
        assert Plan.from_json(plan.to_json()).fingerprint() == plan.fingerprint()
        assert len(plan.fingerprint()) == 64 and plan.short_fingerprint() == plan.fingerprint()[:12]

    def test_other_changes_other_fingerprint(self) -> None:
        """Dropping or altering a change changes the fingerprint."""
        plan = sample_plan()
        fewer = plan.model_copy(update={"changes": plan.changes[:-1]})
        assert fewer.fingerprint() != plan.fingerprint()


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
