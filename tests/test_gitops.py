"""The GitOps example: its workflow, pre-commit hooks and catalog are valid and consistent."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import metadata
from pathlib import Path
from typing import Any

import click
import pytest
from ruamel.yaml import YAML

from reconcile import __version__
from reconcile.settings import credential_variables
from tests.gitops_check import Invocation, check_invocation, reconcile_invocations

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "catalog-examples" / "gitops"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "reconcile.yml"
HOOKS_MANIFEST = ROOT / ".pre-commit-hooks.yaml"
BIN_DIR = Path(sys.executable).parent
OUTPUT_FILE = re.compile(r"^[\w./-]+\.(json|md)$")
PINNED_USES = re.compile(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+")


def read_yaml(path: Path) -> Any:
    # YAML 1.2, as GitHub reads workflows: `on` stays a string key (YAML 1.1 makes it True).
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def workflow() -> dict[str, Any]:
    data = read_yaml(WORKFLOW)
    assert isinstance(data, dict)
    return data


def workflow_invocations() -> list[tuple[str, Invocation]]:
    """Every `reconcile` command of every `run:` step, labelled `job/step`."""
    flow = workflow()
    found = []
    for job_name, job in flow["jobs"].items():
        for index, step in enumerate(job.get("steps", [])):
            if "run" not in step:
                continue
            env = {**flow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
            label = f"{job_name}/{step.get('name', index)}"
            found += [(label, inv) for inv in reconcile_invocations(step["run"], env)]
    return found


WORKFLOW_INVOCATIONS = workflow_invocations()


def steps_of(job: str) -> list[dict[str, Any]]:
    return list(workflow()["jobs"][job]["steps"])


def invocations_of(job: str) -> list[Invocation]:
    return [inv for label, inv in workflow_invocations() if label.startswith(f"{job}/")]


@pytest.fixture
def in_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a copy of the example's root, as the workflow's steps do after checkout."""
    checkout = tmp_path / "checkout"
    shutil.copytree(EXAMPLE, checkout, ignore=shutil.ignore_patterns(".reconcile"))
    monkeypatch.chdir(checkout)
    return checkout


def parse_in(directory: Path, invocation: Invocation) -> click.Context:
    """Parse an invocation with files produced by earlier steps present (created empty)."""
    for word in invocation.argv:
        target = directory / word
        if OUTPUT_FILE.match(word) and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.touch()
    return check_invocation(invocation.argv)


