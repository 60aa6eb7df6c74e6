"""`reconcile merchants` over HTTP against the served emulator: every merchant through
0-based pages, sorted as asked, filtered by status; the JSON output and its schema."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from reconcile.desired import schema_text
from reconcile.probe.check import JSON_SCHEMA as PROBE_SCHEMA
from reconcile.remote.merchants import MerchantList
from tests.probe.probing import catalog, credentials
from tests.support.cli import Run, run
from tests.support.sandbox import ServedSandboxHandle

SCHEMAS = Path(__file__).parents[2] / "schemas"


def merchants(directory: Path, sandbox: ServedSandboxHandle, *args: str) -> Run:
    return run(["merchants", str(directory), "--env", "staging", *args], env=credentials(sandbox))


def small_pages(tmp_path: Path, sandbox: ServedSandboxHandle) -> Path:
    return catalog(tmp_path, sandbox, "limits:\n  page_size: 10\n")


class TestMerchants:
    def test_all_64_through_0_based_pages_sorted(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """64 fixtures in pages of 10: pages 0 to 6 asked, each merchant once, in PB's
        order for fullName,desc."""
        result = merchants(
            small_pages(tmp_path, sandbox), sandbox, "--format", "json", "--sort", "fullName,desc"
        )
        assert result.code == 0, result.stderr
        listed = json.loads(result.stdout)["merchants"]
        assert len(listed) == 64
        assert len({m["email"] for m in listed}) == 64
        names = [m["full_name"] for m in listed]
        assert names == sorted(names, key=str.lower, reverse=True)
        pages = [e["path"] for e in sandbox.admin.log() if "merchants" in e["path"]]
        assert len(pages) == 7

    def test_sort_ascending_by_registration(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """registeredDate (epoch ms) comes out as an ISO date-time, ascending."""
        result = merchants(
            small_pages(tmp_path, sandbox),
            sandbox,
            "--format",
            "json",
            "--sort",
            "registeredDate,asc",
        )
        registered = [m["registered"] for m in json.loads(result.stdout)["merchants"]]
        assert registered == sorted(registered) and registered[0].startswith("2021-03-01")

    def test_status_filter(self, tmp_path: Path, sandbox: ServedSandboxHandle) -> None:
        """--status INACTIVE lists the inactive ones only, with their reason."""
        result = merchants(
            catalog(tmp_path, sandbox), sandbox, "--format", "json", "--status", "inactive"
        )
        listed = json.loads(result.stdout)["merchants"]
        assert listed and all(m["status"] == "INACTIVE" and m["status_reason"] for m in listed)

    def test_text_table(self, tmp_path: Path, sandbox: ServedSandboxHandle) -> None:
        """Text: one row per merchant with shipper id and carrier accounts; count on stderr."""
        result = merchants(catalog(tmp_path, sandbox), sandbox)
        assert result.code == 0
        assert "shipper id" in result.stdout and "FEDEX 700000" in result.stdout
        assert "64 merchants of developer 'sandbox-developer'" in result.stderr

    def test_loaded_merchants(self, tmp_path: Path, sandbox: ServedSandboxHandle) -> None:
        """Merchants loaded through the admin route are the ones listed."""
        one = {"fullName": "Zed Loaded", "merchantStatus": "ACTIVE", "registeredDate": 0}
        sandbox.admin._call("POST", "merchants", {"merchants": [one]})
        result = merchants(catalog(tmp_path, sandbox), sandbox, "--format", "json")
        assert [m["full_name"] for m in json.loads(result.stdout)["merchants"]] == ["Zed Loaded"]

    def test_no_developer_id_exit_3(self, tmp_path: Path, sandbox: ServedSandboxHandle) -> None:
        """Without a developer id the message names the setting and both variables."""
        (tmp_path / "reconcile.yaml").write_text(
            f"client_id: C1\nenvironments:\n  staging:\n    base_url: {sandbox.url}\n"
        )
        result = merchants(tmp_path, sandbox)
        assert result.code == 3
        assert "PB_STAGING_DEVELOPER_ID" in result.stderr and "PB_DEVELOPER_ID" in result.stderr

    def test_unknown_developer_exit_4(self, tmp_path: Path, sandbox: ServedSandboxHandle) -> None:
        """A developer id PB does not know: PB's 404, exit 4."""
        env = {**credentials(sandbox), "PB_STAGING_DEVELOPER_ID": "nobody"}
        result = run(["merchants", str(catalog(tmp_path, sandbox)), "--env", "staging"], env=env)
        assert result.code == 4

    def test_bad_sort_is_a_usage_error(self, tmp_path: Path, sandbox: ServedSandboxHandle) -> None:
        result = merchants(catalog(tmp_path, sandbox), sandbox, "--sort", "fullName,sideways")
        assert result.code == 64


class TestSchemas:
    def test_merchants_schema_is_current(self) -> None:
        """schemas/merchants.schema.json is generated from the output model."""
        text = (SCHEMAS / "merchants.schema.json").read_text()
        assert text == schema_text(MerchantList.json_schema())

    def test_merchants_output_satisfies_its_schema(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        result = merchants(catalog(tmp_path, sandbox), sandbox, "--format", "json")
        schema = json.loads((SCHEMAS / "merchants.schema.json").read_text())
        assert list(Draft202012Validator(schema).iter_errors(json.loads(result.stdout))) == []

    def test_probe_schema_is_current_and_met(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """schemas/probe.schema.json matches the code, and probe's JSON satisfies it."""
        assert (SCHEMAS / "probe.schema.json").read_text() == schema_text(PROBE_SCHEMA)
        Draft202012Validator.check_schema(PROBE_SCHEMA)
        result = run(
            ["probe", str(catalog(tmp_path, sandbox)), "--env", "staging", "--format", "json"],
            env=credentials(sandbox),
        )
        errors = Draft202012Validator(PROBE_SCHEMA).iter_errors(json.loads(result.stdout))
        assert list(errors) == []
