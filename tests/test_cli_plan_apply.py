"""The plan, apply and show commands through the real entry point: output and exit codes."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import Run, run
from tests.support.sandbox import ServedSandboxHandle
from tests.support.world import CLIENT, World, bom, make_world, product, remote
from tests.test_engine_failures import REFUSED, refused_product

EXAMPLES = Path(__file__).parent.parent / "catalog-examples"
ANSI = "\x1b["


@pytest.fixture
def world(tmp_path: Path, sandbox: ServedSandboxHandle) -> Iterator[World]:
    """A catalog whose default environment is the served emulator on 127.0.0.1."""
    yield from make_world("loopback", tmp_path, sandbox)


def cli(world: World, *args: str, stdin: str | None = None) -> Run:
    return run([*args], env=world.environ, stdin=stdin)


KIT = {
    "products": [product("A"), product("KIT", kind="KIT")],
    "boms": [bom("KIT", {"A": 1})],
}


class TestQuickStart:
    """The README's main job: apply the kits example on `local`, then plan converges."""

    def test_apply_then_plan_detailed_exitcode(self, tmp_path: Path) -> None:
        """`apply catalog-examples/kits --auto-approve` then `plan --detailed-exitcode` → 0."""
        catalog = tmp_path / "kits"
        shutil.copytree(EXAMPLES / "kits", catalog, ignore=shutil.ignore_patterns(".reconcile"))
        first = run(["apply", str(catalog), "--auto-approve"])
        assert first.code == 0, first.stderr + first.stdout
        assert "Apply complete" in first.stdout
        assert "environment 'local'" in first.stdout and "sandbox.db" in first.stdout
        assert (catalog / ".reconcile").is_dir()
        again = run(["plan", str(catalog), "--detailed-exitcode"])
        assert again.code == 0, again.stdout
        assert "No changes" in again.stdout