class TestWorkflowShape:
    """The workflow file parses and wires the four jobs to the right events."""

    def test_triggers(self) -> None:
        """It runs on pull requests, pushes to main only (so a pull request's branch is
        checked once, not once per push and once per pull request) and a nightly schedule."""
        on = workflow()["on"]
        assert {"push", "pull_request", "schedule"} <= set(on)
        assert on["push"] == {"branches": ["main"]}
        assert on["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"]

    def test_every_action_is_pinned_by_commit_with_its_version(self) -> None:
        """Every `uses:` names a full commit SHA followed by the version it is (a tag can be
        moved; Dependabot updates SHA and comment together)."""
        uses_lines = [line.strip() for line in WORKFLOW.read_text().splitlines()]
        uses_lines = [line.removeprefix("- ") for line in uses_lines if "uses:" in line]
        assert uses_lines
        for line in uses_lines:
            assert PINNED_USES.fullmatch(line), line

    def test_every_job_checks_out_without_credentials_and_uses_python_311(self) -> None:
        """Each job checks out without leaving the token in .git/config, installs Python
        3.11, and installs reconcile from requirements.txt."""
        for name, job in workflow()["jobs"].items():
            checkout = next(s for s in job["steps"] if "actions/checkout@" in s.get("uses", ""))
            assert checkout["with"]["persist-credentials"] is False, name
            setup = next(s for s in job["steps"] if "actions/setup-python@" in s.get("uses", ""))
            assert setup["with"]["python-version"] == "3.11", name
            runs = [s.get("run", "") for s in job["steps"]]
            assert "python -m pip install -r requirements.txt" in runs, name

    def test_every_job_is_bounded_in_time(self) -> None:
        """No job can hang for GitHub's default six hours."""
        for name, job in workflow()["jobs"].items():
            assert 0 < job["timeout-minutes"] <= 60, name

    def test_no_expression_is_spliced_into_a_script(self) -> None:
        """`run:` scripts read step outputs and event data from `env:`, never `${{ }}`."""
        for name, job in workflow()["jobs"].items():
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), f"{name}/{step.get('name')}"

    def test_no_permission_by_default(self) -> None:
        """The workflow grants nothing; each job asks for what it needs."""
        assert workflow()["permissions"] == {}
        for name, job in workflow()["jobs"].items():
            assert job["permissions"]["contents"] == "read", name

    def test_credentials_come_from_environment_secrets(self) -> None:
        """Jobs that reach PB read the sandbox environment's variables from the secrets of
        the GitHub environment they declare; no other job reads a secret."""
        (key_var, secret_var), _ = credential_variables("sandbox")
        jobs = workflow()["jobs"]
        for name in ("plan", "apply", "drift"):
            env = jobs[name]["env"]
            assert env[key_var] == f"${{{{ secrets.{key_var} }}}}", name
            assert env[secret_var] == f"${{{{ secrets.{secret_var} }}}}", name
        for name, job in jobs.items():
            if "secrets." in json.dumps(job):
                assert job.get("environment"), f"{name} reads secrets outside an environment"
        assert "env" not in jobs["check"], "validate and fmt need no credentials"
        assert jobs["plan"]["environment"] == jobs["drift"]["environment"] == "sandbox-plan"

    def test_plan_runs_only_on_pull_requests_from_this_repository(self) -> None:
        """Fork pull requests get no secrets, so the plan job skips them."""
        condition = workflow()["jobs"]["plan"]["if"]
        assert "github.event_name == 'pull_request'" in condition
        assert "head.repo.full_name == github.repository" in condition

    def test_apply_runs_on_main_in_an_environment_one_at_a_time(self) -> None:
        """Apply runs on pushes to main, in a GitHub environment, never two at once."""
        job = workflow()["jobs"]["apply"]
        assert "refs/heads/main" in job["if"]
        assert job["environment"] == "sandbox"
        assert job["concurrency"]["cancel-in-progress"] is False

    def test_drift_runs_on_the_schedule(self) -> None:
        """The drift job is the scheduled one."""
        assert "github.event_name == 'schedule'" in workflow()["jobs"]["drift"]["if"]

    def test_drift_waits_for_a_running_apply(self) -> None:
        """Drift shares the apply's concurrency group, so a half-done apply is not drift."""
        jobs = workflow()["jobs"]
        assert jobs["drift"]["concurrency"] == jobs["apply"]["concurrency"]

    def test_plan_uploads_the_reviewed_plan_and_apply_downloads_it(self) -> None:
        """The artifact the plan job uploads is the one the apply job downloads."""
        upload = next(s for s in steps_of("plan") if "upload-artifact" in s.get("uses", ""))
        name = upload["with"]["name"].replace("${{ github.event.pull_request.number }}", "$pr")
        assert "plan.json" in upload["with"]["path"]
        download = next(s for s in steps_of("apply") if "gh run download" in s.get("run", ""))
        assert f'--name "{name}"' in download["run"]

    def test_one_pr_comment_is_found_by_the_plan_markers_prefix(self) -> None:
        """The comment step edits the comment that starts with the markdown plan's marker
        for the environment planned, and the error comment carries that prefix too."""
        from reconcile.models import ResourceSet
        from reconcile.plan.build import build_plan
        from reconcile.plan.render import render_markdown

        post = next(s for s in steps_of("plan") if s.get("name", "").startswith("Post"))
        assert 'marker="<!-- reconcile-plan:$RECONCILE_ENV:"' in post["run"]
        assert 'jq -r --arg marker "$marker"' in post["run"]
        assert "startswith($marker)" in post["run"]
        assert "--method PATCH" in post["run"]
        env = workflow()["env"]["RECONCILE_ENV"]
        marker = f"<!-- reconcile-plan:{env}:"
        plan = build_plan(ResourceSet(), ResourceSet(), environment=env, client_id="C1")
        assert render_markdown(plan).startswith(marker)
        plan_step = next(s for s in steps_of("plan") if s.get("id") == "plan")
        assert 'echo "<!-- reconcile-plan:$RECONCILE_ENV:error -->"' in plan_step["run"]


