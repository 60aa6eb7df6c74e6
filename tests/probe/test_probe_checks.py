"""`reconcile probe` (read-only): every check passes against the emulator's defaults, and
each emulator alternative fails exactly the check about it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.probe.probing import catalog, failed, load_account, probe, statuses
from tests.support.sandbox import ServedSandboxHandle

#: emulator setting → the one check it must fail.
VARIANTS: list[tuple[dict[str, Any], str]] = [
    ({"results_field": "items"}, "search envelope"),
    ({"total_elements": False}, "search envelope"),
    ({"one_based_pages": False}, "paging"),
    ({"date_filters": False}, "date window"),
    ({"include_inactive": "only"}, "bom includeInactive"),
    ({"stable_order": False}, "stable order"),
    ({"extra_fields": True}, "objects"),
    ({"bom_get_by_id": False}, "get bom by id"),
    ({"not_found_error_object": False}, "absent product"),
    ({"bom_id_field": "bomId"}, "bom id field"),
]


class TestDefaults:
    def test_every_check_passes(self, tmp_path: Path, sandbox: ServedSandboxHandle) -> None:
        """Against the emulator's defaults and a full account, every check passes: exit 0."""
        load_account(sandbox)
        result = probe(catalog(tmp_path, sandbox), sandbox, "--format", "json")
        assert result.code == 0, result.stdout
        assert set(statuses(result).values()) == {"passed"}, result.stdout

    def test_nothing_is_written(self, tmp_path: Path, sandbox: ServedSandboxHandle) -> None:
        """Read-only: no POST to products or BOMs, no PUT, only searches and GETs."""
        load_account(sandbox)
        probe(catalog(tmp_path, sandbox), sandbox)
        assert sandbox.admin.count(method="PUT") == 0
        assert sandbox.admin.count(method="POST", route="/products") == 0
        assert sandbox.admin.count(method="POST", route="/bill-of-materials") == 0

    def test_text_lists_one_line_per_check(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """Text output: `passed  <name>  <detail>` for each check, names as in JSON."""
        load_account(sandbox)
        directory = catalog(tmp_path, sandbox)
        text = probe(directory, sandbox).stdout.splitlines()
        names = list(statuses(probe(directory, sandbox, "--format", "json")))
        assert len(text) == len(names)
        assert all(line.startswith("passed  ") for line in text)
        assert [line[8:32].strip() for line in text] == names

    def test_json_document_shape(self, tmp_path: Path, sandbox: ServedSandboxHandle) -> None:
        """`--format json`: {format_version, checks: [{name, status, detail}]}."""
        result = probe(catalog(tmp_path, sandbox), sandbox, "--format", "json")
        document = json.loads(result.stdout)
        assert document["format_version"] == 1
        assert all(set(c) == {"name", "status", "detail"} for c in document["checks"])

    def test_empty_account_is_unknown_not_failed(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """With nothing to sample, the checks that need objects say unknown; exit 0."""
        result = probe(catalog(tmp_path, sandbox), sandbox, "--format", "json")
        assert result.code == 0
        assert statuses(result)["objects"] == "unknown"
        assert statuses(result)["get bom by id"] == "unknown"


class TestVariants:
    @pytest.mark.parametrize(("settings", "check"), VARIANTS, ids=[c for _, c in VARIANTS])
    def test_exactly_the_matching_check_fails(
        self,
        tmp_path: Path,
        sandbox: ServedSandboxHandle,
        settings: dict[str, Any],
        check: str,
    ) -> None:
        """Each alternative answer of the emulator fails its own check and no other: exit 4."""
        load_account(sandbox)
        sandbox.admin.configure(**settings)
        result = probe(catalog(tmp_path, sandbox), sandbox, "--format", "json")
        assert failed(result) == [check], result.stdout
        assert result.code == 4

    def test_fulfillment_not_enabled_is_told_from_bad_credentials(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """A 403 on the search while merchants answers: the token is fine, Fulfillment is
        not enabled; the remaining checks are unknown."""
        sandbox.admin.configure(fulfillment_enabled=False)
        result = probe(catalog(tmp_path, sandbox), sandbox)
        assert result.code == 4
        assert "token is fine (merchants answered) but Fulfillment is not enabled" in result.stdout
        assert "unknown stable order" in " ".join(result.stdout.split())

    def test_without_developer_id_merchants_is_unknown(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """No developer id anywhere: the merchants check is unknown and names the settings."""
        directory = catalog(tmp_path, sandbox)
        text = (directory / "reconcile.yaml").read_text().replace("developer_id", "# developer_id")
        (directory / "reconcile.yaml").write_text(text)
        result = probe(directory, sandbox, "--format", "json")
        detail = {c["name"]: c for c in json.loads(result.stdout)["checks"]}["merchants"]
        assert detail["status"] == "unknown"
        assert "PB_STAGING_DEVELOPER_ID" in detail["detail"]

    def test_developer_id_from_the_environment(
        self, tmp_path: Path, sandbox: ServedSandboxHandle
    ) -> None:
        """PB_<ENV>_DEVELOPER_ID wins over reconcile.yaml (here: a wrong one, so it fails)."""
        env = {"PB_STAGING_DEVELOPER_ID": "someone-else"}
        result = probe(catalog(tmp_path, sandbox), sandbox, "--format", "json", env=env)
        assert statuses(result)["merchants"] == "failed"


class TestSettings:
    def test_invalid_settings_exit_3(self, tmp_path: Path) -> None:
        """reconcile.yaml that does not validate: exit 3, nothing sent."""
        (tmp_path / "reconcile.yaml").write_text("client_id: [1]\n")
        from tests.support.cli import run

        assert run(["probe", str(tmp_path)]).code == 3

    def test_unknown_environment_exit_3(self, tmp_path: Path, sandbox: ServedSandboxHandle) -> None:
        from tests.support.cli import run

        result = run(["probe", str(catalog(tmp_path, sandbox)), "--env", "nowhere"])
        assert result.code == 3
        assert "unknown environment 'nowhere'" in result.stderr

    def test_no_client_id_exit_3(self, tmp_path: Path) -> None:
        from tests.support.cli import run

        (tmp_path / "reconcile.yaml").write_text("prune: false\n")
        result = run(["probe", str(tmp_path)])
        assert result.code == 3
        assert "client_id" in result.stderr