class TestPlanCommand:
    """`reconcile plan`: formats, saved plans and exit codes."""

    def test_detailed_exitcode_two_when_changes(self, world: World) -> None:
        """With changes, --detailed-exitcode exits 2; without the flag, 0."""
        world.write(**KIT)
        assert cli(world, "plan", str(world.directory), "--detailed-exitcode").code == 2
        result = cli(world, "plan", str(world.directory))
        assert result.code == 0
        assert "+ product.A" in result.stdout and "Plan: 3 to create" in result.stdout

    def test_json_format_is_only_json(self, world: World) -> None:
        """--format json prints the plan JSON and nothing else on stdout."""
        world.write(**KIT)
        result = cli(world, "plan", str(world.directory), "--format", "json")
        data = json.loads(result.stdout)
        assert data["environment"] == "test" and data["client_id"] == CLIENT
        assert [c["address"] for c in data["changes"]] == ["product.A", "product.KIT", "bom.KIT"]

    def test_markdown_format(self, world: World) -> None:
        """--format markdown renders a pull-request comment."""
        world.write(**KIT)
        result = cli(world, "plan", str(world.directory), "--format", "markdown")
        assert result.code == 0 and "<details>" in result.stdout

    def test_out_and_summary_json(self, world: World, tmp_path: Path) -> None:
        """--out saves the plan for `show`/`apply --plan`; --summary-json writes counts."""
        world.write(**KIT)
        plan_file, summary = tmp_path / "plan.json", tmp_path / "summary.json"
        result = cli(
            world,
            "plan",
            str(world.directory),
            "--out",
            str(plan_file),
            "--summary-json",
            str(summary),
        )
        assert result.code == 0
        assert json.loads(plan_file.read_text())["format_version"].startswith("1.")
        assert json.loads(summary.read_text())
        assert not list(tmp_path.glob(".plan.json.*")), "no temporary file left behind"

    def test_apply_hint_names_the_environment_and_quotes_paths(
        self, world: World, tmp_path: Path
    ) -> None:
        """The `apply it with` hint after --out names a non-default --env and quotes the
        paths, and running exactly that command applies the plan."""
        world.settings["default_environment"] = "local"
        world.write(**KIT)
        plan_file = tmp_path / "my plan.json"
        made = cli(world, "plan", str(world.directory), "--env", "test", "--out", str(plan_file))
        assert made.code == 0, made.stderr
        hint = re.search(r"apply it with `([^`]*)`", made.stderr.replace("\n", ""))
        assert hint is not None, made.stderr
        words = shlex.split(hint.group(1))
        assert words == [
            "reconcile",
            "apply",
            str(world.directory),
            "--env",
            "test",
            "--plan",
            str(plan_file),
        ]
        applied = cli(world, *words[1:])
        assert applied.code == 0, applied.stderr + applied.stdout

    def test_apply_hint_omits_the_default_environment(self, world: World, tmp_path: Path) -> None:
        """For the default environment the hint has no --env."""
        world.write(**KIT)
        made = cli(world, "plan", str(world.directory), "--out", str(tmp_path / "p.json"))
        stderr = made.stderr.replace("\n", "")
        assert "apply it with `reconcile apply" in stderr and "--env" not in stderr

    def test_target_matching_nothing_is_a_warning(self, world: World) -> None:
        """A --target that matches no resource warns on stderr (exit 0), in plan and apply."""
        world.write(**KIT)
        for command in (["plan"], ["apply", "--auto-approve"]):
            result = cli(world, *command, str(world.directory), "--target", "KTI-*")
            assert result.code == 0, result.stderr
            assert "warning: no resource matched --target KTI-*" in result.stderr
            assert "no resource matched --target KTI-*." in result.stdout
            assert "PB matches the catalog" not in result.stdout
        assert world.admin.count(route="/products/bulk") == 0

    def test_out_and_summary_on_one_file_is_refused(self, world: World, tmp_path: Path) -> None:
        """--out X --summary-json X is a usage error (64) before anything is written."""
        world.write(**KIT)
        same = tmp_path / "x.json"
        result = cli(
            world,
            "plan",
            str(world.directory),
            "--out",
            str(same),
            "--summary-json",
            str(tmp_path / "." / "x.json"),
        )
        assert result.code == 64 and "both name" in result.stderr
        assert not same.exists() and "Saved the plan" not in result.stderr

    def test_out_never_overwrites_a_catalog_or_foreign_file(
        self, world: World, tmp_path: Path
    ) -> None:
        """--out onto a YAML name or an existing file that is not a plan is refused (64)
        and leaves the file as it was; an earlier plan file is overwritten."""
        world.write(**KIT)
        catalog_file = world.directory / "catalog.yaml"
        before = catalog_file.read_text()
        foreign = tmp_path / "package.json"
        foreign.write_text('{"name": "app"}')
        for target, option in (
            (catalog_file, "--out"),
            (foreign, "--summary-json"),
            (tmp_path / "new.yml", "--out"),
        ):
            result = cli(world, "plan", str(world.directory), option, str(target))
            assert result.code == 64, result.stderr
            assert str(target) in result.stderr
        assert catalog_file.read_text() == before
        assert foreign.read_text() == '{"name": "app"}'
        assert not (tmp_path / "new.yml").exists()
        plan_file = tmp_path / "plan.json"
        for _ in range(2):  # the second run overwrites the first plan
            assert cli(world, "plan", str(world.directory), "--out", str(plan_file)).code == 0

    def test_unwritable_out_prints_the_plan_then_exits_64(
        self, world: World, tmp_path: Path
    ) -> None:
        """An --out or --summary-json path that cannot be written is a clean usage error
        (64) naming the file, after the plan was printed."""
        world.write(**KIT)
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        for option in ("--out", "--summary-json"):
            target = blocker / "plan.json"
            result = cli(world, "plan", str(world.directory), option, str(target))
            assert result.code == 64, result.stderr
            assert f"cannot write the plan{' summary' * (option != '--out')} to {target}" in (
                result.stderr
            )
            assert "Unexpected error" not in result.stderr
            assert "+ product.A" in result.stdout

    def test_invalid_catalog_exits_3(self, world: World) -> None:
        """A catalog error is reported with its location and exit code 3."""
        (world.directory / "bad.yaml").write_text("products:\n  - sku: X\n")
        result = cli(world, "plan", str(world.directory))
        assert result.code == 3
        assert "bad.yaml:2" in result.stderr

    def test_bad_credentials_exit_4(self, world: World) -> None:
        """Rejected credentials are a remote error (exit 4) that never prints the secret."""
        world.write(**KIT)
        env = {"PB_TEST_API_KEY": "wrong-key", "PB_TEST_API_SECRET": "wrong-secret"}
        result = run(["plan", str(world.directory)], env=env)
        assert result.code == 4
        assert "wrong-secret" not in result.stderr + result.stdout

    def test_unknown_option_exits_64(self, world: World) -> None:
        """A command-line mistake is a usage error (64), not 2 (changes present)."""
        assert cli(world, "plan", "--no-such-option").code == 64

    def test_unknown_environment_exits_3(self, world: World) -> None:
        """--env naming no environment of reconcile.yaml is a settings error."""
        world.write(**KIT)
        result = cli(world, "plan", str(world.directory), "--env", "nowhere")
        assert result.code == 3 and "nowhere" in result.stderr


