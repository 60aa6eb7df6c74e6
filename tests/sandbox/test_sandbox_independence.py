"""The emulator is an independent implementation of the contract (DESIGN import rules)."""

from __future__ import annotations

import ast
import pathlib

import reconcile.sandbox

PACKAGE = pathlib.Path(reconcile.sandbox.__file__).parent


def imported_modules(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


class TestIndependence:
    def test_sandbox_imports_no_other_reconcile_module(self) -> None:
        """No sandbox module imports models, remote, plan or any reconcile module but its own."""
        offenders = {
            f"{path.name}: {name}"
            for path in PACKAGE.glob("*.py")
            for name in imported_modules(path)
            if name.startswith("reconcile") and not name.startswith("reconcile.sandbox")
        }
        assert not offenders

    def test_sandbox_does_not_use_the_client_libraries(self) -> None:
        """httpx (the client's transport), ruamel and deepdiff stay out of the emulator."""
        banned = ("httpx", "httpx2", "ruamel", "deepdiff", "pydantic")
        offenders = {
            f"{path.name}: {name}"
            for path in PACKAGE.glob("*.py")
            for name in imported_modules(path)
            if name.split(".")[0] in banned
        }
        assert not offenders
