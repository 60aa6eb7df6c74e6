"""Command-line interface: parse options, call the engine, print, choose the exit code.

The only module that prints. Commands return an exit code; ``main`` maps click's own
usage errors to 64 (EX_USAGE) because 2 means "changes present" here.
"""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from reconcile import __version__
from reconcile.errors import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    CatalogError,
    Problem,
    ReconcileError,
)

CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="reconcile")
def cli() -> None:
    """Catalog-as-code for the Pitney Bowes Fulfillment APIs."""


def fail(error: ReconcileError) -> int:
    """Report an expected error on stderr and return its exit code."""
    click.echo(f"Error: {error}", err=True)
    return error.exit_code


# ---- commands are registered below, one section per command ----


# ---- validate (catalog language: reconcile.desired) ----

PROBLEM_FORMATS = ("text", "github")


def _github_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_annotation(problem: Problem) -> str:
    """A GitHub Actions workflow command that annotates the file at the problem's line."""
    kind = "warning" if problem.severity == "warning" else "error"
    props = [f"file={_github_escape(problem.path, prop=True)}"]
    if problem.line:
        props += [f"line={problem.line}", f"col={problem.col}"]
    props.append("title=reconcile validate")
    return f"::{kind} {','.join(props)}::{_github_escape(problem.message)}"


def report_problems(problems: Sequence[Problem], output_format: str | None = None) -> None:
    """Print catalog problems, one `path:line:col: message` a line (plus annotations in CI)."""
    if output_format is None:
        output_format = "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"
    for problem in problems:
        click.echo(str(problem))
    if output_format == "github":
        for problem in problems:
            click.echo(github_annotation(problem))


def _problem_summary(problems: Sequence[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


@cli.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=pathlib.Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(PROBLEM_FORMATS),
    default=None,
    help="text, or github for workflow annotations as well (default when GITHUB_ACTIONS=true)",
)
def validate(directory: pathlib.Path, output_format: str | None) -> int:
    """Check the catalog in DIRECTORY offline; report every problem at file:line:col.

    Exits 0 when the catalog is valid (warnings are printed), 3 when it is not.
    """
    from reconcile.desired import load_catalog

    try:
        catalog = load_catalog(directory)
    except CatalogError as e:
        report_problems(e.problems, output_format)
        click.echo(f"invalid catalog: {_problem_summary(e.problems)}", err=True)
        return e.exit_code
    report_problems(catalog.problems, output_format)
    resources = catalog.resources
    click.echo(
        f"valid catalog: {len(resources.products)} products, {len(resources.boms)} BOMs "
        f"in {len(catalog.files)} files for client {catalog.client_id} "
        f"({_problem_summary(catalog.problems)})",
        err=True,
    )
    return EXIT_OK


# ---- completion (shell completion scripts through click) ----

COMPLETION_SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_RECONCILE_COMPLETE"


@cli.command()
@click.argument("shell", type=click.Choice(COMPLETION_SHELLS))
def completion(shell: str) -> int:
    """Print the completion script for SHELL (bash, zsh or fish).

    \b
    Load it once in the current shell:
      bash:  eval "$(reconcile completion bash)"
      zsh:   eval "$(reconcile completion zsh)"
      fish:  reconcile completion fish | source
    or save it where your shell loads completions, e.g.
      reconcile completion bash > ~/.local/share/bash-completion/completions/reconcile
      reconcile completion zsh > "${fpath[1]}/_reconcile"
      reconcile completion fish > ~/.config/fish/completions/reconcile.fish
    The script is the same as click's `_RECONCILE_COMPLETE=bash_source reconcile`.
    """
    from click.shell_completion import get_completion_class

    completer_class = get_completion_class(shell)
    if completer_class is None:  # unreachable: click.Choice limits SHELL to known shells
        raise click.BadParameter(f"unsupported shell {shell!r}")
    completer = completer_class(cli, {}, "reconcile", COMPLETE_VAR)
    click.echo(completer.source())
    return 0


def main(argv: list[str] | None = None) -> None:
    try:
        code = cli.main(args=argv, prog_name="reconcile", standalone_mode=False)
    except click.UsageError as e:
        e.show()
        sys.exit(EXIT_USAGE)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except ReconcileError as e:
        sys.exit(fail(e))
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as e:  # the last line of defence: a message, not a traceback
        click.echo(f"Unexpected error ({type(e).__name__}): {e}", err=True)
        click.echo("Please report this at the project's issue tracker.", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(code if isinstance(code, int) else 0)