RAW_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]")
HOSTILE = "E\x1b[2J\x1b]0;pwned\x07\u202e"


class TestTerminalSafety:
    """User data never sends control characters or bidi overrides to the terminal."""

    def test_sku_in_pb_is_printed_escaped(self, world: World) -> None:
        """A SKU PB holds with escape sequences is listed escaped on stdout and stderr."""
        world.admin.load(products=[remote(product(HOSTILE))])
        world.write(products=[product("A")])
        result = cli(world, "plan", str(world.directory))
        assert result.code == 0, result.stderr
        assert "E\\x1b[2J\\x1b]0;pwned\\x07\\u202e" in result.stdout
        assert not RAW_CONTROL.search(result.stdout + result.stderr)

    def test_error_messages_are_escaped(self, tmp_path: Path) -> None:
        """An error naming user input (a file name) shows its control characters escaped."""
        result = run(["show", str(tmp_path / f"{HOSTILE}.json")])
        assert result.code == 64
        assert "\\x1b[2J" in result.stderr
        assert not RAW_CONTROL.search(result.stdout + result.stderr)


class TestUnwrappedOutput:
    """Output that is not a terminal (a CI log) keeps every line whole, whatever its length."""

    def test_report_table_logs_and_messages_are_not_wrapped(self, world: World) -> None:
        """The failure table row, the closing line and -v log lines each stay on one line."""
        world.write(products=[product("A"), refused_product(world)])
        result = cli(world, "-v", "apply", str(world.directory), "--auto-approve")
        assert result.code == 5
        row = next(line for line in result.stdout.splitlines() if "│ product.BAD" in line)
        assert "productType may not change from 'ITEM' (strict mode)" in row
        assert any(
            line.startswith("Apply partly failed") and line.endswith("this run stopped.")
            for line in result.stdout.splitlines()
        )
        logs = [line for line in result.stderr.splitlines() if "HTTP Request" in line]
        assert logs and all('"HTTP/1.1 ' in line for line in logs)

    def test_saved_plan_hint_is_one_line(self, world: World, tmp_path: Path) -> None:
        """The `apply it with` command after --out is never broken across lines."""
        world.write(**KIT)
        plan_file = tmp_path / ("deeply-nested-directory-name" * 3) / "plan.json"
        result = cli(world, "plan", str(world.directory), "--out", str(plan_file))
        assert any(
            line.startswith("Saved the plan to") and line.endswith(f"--plan {plan_file}`.")
            for line in result.stderr.splitlines()
        ), result.stderr

    def test_json_stays_pure_json_with_logs(self, world: World) -> None:
        """With -v, --format json still prints only the JSON on stdout."""
        world.write(**KIT)
        result = cli(world, "-v", "plan", str(world.directory), "--format", "json")
        assert json.loads(result.stdout)["client_id"] == CLIENT


class TestColour:
    """Colour follows FORCE_COLOR/NO_COLOR and --no-color."""

    def test_forced_colour_and_its_overrides(self, world: World) -> None:
        """FORCE_COLOR colours the plan; NO_COLOR or --no-color remove every ANSI code."""
        world.write(**KIT)
        args = ["plan", str(world.directory)]
        forced = {**world.environ, "FORCE_COLOR": "1"}
        assert ANSI in run(args, env=forced).stdout
        assert ANSI not in run(["--no-color", *args], env=forced).stdout
        assert ANSI not in run(args, env={**forced, "NO_COLOR": "1"}).stdout


