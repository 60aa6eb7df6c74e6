"""The local state (`.reconcile/`) stays out of git with no configuration: the directory
carries its own `.gitignore` of `*`, written when it is first created."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reconcile.environments import STATE_GITIGNORE, make_state_dir
from tests.support.cli import run

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    done = subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True)
    return done.stdout


def hand_written_catalog(directory: Path) -> Path:
    """What a maintainer writes by hand: no `.gitignore` anywhere."""
    directory.mkdir()
    (directory / "reconcile.yaml").write_text("client_id: C1\n")
    (directory / "items.yaml").write_text(
        "products:\n  - sku: A1\n    productType: ITEM\n    details: {description: a}\n"
    )
    return directory


def test_apply_then_git_add_all_stages_nothing_of_the_local_state(tmp_path: Path) -> None:
    catalog = hand_written_catalog(tmp_path / "catalog")
    git(catalog, "init", "--quiet")
    assert run(["apply", "--auto-approve", str(catalog)]).return_value == 0
    state = catalog / ".reconcile"
    assert (state / "sandbox.db").is_file() and (state / "lock").is_file()
    git(catalog, "add", "-A")
    staged = git(catalog, "diff", "--cached", "--name-only").split()
    assert sorted(staged) == ["items.yaml", "reconcile.yaml"]
    assert (state / ".gitignore").read_text() == STATE_GITIGNORE


def test_an_existing_state_directory_is_left_as_it_is(tmp_path: Path) -> None:
    """Written the first time only: a maintainer who removed it keeps it removed."""
    state = tmp_path / ".reconcile"
    make_state_dir(state)
    (state / ".gitignore").unlink()
    make_state_dir(state)
    assert not (state / ".gitignore").exists()
