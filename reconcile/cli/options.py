"""Options more than one command takes: the catalog directory (found upward when not
named), --env (with its shell completion), the --prune/--target/--exclude selection, and
the global options every command accepts before or after its name."""

from __future__ import annotations

import os
import pathlib
import shlex
from collections.abc import Callable
from typing import Any, TypeVar

import click

from reconcile.errors import ReconcileError, UsageError

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


# ---- the catalog directory: named, or found upward like fmt finds it ----

#: How deep below the current directory a catalog is looked for, to name it in the error.
CATALOG_SEARCH_DEPTH = 2


def dir_argument() -> Callable[[F], F]:
    """DIRECTORY: the catalog named, else the nearest reconcile.yaml at or above the
    current directory (as fmt finds it; no higher than the git root)."""
    return click.argument(
        "directory",
        required=False,
        default=None,
        type=click.Path(path_type=pathlib.Path),
        callback=_catalog_directory,
    )


def _catalog_directory(
    ctx: click.Context, param: click.Parameter, value: pathlib.Path | None
) -> pathlib.Path:
    if ctx.resilient_parsing:  # shell completion: never fail, never search
        return value or pathlib.Path()
    if value is None:
        return find_catalog(pathlib.Path(), ctx.command_path)
    if value.is_file():
        raise UsageError(_file_given(value, ctx.info_name or ""))
    from reconcile.settings import SETTINGS_FILE

    below = catalogs_below(value)
    if value.is_dir() and not (value / SETTINGS_FILE).is_file() and below:
        raise _no_catalog(f"{value} holds no {SETTINGS_FILE}", below, value, ctx.command_path)
    return value


def find_catalog(start: pathlib.Path, command: str) -> pathlib.Path:
    """The catalog at or above ``start`` (relative to it when below or at it); when none,
    a SettingsError (3) naming the catalogs found below ``start``."""
    from reconcile.desired.fmt import catalog_root
    from reconcile.settings import SETTINGS_FILE

    root = catalog_root(start)
    if root is not None:
        return _shortest(root, start)
    here = os.path.abspath(start)
    raise _no_catalog(
        f"no {SETTINGS_FILE} in {here} or above it (up to the git root)",
        catalogs_below(start),
        start,
        command,
    )


def _shortest(path: pathlib.Path, start: pathlib.Path) -> pathlib.Path:
    relative = pathlib.Path(os.path.relpath(path, start.resolve()))
    return relative if len(str(relative)) < len(str(path)) else path


def catalogs_below(start: pathlib.Path, depth: int = CATALOG_SEARCH_DEPTH) -> list[pathlib.Path]:
    """Catalog directories up to ``depth`` levels below ``start`` (hidden ones skipped)."""
    from reconcile.settings import SETTINGS_FILE

    found: list[pathlib.Path] = []
    level = [start]
    for _ in range(depth):
        level = [d for parent in level for d in _subdirectories(parent)]
        found += [d for d in level if (d / SETTINGS_FILE).is_file()]
    return sorted(found)


def _subdirectories(directory: pathlib.Path) -> list[pathlib.Path]:
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return []
    return [e for e in entries if e.is_dir() and not e.name.startswith(".")]


def _no_catalog(
    headline: str, below: list[pathlib.Path], start: pathlib.Path, command: str
) -> ReconcileError:
    from reconcile.errors import SettingsError
    from reconcile.settings import SETTINGS_FILE

    if not below:
        return SettingsError(
            f"{headline}, and no catalog below it. Run this in a catalog directory (the one "
            f"holding {SETTINGS_FILE}) or name it: `{command} DIR`; to start one, create "
            f"{SETTINGS_FILE} with the line `client_id: YOUR-PB-CLIENT-ID`, or adopt what PB "
            "holds with `reconcile import`"
        )
    names = ", ".join(str(path) for path in below)
    example = f"{command} {shlex.quote(str(below[0]))}"
    return SettingsError(
        f"{headline}. Catalog directories below {start}: {names}. Name the one you mean: "
        f"`{example}`"
    )


def _file_given(path: pathlib.Path, command: str) -> str:
    """A file where the catalog directory goes: a saved plan gets the command it needs."""
    if _is_saved_plan(path):
        if command == "apply":
            return (
                f"{path} is a saved plan, not a catalog directory; apply it with "
                f"`reconcile apply --plan {shlex.quote(str(path))}` (run in the catalog, or "
                "name the catalog first: `reconcile apply DIR --plan FILE`)"
            )
        return (
            f"{path} is a saved plan, not a catalog directory; show it with "
            f"`reconcile show {shlex.quote(str(path))}`"
        )
    return f"{path} is a file; name the catalog directory (the one holding reconcile.yaml)"


def _is_saved_plan(path: pathlib.Path) -> bool:
    import json

    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "format_version" in data and "changes" in data


# ---- global options: before or after the command's name, in every command's --help ----


def add_global_options(command: click.Command) -> None:
    """Give ``command`` and every command below it --no-color, -v and -q, as the group has
    them: Terraform users write them after the command (`reconcile plan --no-color`)."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            add_global_options(sub)
    present = {opt for param in command.params for opt in getattr(param, "opts", [])}
    if "--no-color" not in present:
        command.params.extend(global_option_params())


def global_option_params() -> list[click.Parameter]:
    return [
        click.Option(
            ["--no-color"],
            is_flag=True,
            expose_value=False,
            callback=_no_color,
            help="no colours (also: the NO_COLOR variable) [global]",
        ),
        click.Option(
            ["-v", "--verbose"],
            count=True,
            expose_value=False,
            callback=_verbose,
            help="log what happens on stderr (-vv: debug) [global]",
        ),
        click.Option(
            ["-q", "--quiet"],
            is_flag=True,
            expose_value=False,
            callback=_quiet,
            help="no progress or notes on stderr [global]",
        ),
    ]


def _output(ctx: click.Context) -> Any:
    from reconcile.cli.console import Output

    return ctx.find_object(Output)


def _no_color(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    output = _output(ctx)
    if value and output is not None:
        output.configure(color=False)


def _quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    output = _output(ctx)
    if value and output is not None:
        output.configure(quiet=True)


def _verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    output = _output(ctx)
    if value and output is not None:
        output.configure(verbose=output.verbose + value)
