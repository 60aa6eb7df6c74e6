"""Fulfillment centers (overview page: CVG, ID 157): an unknown BOM node is a validate
warning naming it and the known ids; reconcile.yaml adds ids; the developer id's sources."""

from __future__ import annotations

from pathlib import Path

from reconcile.settings import Environment, Settings, developer_id_for, known_fulfillment_centers
from tests.support.cli import run

CATALOG = """products:
  - sku: A
    productType: ITEM
    details: {description: a}
  - sku: K
    productType: KIT
    details: {description: k}
boms:
  - sku: K
    node: "%s"
    description: kit
    billOfMaterialDetails:
      - {sku: A, quantity: 1}
"""


def validate(tmp_path: Path, node: str, settings: str = "") -> tuple[int, str]:
    (tmp_path / "reconcile.yaml").write_text("client_id: C1\n" + settings)
    (tmp_path / "catalog.yaml").write_text(CATALOG % node)
    result = run(["validate", str(tmp_path)], env={"NO_COLOR": "1"})
    return result.code, result.output


class TestNodes:
    def test_documented_center_is_quiet(self, tmp_path: Path) -> None:
        code, output = validate(tmp_path, "157")
        assert code == 0 and "fulfillment center" not in output

    def test_unknown_node_is_a_warning_naming_the_known(self, tmp_path: Path) -> None:
        """A warning (exit 0), at the node's line, with the ids it knows."""
        code, output = validate(tmp_path, "PB-FC-EAST")
        assert code == 0
        assert (
            "catalog.yaml:10:11: warning: node 'PB-FC-EAST' is not a known fulfillment "
            "center (known: 157)" in output
        )

    def test_settings_add_centers(self, tmp_path: Path) -> None:
        code, output = validate(tmp_path, "NEW-9", "fulfillment_centers: [NEW-9]\n")
        assert code == 0 and "fulfillment center" not in output
        settings = Settings(fulfillment_centers=["NEW-9", "157"])
        assert known_fulfillment_centers(settings) == ("157", "NEW-9")


class TestDeveloperId:
    def test_sources_in_order(self) -> None:
        """PB_<ENV>_DEVELOPER_ID, then reconcile.yaml, then PB_DEVELOPER_ID."""
        env = Environment(base_url="https://pb.example.com", developer_id="yaml")
        bare = Environment(base_url="https://pb.example.com")
        both = {"PB_STAGING_DEVELOPER_ID": "specific", "PB_DEVELOPER_ID": "generic"}
        assert developer_id_for("staging", env, both) == "specific"
        assert developer_id_for("staging", env, {"PB_DEVELOPER_ID": "generic"}) == "yaml"
        assert developer_id_for("staging", bare, {"PB_DEVELOPER_ID": "generic"}) == "generic"
        assert developer_id_for("staging", bare, {}) is None

    def test_local_serves_the_emulator_fixtures(self, tmp_path: Path) -> None:
        """The embedded `local` environment knows the emulator's developer id."""
        (tmp_path / "reconcile.yaml").write_text("client_id: C1\n")
        result = run(["merchants", str(tmp_path), "--format", "json"])
        assert result.code == 0 and '"developer_id": "sandbox-developer"' in result.stdout
