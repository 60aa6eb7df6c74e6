"""Can this machine reach PB? doctor (the checks: reconcile.doctor)."""

from __future__ import annotations

import asyncio
import os
import pathlib
from typing import Any

import click
from rich.text import Text

from reconcile.cli.console import Output, safe
from reconcile.cli.options import dir_argument, env_option
from reconcile.errors import CatalogError

DOCTOR_STYLES = {"ok": "green", "failed": "bold red", "skipped": "yellow"}


@click.command()
@dir_argument()
@env_option()
@click.pass_obj
def doctor(output: Output, directory: pathlib.Path, env: str | None) -> int:
    """Check settings, credentials, TLS, a token and one read-only search.

    Exits 0 when every check passes, 3 when reconcile.yaml is invalid, 4 when a remote
    check fails. Nothing is written to PB.
    """
    from reconcile.desired import load_settings
    from reconcile.doctor import Check, exit_code, run_checks

    try:
        settings = load_settings(directory)
    except CatalogError as e:
        hint = _settings_hint(directory)
        _print_check(output, Check("settings", "failed", str(e), hint, e.exit_code))
        return e.exit_code
    _print_check(output, Check("settings", "ok", f"{directory / 'reconcile.yaml'} is valid"))
    checks = asyncio.run(run_checks(settings, env, catalog_dir=directory, environ=os.environ))
    for check in checks:
        _print_check(output, check)
    return exit_code(checks)


def _settings_hint(directory: pathlib.Path) -> str:
    """What to do when the settings cannot be read: the fix depends on what is missing."""
    from reconcile.settings import SETTINGS_FILE

    if not directory.is_dir():
        return "pass the catalog directory (the one holding reconcile.yaml); this path is not one"
    if not (directory / SETTINGS_FILE).is_file():
        return f"create {SETTINGS_FILE} there, or pass the catalog directory that holds it"
    return f"fix {SETTINGS_FILE}"


def _print_check(output: Output, check: Any) -> None:
    line = Text(f"{check.status:<8}", style=DOCTOR_STYLES[check.status])
    line.append(f"{check.name:<12}{safe(check.detail)}")
    output.out.print(line)
    if check.hint:
        output.out.print(Text(f"{'':<20}hint: {safe(check.hint)}", style="dim"))
