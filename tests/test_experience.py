"""The review and pipeline experience (issue 13): Terraform habits, finding the catalog,
messages that fit, drift that sees additions, apply results a pipeline can read."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest

from reconcile.cli import cli as root_command
from tests.support.cli import run
from tests.support.sandbox import ServedSandboxHandle
from tests.support.world import CLIENT, World, bom, make_world, product, remote

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "catalog-examples"
KIT = {
    "products": [product("A"), product("B"), product("KIT", kind="KIT")],
    "boms": [bom("KIT", {"A": 1, "B": 2}, node="157")],
}


@pytest.fixture
def world(
    tmp_path: Path, sandbox: ServedSandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    """A catalog whose default environment is the served emulator, as the current
    directory (commands find it there, as a user's shell would)."""
    for made in make_world("loopback", tmp_path, sandbox):
        monkeypatch.chdir(made.directory)
        yield made


def cli(world: World, *args: str, **env: str) -> Any:
    return run([*args], env={**world.environ, **env})


def all_commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from all_commands(sub, (*path, name))
    yield path


class TestGlobalOptions:
    """Finding 1: --no-color, -v and -q go before or after the command, as in Terraform."""

    @pytest.mark.parametrize("flag", ["--no-color", "-q", "-v"])
    def test_after_the_command(self, world: World, flag: str) -> None:
        """`reconcile plan --no-color` (or -q, -v) plans instead of exiting 64."""
        world.write(**KIT)
        result = cli(world, "plan", str(world.directory), flag)
        assert result.code == 0, result.output
        assert "Plan: 4 to create" in result.stdout

    def test_every_command_lists_them_in_its_help(self) -> None:
        """Each command's --help lists the global options."""
        for path in all_commands(root_command):
            result = run([*path, "--help"])
            assert result.code == 0, path
            for flag in ("--no-color", "--verbose", "--quiet"):
                assert flag in result.stdout, (path, flag)

    def test_quiet_after_the_command_silences_the_saved_note(self, world: World) -> None:
        """Finding 11: -q means quiet, "Saved the plan to …" included."""
        world.write(**KIT)
        out = world.directory.parent / "plan.json"
        loud = cli(world, "plan", str(world.directory), "--out", str(out))
        assert "Saved the plan to" in loud.stderr
        quiet = cli(world, "plan", str(world.directory), "--out", str(out), "-q")
        assert quiet.code == 0 and quiet.stderr == ""

    def test_a_typo_never_suggests_a_flag_that_changes_what_is_written(self) -> None:
        """`--no-prun` is not answered with `--no-prune`; `--no-colr` gets `--no-color`."""
        risky = run(["plan", "--no-prun"])
        assert risky.code == 64 and "--no-prune" not in risky.stderr
        harmless = run(["plan", "--no-colr"])
        # click spells the suggestion with quotes since 8.2.1, without them in 8.2.0
        assert harmless.code == 64 and "Did you mean" in harmless.stderr
        assert "--no-color" in harmless.stderr

    @pytest.mark.parametrize(
        ("typed", "ours"),
        [
            ("-auto-approve", "--auto-approve"),
            ("-detailed-exitcode", "--detailed-exitcode"),
            ("-no-color", "--no-color"),
            ("-out=plan.json", "--out plan.json"),
        ],
    )
    def test_terraform_spellings_get_ours(self, typed: str, ours: str) -> None:
        """Finding 3: Terraform's single-dash options are named in our spelling (64)."""
        result = run(["apply", typed])
        assert result.code == 64
        assert f"Did you mean {ours}?" in result.stderr and "'-a'" not in result.stderr


class TestDeclinedApply:
    """Finding 2: answering no at the prompt exits 1 with "Apply cancelled."."""

    def test_no_at_the_prompt_through_a_pseudo_terminal(self, world: World) -> None:
        """Through a real terminal on stdin: the prompt, `n`, "Apply cancelled.", exit 1,
        nothing written."""
        world.write(**KIT)
        controller, terminal = pty.openpty()
        os.write(controller, b"n\n")
        done = subprocess.run(
            [sys.executable, "-c", "from reconcile.cli import main; main()", "apply"],
            cwd=world.directory,
            stdin=terminal,
            capture_output=True,
            text=True,
            env={**os.environ, **world.environ, "NO_COLOR": "1"},
            timeout=120,
            check=False,
        )
        os.close(terminal)
        os.close(controller)
        assert "Apply these changes? [y/N]" in done.stdout, done.stdout + done.stderr
        assert done.returncode == 1, done.stdout + done.stderr
        assert "Apply cancelled." in done.stderr
        assert world.remote().products == {}


class TestSavedPlanAsDirectory:
    """Finding 3: `apply plan.json` says to use --plan."""

    def test_apply_names_the_plan_option(self, world: World) -> None:
        world.write(**KIT)
        saved = world.directory.parent / "plan.json"
        assert cli(world, "plan", str(world.directory), "--out", str(saved)).code == 0
        result = cli(world, "apply", str(saved))
        assert result.code == 64
        assert f"apply it with `reconcile apply --plan {saved}`" in result.stderr
        shown = cli(world, "plan", str(saved))
        assert shown.code == 64 and f"`reconcile show {saved}`" in shown.stderr


class TestFindingTheCatalog:
    """Finding 4: every command finds the nearest reconcile.yaml upward, like fmt."""

    def test_from_the_gitops_root_the_catalog_below_is_named(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No catalog at or above: the message names `catalog`, never "create reconcile.yaml"."""
        checkout = tmp_path / "gitops"
        shutil.copytree(EXAMPLES / "gitops", checkout)
        (checkout / ".git").mkdir()  # the repository root bounds the upward search
        monkeypatch.chdir(checkout)
        for command in ("plan", "apply", "validate", "drift", "doctor"):
            result = run([command])
            assert result.code == 3, (command, result.output)
            assert "Catalog directories below" in result.stderr and ": catalog." in result.stderr
            assert "create it" not in result.stderr, command
            assert f"`reconcile {command} catalog`" in result.stderr

    def test_an_explicit_directory_without_settings_names_the_catalogs_below(
        self, tmp_path: Path
    ) -> None:
        checkout = tmp_path / "gitops"
        shutil.copytree(EXAMPLES / "gitops", checkout)
        result = run(["validate", str(checkout)])
        assert result.code == 3 and "Catalog directories below" in result.stderr

    def test_from_inside_a_catalog_it_is_found_upward(
        self, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """In a subdirectory of the catalog, `plan` and `validate` use the catalog above."""
        world.write(**KIT)
        (world.directory / "products").mkdir()
        monkeypatch.chdir(world.directory / "products")
        assert "Plan: 4 to create" in cli(world, "plan").stdout
        assert cli(world, "validate").code == 0


class TestFailureTable:
    """Finding 5: the apply failure report fits 80 columns and never breaks an id."""

    def test_eighty_columns(self, world: World) -> None:
        world.write(**KIT)
        world.admin.configure(node_allow_list=["PB-FC-WEST"])
        result = cli(world, "apply", "--auto-approve", COLUMNS="80")
        assert result.code == 5, result.output
        start = result.stdout.index("Changes not applied")
        # The closing sentence is prose: never wrapped, a terminal folds it at its width.
        report = result.stdout[start : result.stdout.index("Apply partly failed")]
        assert max(len(line) for line in report.splitlines()) <= 80, report
        txn = next(w for w in report.split() if w.count("-") == 2 and "BC" in w)
        assert any(line.strip().endswith(txn) for line in report.splitlines()), report
        assert "bom.KIT@157" in report

    def test_wide_output_keeps_the_table(self, world: World) -> None:
        world.write(**KIT)
        world.admin.configure(node_allow_list=["PB-FC-WEST"])
        result = cli(world, "apply", "--auto-approve", COLUMNS="200")
        assert "transaction id" in result.stdout and "┃" in result.stdout


class TestCredentialsMessage:
    """Finding 9: a refused pair is named exactly; the generic pair was not read."""

    def test_environment_pair_named_alone(self, world: World) -> None:
        world.write(**KIT)
        wrong = {"PB_TEST_API_KEY": "wrong", "PB_TEST_API_SECRET": "wrong"}
        result = run(["plan", str(world.directory)], env=wrong)
        assert result.code == 4
        assert "PB_TEST_API_KEY, PB_TEST_API_SECRET" in result.stderr
        assert "PB_API_KEY" not in result.stderr

    def test_generic_pair_named_alone(self, world: World) -> None:
        world.write(**KIT)
        wrong = {"PB_API_KEY": "wrong", "PB_API_SECRET": "wrong"}
        result = run(["plan", str(world.directory)], env={**wrong, "PB_TEST_API_KEY": None})
        assert result.code == 4
        assert "read from PB_API_KEY, PB_API_SECRET)" in result.stderr


class TestTokenRetryIds:
    """Finding 11: a token retry is the next attempt of the same operation, logged as the
    token's, not as the search it was fetched for."""

    def test_retry_keeps_the_sequence_number(self, world: World) -> None:
        world.write(**KIT)
        world.admin.fault("503", method="POST", path_prefix="/oauth/token", times=1)
        result = cli(world, "-vv", "plan", str(world.directory))
        assert result.code == 0, result.output
        tokens = [e for e in world.admin.log() if e["route"].endswith("/oauth/token")]
        ids = [e["transaction_id"] for e in tokens]
        assert len(ids) == 2, ids
        assert ids[0].rsplit("-", 1)[0] == ids[1].rsplit("-", 1)[0], ids
        assert [i.rsplit("-", 1)[1] for i in ids] == ["1", "2"], ids
        retried = [line for line in result.stderr.splitlines() if ids[0] in line and "INFO" in line]
        assert retried and all("token (for product.search" in line for line in retried), retried


class TestApplySummaryJson:
    """Finding 13: `apply --summary-json FILE`, end to end against the served emulator."""

    def schema(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((ROOT / "schemas/apply-summary.schema.json").read_text())
        return data

    def test_success(self, world: World) -> None:
        world.write(**KIT)
        out = world.directory.parent / "applied.json"
        result = cli(world, "apply", "--auto-approve", "--summary-json", str(out))
        assert result.code == 0, result.output
        summary = json.loads(out.read_text())
        jsonschema.validate(summary, self.schema())
        assert summary["outcome"] == "applied" and summary["exit_code"] == 0
        assert summary["counts"]["done"] == 4 and len(summary["fingerprint"]) == 64
        assert {r["address"] for r in summary["resources"]} >= {"product.A", "bom.KIT@157"}

    def test_failed_skipped_and_pb_error(self, world: World) -> None:
        """A failed BOM carries PB's code, message and transaction id; the product it
        stops from being deactivated is skipped, naming the dependency."""
        world.write(**KIT)
        assert world.apply().succeeded
        world.admin.configure(node_allow_list=["PB-FC-WEST"])
        world.write(
            products=[product("A"), product("KIT", kind="KIT")],
            boms=[bom("KIT", {"A": 1}, node="157")],
            prune=True,
        )
        out = world.directory.parent / "applied.json"
        result = cli(world, "apply", "--auto-approve", "--force", "--summary-json", str(out))
        assert result.code == 5, result.output
        summary = json.loads(out.read_text())
        jsonschema.validate(summary, self.schema())
        by_address = {r["address"]: r for r in summary["resources"]}
        failed = by_address["bom.KIT@157"]
        assert failed["status"] == "failed" and failed["error"]["code"]
        assert failed["error"]["transaction_id"].count("-") == 2
        skipped = by_address["product.B"]
        assert skipped["status"] == "skipped"
        assert skipped["skipped_because"] == "bom.KIT@157"
        assert summary["outcome"] == "partly failed" and summary["exit_code"] == 5

    def test_refused_and_cancelled_runs_are_written_too(self, world: World) -> None:
        """A stale saved plan (exit 7) still leaves a summary saying why."""
        world.write(**KIT)
        saved = world.directory.parent / "plan.json"
        assert cli(world, "plan", "--out", str(saved), str(world.directory)).code == 0
        world.admin.load(products=[remote(product("A", description="changed"))])
        out = world.directory.parent / "applied.json"
        result = cli(
            world, "apply", str(world.directory), "--plan", str(saved), "--summary-json", str(out)
        )
        assert result.code == 7, result.output
        summary = json.loads(out.read_text())
        assert summary["outcome"] == "refused" and summary["exit_code"] == 7
        assert summary["resources"] == [] and "product.A" in summary["error"]


class TestDrift:
    """Finding 12: `reconcile drift` counts what the catalog does not declare."""

    def test_a_product_added_behind_the_catalogs_back(self, world: World) -> None:
        world.write(**KIT)
        assert world.apply().succeeded
        assert cli(world, "drift").code == 0
        world.admin.load(products=[remote(product("PORTAL-ADDED"))])
        assert cli(world, "plan", "--detailed-exitcode").code == 0  # the gap drift closes
        text = cli(world, "drift")
        assert text.code == 2 and "product.PORTAL-ADDED" in text.stdout
        assert "reconcile import" in text.stdout and "--prune" in text.stdout
        as_json = cli(world, "drift", "--format", "json")
        document = json.loads(as_json.stdout)
        assert as_json.code == 2 and document["drifted"] is True
        assert document["unmanaged"] == ["product.PORTAL-ADDED"] and document["changes"] == []
        markdown = cli(world, "drift", "--format", "markdown").stdout
        assert markdown.startswith(f"<!-- reconcile-drift:test:{CLIENT} -->")
        assert (
            "| `product.PORTAL-ADDED` |" in markdown and "--target product.PORTAL-ADDED" in markdown
        )

    def test_changes_count_as_drift(self, world: World) -> None:
        world.write(**KIT)
        result = cli(world, "drift", "--format", "markdown")
        assert result.code == 2 and "### What apply would change" in result.stdout
