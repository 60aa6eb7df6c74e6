"""The catalog walk: a catalog is read whole or not at all (issue: write safety, item 4)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconcile.desired import catalog_files
from reconcile.desired.walk import walk_catalog
from reconcile.errors import CatalogError
from tests.desired.catalogs import products
from tests.desired.conftest import MakeCatalog
from tests.support.cli import run


def messages(root: Path) -> list[str]:
    return [f"{p.path}: {p.message}" for p in walk_catalog(root).problems]


class TestEntriesThatAreNotReadableFiles:
    def test_dangling_symlink_is_an_error_naming_the_link(self, make_catalog: MakeCatalog) -> None:
        """A link to nothing is reported by its own name and target, never skipped."""
        root = make_catalog({"a.yaml": products("A")})
        (root / "gone.yaml").symlink_to("moved-away.yaml")
        assert messages(root) == [
            "cat/gone.yaml: is a dangling symlink (to 'moved-away.yaml', which does not "
            "exist): fix or remove the link"
        ]

    def test_symlink_loop_is_an_error(self, make_catalog: MakeCatalog) -> None:
        """A link that points at itself is a located error, not a hang or a skip."""
        root = make_catalog({"a.yaml": products("A")})
        (root / "loop.yaml").symlink_to("loop.yaml")
        assert messages(root) == ["cat/loop.yaml: is a symlink loop: fix or remove the link"]

    def test_fifo_is_an_error_and_is_never_opened(self, make_catalog: MakeCatalog) -> None:
        """A FIFO with a catalog file's name is refused without reading (which would block)."""
        root = make_catalog({"a.yaml": products("A")})
        os.mkfifo(root / "pipe.yaml")
        assert messages(root) == [
            "cat/pipe.yaml: is a FIFO (named pipe), not a regular file: a catalog file must "
            "be a plain file (move it out of the catalog or rename it without .yaml/.yml)"
        ]

    def test_symlink_outside_the_catalog_is_refused(
        self, make_catalog: MakeCatalog, tmp_path: Path
    ) -> None:
        """A link to a file outside the catalog (here /etc/passwd) is refused, not read."""
        root = make_catalog({"a.yaml": products("A")})
        (root / "passwd.yaml").symlink_to("/etc/passwd")
        walk = walk_catalog(root)
        assert [p.path for p in walk.problems] == ["cat/passwd.yaml"]
        assert "outside the catalog directory: refused" in walk.problems[0].message
        assert [p.name for p in walk.files] == ["a.yaml"]

    def test_directory_link_outside_the_catalog_is_refused(
        self, make_catalog: MakeCatalog, tmp_path: Path
    ) -> None:
        """A linked directory outside the catalog is refused as well."""
        root = make_catalog({"a.yaml": products("A")})
        outside = tmp_path / "elsewhere"
        outside.mkdir()
        (outside / "b.yaml").write_text(products("B"), encoding="utf-8")
        (root / "more").symlink_to(outside)
        assert [p.path for p in walk_catalog(root).problems] == ["cat/more"]

    def test_link_inside_the_catalog_is_read_once(self, make_catalog: MakeCatalog) -> None:
        """A link to a catalog file inside the catalog names a file already read: once only."""
        root = make_catalog({"a.yaml": products("A")})
        (root / "alias.yaml").symlink_to("a.yaml")
        walk = walk_catalog(root)
        assert walk.problems == []
        assert [p.name for p in walk.files] == ["a.yaml"]

    def test_link_to_a_hidden_file_inside_is_read(self, make_catalog: MakeCatalog) -> None:
        """A link is how a file kept in a hidden folder of the catalog joins it."""
        root = make_catalog({".shared/a.yaml": products("A")})
        (root / "a.yaml").symlink_to(".shared/a.yaml")
        assert [p.name for p in walk_catalog(root).files] == ["a.yaml"]

    def test_catalog_files_raises_with_every_problem(self, make_catalog: MakeCatalog) -> None:
        """Callers that need the file list (fmt, import) get a CatalogError (exit 3)."""
        root = make_catalog({"a.yaml": products("A")})
        (root / "x.yaml").symlink_to("none.yaml")
        (root / "y.yml").symlink_to("y.yml")
        with pytest.raises(CatalogError) as raised:
            catalog_files(root)
        assert [p.path for p in raised.value.problems] == ["cat/x.yaml", "cat/y.yml"]
        assert raised.value.exit_code == 3

    def test_other_names_are_not_looked_at(self, make_catalog: MakeCatalog) -> None:
        """Only .yaml/.yml files are the catalog: a dangling README link is not its business."""
        root = make_catalog({"a.yaml": products("A")})
        (root / "README.md").symlink_to("nowhere.md")
        os.mkfifo(root / "notes.txt")
        assert walk_catalog(root).problems == []


class TestNoPlanFromAPartialCatalog:
    def test_validate_exits_3_naming_the_link(self, make_catalog: MakeCatalog) -> None:
        """validate reports the unreadable entry with the file's other problems and exits 3."""
        root = make_catalog({"a.yaml": products("A")})
        (root / "b.yaml").symlink_to("b-moved.yaml")
        result = run(["validate", str(root)])
        assert result.return_value == 3
        assert result.stdout.startswith("cat/b.yaml: is a dangling symlink")

    def test_prune_never_runs_on_a_catalog_missing_a_file(self, make_catalog: MakeCatalog) -> None:
        """A file that became a dangling link would have its products deactivated by a prune:
        plan and apply exit 3 instead, and PB keeps every product active."""
        root = make_catalog({"a.yaml": products("A"), "b.yaml": products("B", "C")})
        assert run(["apply", str(root), "--auto-approve"]).return_value == 0
        (root / "b.yaml").rename(root.parent / "b-elsewhere.yaml")
        (root / "b.yaml").symlink_to("../b-elsewhere-renamed.yaml")
        assert run(["plan", str(root), "--prune"]).return_value == 3
        assert run(["apply", str(root), "--prune", "--auto-approve"]).return_value == 3
        (root / "b.yaml").unlink()
        (root / "b.yaml").write_text(products("B", "C"), encoding="utf-8")
        again = run(["plan", str(root), "--prune", "--detailed-exitcode"])
        assert again.return_value == 0, again.output