class TestWorkflowCommands:
    """Every `reconcile` command in a `run:` step is one the CLI accepts."""

    def test_the_steps_call_the_commands_the_pipeline_needs(self) -> None:
        """validate, fmt --check, plan and apply --plan are all called where expected."""
        check = [inv.argv for inv in invocations_of("check")]
        assert ("validate", "catalog") in check
        assert ("fmt", "catalog", "--check") in check
        (plan,) = invocations_of("plan")
        assert {"--out", "--format", "--detailed-exitcode", "--summary-json"} <= set(plan.argv)
        (apply,) = invocations_of("apply")
        assert apply.command_path == "apply" and "--plan" in apply.argv
        assert "--summary-json" in apply.argv
        (drift,) = invocations_of("drift")
        assert drift.command_path == "drift" and "--format" in drift.argv

    @pytest.mark.parametrize(
        ("label", "invocation"),
        WORKFLOW_INVOCATIONS,
        ids=[label for label, _ in WORKFLOW_INVOCATIONS],
    )
    def test_invocation_parses(self, label: str, invocation: Invocation, in_example: Path) -> None:
        """click accepts the command, its options and their values (nothing is run)."""
        try:
            parse_in(in_example, invocation)
        except click.UsageError as e:
            pytest.fail(f"{label}: `reconcile {' '.join(invocation.argv)}`: {e.format_message()}")

    def test_environments_named_by_the_workflow_exist(self) -> None:
        """Every `--env` value is an environment of the example's reconcile.yaml."""
        from reconcile.desired import load_settings

        known = load_settings(EXAMPLE / "catalog").all_environments()
        for label, invocation in workflow_invocations():
            argv = list(invocation.argv)
            if "--env" in argv:
                assert argv[argv.index("--env") + 1] in known, label

    def test_checker_rejects_an_unknown_flag(self) -> None:
        """The checker itself fails on a flag the command does not have."""
        with pytest.raises(click.UsageError, match="No such option"):
            check_invocation(["validate", "--no-such-flag"])

    def test_checker_rejects_an_unknown_command(self) -> None:
        """The checker itself fails on a command that does not exist."""
        with pytest.raises(click.UsageError, match="no such command"):
            check_invocation(["deploy", "catalog"])

    def test_finder_sees_commands_after_operators_and_assignments(self) -> None:
        """Invocations after `||`, `;`, `$(` and `VAR=value` are found, redirections cut."""
        script = (
            'FOO=1 reconcile plan "$DIR" > out.md 2> err.txt || echo failed\n'
            "# reconcile apply in a comment is ignored\n"
            "x=$(reconcile show plan.json); echo reconcile apply\n"
        )
        found = [inv.argv for inv in reconcile_invocations(script, {"DIR": "catalog"})]
        assert found == [("plan", "catalog"), ("show", "plan.json")]


