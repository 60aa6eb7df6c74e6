"""Every GitHub workflow in the repository passes actionlint (with shellcheck) and zizmor.

The linters come from the `test` extra. A missing one fails these tests: a check that
quietly skips is a check nobody runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
# Not the repository's content: build output; hidden directories (.git, .venv*, caches)
# are skipped too, the `.github` looked for is checked, not walked into.
SKIPPED_DIRS = {"node_modules", "build", "dist", "__pycache__"}


def workflow_roots(root: Path) -> list[Path]:
    """Every directory of the repository that holds a `.github/workflows/`."""
    found = []
    for directory, subdirs, _ in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIPPED_DIRS and d[0] != ".")
        if Path(directory, ".github", "workflows").is_dir():
            found.append(Path(directory))
    return found


def workflow_files(root: Path) -> list[Path]:
    return [
        path
        for repo in workflow_roots(root)
        for path in sorted((repo / ".github" / "workflows").iterdir())
        if path.suffix in {".yml", ".yaml"}
    ]


def tool(name: str) -> str:
    """The linter installed beside this interpreter (the `test` extra), else on PATH."""
    found = shutil.which(name, path=str(BIN_DIR)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def run(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    shellcheck = tool("shellcheck")
    return run(tool("actionlint"), "-no-color", "-shellcheck", shellcheck, *map(str, paths))


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    # Offline: no GitHub token in CI; the audits that need the API are the online ones.
    # Findings at "low" and below (style and hints) are reported, not failed on.
    options = ("--offline", "--no-progress", "--min-severity=medium")
    return run(tool("zizmor"), *options, *map(str, paths))


UNSAFE_WORKFLOW = """\
on: pull_request
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - uses: actions/checkout@v6
      - run: echo ${{ github.event.pull_request.title }} $UNQUOTED
"""


class TestRepositoryWorkflows:
    """The workflows shipped in the repository (the GitOps example's among them) are clean."""

    def test_the_gitops_example_is_found(self) -> None:
        """The walk sees the example's workflow, so the checks below check something."""
        expected = ROOT / "catalog-examples" / "gitops" / ".github" / "workflows" / "reconcile.yml"
        assert expected in workflow_files(ROOT)

    def test_actionlint_with_shellcheck_passes(self) -> None:
        """actionlint reports nothing, shellcheck included, on every workflow file."""
        done = actionlint(*workflow_files(ROOT))
        assert done.returncode == 0, done.stdout + done.stderr

    def test_zizmor_finds_nothing_above_low(self) -> None:
        """zizmor reports no medium or high finding in any workflow or Dependabot config."""
        done = zizmor(*workflow_roots(ROOT))
        assert done.returncode == 0, done.stdout + done.stderr


class TestLintersBite:
    """The linters as invoked here do report the mistakes they are relied on for."""

    @pytest.fixture
    def unsafe_repo(self, tmp_path: Path) -> Path:
        workflows = tmp_path / ".github" / "workflows"
        workflows.mkdir(parents=True)
        (workflows / "unsafe.yml").write_text(UNSAFE_WORKFLOW)
        return tmp_path

    def test_actionlint_runs_shellcheck(self, unsafe_repo: Path) -> None:
        """An unquoted variable in a `run:` script is reported by shellcheck (SC2086)."""
        done = actionlint(*workflow_files(unsafe_repo))
        assert done.returncode == 1
        assert "SC2086" in done.stdout, done.stdout + done.stderr

    def test_zizmor_reports_unpinned_actions_and_injection(self, unsafe_repo: Path) -> None:
        """A tag-pinned action and an expression spliced into a script both fail zizmor."""
        done = zizmor(unsafe_repo)
        assert done.returncode != 0
        assert "unpinned-uses" in done.stdout, done.stdout + done.stderr
        assert "template-injection" in done.stdout
