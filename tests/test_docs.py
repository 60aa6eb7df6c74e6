"""The manual: the MkDocs site under docs/ builds strictly, and README stays a front page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_site_builds_strictly(tmp_path: Path) -> None:
    """`mkdocs build --strict` passes: no broken link or anchor, no page left out, the
    Material theme installed (a missing mkdocs fails here, it is never skipped)."""
    assert shutil.which("mkdocs") or _module_present(), "install the test extra: mkdocs"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    built = {
        p.relative_to(tmp_path / "site").parts[0] for p in (tmp_path / "site").rglob("index.html")
    }
    for page in (ROOT / "docs").glob("*.md"):
        assert page.stem == "index" or page.stem in built, f"{page.name} was not built"


def _module_present() -> bool:
    import importlib.util

    return importlib.util.find_spec("mkdocs") is not None


def test_readme_is_a_front_page() -> None:
    """Under 200 lines, with the quick start, install and a map into the manual; every
    page it links exists."""
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) < 200
    for heading in ("## Quick start", "## Install"):
        assert heading in text
    for link in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / link).is_file(), link