class TestExampleFiles:
    """The example's supporting files agree with the tool."""

    def test_requirements_pin_this_version(self) -> None:
        """requirements.txt pins this version of reconcile by its distribution name."""
        lines = (EXAMPLE / "requirements.txt").read_text().splitlines()
        (requirement,) = [line for line in lines if line and not line.startswith("#")]
        assert requirement == f"{metadata('pb-reconcile')['Name']}=={__version__}"

    def test_dependabot_keeps_the_pins_current(self) -> None:
        """Dependabot watches the action pins and the reconcile pin, with a cooldown."""
        config = read_yaml(EXAMPLE / ".github" / "dependabot.yml")
        assert config["version"] == 2
        updates = {u["package-ecosystem"]: u for u in config["updates"]}
        assert set(updates) == {"github-actions", "pip"}
        for update in updates.values():
            assert update["directory"] == "/"
            assert update["cooldown"]["default-days"] >= 1

    def test_schemas_are_current(self, tmp_path: Path) -> None:
        """The example's schemas/ (its editors' modelines point there) match the models."""
        from reconcile.cli import schema_documents
        from reconcile.desired import write_schemas

        written = write_schemas(tmp_path, schema_documents())
        for path in written:
            shipped = EXAMPLE / "schemas" / path.name
            assert shipped.read_text() == path.read_text(), f"regenerate {shipped}"

    def test_catalog_files_carry_the_schema_modeline(self) -> None:
        """Every YAML file of the example catalog names its schema for editors."""
        for path in sorted((EXAMPLE / "catalog").glob("*.yaml")):
            first = path.read_text().splitlines()[0]
            schema = "settings" if path.name == "reconcile.yaml" else "catalog"
            assert first == f"# yaml-language-server: $schema=../schemas/{schema}.schema.json"

    def test_gitignore_keeps_the_local_sandbox_and_plan_outputs_out_of_git(self) -> None:
        """.reconcile/ and the files CI writes are ignored."""
        ignored = (EXAMPLE / ".gitignore").read_text().splitlines()
        assert {".reconcile/", "plan.json", "summary.json"} <= set(ignored)


def manifest_hooks() -> list[dict[str, Any]]:
    hooks = read_yaml(HOOKS_MANIFEST)
    assert isinstance(hooks, list)
    return hooks


def example_hooks() -> dict[str, dict[str, Any]]:
    config = read_yaml(EXAMPLE / ".pre-commit-config.yaml")
    return {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}