class TestApplyCommand:
    """`reconcile apply`: approval, safety, saved plans and exit codes."""

    def test_auto_approve_applies(self, world: World) -> None:
        """--auto-approve applies without asking; a second plan is empty."""
        world.write(**KIT)
        result = cli(world, "apply", str(world.directory), "--auto-approve")
        assert result.code == 0 and "Apply complete: 3 done." in result.stdout
        assert cli(world, "plan", str(world.directory), "--detailed-exitcode").code == 0

    def test_refuses_to_prompt_without_a_terminal(self, world: World) -> None:
        """Without --auto-approve and no TTY on stdin, apply refuses (64) before planning."""
        world.write(**KIT)
        result = cli(world, "apply", str(world.directory), stdin="y\n")
        assert result.code == 64 and "--auto-approve" in result.stderr
        assert world.admin.count(route="/products/bulk") == 0

    def test_unsafe_plan_exits_6_and_force_applies(self, world: World) -> None:
        """An apply over the update threshold exits 6 unless --force."""
        skus = [f"P{i}" for i in range(10)]
        world.admin.load(products=[remote(product(s)) for s in skus])
        world.write(products=[product(s, description="new") for s in skus])
        refused = cli(world, "apply", str(world.directory), "--auto-approve")
        assert refused.code == 6 and "--force" in refused.stderr
        assert world.admin.count(route="/products/bulk") == 0
        forced = cli(world, "apply", str(world.directory), "--auto-approve", "--force")
        assert forced.code == 0

    def test_saved_plan_safety_counts_what_pb_holds(self, world: World, tmp_path: Path) -> None:
        """apply --plan checks safety against PB's own counts: raising the plan file's
        `existing` does not let an unsafe prune through (6); --force still applies it."""
        world.admin.load(products=[remote(product(f"P{i}")) for i in range(10)])
        world.write(products=[product("A")])
        plan_file = tmp_path / "unsafe.json"
        made = cli(world, "plan", str(world.directory), "--prune", "--out", str(plan_file))
        assert made.code == 0 and "Unsafe plan" in made.stdout
        data = json.loads(plan_file.read_text())
        plan_file.write_text(json.dumps({**data, "existing": {"product": 1000, "bom": 0}}))
        refused = cli(world, "apply", str(world.directory), "--plan", str(plan_file))
        assert refused.code == 6, refused.stderr + refused.stdout
        assert "10 of 10 products" in refused.stderr
        assert world.admin.count(route="/products/bulk") == 0
        forced = cli(world, "apply", str(world.directory), "--plan", str(plan_file), "--force")
        assert forced.code == 0, forced.stderr + forced.stdout

    def test_partial_failure_exits_5_with_table(self, world: World) -> None:
        """A failed write exits 5 and names the resource and PB's reason."""
        world.write(products=[product("A"), refused_product(world)])
        result = cli(world, "apply", str(world.directory), "--auto-approve")
        assert result.code == 5
        assert "product.BAD" in result.stdout and REFUSED in result.stdout
        assert "Apply partly failed" in result.stdout

    def test_saved_plan_round_trip(self, world: World, tmp_path: Path) -> None:
        """plan --out, show FILE, apply --plan FILE: applies exactly the reviewed plan."""
        world.write(**KIT)
        plan_file = tmp_path / "plan.json"
        assert cli(world, "plan", str(world.directory), "--out", str(plan_file)).code == 0
        shown = cli(world, "show", str(plan_file))
        assert shown.code == 0 and "+ bom.KIT" in shown.stdout
        assert json.loads(cli(world, "show", str(plan_file), "--format", "json").stdout)
        applied = cli(world, "apply", str(world.directory), "--plan", str(plan_file))
        assert applied.code == 0, applied.stderr
        assert cli(world, "plan", str(world.directory), "--detailed-exitcode").code == 0

    def test_partly_failed_saved_plan_says_to_apply_it_again(
        self, world: World, tmp_path: Path
    ) -> None:
        """A saved plan that partly failed tells to rerun `apply --plan FILE`, which finishes."""
        world.write(products=[product("A"), refused_product(world)])
        plan_file = tmp_path / "plan.json"
        assert cli(world, "plan", str(world.directory), "--out", str(plan_file)).code == 0
        failed = cli(world, "apply", str(world.directory), "--plan", str(plan_file))
        assert failed.code == 5
        assert f"--plan {plan_file}` again" in failed.stdout.replace("\n", "")
        rerun = cli(world, "apply", str(world.directory), "--plan", str(plan_file))
        assert rerun.code == 5, "not refused as stale: product.A is already applied"
        assert "1 done (1 already applied), 1 failed" in rerun.stdout

    def test_stale_saved_plan_exits_7(
        self, world: World, sandbox: ServedSandboxHandle, tmp_path: Path
    ) -> None:
        """A resource changed through the API after `plan --out` refuses the apply (7)."""
        world.write(**KIT)
        cli(world, "apply", str(world.directory), "--auto-approve")
        world.write(products=[product("A", description="v2"), product("KIT", kind="KIT")])
        plan_file = tmp_path / "plan.json"
        cli(world, "plan", str(world.directory), "--out", str(plan_file))
        with sandbox.client() as api:
            body = {"clientId": CLIENT, **product("A", description="someone else")}
            assert api.put("/products/A", json=body).status_code == 200
        result = cli(world, "apply", str(world.directory), "--plan", str(plan_file))
        assert result.code == 7 and "product.A" in result.stderr

    def test_plan_for_other_environment_exits_7(self, world: World, tmp_path: Path) -> None:
        """A plan made for one environment is refused by another."""
        world.write(**KIT)
        plan_file = tmp_path / "plan.json"
        cli(world, "plan", str(world.directory), "--out", str(plan_file))
        data = json.loads(plan_file.read_text())
        plan_file.write_text(json.dumps({**data, "environment": "sandbox"}))
        result = cli(world, "apply", str(world.directory), "--plan", str(plan_file))
        assert result.code == 7 and "'sandbox'" in result.stderr
        assert "Applying" not in result.stderr, "announced before the refusal"

    def test_plan_with_selection_options_is_usage_error(self, world: World, tmp_path: Path) -> None:
        """--target with --plan is refused (64): a saved plan applies as reviewed."""
        world.write(**KIT)
        plan_file = tmp_path / "plan.json"
        cli(world, "plan", str(world.directory), "--out", str(plan_file))
        result = cli(
            world, "apply", str(world.directory), "--plan", str(plan_file), "--target", "A"
        )
        assert result.code == 64

    def test_require_plan_file(self, world: World) -> None:
        """An environment with require_plan_file refuses apply without --plan (64)."""
        world.settings["environments"]["test"]["require_plan_file"] = True
        world.write(**KIT)
        result = cli(world, "apply", str(world.directory), "--auto-approve")
        assert result.code == 64 and "--plan" in result.stderr


