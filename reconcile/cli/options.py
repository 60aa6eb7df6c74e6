"""Options more than one command takes: the catalog directory, --env (with its shell
completion) and the --prune/--target/--exclude selection."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable
from typing import Any, TypeVar

import click

from reconcile.errors import ReconcileError

F = TypeVar("F", bound=Callable[..., Any])


def complete_environment(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    """`--env` values: the environments of the catalog named on the command line (or the
    current directory), built-in ones included. Never fails: a bad catalog offers those."""
    from click.shell_completion import CompletionItem

    from reconcile.desired import load_settings
    from reconcile.settings import SETTINGS_FILE, Settings

    # click stops parsing at the dangling `--env`, so the catalog argument may be missing
    # from ctx.params; the words of the line (COMP_WORDS, set by every completion script)
    # still hold it.
    words = os.environ.get("COMP_WORDS", "").split()[1:]
    words.append(str(ctx.params.get("directory") or ctx.params.get("source_dir") or ""))
    catalogs = [w for w in words if w and (pathlib.Path(w) / SETTINGS_FILE).is_file()]
    try:
        settings = load_settings(pathlib.Path(catalogs[0] if catalogs else "."))
    except (ReconcileError, OSError):
        settings = Settings()
    names = sorted(settings.all_environments())
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def dir_argument() -> Callable[[F], F]:
    return click.argument(
        "directory", default=".", type=click.Path(file_okay=False, path_type=pathlib.Path)
    )


def env_option() -> Callable[[F], F]:
    return click.option(
        "--env",
        "env",
        metavar="NAME",
        help="environment from reconcile.yaml (default: its default)",
        shell_complete=complete_environment,
    )


def selection_options(command: F) -> F:
    command = click.option(
        "--exclude",
        "excludes",
        multiple=True,
        metavar="GLOB",
        help="leave out resources whose address or SKU matches (repeatable)",
    )(command)
    command = click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="GLOB",
        help="plan only resources whose address or SKU matches, e.g. 'KIT-*' (repeatable)",
    )(command)
    return click.option(
        "--prune/--no-prune",
        default=None,
        help="deactivate remote resources the catalog does not declare (default: reconcile.yaml)",
    )(command)