def pre_commit(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """Run pre-commit offline, with this virtualenv's `reconcile` on PATH."""
    env = {
        **os.environ,
        "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(home),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def local_config_from_manifest() -> str:
    """The shipped hooks as a `repo: local` config (language system: no install, offline)."""
    hooks = []
    for hook in manifest_hooks():
        local = {**hook, "language": "system", "args": ["catalog"], "files": "^catalog/"}
        hooks.append(local)
    return json.dumps({"repos": [{"repo": "local", "hooks": hooks}]}, indent=2)


@pytest.fixture
def catalog_repo(tmp_path: Path) -> Path:
    """A git repository holding a copy of the GitOps example, everything staged."""
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".reconcile"))
    git("init", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    return repo


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
class TestPreCommitHooks:
    """The hook manifest is valid, its entries are real commands, and pre-commit runs them."""

    def test_manifest_passes_pre_commits_own_validation(self, tmp_path: Path) -> None:
        """`pre-commit validate-manifest` accepts .pre-commit-hooks.yaml."""
        done = pre_commit("validate-manifest", str(HOOKS_MANIFEST), cwd=ROOT, home=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr

    def test_example_config_passes_pre_commits_own_validation(self, tmp_path: Path) -> None:
        """`pre-commit validate-config` accepts the example's .pre-commit-config.yaml."""
        config = EXAMPLE / ".pre-commit-config.yaml"
        done = pre_commit("validate-config", str(config), cwd=ROOT, home=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr

    def test_manifest_exposes_validate_and_fmt(self) -> None:
        """Both hooks exist, are python hooks, and see the whole catalog (no file names)."""
        hooks = {hook["id"]: hook for hook in manifest_hooks()}
        assert set(hooks) == {"reconcile-validate", "reconcile-fmt"}
        for hook in hooks.values():
            assert hook["language"] == "python"
            assert hook["pass_filenames"] is False

    @pytest.mark.parametrize("hook", manifest_hooks(), ids=lambda h: h["id"])
    def test_entry_is_a_real_command(self, hook: dict[str, Any], in_example: Path) -> None:
        """Each entry, with the example's args, parses as a reconcile command."""
        words = hook["entry"].split()
        assert words[0] == "reconcile"
        args = example_hooks()[hook["id"]].get("args", [])
        check_invocation([*words[1:], *args])

    def test_example_hooks_mirror_the_manifest(self) -> None:
        """The example's local hooks run the manifest's entries with the same file handling."""
        local = example_hooks()
        for hook in manifest_hooks():
            mirrored = local[hook["id"]]
            assert mirrored["entry"] == hook["entry"]
            assert mirrored["pass_filenames"] == hook["pass_filenames"]
            assert re.search(hook["files"], "catalog/items.yaml")
            assert re.search(mirrored["files"], "catalog/items.yaml")

    @pytest.mark.parametrize("source", ["manifest", "example"])
    def test_hooks_pass_fix_and_fail_under_pre_commit(
        self, source: str, catalog_repo: Path, tmp_path: Path
    ) -> None:
        """pre-commit passes a clean catalog, fmt rewrites a misformatted file (the run
        fails so the fix gets staged), and validate fails on an invalid catalog."""
        if source == "manifest":
            (catalog_repo / ".pre-commit-config.yaml").write_text(local_config_from_manifest())
            git("add", "-A", cwd=catalog_repo)
        home = tmp_path / "pre-commit-home"
        clean = pre_commit("run", "--all-files", cwd=catalog_repo, home=home)
        assert clean.returncode == 0, clean.stdout + clean.stderr

        items = catalog_repo / "catalog" / "items.yaml"
        canonical = items.read_text()
        items.write_text(canonical.replace("    productType: ITEM\n", "    productType:   ITEM\n"))
        git("add", "-A", cwd=catalog_repo)
        fixed = pre_commit("run", "--all-files", cwd=catalog_repo, home=home)
        assert fixed.returncode == 1
        assert "files were modified by this hook" in fixed.stdout
        assert items.read_text() == canonical

        items.write_text(canonical.replace("sku: MUG-RED", "sku: MUG-RED\n    colour: red", 1))
        git("add", "-A", cwd=catalog_repo)
        invalid = pre_commit(
            "run", "reconcile-validate", "--all-files", cwd=catalog_repo, home=home
        )
        assert invalid.returncode == 1
        assert "catalog/items.yaml:" in invalid.stdout and "colour" in invalid.stdout


# ---- the workflow's own shell steps, run against the emulator ---------------------------


@dataclass
class Runner:
    """Runs a workflow step's script as GitHub does (bash -eo pipefail) in a checkout."""

    checkout: Path
    env: dict[str, str]

    def run(self, job: str, step_name: str, **extra: str) -> subprocess.CompletedProcess[str]:
        (step,) = [s for s in steps_of(job) if s.get("name") == step_name]
        assert "${{" not in step["run"], "steps run here use no expressions"
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=self.checkout,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    def outputs(self) -> dict[str, str]:
        lines = Path(self.env["GITHUB_OUTPUT"]).read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture
def step_runner(sandbox: Any, tmp_path: Path) -> Runner:
    """A checkout of the example whose `ci` environment is the served emulator."""
    checkout = tmp_path / "checkout"
    shutil.copytree(EXAMPLE, checkout, ignore=shutil.ignore_patterns(".reconcile"))
    settings = checkout / "catalog" / "reconcile.yaml"
    text = settings.read_text().replace(
        "\nenvironments:\n", f"\nenvironments:\n  ci:\n    base_url: {sandbox.url}\n", 1
    )
    settings.write_text(text)
    (key_var, secret_var), _ = credential_variables("ci")
    env = {
        **os.environ,
        "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        "CATALOG": "catalog",
        "RECONCILE_ENV": "ci",
        "NO_COLOR": "1",
        key_var: sandbox.key,
        secret_var: sandbox.secret,
        "GITHUB_OUTPUT": str(tmp_path / "github_output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary.md"),
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/catalog",
        "GITHUB_RUN_ID": "42",
    }
    return Runner(checkout, env)


class TestWorkflowStepsRun:
    """The plan, apply and drift steps, run with the real tool against the emulator."""

    def test_drift_step_fails_on_drift_and_passes_in_sync(self, step_runner: Runner) -> None:
        """Exit 2 from plan fails the drift job with an annotation; exit 0 passes it."""
        drifted = step_runner.run("drift", "Compare PB with main")
        assert drifted.returncode == 1, drifted.stderr
        assert "::error title=Catalog drift::" in drifted.stdout
        applied = subprocess.run(
            ["reconcile", "apply", "catalog", "--env", "ci", "--auto-approve"],
            cwd=step_runner.checkout,
            env=step_runner.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert applied.returncode == 0, applied.stdout + applied.stderr
        in_sync = step_runner.run("drift", "Compare PB with main")
        assert in_sync.returncode == 0, in_sync.stdout + in_sync.stderr
        assert "PB matches the catalog on main." in in_sync.stdout
        summary = Path(step_runner.env["GITHUB_STEP_SUMMARY"]).read_text()
        assert "No drift" in summary

    def test_drift_step_fails_on_a_product_added_behind_the_catalogs_back(
        self, step_runner: Runner, sandbox: Any
    ) -> None:
        """A product created in PB (not through the catalog) fails the nightly job, though
        `plan --detailed-exitcode` sees no change; the summary says how to adopt it."""
        applied = subprocess.run(
            ["reconcile", "apply", "catalog", "--env", "ci", "--auto-approve"],
            cwd=step_runner.checkout,
            env=step_runner.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert applied.returncode == 0, applied.stdout + applied.stderr
        client = read_yaml(step_runner.checkout / "catalog" / "reconcile.yaml")["client_id"]
        sandbox.admin.load(
            products=[
                {
                    "clientId": client,
                    "sku": "PORTAL-ADDED",
                    "productType": "ITEM",
                    "details": {"description": "added in the portal"},
                }
            ]
        )
        plan = subprocess.run(
            ["reconcile", "plan", "catalog", "--env", "ci", "--detailed-exitcode"],
            cwd=step_runner.checkout,
            env=step_runner.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert plan.returncode == 0, "plan alone does not see an unmanaged product as a change"
        drifted = step_runner.run("drift", "Compare PB with main")
        assert drifted.returncode == 1, drifted.stdout + drifted.stderr
        assert "::error title=Catalog drift::" in drifted.stdout
        summary = Path(step_runner.env["GITHUB_STEP_SUMMARY"]).read_text()
        assert "product.PORTAL-ADDED" in summary and "reconcile import" in summary

    def test_drift_step_reports_errors_as_errors(self, step_runner: Runner) -> None:
        """A plan error (bad credentials: exit 4) fails the job with its own exit code."""
        (key_var, _), _ = credential_variables("ci")
        failed = step_runner.run("drift", "Compare PB with main", **{key_var: "wrong"})
        assert failed.returncode == 4
        assert "::error title=Drift check failed::reconcile drift exited 4" in failed.stdout

    def test_plan_step_then_apply_step_converge(self, step_runner: Runner) -> None:
        """The PR plan step saves plan.json, summary.json and a marked markdown comment; the
        main-branch apply step applies that reviewed plan; the drift check then passes."""
        planned = step_runner.run("plan", "Plan")
        assert planned.returncode == 0, planned.stdout + planned.stderr
        assert step_runner.outputs()["exit_code"] == "2"
        checkout = step_runner.checkout
        assert (checkout / "plan.md").read_text().startswith("<!-- reconcile-plan:ci:")
        summary = json.loads((checkout / "summary.json").read_text())
        assert summary["totals"]["create"] == 6 and summary["unsafe"] is False
        (checkout / "reviewed").mkdir()
        shutil.copy(checkout / "plan.json", checkout / "reviewed" / "plan.json")
        applied = step_runner.run("apply", "Apply")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert step_runner.run("drift", "Compare PB with main").returncode == 0

    def test_plan_step_turns_errors_into_a_marked_comment(self, step_runner: Runner) -> None:
        """An invalid catalog makes the step record exit 3 and write an error comment."""
        (step_runner.checkout / "catalog" / "broken.yaml").write_text("products: 7\n")
        planned = step_runner.run("plan", "Plan")
        assert planned.returncode == 0
        assert step_runner.outputs()["exit_code"] == "3"
        comment = (step_runner.checkout / "plan.md").read_text()
        assert comment.startswith("<!-- reconcile-plan:ci:error -->")
        assert "exit code 3" in comment


FAKE_GH = """#!/usr/bin/env bash
# Stands in for GitHub's CLI: logs each call, answers the comment listing from a file.
echo "gh $*" >> "$FAKE_GH_LOG"
if [ "$1" = api ] && [ "$2" = --paginate ]; then cat "$FAKE_GH_COMMENTS"; fi
"""


@pytest.mark.skipif(shutil.which("jq") is None, reason="the steps use jq, as on GitHub's runners")
class TestCommentStep:
    """The comment and label steps' logic, run with only GitHub's `gh` CLI faked."""

    def run_step(self, step_runner: Runner, pages: list[list[dict[str, Any]]]) -> list[str]:
        tools = step_runner.checkout.parent / "tools"
        tools.mkdir()
        (tools / "gh").write_text(FAKE_GH)
        (tools / "gh").chmod(0o755)
        comments = tools / "comments.json"
        comments.write_text("".join(json.dumps(page) for page in pages))  # like --paginate
        log = tools / "gh.log"
        (step_runner.checkout / "plan.md").write_text("<!-- reconcile-plan:ci:ACME -->\nplan\n")
        done = step_runner.run(
            "plan",
            "Post or update the plan comment",
            PATH=f"{tools}{os.pathsep}{step_runner.env['PATH']}",
            FAKE_GH_LOG=str(log),
            FAKE_GH_COMMENTS=str(comments),
            PR_NUMBER="12",
            GITHUB_SHA="abc123",
        )
        assert done.returncode == 0, done.stderr
        return log.read_text().splitlines()

    def test_existing_comment_is_edited(self, step_runner: Runner) -> None:
        """The comment starting with this environment's marker is PATCHed, on any page."""
        pages = [
            [{"id": 5, "body": "LGTM"}, {"id": 6, "body": "<!-- reconcile-plan:prod:ACME -->"}],
            [{"id": 77, "body": "<!-- reconcile-plan:ci:ACME -->\nold plan"}],
        ]
        calls = self.run_step(step_runner, pages)
        assert calls[-1] == (
            "gh api --method PATCH repos/acme/catalog/issues/comments/77 -F body=@comment.md"
        )
        comment = (step_runner.checkout / "comment.md").read_text()
        assert comment.startswith("<!-- reconcile-plan:ci:ACME -->\nplan\n")
        assert "Plan of abc123" in comment

    def test_first_plan_creates_the_comment(self, step_runner: Runner) -> None:
        """Without a comment of ours (other environments' do not count) one is created."""
        pages = [[{"id": 6, "body": "<!-- reconcile-plan:prod:ACME -->"}], []]
        calls = self.run_step(step_runner, pages)
        assert calls[-1] == "gh pr comment 12 --body-file comment.md"

    def label_calls(self, step_runner: Runner, summary: dict[str, Any]) -> list[str]:
        tools = step_runner.checkout.parent / "tools"
        tools.mkdir()
        (tools / "gh").write_text(FAKE_GH)
        (tools / "gh").chmod(0o755)
        log = tools / "gh.log"
        log.touch()
        (step_runner.checkout / "summary.json").write_text(json.dumps(summary))
        done = step_runner.run(
            "plan",
            "Label risky plans",
            PATH=f"{tools}{os.pathsep}{step_runner.env['PATH']}",
            FAKE_GH_LOG=str(log),
            PR_NUMBER="12",
        )
        assert done.returncode == 0, done.stderr
        return log.read_text().splitlines()

    @pytest.mark.parametrize(
        ("unsafe", "deactivate", "labelled"),
        [(False, 0, False), (True, 0, True), (False, 3, True)],
    )
    def test_risky_plans_are_labelled(
        self, step_runner: Runner, unsafe: bool, deactivate: int, labelled: bool
    ) -> None:
        """The summary JSON's verdict and deactivation count decide the label."""
        totals = {"create": 1, "update": 0, "deactivate": deactivate, "no_op": 4}
        calls = self.label_calls(step_runner, {"unsafe": unsafe, "totals": totals})
        expected = ["gh pr edit 12 --add-label catalog: needs careful review"]
        assert calls == (expected if labelled else [])