class TestSigterm:
    """SIGTERM (a cancelled CI job) during apply is handled like Ctrl-C."""

    def test_sigterm_during_apply_reports_and_the_next_run_converges(self, world: World) -> None:
        """SIGTERM mid-apply stops starting writes, prints the interrupted report, exits
        130; applying again finishes the job."""
        kits = [f"K{i:02d}" for i in range(30)]
        world.settings["limits"] = {"requests_per_second": 20, "max_in_flight": 2}
        world.write(
            products=[product("A"), *(product(k, kind="KIT") for k in kits)],
            boms=[bom(k, {"A": 1}) for k in kits],
        )
        world.admin.configure(latency_ms=200)
        command = [sys.executable, "-c", "from reconcile.cli import main; main()"]
        args = ["apply", str(world.directory), "--auto-approve"]
        env = {**os.environ, **world.environ, "NO_COLOR": "1"}
        with subprocess.Popen(
            [*command, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        ) as proc:
            deadline = time.monotonic() + 30
            while world.admin.count(method="POST", route="/bill-of-materials") < 2:
                assert proc.poll() is None and time.monotonic() < deadline, "apply ended early"
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        assert "Apply interrupted:" in stdout and "not started" in stdout, stdout + stderr
        world.admin.configure(latency_ms=0)
        again = cli(world, "apply", str(world.directory), "--auto-approve")
        assert again.code == 0, again.stderr + again.stdout
        assert cli(world, "plan", str(world.directory), "--detailed-exitcode").code == 0


class TestShowCommand:
    """`reconcile show FILE`."""

    def test_not_a_plan_exits_64(self, tmp_path: Path) -> None:
        """A file that is not a saved plan is a usage error naming the file."""
        bogus = tmp_path / "bogus.json"
        bogus.write_text("{}")
        result = run(["show", str(bogus)])
        assert result.code == 64 and "bogus.json" in result.stderr

    def test_missing_file_exits_64(self, tmp_path: Path) -> None:
        """A missing file is a usage error."""
        assert run(["show", str(tmp_path / "none.json")]).code == 64
